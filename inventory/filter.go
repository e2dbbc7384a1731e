package inventory

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/decom/decom/cloud"
)

// Filter is a parsed inventory query: which resources, in which order, which page.
type Filter struct {
	Account string
	Project string
	Status  string // a status class ("failed") or a raw cloud status ("CREATEFAILED"), any case
	Kind    cloud.Kind
	Q       string // case-insensitive substring of name or ID
	// Tag keeps resources with this tag ("key" or "key=value", case
	// ignored: cloud.TagSelector); nil keeps all.
	Tag     *cloud.TagSelector
	EP      string // enterprise project ID, case ignored
	Sort    string
	Desc    bool
	Page    int
	PerPage int
}

// PerPageChoices are the page sizes offered; DefaultPerPage is used when none is given.
var PerPageChoices = []int{25, 50, 100}

// DefaultPerPage is the page size when the query names none.
const DefaultPerPage = 50

// FilterError is a bad query parameter; handlers answer 400 with its text.
type FilterError struct {
	Param   string
	Message string
}

// Error names the parameter and what is wrong with it.
func (e *FilterError) Error() string {
	return "Bad parameter " + strconv.Quote(e.Param) + ": " + e.Message + "."
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9._:@-]{1,128}$`)

// ParseFilter reads a Filter from query parameters, rejecting malformed values.
// kinds lists the kinds the view allows (nil: the kind parameter is refused).
func ParseFilter(q url.Values, kinds []cloud.Kind) (Filter, error) {
	for k, v := range q {
		if len(v) > 1 {
			return Filter{}, &FilterError{k, "given more than once"}
		}
	}
	f := Filter{
		Account: q.Get("account"), Project: q.Get("project"), Status: q.Get("status"),
		Kind: cloud.Kind(q.Get("kind")), Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"),
		Page: 1, PerPage: DefaultPerPage,
	}
	for _, p := range []struct{ name, val string }{{"account", f.Account}, {"project", f.Project}, {"status", f.Status}} {
		if p.val != "" && !tokenRE.MatchString(p.val) {
			return Filter{}, &FilterError{p.name, "unexpected characters"}
		}
	}
	if len(f.Q) > 200 {
		return Filter{}, &FilterError{"q", "longer than 200 characters"}
	}
	if err := f.parseTagAndEP(q); err != nil {
		return Filter{}, err
	}
	if f.Kind != "" && !slices.Contains(kinds, f.Kind) {
		return Filter{}, &FilterError{"kind", "not one of this view's kinds"}
	}
	if f.Sort != "" && !slices.Contains(sortKeys, f.Sort) {
		return Filter{}, &FilterError{"sort", "use one of " + strings.Join(sortKeys, ", ")}
	}
	switch q.Get("dir") {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		return Filter{}, &FilterError{"dir", "use asc or desc"}
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			return Filter{}, &FilterError{"page", "use a whole number from 1"}
		}
		f.Page = n
	}
	if s := q.Get("per"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !slices.Contains(PerPageChoices, n) {
			return Filter{}, &FilterError{"per", "use 25, 50 or 100"}
		}
		f.PerPage = n
	}
	return f, nil
}

// parseTagAndEP reads tag ("key" or "key=value") and ep (an enterprise
// project ID). A parameter given but empty means no filter, as for the others.
func (f *Filter) parseTagAndEP(q url.Values) error {
	if s := q.Get("tag"); s != "" {
		sel, err := cloud.ParseTagSelector(s)
		if err != nil {
			return &FilterError{"tag", "use key or key=value: " + err.Error()}
		}
		f.Tag = &sel
	}
	if f.EP = q.Get("ep"); f.EP != "" && !tokenRE.MatchString(f.EP) {
		return &FilterError{"ep", "unexpected characters"}
	}
	return nil
}

// Values is the canonical query string of f, leaving out defaults, so URLs
// stay short and equal filters give equal URLs.
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("account", f.Account)
	set("project", f.Project)
	set("status", f.Status)
	set("kind", string(f.Kind))
	set("q", f.Q)
	if f.Tag != nil {
		v.Set("tag", f.Tag.String())
	}
	set("ep", f.EP)
	set("sort", f.Sort)
	if f.Desc {
		v.Set("dir", "desc")
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	if f.PerPage != 0 && f.PerPage != DefaultPerPage {
		v.Set("per", strconv.Itoa(f.PerPage))
	}
	return v
}

// Validate checks the account and project against the configured accounts.
func (f Filter) Validate(accounts []cloud.AccountInfo) error {
	if f.Account == "" && f.Project == "" {
		return nil
	}
	for _, a := range accounts {
		if f.Account != "" && a.Name != f.Account {
			continue
		}
		if f.Project == "" || slices.Contains(a.Projects, f.Project) {
			return nil
		}
	}
	if f.Account != "" &&
		!slices.ContainsFunc(accounts, func(a cloud.AccountInfo) bool { return a.Name == f.Account }) {
		return &FilterError{"account", "no such account"}
	}
	return &FilterError{"project", "no such project"}
}

func (f Filter) perPage() int {
	if f.PerPage <= 0 {
		return DefaultPerPage
	}
	return f.PerPage
}

func (f Filter) sortKey() string {
	if f.Sort == "" {
		return SortName
	}
	return f.Sort
}

type matcher struct {
	f       Filter
	q       string
	class   cloud.StatusClass // the status filter names a class: compare classes only
	byClass bool
}

func (f Filter) matcher() matcher {
	class := cloud.StatusClass(strings.ToLower(f.Status))
	return matcher{f: f, q: strings.ToLower(f.Q), class: class, byClass: slices.Contains(Classes, class)}
}

func (m *matcher) match(r *cloud.Resource, search string) bool {
	f := &m.f
	if f.Account != "" && r.Account != f.Account || f.Project != "" && r.Project != f.Project {
		return false
	}
	if f.Kind != "" && r.Kind != f.Kind {
		return false
	}
	if f.EP != "" && !strings.EqualFold(r.EnterpriseProject, f.EP) || f.Tag != nil && !f.Tag.Matches(r.Tags) {
		return false
	}
	if f.Status != "" {
		if m.byClass && r.Class != m.class || !m.byClass && !strings.EqualFold(r.Status, f.Status) {
			return false
		}
	}
	return m.q == "" || strings.Contains(search, m.q)
}
