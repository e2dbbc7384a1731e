package inventory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/decom/decom/cloud"
)

// A selection scope is one list a user selects from: a service's instances
// ("rocketmq"), or one ROMA instance's apps and tasks. Each scope keeps its
// own selection, and a change request is planned from one scope.

// ServiceScope is the selection scope of a service's instance list.
func ServiceScope(svc cloud.Service) string { return string(svc) }

// AssetsScope is the selection scope of one ROMA instance's apps and tasks.
func AssetsScope(instance cloud.Ref) string { return "roma-assets:" + instance.Key() }

// MaxSelection bounds one scope's selection, so "select all" cannot grow
// memory without limit.
const MaxSelection = 20000

type selKey struct {
	user  int64
	scope string
}

type selection struct {
	items map[string]cloud.Resource // by Ref key, the state seen when selected
}

type selections struct {
	mu sync.Mutex
	m  map[selKey]*selection
}

// Select adds resources to a user's selection in scope (up to MaxSelection).
func (inv *Inventory) Select(user int64, scope string, rs ...cloud.Resource) {
	s := &inv.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	sel := s.m[selKey{user, scope}]
	if sel == nil {
		sel = &selection{items: map[string]cloud.Resource{}}
		s.m[selKey{user, scope}] = sel
	}
	for _, r := range rs {
		if len(sel.items) >= MaxSelection {
			return
		}
		sel.items[r.Key()] = r
	}
}

// Deselect removes resources, by Ref key, from a user's selection in scope.
func (inv *Inventory) Deselect(user int64, scope string, keys ...string) {
	s := &inv.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	if sel := s.m[selKey{user, scope}]; sel != nil {
		for _, k := range keys {
			delete(sel.items, k)
		}
	}
}

// ClearSelection empties a user's selection in scope (after planning, say).
func (inv *Inventory) ClearSelection(user int64, scope string) {
	s := &inv.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, selKey{user, scope})
}

// Selected returns a user's selection in scope, as last read, ordered by Ref
// key. The change-request planner re-reads them before planning.
func (inv *Inventory) Selected(user int64, scope string) []cloud.Resource {
	s := &inv.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	sel := s.m[selKey{user, scope}]
	if sel == nil {
		return nil
	}
	out := make([]cloud.Resource, 0, len(sel.items))
	for _, r := range sel.items {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b cloud.Resource) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// SelectedRefs is Selected reduced to references.
func (inv *Inventory) SelectedRefs(user int64, scope string) []cloud.Ref {
	rs := inv.Selected(user, scope)
	out := make([]cloud.Ref, len(rs))
	for i, r := range rs {
		out[i] = r.Ref
	}
	return out
}

// SelectionState answers, for rendering one page, how many are selected in
// scope and which of keys are.
func (inv *Inventory) SelectionState(user int64, scope string, keys []string) (count int, selected map[string]bool) {
	s := &inv.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	selected = make(map[string]bool, len(keys))
	sel := s.m[selKey{user, scope}]
	if sel == nil {
		return 0, selected
	}
	for _, k := range keys {
		if _, ok := sel.items[k]; ok {
			selected[k] = true
		}
	}
	return len(sel.items), selected
}

// Current returns rs as the inventory reads them now (from the cache, read
// again when stale), so a protect tag or a status change since selecting
// shows; a resource no longer read is returned as it was selected (the plan
// re-reads everything live anyway).
func (inv *Inventory) Current(ctx context.Context, rs []cloud.Resource) []cloud.Resource {
	snaps := map[string]*Snapshot{}
	out := make([]cloud.Resource, len(rs))
	for i, r := range rs {
		out[i] = r
		view := "svc:" + string(r.Service)
		if r.Kind != cloud.KindInstance {
			view = r.Account + "/" + r.Project + "/" + r.Parent
		}
		snap, ok := snaps[view]
		if !ok {
			var err error
			if r.Kind == cloud.KindInstance {
				snap, err = inv.Service(ctx, r.Service)
			} else {
				snap, err = inv.Assets(ctx, cloud.Ref{Account: r.Account, Project: r.Project, Service: r.Service,
					Kind: cloud.KindInstance, ID: r.Parent})
			}
			if err != nil {
				snap = nil
			}
			snaps[view] = snap
		}
		if snap == nil {
			continue
		}
		if cur, ok := snap.Lookup(r.Key()); ok {
			out[i] = cur
		}
	}
	return out
}
