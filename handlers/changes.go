package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/views"
)

// Changes is what the console needs from change requests; *changes.Service
// satisfies it.
type Changes interface {
	Plan(ctx context.Context, a changes.Actor, req changes.PlanRequest) (changes.Change, error)
	Get(ctx context.Context, id int64) (changes.Change, error)
	List(ctx context.Context, f changes.ChangeFilter) ([]changes.Change, error)
	Approve(ctx context.Context, a changes.Actor, id int64, planHash, comment string) (changes.Change, error)
	Reject(ctx context.Context, a changes.Actor, id int64, comment string) (changes.Change, error)
	Cancel(ctx context.Context, a changes.Actor, id int64, comment string) (changes.Change, error)
	Execute(ctx context.Context, a changes.Actor, id int64, confirm string) (changes.Change, error)
	RetryFailed(ctx context.Context, a changes.Actor, id int64) (changes.Change, error)
	EffectivePolicy(ctx context.Context, p changes.Plan) (changes.Policy, error)
	Backups(ctx context.Context, id int64) ([]changes.Backup, error)
	RestoreAssets(ctx context.Context, a changes.Actor, id int64) (changes.Change, error)
	PlanRestore(ctx context.Context, a changes.Actor, req changes.RestoreRequest) (changes.Change, error)
	SetRecyclePolicy(ctx context.Context, a changes.Actor, account, project string,
		ch cloud.RecyclePolicyChange) (cloud.RecyclePolicy, error)
	Policies(ctx context.Context) (changes.Policy, []changes.Policy, error)
	SetPolicy(ctx context.Context, a changes.Actor, p changes.Policy) error
	AddComment(ctx context.Context, a changes.Actor, id int64, body string) (changes.Comment, error)
	Comments(ctx context.Context, id int64) ([]changes.Comment, error)
	ProtectionRules(ctx context.Context) ([]changes.Rule, error)
	AddProtectionRule(ctx context.Context, a changes.Actor, r changes.Rule) (changes.Rule, error)
	RemoveProtectionRule(ctx context.Context, a changes.Actor, id int64) error
}

// actorOf converts the signed-in user for the changes package.
func actorOf(c echo.Context) changes.Actor {
	a := changes.Actor{ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	if u := currentUser(c); u != nil {
		a.Name, a.Roles = u.Username, u.Roles
	}
	return a
}

func changeID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "No such change request.")
	}
	return id, nil
}

func (s *Server) handleChangesMine(c echo.Context) error {
	return s.renderChangeList(c, "mine", changes.ChangeFilter{Requester: usernameOf(c)})
}

func (s *Server) handleApprovals(c echo.Context) error {
	return s.renderChangeList(c, "approvals", changes.ChangeFilter{State: changes.StatePending})
}

func (s *Server) handleChangesList(c echo.Context) error {
	q := c.QueryParams()
	f := changes.ChangeFilter{State: changes.State(q.Get("state")), Requester: q.Get("requester"),
		Project: q.Get("project"), Service: q.Get("service")}
	return s.renderChangeList(c, "all", f)
}

func (s *Server) renderChangeList(c echo.Context, tab string, f changes.ChangeFilter) error {
	list, err := s.Changes.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	vm := changeListVM(currentUser(c), actorOf(c), tab, f, list)
	return s.render(c, http.StatusOK, views.ChangeListPage(s.meta(c, vm.Title, "changes"), vm))
}

// handleChangeNew shows the plan form for the posted selection scope or
// sweep; a GET offers the sweeps.
func (s *Server) handleChangeNew(c echo.Context) error {
	vm := views.NewChange{Scope: c.FormValue("scope"), Sweep: sweepOf(c), Errors: map[string]string{}}
	if err := s.fillSelection(c, &vm); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.NewChangePage(s.meta(c, "Plan a change request", "changes"), vm))
}

func (s *Server) handleChangeCreate(c echo.Context) error {
	form := changeForm(c)
	vm := views.NewChange{
		Scope:    form.scope,
		Sweep:    sweepOf(c),
		Reason:   form.reason,
		Ticket:   form.ticket,
		Force:    form.force,
		NoBackup: form.noBackup,
	}
	req := changes.PlanRequest{Reason: form.reason, Ticket: form.ticket, Force: form.force, NoBackup: form.noBackup}
	if vm.Sweep.Service != "" {
		req.Sweep = &changes.Sweep{
			Account: vm.Sweep.Account,
			Project: vm.Sweep.Project,
			Service: cloud.Service(vm.Sweep.Service),
		}
	} else if u := currentUser(c); u != nil && form.scope != "" {
		req.Refs = s.Inventory.SelectedRefs(u.ID, form.scope)
	}
	ch, err := s.Changes.Plan(c.Request().Context(), actorOf(c), req)
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		vm.Errors = ve.Fields
		if err := s.fillSelection(c, &vm); err != nil {
			return err
		}
		return s.render(
			c,
			http.StatusUnprocessableEntity,
			views.NewChangePage(s.meta(c, "Plan a change request", "changes"), vm),
		)
	}
	if err != nil {
		return err
	}
	if u := currentUser(c); u != nil && form.scope != "" {
		s.Inventory.ClearSelection(u.ID, form.scope)
	}
	if err := setFlash(c, "success", ch.Name()+" created and waiting for approval."); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(ch.ID))
}

