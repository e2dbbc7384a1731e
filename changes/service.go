package changes

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
)

// Cloud is what changes needs from the cloud layer (*cloud.Client satisfies
// it): live reads for planning and re-validation.
type Cloud interface {
	ReadMany(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error)
	ListInstances(ctx context.Context, account, project string, svc cloud.Service) ([]cloud.Resource, error)
}

// Options tune a Service. Zero values take defaults.
type Options struct {
	Now      func() time.Time // clock, default time.Now
	Wake     func()           // called after a change starts executing (poller.Wake)
	Notified func()           // called after a commit that enqueued notifications (notify.Service.Wake)
	Logger   *slog.Logger
	// Eligible counts the active users holding any of roles, so a policy
	// cannot require more approvals than people can give (nil: not checked).
	Eligible func(ctx context.Context, roles auth.Roles) (int, error)
}

// Service runs the change-request use cases over SQLite and the cloud.
type Service struct {
	db       *sql.DB
	cloud    Cloud
	now      func() time.Time
	notified func()
	eligible func(ctx context.Context, roles auth.Roles) (int, error)
	wake     func()
	log      *slog.Logger
}

// New returns a Service over db (migrated) and the cloud.
func New(db *sql.DB, c Cloud, opts Options) *Service {
	s := &Service{
		db:       db,
		cloud:    c,
		now:      opts.Now,
		notified: opts.Notified,
		eligible: opts.Eligible,
		wake:     opts.Wake,
		log:      opts.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.notified == nil {
		s.notified = func() {}
	}
	if s.wake == nil {
		s.wake = func() {}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// PlanRequest is what a requester asks to delete: selected refs or a DMS
// "all failed" sweep, plus reason, ticket and options.
type PlanRequest struct {
	Refs   []cloud.Ref
	Sweep  *Sweep
	Reason string
	Ticket string
	Force  bool
	// NoBackup deletes ROMA assets without exporting them first.
	NoBackup bool
	RetryOf  int64 // set by RetryFailed
}

func (r PlanRequest) validate() error {
	f := map[string]string{}
	if strings.TrimSpace(r.Reason) == "" {
		f["reason"] = "required"
	}
	checkText(f, "reason", r.Reason)
	if len(r.Ticket) > 200 {
		f["ticket"] = "at most 200 characters"
	}
	switch {
	case r.Sweep != nil && len(r.Refs) > 0:
		f["resources"] = "either a selection or a sweep"
	case r.Sweep != nil && !isDMS(r.Sweep.Service):
		f["resources"] = "sweeps exist for RocketMQ and RabbitMQ only"
	case r.Sweep == nil && len(r.Refs) == 0:
		f["resources"] = "select at least one resource"
	}
	for _, ref := range r.Refs {
		if ref.Service == cloud.ROMA && ref.Kind == cloud.KindInstance {
			f["resources"] = "decom deletes ROMA apps and tasks, not ROMA instances"
		}
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// Plan reads the live state of the requested resources, builds the plan and
// stores the change pending approval. Resources that no
// longer exist are left out; a plan with nothing left is refused.
func (s *Service) Plan(ctx context.Context, a Actor, req PlanRequest) (Change, error) {
	if err := CanPlan(a); err != nil {
		return Change{}, err
	}
	if err := req.validate(); err != nil {
		return Change{}, err
	}
	res, err := s.resolve(ctx, req)
	if err != nil {
		return Change{}, err
	}
	if len(res) == 0 && req.Sweep != nil {
		return Change{}, &ValidationError{
			Fields: map[string]string{"resources": "no " + string(req.Sweep.Service) + " instance failed to create"},
		}
	}
	if len(res) == 0 {
		return Change{}, &ValidationError{
			Fields: map[string]string{"resources": "none of the resources exists any more"},
		}
	}
	rules, err := s.ProtectionRules(ctx)
	if err != nil {
		return Change{}, err
	}
	bins, err := s.bins(ctx, res)
	if err != nil {
		return Change{}, err
	}
	plan := BuildPlan(PlanInput{Resources: res, Rules: rules, Force: req.Force, Reason: strings.TrimSpace(req.Reason),
		Ticket: strings.TrimSpace(req.Ticket), Sweep: req.Sweep, Bins: bins, Now: s.now().UTC(),
		NoBackup: req.NoBackup})
	if len(plan.Items) == 0 {
		return Change{}, &ValidationError{Fields: map[string]string{"resources": nothingPlannable(plan.Excluded)}}
	}
	return s.create(ctx, a, plan, req.RetryOf)
}

// nothingPlannable says why every requested resource was left out.
func nothingPlannable(ex []Exclusion) string {
	const show = 5
	var parts []string
	for i, e := range ex {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(ex)-show))
			break
		}
		parts = append(parts, e.Name+": "+e.Reason)
	}
	return "nothing can be planned: " + strings.Join(parts, "; ")
}

// resolve reads the live state of the selection, or lists the swept
// service's failed instances.
func (s *Service) resolve(ctx context.Context, req PlanRequest) ([]cloud.Resource, error) {
	if req.Sweep != nil {
		return s.failedSet(ctx, *req.Sweep)
	}
	live, err := s.readMany(ctx, req.Refs)
	if err != nil {
		return nil, err
	}
	var out []cloud.Resource
	for _, ref := range req.Refs {
		if r, ok := live[ref.Key()]; ok && r.Class != cloud.ClassGone {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Service) failedSet(ctx context.Context, sw Sweep) ([]cloud.Resource, error) {
	all, err := s.cloud.ListInstances(ctx, sw.Account, sw.Project, sw.Service)
	if err != nil {
		return nil, fmt.Errorf("list %s instances in %s: %w", sw.Service, sw.Project, err)
	}
	var out []cloud.Resource
	for _, r := range all {
		if strings.EqualFold(r.Status, FailedStatus) {
			out = append(out, r)
		}
	}
	return out, nil
}

// readMany calls ReadMany once per account and project, as the API needs.
func (s *Service) readMany(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	groups := map[[2]string][]cloud.Ref{}
	var order [][2]string
	for _, r := range refs {
		k := [2]string{r.Account, r.Project}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	out := map[string]cloud.Resource{}
	for _, k := range order {
		got, err := s.cloud.ReadMany(ctx, groups[k])
		if err != nil {
			return nil, fmt.Errorf("read resources in %s/%s: %w", k[0], k[1], err)
		}
		for key, r := range got {
			out[key] = r
		}
	}
	return out, nil
}

// Get reads one change with its decisions and operations.
func (s *Service) Get(ctx context.Context, id int64) (Change, error) {
	return getChange(ctx, s.db, id)
}

// List reads changes newest first.
func (s *Service) List(ctx context.Context, f ChangeFilter) ([]Change, error) {
	return listChanges(ctx, s.db, f)
}

// record appends the audit event of a change step inside tx.
func (s *Service) record(
	ctx context.Context,
	tx *sql.Tx,
	a Actor,
	action audit.Action,
	c Change,
	outcome string,
	details any,
) error {
	return audit.Record(ctx, tx, audit.Event{Time: s.now().UTC(), Actor: a.Name, ClientIP: a.ClientIP,
		UserAgent: a.UserAgent, Action: action, ChangeID: c.ID, Project: strings.Join(c.Plan.Projects(), ","),
		Outcome: outcome}, details)
}
