package changes

import (
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Policy is the approval policy, global (Project "") or for one cloud project.
type Policy struct {
	Project                string        `json:"project"`
	ApprovalsRequired      int           `json:"approvals_required"`
	ForceApprovalsRequired int           `json:"force_approvals_required"`
	ApproverRoles          []string      `json:"approver_roles"`
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
		ApproverRoles: []string{RoleApprover}, TTL: DefaultTTL}
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
	for _, r := range p.ApproverRoles {
		if a.Has(r) {
			return true
		}
	}
	return false
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

func intersect(a, b []string) []string {
	var out []string
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
