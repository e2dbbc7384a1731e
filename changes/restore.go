package changes

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// PlanKind is what a plan does to its resources.
type PlanKind string

// Plan kinds. A delete plan's kind is empty, so plans made before kinds
// existed keep their hash.
const (
	KindDelete  PlanKind = ""
	KindRestore PlanKind = "restore" // DMS instances back from the recycle bin
)

// Label names the kind for people.
func (k PlanKind) Label() string {
	switch k {
	case KindRestore:
		return "restore"
	case KindImport:
		return "restore assets"
	}
	return "delete"
}

// Action is the operation rows' action column: "delete", "restore" or
// "import".
func (k PlanKind) Action() string {
	if k == KindDelete {
		return "delete"
	}
	return string(k)
}

// BinStatus is the planned status of an instance to restore: in the
// recycle bin. Re-validation compares it with the bin as re-read.
const BinStatus = "IN_RECYCLE_BIN"

// RecycleBins reads and restores DMS recycle bins; *cloud.Client satisfies
// it. Restore change requests need it.
type RecycleBins interface {
	ReadRecycleBin(ctx context.Context, account, project string) (cloud.RecycleBin, error)
	SetRecyclePolicy(
		ctx context.Context,
		account, project string,
		ch cloud.RecyclePolicyChange,
	) (cloud.RecyclePolicy, error)
}

// ErrNoRecycleBin means the cloud layer offers no recycle bin.
var ErrNoRecycleBin = fmt.Errorf("the recycle bin is not available")

// RestoreRequest asks to restore DMS instances from the recycle bin.
type RestoreRequest struct {
	Refs   []cloud.Ref
	Reason string
	Ticket string
}

func (r RestoreRequest) validate() error {
	f := map[string]string{}
	if strings.TrimSpace(r.Reason) == "" {
		f["reason"] = "required"
	}
	if len(r.Reason) > 2000 {
		f["reason"] = "at most 2000 characters"
	}
	if len(r.Ticket) > 200 {
		f["ticket"] = "at most 200 characters"
	}
	if len(r.Refs) == 0 {
		f["resources"] = "select at least one instance"
	}
	for _, ref := range r.Refs {
		if !isDMS(ref.Service) || ref.Kind != cloud.KindInstance {
			f["resources"] = "only DMS instances are restored from the recycle bin"
		}
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// PlanRestore reads the recycle bins of the requested instances and stores
// a restore change request pending approval: approvals per the projects'
// policies, executed like any change (re-validation checks every instance
// is still in the bin), submitted and followed by the poller until the
// instances run again. Instances no longer in the bin are left out.
func (s *Service) PlanRestore(ctx context.Context, a Actor, req RestoreRequest) (Change, error) {
	if err := CanPlan(a); err != nil {
		return Change{}, err
	}
	if err := req.validate(); err != nil {
		return Change{}, err
	}
	bin, err := s.binResources(ctx, req.Refs)
	if err != nil {
		return Change{}, err
	}
	var res []cloud.Resource
	for _, ref := range req.Refs {
		if r, ok := bin[ref.Key()]; ok {
			res = append(res, r)
		}
	}
	if len(res) == 0 {
		return Change{}, &ValidationError{Fields: map[string]string{
			"resources": "none of the instances is in the recycle bin any more"}}
	}
	plan := BuildRestorePlan(PlanInput{Resources: res, Reason: strings.TrimSpace(req.Reason),
		Ticket: strings.TrimSpace(req.Ticket), Now: s.now().UTC()})
	return s.create(ctx, a, plan, 0)
}

// create stores a built plan as a pending change with its audit event, and
// notifies the approvers.
func (s *Service) create(ctx context.Context, a Actor, plan Plan, retryOf int64) (Change, error) {
	pol, err := s.policyFor(ctx, plan)
	if err != nil {
		return Change{}, err
	}
	now := s.now().UTC()
	c := Change{State: StatePending, Requester: a.Name, Reason: plan.Reason, Ticket: plan.Ticket,
		Force: plan.Force, Plan: plan, PlanHash: plan.Hash(), Revision: 1,
		ApprovalsRequired: pol.Required(plan), RetryOf: retryOf, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	err = store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		id, err := insertChange(ctx, tx, c)
		if err != nil {
			return err
		}
		c.ID = id
		if err := s.record(ctx, tx, a, audit.ActionPlanCreated, c, string(c.State), map[string]any{
			"kind": plan.Kind.Label(), "plan_hash": c.PlanHash, "resources": len(plan.Items),
			"batches": len(plan.Batches), "force_delete": plan.Force, "ticket": plan.Ticket, "retry_of": retryOf,
			"approvals_required": c.ApprovalsRequired, "warnings": len(plan.Warnings)}); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindPending, c, StatePending, a, "")
	})
	if err != nil {
		return Change{}, fmt.Errorf("plan change: %w", err)
	}
	s.notified()
	return s.Get(ctx, c.ID)
}