type planForm struct {
	scope, reason, ticket string
	force, noBackup       bool
}

func changeForm(c echo.Context) planForm {
	return planForm{scope: c.FormValue("scope"), reason: strings.TrimSpace(c.FormValue("reason")),
		ticket: strings.TrimSpace(c.FormValue("ticket")), force: c.FormValue("force") == "1",
		noBackup: c.FormValue("no_backup") == "1"}
}

func sweepOf(c echo.Context) views.Sweep {
	svc := c.FormValue("sweep_service")
	if svc != string(cloud.RocketMQ) && svc != string(cloud.RabbitMQ) {
		return views.Sweep{}
	}
	return views.Sweep{Service: svc, Account: c.FormValue("sweep_account"), Project: c.FormValue("sweep_project"),
		Label: svc + " in " + c.FormValue("sweep_project")}
}

// fillSelection adds what the plan form shows about the selection (with the
// resources that will be left out, and why), or the sweep choices when
// nothing is selected.
func (s *Server) fillSelection(c echo.Context, vm *views.NewChange) error {
	u := currentUser(c)
	if vm.Scope != "" && u != nil {
		rules, err := s.protectionRules(c.Request().Context())
		if err != nil {
			return err
		}
		sel := s.Inventory.Current(c.Request().Context(), s.Inventory.Selected(u.ID, vm.Scope))
		vm.Count = len(sel)
		for _, r := range sel {
			if b := blockOf(r, rules); b.Blocked {
				vm.Blocked = append(vm.Blocked, views.ExcludedRow{Service: string(r.Service), Name: r.Name, ID: r.ID,
					Status: r.Status, Block: b})
			}
		}
		for i, r := range sel {
			if i < 20 {
				vm.Sample = append(vm.Sample, string(r.Service)+" "+r.Name+" ("+r.Status+")")
			}
			vm.HasDMS = vm.HasDMS || r.Service == cloud.RocketMQ || r.Service == cloud.RabbitMQ
			vm.HasROMA = vm.HasROMA || r.Service == cloud.ROMA
		}
		if vm.Count == 0 {
			vm.Scope = ""
		}
	}
	vm.HasDMS = vm.HasDMS || vm.Sweep.Service != ""
	if vm.Scope == "" && vm.Sweep.Service == "" {
		for _, a := range s.Inventory.Accounts() {
			for _, p := range a.Projects {
				for _, svc := range []cloud.Service{cloud.RocketMQ, cloud.RabbitMQ} {
					vm.SweepForms = append(vm.SweepForms, views.Sweep{Service: string(svc), Account: a.Name, Project: p,
						Label: "All failed " + string(svc) + " instances in " + a.Name + "/" + p})
				}
			}
		}
	}
	return nil
}

func (s *Server) handleChangeShow(c echo.Context) error {
	return s.renderChange(c, http.StatusOK, views.Discussion{})
}

// renderChange shows the change page; draft carries a refused comment and
// its message.
func (s *Server) renderChange(c echo.Context, status int, draft views.Discussion) error {
	ch, err := s.loadChange(c)
	if err != nil {
		return err
	}
	acts, err := s.allowedActions(c, ch)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	comments, err := s.Changes.Comments(ctx, ch.ID)
	if err != nil {
		return err
	}
	deliveries, err := s.Notify.Deliveries(ctx, notify.DeliveryFilter{ChangeID: ch.ID})
	if err != nil {
		return err
	}
	vm := changeVM(ch, acts)
	backups, err := s.Changes.Backups(ctx, ch.ID)
	if err != nil {
		return err
	}
	vm.Backups = backupsVM(ch, backups, actorOf(c))
	vm.Discussion = discussionVM(ch, acts, comments, draft)
	vm.Deliveries = deliveryRows(deliveries)
	return s.render(c, status, views.ChangeDetailPage(s.meta(c, ch.Name(), "changes"), vm))
}

