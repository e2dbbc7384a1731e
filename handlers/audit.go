package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/views"
)

// AuditForm is the audit review query string as typed.
type AuditForm struct {
	Actor      string `form:"actor"`
	Action     string `form:"action"`
	Service    string `form:"service"`
	ResourceID string `form:"resource_id"`
	ChangeID   string `form:"change_id"`
	Outcome    string `form:"outcome"`
	From       string `form:"from"`
	To         string `form:"to"`
	Q          string `form:"q"`
	After      string `form:"after"`
}

func (s *Server) handleAuditList(c echo.Context) error {
	form, f, err := parseAuditForm(c.QueryParams())
	if err != nil {
		return err
	}
	audits := s.Audit
	ctx := c.Request().Context()
	page, err := audits.Query(ctx, f)
	if err != nil {
		return auditError(err)
	}
	res := auditResults("/audit", form, page)
	if isFragment(c) {
		return s.render(c, http.StatusOK, views.AuditTable(res))
	}
	chart, err := s.auditChart(ctx, audits)
	if err != nil {
		return err
	}
	vm := views.AuditReview{Filters: auditFiltersVM(form), Results: res, Chart: chart}
	return s.render(c, http.StatusOK, views.AuditReviewPage(s.meta(c, "Audit log", "audit"), vm))
}

func (s *Server) handleAuditTimeline(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "The change ID must be a positive number.")
	}
	form := AuditForm{ChangeID: strconv.FormatInt(id, 10)}
	return s.renderTrail(c, form, fmt.Sprintf("/audit/changes/%d", id), fmt.Sprintf("Timeline of change %d", id))
}

func (s *Server) handleAuditHistory(c echo.Context) error {
	q := c.QueryParams()
	form := AuditForm{Service: q.Get("service"), ResourceID: q.Get("id")}
	if form.ResourceID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "Which resource? Give its id.")
	}
	path := "/audit/resource?" + url.Values{"service": {form.Service}, "id": {form.ResourceID}}.Encode()
	return s.renderTrail(c, form, path, "History of "+form.Service+" resource "+form.ResourceID)
}

// renderTrail shows one change's or resource's events oldest first.
func (s *Server) renderTrail(c echo.Context, form AuditForm, path, heading string) error {
	q := c.QueryParams()
	if len(q["after"]) > 1 {
		return echo.NewHTTPError(http.StatusBadRequest, "Repeated parameter after.")
	}
	form.After = q.Get("after")
	_, f, err := parseAuditForm(auditValues(form, true))
	if err != nil {
		return err
	}
	audits := s.Audit
	f.Oldest, f.Limit = true, 100
	page, err := audits.Query(c.Request().Context(), f)
	if err != nil {
		return auditError(err)
	}
	res := auditResults(path, form, page)
	if isFragment(c) {
		return s.render(c, http.StatusOK, views.AuditTable(res))
	}
	vm := views.AuditTrail{
		Heading: heading,
		Crumbs:  []views.Crumb{{Label: "Audit log", URL: "/audit"}, {Label: heading}},
		Results: res,
	}
	return s.render(c, http.StatusOK, views.AuditTrailPage(s.meta(c, heading, "audit"), vm))
}

func (s *Server) handleAuditExportCSV(c echo.Context) error { return s.auditExport(c, audit.FormatCSV) }
func (s *Server) handleAuditExportJSONL(c echo.Context) error {
	return s.auditExport(c, audit.FormatJSONL)
}

// auditExport streams the filtered log as an attachment. The export is
// recorded (an audit_export event) before the first byte is sent.
func (s *Server) auditExport(c echo.Context, format audit.Format) error {
	_, f, err := parseAuditForm(c.QueryParams())
	if err != nil {
		return err
	}
	audits := s.Audit
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, format.ContentType())
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="decom-audit-%s.%s"`,
		s.Now().UTC().Format("20060102T150405Z"), format))
	w := &startOnWrite{res: c.Response()}
	by := audit.Event{Actor: usernameOf(c), ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()}
	if _, err := audits.Export(c.Request().Context(), w, format, f, by); err != nil {
		h.Del(echo.HeaderContentDisposition)
		return auditError(err)
	}
	if !w.started {
		c.Response().WriteHeader(http.StatusOK)
	}
	return nil
}

// startOnWrite sends the 200 status with the first byte, so an error before
// any output still becomes a clean error page.
type startOnWrite struct {
	res     *echo.Response
	started bool
}

func (w *startOnWrite) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		w.res.WriteHeader(http.StatusOK)
	}
	return w.res.Write(p)
}

// auditError shows audit validation errors as 400s.
func auditError(err error) error {
	var ve *audit.ValidationError
	if errors.As(err, &ve) {
		return echo.NewHTTPError(http.StatusBadRequest, "Bad filter: "+ve.Error()).SetInternal(err)
	}
	return err
}

// parseAuditForm reads the review query string. Unknown parameters are
// ignored; a repeated or malformed one is a 400.
func parseAuditForm(q url.Values) (AuditForm, audit.Filter, error) {
	var form AuditForm
	if err := bindQuery(&form, q); err != nil {
		return AuditForm{}, audit.Filter{}, err
	}
	f := audit.Filter{Actor: form.Actor, Action: audit.Action(form.Action), Service: form.Service,
		ResourceID: form.ResourceID, Outcome: form.Outcome, Text: form.Q}
	bad := func(msg string) (AuditForm, audit.Filter, error) {
		return AuditForm{}, audit.Filter{}, echo.NewHTTPError(http.StatusBadRequest, msg)
	}
	if f.Action != "" && !slices.Contains(audit.Actions, f.Action) {
		return bad("Unknown action.")
	}
	var err error
	if f.ChangeID, err = positiveInt(form.ChangeID); err != nil {
		return bad("The change ID must be a positive number.")
	}
	if f.After, err = positiveInt(form.After); err != nil {
		return bad("Malformed page cursor.")
	}
	if f.From, err = parseAuditTime(form.From); err != nil {
		return bad("Malformed from time: use YYYY-MM-DDTHH:MM (UTC).")
	}
	if f.To, err = parseAuditTime(form.To); err != nil {
		return bad("Malformed to time: use YYYY-MM-DDTHH:MM (UTC).")
	}
	if err := f.Validate(); err != nil {
		return AuditForm{}, audit.Filter{}, auditError(err)
	}
	return form, f, nil
}

func positiveInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a positive integer")
	}
	return n, nil
}

// parseAuditTime accepts a datetime-local value, a date or RFC 3339; times
// without a zone are UTC.
func parseAuditTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

// auditValues encodes form as a query string; withAfter keeps the cursor.
func auditValues(form AuditForm, withAfter bool) url.Values {
	if withAfter {
		return encodeQuery(form)
	}
	return encodeQuery(form, "after")
}
