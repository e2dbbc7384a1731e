package handlers

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/views"
)

// withQuery appends v to path, which may already hold a query.
func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	if strings.Contains(path, "?") {
		return path + "&" + v.Encode()
	}
	return path + "?" + v.Encode()
}

// auditResults builds the #audit-results model for one page at path.
func auditResults(path string, form AuditForm, p audit.Page) views.AuditResults {
	next := form
	next.After = ""
	exp := auditValues(next, false).Encode()
	res := views.AuditResults{ExportCSV: "/audit/export.csv?" + exp, ExportJSONL: "/audit/export.jsonl?" + exp}
	trail := path != "/audit"
	own := func(f AuditForm) url.Values {
		if trail { // the path names the change or resource: only the cursor varies
			return url.Values{"after": {f.After}}
		}
		return auditValues(f, true)
	}
	if form.After != "" {
		res.FirstURL = path
		if !trail {
			res.FirstURL = withQuery(path, auditValues(next, false))
		}
	}
	if p.Next != 0 {
		next.After = strconv.FormatInt(p.Next, 10)
		res.NextURL = withQuery(path, own(next))
	}
	for _, e := range p.Events {
		res.Rows = append(res.Rows, auditRow(e))
	}
	return res
}

func auditRow(e audit.Event) views.AuditRow {
	r := views.AuditRow{
		Seq: strconv.FormatInt(e.Seq, 10), Time: e.Time.UTC().Format("2006-01-02 15:04:05.000"),
		Actor: e.Actor, ClientIP: e.ClientIP, UserAgent: e.UserAgent, Action: string(e.Action), Outcome: e.Outcome,
		Service: e.Service, Project: e.Project, ResourceID: e.ResourceID, ResourceName: e.ResourceName,
		Details: string(e.Details), Hash: e.Hash,
	}
	if e.ChangeID != 0 {
		r.ChangeID = strconv.FormatInt(e.ChangeID, 10)
		r.ChangeURL = "/audit/changes/" + r.ChangeID
	}
	if e.ResourceID != "" {
		r.ResourceURL = "/audit/resource?" + url.Values{"service": {e.Service}, "id": {e.ResourceID}}.Encode()
		if r.ResourceName == "" {
			r.ResourceName = e.ResourceID
		}
	}
	return r
}

func auditFiltersVM(form AuditForm) views.AuditFilters {
	vm := views.AuditFilters{Actor: form.Actor, Action: form.Action, Service: form.Service, ResourceID: form.ResourceID,
		ChangeID: form.ChangeID, Outcome: form.Outcome, From: form.From, To: form.To, Q: form.Q}
	for _, a := range audit.Actions {
		vm.Actions = append(vm.Actions, views.Option{Value: string(a), Label: strings.ReplaceAll(string(a), "_", " ")})
	}
	for _, o := range chartOutcomes {
		vm.Outcomes = append(vm.Outcomes, views.Option{Value: o, Label: o})
	}
	return vm
}

// chartOutcomes stack bottom-up in this order; others follow, grey.
var (
	chartOutcomes = []string{audit.OutcomeSuccess, audit.OutcomeFailure, audit.OutcomeDenied, audit.OutcomePending}
	chartFills    = map[string]string{audit.OutcomeSuccess: "#2e7d32", audit.OutcomeFailure: "#c62828",
		audit.OutcomeDenied: "#ef6c00", audit.OutcomePending: "#1565c0"}
)

const (
	chartDays   = 30
	chartWidth  = 640
	chartHeight = 150
	chartPlot   = 120 // bar area height; labels below
)

// auditChart draws the last 30 UTC days of destructive actions by outcome.
func (s *Server) auditChart(ctx context.Context, audits *audit.Log) (views.AuditChart, error) {
	end := s.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	start := end.AddDate(0, 0, -chartDays)
	counts, err := audits.DailyDestructive(ctx, start, end)
	if err != nil {
		return views.AuditChart{}, err
	}
	return chartVM(start, counts), nil
}

func chartVM(start time.Time, counts []audit.DayCount) views.AuditChart {
	ch := views.AuditChart{Width: chartWidth, Height: chartHeight, Empty: len(counts) == 0}
	byDay := map[string]map[string]int64{}
	seen := map[string]bool{}
	order := append([]string(nil), chartOutcomes...)
	for _, d := range counts {
		if byDay[d.Day] == nil {
			byDay[d.Day] = map[string]int64{}
		}
		byDay[d.Day][d.Outcome] += d.Count
		if !seen[d.Outcome] && chartFills[d.Outcome] == "" {
			order = append(order, d.Outcome)
		}
		seen[d.Outcome] = true
	}
	for _, m := range byDay {
		var total int64
		for _, n := range m {
			total += n
		}
		ch.Max = max(ch.Max, total)
	}
	slot := chartWidth / chartDays
	for i := range chartDays {
		day := start.AddDate(0, 0, i).Format(time.DateOnly)
		y := chartPlot
		for _, o := range order {
			n := byDay[day][o]
			if n == 0 {
				continue
			}
			h := max(1, int(n*int64(chartPlot-10)/ch.Max))
			y -= h
			ch.Bars = append(ch.Bars, views.AuditBar{X: i*slot + 2, Y: y, W: slot - 4, H: h, Fill: fillOf(o),
				Title: day + " " + o + ": " + strconv.FormatInt(n, 10)})
		}
		if i%7 == 0 {
			ch.Labels = append(ch.Labels, views.AuditLabel{X: i*slot + 2, Y: chartPlot + 14, Text: day[5:]})
		}
	}
	ch.Labels = append(ch.Labels, views.AuditLabel{X: 2, Y: 10, Text: "max " + strconv.FormatInt(ch.Max, 10) + "/day"})
	for _, o := range order {
		if seen[o] {
			ch.Legend = append(ch.Legend, views.AuditLegend{Outcome: o, Fill: fillOf(o)})
		}
	}
	return ch
}

func fillOf(outcome string) string {
	if f, ok := chartFills[outcome]; ok {
		return f
	}
	return "#757575"
}