// handleChangeComment posts a comment; a refused one (empty, too long) is
// shown again with its message, status 422.
func (s *Server) handleChangeComment(c echo.Context) error {
	id, err := changeID(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	_, err = s.Changes.AddComment(c.Request().Context(), actorOf(c), id, body)
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		return s.renderChange(
			c,
			http.StatusUnprocessableEntity,
			views.Discussion{Draft: body, Error: ve.Fields["comment"]},
		)
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", "Comment posted."); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(id)+"#discussion")
}

// backupsVM lists the stored archives and offers "Restore assets" when the
// domain allows it.
func backupsVM(ch changes.Change, backups []changes.Backup, a changes.Actor) views.Backups {
	vm := views.Backups{}
	for _, b := range backups {
		vm.Rows = append(vm.Rows, views.BackupRow{SHA256: b.SHA256, Instance: b.Instance,
			Assets: strconv.Itoa(len(b.Assets)), Stored: b.CreatedAt})
	}
	if changes.CanRestoreAssets(a, ch, len(backups)) == nil {
		vm.RestoreURL = changeURL(ch.ID) + "/restore-assets"
	}
	return vm
}

func (s *Server) handleChangeRestoreAssets(c echo.Context) error {
	id, err := changeID(c)
	if err != nil {
		return err
	}
	ch, err := s.Changes.RestoreAssets(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", ch.Name()+" re-imports the backed-up assets and waits for approval."); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(ch.ID))
}

// handleChangeProgress is the polling fragment of a change's progress.
func (s *Server) handleChangeProgress(c echo.Context) error {
	ch, err := s.loadChange(c)
	if err != nil {
		return err
	}
	acts, err := s.allowedActions(c, ch)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ChangeProgress(progressVM(ch, acts)))
}

// allowedActions asks the domain what the signed-in user may do with ch
// under its effective policy.
func (s *Server) allowedActions(c echo.Context, ch changes.Change) (changes.Actions, error) {
	pol, err := s.Changes.EffectivePolicy(c.Request().Context(), ch.Plan)
	if err != nil {
		return changes.Actions{}, err
	}
	return changes.AllowedActions(actorOf(c), ch, pol, s.Now()), nil
}

func (s *Server) loadChange(c echo.Context) (changes.Change, error) {
	id, err := changeID(c)
	if err != nil {
		return changes.Change{}, err
	}
	return s.Changes.Get(c.Request().Context(), id)
}

func (s *Server) handleChangeApprove(c echo.Context) error {
	return s.changeAction(c, "Approved.", func(ctx context.Context, a changes.Actor, id int64) (changes.Change, error) {
		return s.Changes.Approve(ctx, a, id, c.FormValue("plan_hash"), c.FormValue("comment"))
	})
}

func (s *Server) handleChangeReject(c echo.Context) error {
	return s.changeAction(c, "Rejected.", func(ctx context.Context, a changes.Actor, id int64) (changes.Change, error) {
		return s.Changes.Reject(ctx, a, id, c.FormValue("comment"))
	})
}

func (s *Server) handleChangeCancel(c echo.Context) error {
	return s.changeAction(
		c,
		"Cancelled.",
		func(ctx context.Context, a changes.Actor, id int64) (changes.Change, error) {
			return s.Changes.Cancel(ctx, a, id, c.FormValue("comment"))
		},
	)
}

func (s *Server) handleChangeExecute(c echo.Context) error {
	return s.changeAction(
		c,
		"Execution started.",
		func(ctx context.Context, a changes.Actor, id int64) (changes.Change, error) {
			return s.Changes.Execute(ctx, a, id, c.FormValue("confirm"))
		},
	)
}

func (s *Server) handleChangeRetry(c echo.Context) error {
	id, err := changeID(c)
	if err != nil {
		return err
	}
	ch, err := s.Changes.RetryFailed(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", ch.Name()+" plans the failed resources again and waits for approval."); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(ch.ID))
}

// changeAction runs one decision on the change and returns to its page.
// A wrong confirmation or a live-state difference is a normal outcome: a
// flash on the change page.
func (s *Server) changeAction(
	c echo.Context,
	ok string,
	fn func(context.Context, changes.Actor, int64) (changes.Change, error),
) error {
	id, err := changeID(c)
	if err != nil {
		return err
	}
	_, err = fn(c.Request().Context(), actorOf(c), id)
	kind, msg := "success", ok
	var ve *changes.ValidationError
	switch {
	case errors.Is(err, changes.ErrDiffers):
		kind, msg = "error", "The live state differs from the plan: the plan was rebuilt and needs approval again."
	case errors.Is(err, changes.ErrConfirmation), errors.As(err, &ve):
		kind, msg = "error", err.Error()
	case err != nil:
		return err
	}
	if err := setFlash(c, kind, msg); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(id))
}

func changeURL(id int64) string { return "/changes/" + strconv.FormatInt(id, 10) }
