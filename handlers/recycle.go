package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/views"
)

// RecycleBins reads DMS recycle bins; *cloud.Client satisfies it.
type RecycleBins interface {
	ReadRecycleBin(ctx context.Context, account, project string) (cloud.RecycleBin, error)
}

var errNoRecycle = echo.NewHTTPError(http.StatusServiceUnavailable, "The recycle bin is not configured.")

// dmsServices are the services that have a recycle bin.
var dmsServices = []cloud.Service{cloud.RocketMQ, cloud.RabbitMQ}

// projectBin is one project's bin as read, or the error reading it.
type projectBin struct {
	account, project string
	bin              cloud.RecycleBin
	err              error
}

func (s *Server) handleRecycleBin(c echo.Context) error {
	svc := cloud.Service(c.Param("service"))
	if !slices.Contains(dmsServices, svc) {
		return echo.NewHTTPError(http.StatusNotFound, "Only DMS services have a recycle bin.")
	}
	if s.Recycle == nil {
		return errNoRecycle
	}
	bins := s.readBins(c.Request().Context())
	for _, b := range bins {
		if b.err != nil {
			s.log(c).Warn("read recycle bin", "account", b.account, "project", b.project, "err", b.err)
		}
	}
	vm := recycleVM(svc, bins, s.Now())
	s.recycleForms(c, svc, &vm, views.RestoreForm{})
	return s.render(c, http.StatusOK, views.RecycleBinPage(s.meta(c, vm.Heading, "recycle"), vm))
}

// recycleForms adds the forms the domain lets the user use: restore for
// whoever may plan changes, the policy form for whoever may set it.
func (s *Server) recycleForms(c echo.Context, svc cloud.Service, vm *views.RecycleBin, restore views.RestoreForm) {
	a := actorOf(c)
	if changes.CanPlan(a) == nil {
		restore.Action = "/recycle/" + string(svc) + "/restore"
		vm.Restore = restore
		vm.Entries.Selectable = len(vm.Entries.Rows) > 0
	}
	if changes.CanSetRecyclePolicy(a) == nil {
		vm.PolicyForm = views.RecyclePolicyForm{Action: "/admin/recycle", Service: string(svc)}
		for _, p := range vm.Policies {
			vm.PolicyForm.Projects = append(vm.PolicyForm.Projects, p.Account+"/"+p.Project)
		}
	}
}

// handleRecycleRestore plans a restore change request of the ticked
// instances and opens it; bad input shows the bin again with the reason.
func (s *Server) handleRecycleRestore(c echo.Context) error {
	svc := cloud.Service(c.Param("service"))
	if !slices.Contains(dmsServices, svc) {
		return echo.NewHTTPError(http.StatusNotFound, "Only DMS services have a recycle bin.")
	}
	rs := s.Changes
	if s.Recycle == nil {
		return errNoRecycle
	}
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Unreadable form.")
	}
	var refs []cloud.Ref
	for _, k := range form["ref"] {
		if r, ok := parseRefKey(k); ok {
			refs = append(refs, r)
		}
	}
	f := views.RestoreForm{
		Reason: strings.TrimSpace(c.FormValue("reason")),
		Ticket: strings.TrimSpace(c.FormValue("ticket")),
	}
	ch, err := rs.PlanRestore(c.Request().Context(), actorOf(c), changes.RestoreRequest{Refs: refs,
		Reason: f.Reason, Ticket: f.Ticket})
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		f.Errors = ve.Fields
		vm := recycleVM(svc, s.readBins(c.Request().Context()), s.Now())
		s.recycleForms(c, svc, &vm, f)
		return s.render(c, http.StatusUnprocessableEntity, views.RecycleBinPage(s.meta(c, vm.Heading, "recycle"), vm))
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", ch.Name()+" (restore) created and waiting for approval."); err != nil {
		return err
	}
	return redirectAfterPost(c, changeURL(ch.ID))
}

// parseRefKey reads a cloud.Ref.Key of a DMS instance.
func parseRefKey(k string) (cloud.Ref, bool) {
	p := strings.Split(k, "/")
	if len(p) != 6 || p[0] == "" || p[1] == "" || p[5] == "" {
		return cloud.Ref{}, false
	}
	r := cloud.Ref{
		Account: p[0],
		Project: p[1],
		Service: cloud.Service(p[2]),
		Kind:    cloud.Kind(p[3]),
		Parent:  p[4],
		ID:      p[5],
	}
	return r, r.Key() == k
}

