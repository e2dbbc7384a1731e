package changes

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/store"
)

// Policy is the approval policy, global (Project "") or for one cloud project.
type Policy struct {
	Project                string        `json:"project"`
	ApprovalsRequired      int           `json:"approvals_required"`
	ForceApprovalsRequired int           `json:"force_approvals_required"`
	ApproverRoles          auth.Roles    `json:"approver_roles"`
	TTL                    time.Duration `json:"ttl"`
}

// Policy defaults.
const (
	DefaultApprovals      = 1
	DefaultForceApprovals = 2
	DefaultTTL            = 24 * time.Hour
)

// Policy bounds: an approval lives between MinTTL and MaxTTL, and a change
// needs between 1 and MaxApprovals approvals.
const (
	MinTTL       = time.Hour
	MaxTTL       = 30 * 24 * time.Hour
	MaxApprovals = 10
)

// TTLFromHours converts a form's hours to a TTL, saturating instead of
// overflowing so that Validate refuses a huge value rather than accepting
// whatever it wraps to.
func TTLFromHours(h int) time.Duration {
	if h > int(math.MaxInt64/int64(time.Hour)) {
		return time.Duration(math.MaxInt64)
	}
	if h < 0 {
		return 0
	}
	return time.Duration(h) * time.Hour
}

// DefaultPolicy is the global policy until an admin changes it.
func DefaultPolicy() Policy {
	return Policy{ApprovalsRequired: DefaultApprovals, ForceApprovalsRequired: DefaultForceApprovals,
		ApproverRoles: auth.Roles{auth.RoleApprover}, TTL: DefaultTTL}
}

// Validate checks a policy an admin wants to save. eligible is the number
// of users who hold one of its approver roles (negative: unknown, not
// checked); a policy may not ask for more approvals than they can give.
func (p Policy) Validate(eligible int) error {
	f := map[string]string{}
	switch {
	case p.ApprovalsRequired < 1 || p.ApprovalsRequired > MaxApprovals:
		f["approvals_required"] = fmt.Sprintf("between 1 and %d", MaxApprovals)
	case eligible >= 0 && p.ApprovalsRequired > eligible:
		f["approvals_required"] = fmt.Sprintf("at most %d: only %d user(s) hold an approver role", eligible, eligible)
	}
	switch {
	case p.ForceApprovalsRequired < p.ApprovalsRequired:
		f["force_approvals_required"] = "at least the approvals required"
	case p.ForceApprovalsRequired > MaxApprovals:
		f["force_approvals_required"] = fmt.Sprintf("at most %d", MaxApprovals)
	case eligible >= 0 && p.ForceApprovalsRequired > eligible:
		f["force_approvals_required"] = fmt.Sprintf("at most %d: only %d user(s) hold an approver role",
			eligible, eligible)
	}
	for _, r := range p.ApproverRoles {
		switch {
		case !auth.AllRoles.Has(r):
			f["approver_roles"] = fmt.Sprintf("unknown role %q (roles: %s)", r, auth.AllRoles)
		case r == auth.RoleRequester:
			f["approver_roles"] = "the requester role cannot approve: requests would approve each other"
		}
	}
	if len(p.ApproverRoles) == 0 {
		f["approver_roles"] = "at least one role"
	}
	if p.TTL < MinTTL || p.TTL > MaxTTL {
		f["ttl"] = "between 1 hour and 30 days (720 hours)"
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// MayApprove reports whether the actor holds one of the approver roles.
func (p Policy) MayApprove(a Actor) bool {
	return slices.ContainsFunc(p.ApproverRoles, a.Roles.Has)
}

// Required is the number of approvals a plan needs under p.
func (p Policy) Required(plan Plan) int {
	n := p.ApprovalsRequired
	if plan.HasForce() {
		n = p.ForceApprovalsRequired
	}
	if plan.SkipsBackup() {
		n++ // deleting ROMA assets with no way back needs one more person
	}
	return n
}

// Effective combines the global policy with the policies of every project a
// plan touches, keeping the strictest of each rule: most approvals, shortest
// TTL, approver roles common to all.
func Effective(global Policy, perProject []Policy) Policy {
	eff := global
	eff.Project = ""
	for _, p := range perProject {
		eff.ApprovalsRequired = max(eff.ApprovalsRequired, p.ApprovalsRequired)
		eff.ForceApprovalsRequired = max(eff.ForceApprovalsRequired, p.ForceApprovalsRequired)
		if p.TTL < eff.TTL {
			eff.TTL = p.TTL
		}
		eff.ApproverRoles = intersect(eff.ApproverRoles, p.ApproverRoles)
	}
	return eff
}

func intersect(a, b auth.Roles) auth.Roles {
	var out auth.Roles
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// String describes the policy for the audit log and the UI.
func (p Policy) String() string {
	scope := "global"
	if p.Project != "" {
		scope = "project " + p.Project
	}
	return fmt.Sprintf("%s: %d approval(s), %d for force delete, roles %v, TTL %s",
		scope, p.ApprovalsRequired, p.ForceApprovalsRequired, p.ApproverRoles, p.TTL)
}

// Policies returns the global policy (defaults if never saved) and every
// per-project policy.
func (s *Service) Policies(ctx context.Context) (Policy, []Policy, error) {
	all, err := getPolicies(ctx, s.db)
	if err != nil {
		return Policy{}, nil, err
	}
	var projects []Policy
	for k, p := range all {
		if k != "" {
			projects = append(projects, p)
		}
	}
	slices.SortFunc(projects, func(a, b Policy) int { return strings.Compare(a.Project, b.Project) })
	return globalPolicy(all), projects, nil
}

// SetPolicy saves the global (Project "") or a project's policy. Admins only.
func (s *Service) SetPolicy(ctx context.Context, a Actor, p Policy) error {
	if !a.Roles.Has(auth.RoleAdmin) {
		return fmt.Errorf("set policy: %w: admin role needed", ErrForbidden)
	}
	eligible := -1
	if s.eligible != nil && p.ApproverRoles.String() != "" {
		n, err := s.eligible(ctx, p.ApproverRoles)
		if err != nil {
			return fmt.Errorf("set policy: count approvers: %w", err)
		}
		eligible = n
	}
	if err := p.Validate(eligible); err != nil {
		return err
	}
	return store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now().UTC()
		if err := upsertPolicy(ctx, tx, p, a.Name, now); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.ActionPolicyChanged, Change{}, "saved", p)
	})
}

// EffectivePolicy is the policy a plan is decided under (Effective over the
// global policy and the plan's projects): the console asks it to offer only
// the actions the rules allow.
func (s *Service) EffectivePolicy(ctx context.Context, p Plan) (Policy, error) {
	return s.policyFor(ctx, p)
}

// globalPolicy is the saved global policy, or the defaults if none was saved.
func globalPolicy(all map[string]Policy) Policy {
	if g, ok := all[""]; ok {
		return g
	}
	return DefaultPolicy()
}

// policyFor is policyIn outside a transaction.
func (s *Service) policyFor(ctx context.Context, p Plan) (Policy, error) {
	return s.policyIn(ctx, s.db, p)
}

// policyIn is the effective policy of a plan.
func (s *Service) policyIn(ctx context.Context, q querier, p Plan) (Policy, error) {
	all, err := getPolicies(ctx, q)
	if err != nil {
		return Policy{}, err
	}
	var per []Policy
	for _, proj := range p.Projects() {
		if pp, ok := all[proj]; ok {
			per = append(per, pp)
		}
	}
	return Effective(globalPolicy(all), per), nil
}
