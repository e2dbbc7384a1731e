package changes

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
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
	WebhookURL             string        `json:"webhook_url,omitempty"`
}

// Policy defaults.
const (
	DefaultApprovals      = 1
	DefaultForceApprovals = 2
	DefaultTTL            = 24 * time.Hour
)

// DefaultPolicy is the global policy until an admin changes it.
func DefaultPolicy() Policy {
	return Policy{ApprovalsRequired: DefaultApprovals, ForceApprovalsRequired: DefaultForceApprovals,
		ApproverRoles: auth.Roles{auth.RoleApprover}, TTL: DefaultTTL}
}

// Validate checks a policy an admin wants to save.
func (p Policy) Validate() error {
	f := map[string]string{}
	if p.ApprovalsRequired < 1 {
		f["approvals_required"] = "at least 1"
	}
	if p.ForceApprovalsRequired < p.ApprovalsRequired {
		f["force_approvals_required"] = "at least the approvals required"
	}
	if len(p.ApproverRoles) == 0 {
		f["approver_roles"] = "at least one role"
	}
	if p.TTL < time.Minute {
		f["ttl"] = "at least one minute"
	}
	if p.WebhookURL != "" {
		if u, err := url.Parse(p.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			f["webhook_url"] = "an http(s) URL"
		}
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
	if plan.HasForce() {
		return p.ForceApprovalsRequired
	}
	return p.ApprovalsRequired
}

// Effective combines the global policy with the policies of every project a
// plan touches, keeping the strictest of each rule: most approvals, shortest
// TTL, approver roles common to all. Webhooks come from every policy.
func Effective(global Policy, perProject []Policy) (Policy, []string) {
	eff := global
	eff.Project = ""
	hooks := []string{}
	if global.WebhookURL != "" {
		hooks = append(hooks, global.WebhookURL)
	}
	for _, p := range perProject {
		eff.ApprovalsRequired = max(eff.ApprovalsRequired, p.ApprovalsRequired)
		eff.ForceApprovalsRequired = max(eff.ForceApprovalsRequired, p.ForceApprovalsRequired)
		if p.TTL < eff.TTL {
			eff.TTL = p.TTL
		}
		eff.ApproverRoles = intersect(eff.ApproverRoles, p.ApproverRoles)
		if p.WebhookURL != "" && !slices.Contains(hooks, p.WebhookURL) {
			hooks = append(hooks, p.WebhookURL)
		}
	}
	return eff, hooks
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
	if err := p.Validate(); err != nil {
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
	pol, _, err := s.policyFor(ctx, p)
	return pol, err
}

// globalPolicy is the saved global policy, or the defaults if none was saved.
func globalPolicy(all map[string]Policy) Policy {
	if g, ok := all[""]; ok {
		return g
	}
	return DefaultPolicy()
}

// policyFor is policyIn outside a transaction.
func (s *Service) policyFor(ctx context.Context, p Plan) (Policy, []string, error) {
	return s.policyIn(ctx, s.db, p)
}

// policyIn is the effective policy of a plan and its webhooks.
func (s *Service) policyIn(ctx context.Context, q querier, p Plan) (Policy, []string, error) {
	all, err := getPolicies(ctx, q)
	if err != nil {
		return Policy{}, nil, err
	}
	var per []Policy
	for _, proj := range p.Projects() {
		if pp, ok := all[proj]; ok {
			per = append(per, pp)
		}
	}
	pol, hooks := Effective(globalPolicy(all), per)
	return pol, hooks, nil
}
