package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/views"
)

func (s *Server) handlePolicies(c echo.Context) error {
	return s.renderPolicies(c, http.StatusOK, policyRow(changes.DefaultPolicy()), nil)
}

func (s *Server) handlePolicySave(c echo.Context) error {
	form := views.PolicyRow{Project: strings.TrimSpace(c.FormValue("project")), Approvals: c.FormValue("approvals"),
		ForceApprovals: c.FormValue("force_approvals"), Roles: c.FormValue("roles"), TTLHours: c.FormValue("ttl_hours")}
	err := s.Changes.SetPolicy(c.Request().Context(), actorOf(c), parsePolicy(form))
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		return s.renderPolicies(c, http.StatusUnprocessableEntity, form, ve.Fields)
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", "Policy saved."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/policies")
}

func (s *Server) renderPolicies(c echo.Context, status int, form views.PolicyRow, errs map[string]string) error {
	global, per, err := s.Changes.Policies(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.Policies{Form: form, Errors: errs, Rows: []views.PolicyRow{policyRow(global)}}
	for _, p := range per {
		vm.Rows = append(vm.Rows, policyRow(p))
	}
	return s.render(c, status, views.PoliciesPage(s.meta(c, "Approval policies", "admin"), vm))
}

// parsePolicy reads the form; unparsable numbers become 0 and fail
// Validate with a message.
func parsePolicy(f views.PolicyRow) changes.Policy {
	atoi := func(s string) int { n, _ := strconv.Atoi(strings.TrimSpace(s)); return n }
	var roles auth.Roles
	for _, r := range strings.Split(f.Roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, auth.Role(r))
		}
	}
	return changes.Policy{
		Project:                f.Project,
		ApprovalsRequired:      atoi(f.Approvals),
		ForceApprovalsRequired: atoi(f.ForceApprovals),
		ApproverRoles:          roles,
		TTL:                    changes.TTLFromHours(atoi(f.TTLHours)),
	}
}

func policyRow(p changes.Policy) views.PolicyRow {
	scope := "global"
	if p.Project != "" {
		scope = "project " + p.Project
	}
	return views.PolicyRow{Project: p.Project, Scope: scope, Approvals: strconv.Itoa(p.ApprovalsRequired),
		ForceApprovals: strconv.Itoa(p.ForceApprovalsRequired), Roles: p.ApproverRoles.String(),
		TTLHours: strconv.Itoa(int(p.TTL / time.Hour))}
}
