package views

// AuditReview is the audit review page: filters, the event table, the chart of
// destructive actions and export links.
type AuditReview struct {
	Filters AuditFilters
	Results AuditResults
	Chart   AuditChart
}

// AuditFilters is the filter form's state (as typed) and choices.
type AuditFilters struct {
	Actor, Action, Service, ResourceID, ChangeID, Outcome, From, To, Q string
	Actions                                                            []Option
	Outcomes                                                           []Option
}

// AuditResults is the #audit-results fragment: one page of events.
type AuditResults struct {
	Rows        []AuditRow
	NextURL     string // older events ("" on the last page)
	FirstURL    string // back to the newest page ("" when on it)
	ExportCSV   string // the same filter as CSV
	ExportJSONL string
}

// AuditRow is one event as shown.
type AuditRow struct {
	Seq, Time, Actor, ClientIP, UserAgent, Action, Outcome string
	ChangeID, ChangeURL                                    string // "" when none
	Service, Project, ResourceID, ResourceName             string
	ResourceURL                                            string // its history, "" when none
	Details, Hash                                          string
}

// AuditTrail is a per-change timeline or per-resource history page.
type AuditTrail struct {
	Heading string
	Crumbs  []Crumb
	Results AuditResults
}

// AuditChart is a stacked bar chart of destructive actions per day by
// outcome, drawn as inline SVG (no script, no inline style).
type AuditChart struct {
	Width, Height int
	Bars          []AuditBar
	Labels        []AuditLabel
	Legend        []AuditLegend
	Max           int64
	Empty         bool
}

// AuditBar is one outcome's segment of one day's bar.
type AuditBar struct {
	X, Y, W, H int
	Fill       string
	Title      string // tooltip: day, outcome, count
}

// AuditLabel is an axis label.
type AuditLabel struct {
	X, Y int
	Text string
}

// AuditLegend is one outcome's colour.
type AuditLegend struct{ Outcome, Fill string }