// binResources reads the bins of the refs' projects and returns, by key,
// every instance still restorable, as a resource in BinStatus.
func (s *Service) binResources(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	rb, ok := s.cloud.(RecycleBins)
	if !ok {
		return nil, ErrNoRecycleBin
	}
	var order [][2]string
	seen := map[[2]string]bool{}
	for _, r := range refs {
		k := [2]string{r.Account, r.Project}
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	now := s.now()
	out := map[string]cloud.Resource{}
	for _, k := range order {
		bin, err := rb.ReadRecycleBin(ctx, k[0], k[1])
		if err != nil {
			return nil, fmt.Errorf("read the recycle bin of %s/%s: %w", k[0], k[1], err)
		}
		for _, e := range bin.Entries {
			if !e.Restorable(now) {
				continue
			}
			out[e.Ref.Key()] = cloud.Resource{Ref: e.Ref, Name: e.Name, Status: BinStatus,
				Class: cloud.ClassDeleting, ReadAt: now,
				Details: map[string]string{"auto_delete": e.AutoDelete.UTC().Format(time.RFC3339)}}
		}
	}
	return out, nil
}

// BuildRestorePlan turns instances in the bin into a restore plan: items
// sorted by key, one restore call per account, project and engine, chunked
// to the API limit.
func BuildRestorePlan(in PlanInput) Plan {
	seen := map[string]bool{}
	var items []Item
	for _, r := range in.Resources {
		if seen[r.Key()] {
			continue
		}
		seen[r.Key()] = true
		items = append(items, Item{Ref: r.Ref, Name: r.Name, Status: r.Status, Class: r.Class,
			SeenAt: r.ReadAt.UTC()})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Key() < items[j].Key() })
	p := Plan{Version: PlanVersion, Kind: KindRestore, Items: items, Reason: in.Reason, Ticket: in.Ticket}
	type key struct {
		account, project string
		svc              cloud.Service
	}
	var keys []key
	groups := map[key][]string{}
	for _, it := range items {
		k := key{it.Account, it.Project, it.Service}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], it.ID)
	}
	for _, k := range keys {
		for _, ids := range cloud.Chunk(groups[k], cloud.MaxDMSRestore) {
			p.Batches = append(p.Batches, Batch{Seq: len(p.Batches) + 1, Account: k.account, Project: k.project,
				Service: k.svc, Call: fmt.Sprintf("POST /v2/%s/recycle", k.project), IDs: ids})
		}
	}
	p.Warnings = []Warning{{Code: "restore", Message: "Restored instances start again (STARTING) and return to " +
		"their status before the delete; yearly/monthly instances come back pay-per-use."}}
	return p
}

// liveBin is the live state of a restore plan: its instances still in the
// bin, in BinStatus.
func (s *Service) liveBin(ctx context.Context, p Plan) (Live, error) {
	refs := make([]cloud.Ref, len(p.Items))
	for i, it := range p.Items {
		refs[i] = it.Ref
	}
	res, err := s.binResources(ctx, refs)
	return Live{Resources: res}, err
}

// replanRestore keeps the instances still in the bin.
func replanRestore(p Plan, live Live) Plan {
	in := PlanInput{Reason: p.Reason, Ticket: p.Ticket}
	for _, it := range p.Items {
		if r, ok := live.Resources[it.Key()]; ok {
			in.Resources = append(in.Resources, r)
		}
	}
	return BuildRestorePlan(in)
}

// CanSetRecyclePolicy reports whether the actor may change a project's
// recycle policy in the cloud: admins only.
func CanSetRecyclePolicy(a Actor) error {
	if !a.Roles.Has(auth.RoleAdmin) {
		return fmt.Errorf("set recycle policy: %w: admin role needed", ErrForbidden)
	}
	return nil
}

// SetRecyclePolicy changes a project's DMS recycle policy in the cloud.
// Admins only; the change and the policy in force afterwards are audited.
func (s *Service) SetRecyclePolicy(ctx context.Context, a Actor, account, project string,
	ch cloud.RecyclePolicyChange) (cloud.RecyclePolicy, error) {
	if err := CanSetRecyclePolicy(a); err != nil {
		return cloud.RecyclePolicy{}, err
	}
	f := map[string]string{}
	if account == "" || project == "" {
		f["project"] = "required"
	}
	if ch.RetentionDays != nil && (*ch.RetentionDays < 1 || *ch.RetentionDays > 7) {
		f["retention_days"] = "1 to 7 days"
	}
	if ch.RetentionDays == nil && ch.DefaultUseRecycle == nil {
		f["retention_days"] = "nothing to change"
	}
	if len(f) > 0 {
		return cloud.RecyclePolicy{}, &ValidationError{Fields: f}
	}
	rb, ok := s.cloud.(RecycleBins)
	if !ok {
		return cloud.RecyclePolicy{}, ErrNoRecycleBin
	}
	pol, err := rb.SetRecyclePolicy(ctx, account, project, ch)
	outcome, details := "saved", map[string]any{"account": account, "project": project,
		"retention_days": ch.RetentionDays, "default_use_recycle": ch.DefaultUseRecycle}
	if err != nil {
		outcome, details["error"] = "failed", err.Error()
	} else {
		details["policy"] = pol
	}
	// The cloud call cannot be in the transaction; its outcome, either way, is recorded.
	if aerr := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		return audit.Record(ctx, tx, audit.Event{Time: s.now().UTC(), Actor: a.Name, ClientIP: a.ClientIP,
			UserAgent: a.UserAgent, Action: audit.ActionRecyclePolicyChanged, Project: project,
			Outcome: outcome}, details)
	}); aerr != nil {
		return cloud.RecyclePolicy{}, aerr
	}
	if err != nil {
		return cloud.RecyclePolicy{}, fmt.Errorf("set the recycle policy of %s/%s: %w", account, project, err)
	}
	return pol, nil
}
