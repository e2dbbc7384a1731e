package inventory

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/decom/decom/cloud"
)

// Snapshot is one read of a view (a service, or a ROMA instance's assets),
// indexed for fast filtering. It is immutable once built.
type Snapshot struct {
	Items  []cloud.Resource
	ReadAt time.Time
	// Errors names the account/projects whose read failed; their resources
	// are missing from Items.
	Errors []string

	byKey    map[string]int
	keys     []string           // Ref.Key() per item
	lowNames []string           // lower-case name per item, for sorting
	search   []string           // lower-case "name id" per item
	orders   map[string][]int32 // ascending permutations of Items per sort key
	statuses []string           // distinct raw statuses, sorted
	eps      []string           // distinct enterprise projects, sorted
	tagKeys  []string           // distinct tag keys, sorted
}

// Sort keys a Filter may name.
const (
	SortName    = "name"
	SortStatus  = "status"
	SortCreated = "created"
	SortProject = "project"
	SortKind    = "kind"
)

var sortKeys = []string{SortName, SortStatus, SortCreated, SortProject, SortKind}

func newSnapshot(items []cloud.Resource, readAt time.Time, errs []string) *Snapshot {
	s := &Snapshot{
		Items: items, ReadAt: readAt, Errors: errs,
		byKey:    make(map[string]int, len(items)),
		keys:     make([]string, len(items)),
		lowNames: make([]string, len(items)),
		search:   make([]string, len(items)),
		orders:   make(map[string][]int32, len(sortKeys)),
	}
	seen, seenEP, seenKey := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, r := range items {
		s.keys[i] = r.Key()
		s.byKey[s.keys[i]] = i
		s.lowNames[i] = strings.ToLower(r.Name)
		s.search[i] = s.lowNames[i] + " " + strings.ToLower(r.ID)
		if !seen[r.Status] {
			seen[r.Status] = true
			s.statuses = append(s.statuses, r.Status)
		}
		if ep := r.EnterpriseProject; ep != "" && !seenEP[ep] {
			seenEP[ep] = true
			s.eps = append(s.eps, ep)
		}
		for _, t := range r.Tags {
			if !seenKey[t.Key] {
				seenKey[t.Key] = true
				s.tagKeys = append(s.tagKeys, t.Key)
			}
		}
	}
	slices.Sort(s.statuses)
	slices.Sort(s.eps)
	slices.Sort(s.tagKeys)
	for _, k := range sortKeys {
		s.orders[k] = s.order(k)
	}
	return s
}

// order sorts item indexes by key, ties broken by name then by Ref key, so
// pages are stable.
func (s *Snapshot) order(key string) []int32 {
	idx := make([]int32, len(s.Items))
	for i := range idx {
		idx[i] = int32(i)
	}
	by := func(a, b *cloud.Resource) int {
		switch key {
		case SortStatus:
			return cmp.Or(cmp.Compare(a.Class, b.Class), cmp.Compare(a.Status, b.Status))
		case SortCreated:
			return a.CreatedAt.Compare(b.CreatedAt)
		case SortProject:
			return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Project, b.Project))
		case SortKind:
			return cmp.Compare(a.Kind, b.Kind)
		}
		return 0
	}
	slices.SortFunc(idx, func(i, j int32) int {
		return cmp.Or(
			by(&s.Items[i], &s.Items[j]),
			cmp.Compare(s.lowNames[i], s.lowNames[j]),
			cmp.Compare(s.keys[i], s.keys[j]),
		)
	})
	return idx
}

// Statuses lists the raw statuses present, for the filter's choices.
func (s *Snapshot) Statuses() []string { return s.statuses }

// EnterpriseProjects lists the enterprise project IDs present, for the
// filter's choices.
func (s *Snapshot) EnterpriseProjects() []string { return s.eps }

// TagKeys lists the tag keys present, for the filter's suggestions.
func (s *Snapshot) TagKeys() []string { return s.tagKeys }

// Lookup finds one resource by its Ref key.
func (s *Snapshot) Lookup(key string) (cloud.Resource, bool) {
	i, ok := s.byKey[key]
	if !ok {
		return cloud.Resource{}, false
	}
	return s.Items[i], true
}

// Page is one page of a filtered, sorted view.
type Page struct {
	Items       []cloud.Resource
	Total       int // items matching the filter
	Page, Pages int
	From, To    int // 1-based positions of Items within the matches
	ReadAt      time.Time
	Errors      []string
}

// Query filters, sorts and pages the snapshot in one pass over the
// pre-sorted order. A page past the end shows the last page.
func (s *Snapshot) Query(f Filter) Page {
	per := f.perPage()
	start := (max(f.Page, 1) - 1) * per
	m := f.matcher()
	var hits []int32
	total := 0
	s.walk(f, func(i int32) {
		if !m.match(&s.Items[i], s.search[i]) {
			return
		}
		if total >= start && total < start+per {
			hits = append(hits, i)
		}
		total++
	})
	p := Page{Total: total, Page: max(f.Page, 1), Pages: (total + per - 1) / per, ReadAt: s.ReadAt, Errors: s.Errors}
	if total > 0 && start >= total {
		// Past the end: run again for the last page (rare: stale links).
		f.Page = p.Pages
		return s.Query(f)
	}
	p.Items = make([]cloud.Resource, len(hits))
	for j, i := range hits {
		p.Items[j] = s.Items[i]
	}
	if len(hits) > 0 {
		p.From, p.To = start+1, start+len(hits)
	}
	return p
}

// Matching returns every resource the filter matches, in its sort order.
func (s *Snapshot) Matching(f Filter) []cloud.Resource {
	m := f.matcher()
	var out []cloud.Resource
	s.walk(f, func(i int32) {
		if m.match(&s.Items[i], s.search[i]) {
			out = append(out, s.Items[i])
		}
	})
	return out
}

func (s *Snapshot) walk(f Filter, fn func(int32)) {
	order := s.orders[f.sortKey()]
	if f.Desc {
		for j := len(order) - 1; j >= 0; j-- {
			fn(order[j])
		}
		return
	}
	for _, i := range order {
		fn(i)
	}
}
