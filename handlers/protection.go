package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/views"
)

// protectionRules prepares the protection rules in force (the built-in one
// and the stored ones) for deciding what rows show.
func (s *Server) protectionRules(ctx context.Context) (*changes.Matcher, error) {
	rules, err := s.Changes.ProtectionRules(ctx)
	if err != nil {
		return nil, err
	}
	return changes.NewMatcher(rules), nil
}

// blockOf asks the domain whether r can be planned, for a view.
func blockOf(r cloud.Resource, rules *changes.Matcher) views.Block {
	b, blocked := rules.Blocked(r)
	return views.Block{Blocked: blocked, Protected: b.Protected, Reason: b.Reason}
}

// unblocked keeps the resources that may be selected for a plan.
func unblocked(rs []cloud.Resource, rules *changes.Matcher) []cloud.Resource {
	out := rs[:0:0]
	for _, r := range rs {
		if _, blocked := rules.Blocked(r); !blocked {
			out = append(out, r)
		}
	}
	return out
}

// ProtectionForm is the add-a-rule form.
type ProtectionForm struct {
	Kind    string `form:"kind"`
	Pattern string `form:"pattern"`
	Note    string `form:"note"`
}

func (s *Server) handleProtection(c echo.Context) error {
	return s.renderProtection(c, http.StatusOK, views.ProtectionForm{Kind: string(changes.RuleTag)}, nil)
}

func (s *Server) handleProtectionAdd(c echo.Context) error {
	var f ProtectionForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Malformed form.")
	}
	form := views.ProtectionForm{Kind: f.Kind, Pattern: f.Pattern, Note: f.Note}
	r, err := s.Changes.AddProtectionRule(c.Request().Context(), actorOf(c),
		changes.Rule{Kind: changes.RuleKind(f.Kind), Pattern: f.Pattern, Note: f.Note})
	var ve *changes.ValidationError
	if errors.As(err, &ve) {
		return s.renderProtection(c, http.StatusUnprocessableEntity, form, ve.Fields)
	}
	if err != nil {
		return err
	}
	if err := setFlash(c, "success", "Rule "+strconv.FormatInt(r.ID, 10)+" added: "+r.String()+"."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/protection")
}

func (s *Server) handleProtectionRemove(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No such protection rule.")
	}
	if err := s.Changes.RemoveProtectionRule(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	if err := setFlash(c, "success", "Rule "+strconv.FormatInt(id, 10)+" removed."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/protection")
}

func (s *Server) renderProtection(c echo.Context, status int, form views.ProtectionForm, errs map[string]string) error {
	rules, err := s.Changes.ProtectionRules(c.Request().Context())
	if err != nil {
		return err
	}
	vm := views.Protection{Form: form, Errors: errs, Rules: []views.ProtectionRuleRow{ruleRow(changes.BuiltinRule())}}
	for _, r := range rules {
		vm.Rules = append(vm.Rules, ruleRow(r))
	}
	for _, k := range changes.RuleKinds {
		vm.Kinds = append(vm.Kinds, views.Option{Value: string(k), Label: k.KindLabel()})
	}
	return s.render(c, status, views.ProtectionPage(s.meta(c, "Protection rules", "admin"), vm))
}

func ruleRow(r changes.Rule) views.ProtectionRuleRow {
	row := views.ProtectionRuleRow{Kind: r.Kind.KindLabel(), Pattern: r.Pattern, Note: r.Note, Builtin: r.Builtin()}
	if !r.Builtin() {
		id := strconv.FormatInt(r.ID, 10)
		row.ID, row.CreatedBy, row.Created = id, r.CreatedBy, showTime(r.CreatedAt)
		row.RemoveURL = "/admin/protection/" + id + "/delete"
	}
	return row
}

// tagTexts renders tags as "key=value" ("key" when the value is empty).
func tagTexts(tags []cloud.Tag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t.Value == "" {
			out = append(out, t.Key)
			continue
		}
		out = append(out, t.Key+"="+t.Value)
	}
	return out
}

// excludedRows shows a plan's exclusions.
func excludedRows(ex []changes.Exclusion) []views.ExcludedRow {
	out := make([]views.ExcludedRow, 0, len(ex))
	for _, e := range ex {
		out = append(out, views.ExcludedRow{Service: string(e.Service), Name: e.Name, ID: e.ID, Status: e.Status,
			Block: views.Block{Blocked: true, Protected: e.Protected, Reason: e.Reason}})
	}
	return out
}