// handleRecyclePolicySave changes one project's recycle policy in the cloud
// (admins; audited by changes) and shows the bin page again.
func (s *Server) handleRecyclePolicySave(c echo.Context) error {
	rs := s.Changes
	svc := cloud.Service(c.FormValue("service"))
	if !slices.Contains(dmsServices, svc) {
		svc = cloud.RocketMQ
	}
	account, project, _ := strings.Cut(c.FormValue("project"), "/")
	var ch cloud.RecyclePolicyChange
	switch c.FormValue("recycle") {
	case "on":
		ch.DefaultUseRecycle = new(true)
	case "off":
		ch.DefaultUseRecycle = new(false)
	}
	if d := strings.TrimSpace(c.FormValue("retention_days")); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			n = 0 // refused with a message by the domain
		}
		ch.RetentionDays = &n
	}
	pol, err := rs.SetRecyclePolicy(c.Request().Context(), actorOf(c), account, project, ch)
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, ve.Error())
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Recycle policy of %s/%s: recycling %s, %s.", account, project, onOff(pol.DefaultUseRecycle),
		days(pol.RetentionDays))
	if err := setFlash(c, "success", msg); err != nil {
		return err
	}
	return redirectAfterPost(c, "/recycle/"+string(svc))
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// readBins reads the bin of every configured account and project; the one
// call returns both engines' entries.
func (s *Server) readBins(ctx context.Context) []projectBin {
	var out []projectBin
	for _, a := range s.Inventory.Accounts() {
		for _, p := range a.Projects {
			bin, err := s.Recycle.ReadRecycleBin(ctx, a.Name, p)
			out = append(out, projectBin{account: a.Name, project: p, bin: bin, err: err})
		}
	}
	return out
}

func recycleVM(svc cloud.Service, bins []projectBin, now time.Time) views.RecycleBin {
	vm := views.RecycleBin{Heading: "Recycle bin: " + serviceLabel(svc),
		ReadAt: now.UTC().Format(timeLayout), ReadISO: now.UTC().Format(time.RFC3339)}
	for _, d := range dmsServices {
		vm.Tabs = append(vm.Tabs, views.Tab{Label: serviceLabel(d), URL: "/recycle/" + string(d), Current: d == svc})
	}
	var entries []cloud.RecycleEntry
	for _, b := range bins {
		if b.err != nil {
			vm.Errors = append(vm.Errors, b.account+"/"+b.project)
			continue
		}
		vm.Policies = append(vm.Policies, views.RecyclePolicyRow{Account: b.account, Project: b.project,
			On: b.bin.Policy.DefaultUseRecycle, Retention: days(b.bin.Policy.RetentionDays)})
		for _, e := range b.bin.Entries {
			if e.Ref.Service == svc {
				entries = append(entries, e)
			}
		}
	}
	slices.SortFunc(entries, func(a, b cloud.RecycleEntry) int {
		return cmp.Or(a.AutoDelete.Compare(b.AutoDelete), cmp.Compare(a.Ref.ID, b.Ref.ID))
	})
	vm.Entries.Empty = "The recycle bin of " + serviceLabel(svc) + " is empty."
	for _, e := range entries {
		row := recycleRow(e, now)
		row.Key = e.Ref.Key()
		vm.Entries.Rows = append(vm.Entries.Rows, row)
	}
	return vm
}

func recycleRow(e cloud.RecycleEntry, now time.Time) views.RecycleRow {
	left := e.AutoDelete.Sub(now)
	return views.RecycleRow{
		Name: e.Name, ID: e.Ref.ID, Account: e.Ref.Account, Project: e.Ref.Project, Status: e.Status,
		Deleted: e.InRecycle.UTC().Format(timeLayout), DeletedISO: e.InRecycle.UTC().Format(time.RFC3339),
		AutoDelete: e.AutoDelete.UTC().Format(timeLayout), AutoDeleteISO: e.AutoDelete.UTC().Format(time.RFC3339),
		TimeLeft: timeLeft(left), Urgent: left < 24*time.Hour,
		CostPerHour: strconv.FormatFloat(e.CostPerHour, 'f', 2, 64),
	}
}

// timeLeft shows a duration, rounded to the minute, in days and hours,
// hours and minutes, or minutes; nothing left is "expired".
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	d = d.Round(time.Minute)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%d d %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d min", max(1, int(d/time.Minute)))
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
