package changes

import (
	"sort"
	"time"

	"github.com/decom/decom/cloud"
)

// DiffKind says how the live state differs from the plan.
type DiffKind string

// Difference kinds found by re-validation.
const (
	DiffGone          DiffKind = "gone"           // the resource no longer exists
	DiffStatus        DiffKind = "status_changed" // its status is not the planned one
	DiffFailedSetGrew DiffKind = "failed_set_changed"
	DiffRecycle       DiffKind = "recycle_policy_changed" // a DMS project's recycle policy changed
)

// Difference is one way the live state differs from the plan.
type Difference struct {
	Kind    DiffKind  `json:"kind"`
	Ref     cloud.Ref `json:"ref"`
	Name    string    `json:"name"`
	Planned string    `json:"planned"` // planned status ("" for a new failed instance)
	Live    string    `json:"live"`    // live status ("" when gone)
}

// Live is the live state re-read at execution: resources by Ref.Key()
// (absent = gone) and, for a sweep plan, every instance of the swept service
// currently in CREATEFAILED.
type Live struct {
	Resources map[string]cloud.Resource
	Failed    []cloud.Resource
	Bins      []Bin // recycle policies re-read for the plan's Bins (nil: not re-read)
}

// FailedStatus is the DMS status a sweep selects.
const FailedStatus = "CREATEFAILED"

// Revalidate compares the plan with the live state and lists every
// difference, sorted by resource key. No differences means execute.
func Revalidate(p Plan, live Live) []Difference {
	var out []Difference
	for _, it := range p.Items {
		r, ok := live.Resources[it.Key()]
		switch {
		case !ok || r.Class == cloud.ClassGone:
			out = append(out, Difference{Kind: DiffGone, Ref: it.Ref, Name: it.Name, Planned: it.Status})
		case r.Status != it.Status:
			out = append(out, Difference{Kind: DiffStatus, Ref: it.Ref, Name: it.Name, Planned: it.Status, Live: r.Status})
		}
	}
	if p.Sweep != nil {
		planned := map[string]bool{}
		for _, it := range p.Items {
			planned[it.Key()] = true
		}
		for _, r := range live.Failed {
			if !planned[r.Key()] {
				out = append(out, Difference{Kind: DiffFailedSetGrew, Ref: r.Ref, Name: r.Name, Live: r.Status})
			}
		}
	}
	for _, why := range binsChanged(p.Bins, live.Bins) {
		out = append(out, Difference{Kind: DiffRecycle, Name: why})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref.Key() < out[j].Ref.Key() })
	return out
}

// Replan builds the plan to approve again after differences: the same
// options, with live resources (gone ones dropped) or, for a sweep, the
// current failed set.
func Replan(p Plan, live Live) Plan {
	switch p.Kind {
	case KindRestore:
		return replanRestore(p, live)
	case KindImport:
		return replanImport(p, live)
	}
	in := PlanInput{Force: p.Force, Reason: p.Reason, Ticket: p.Ticket, Sweep: p.Sweep, Bins: p.Bins,
		NoBackup: p.NoBackup}
	if live.Bins != nil {
		in.Bins = live.Bins
	}
	for _, r := range live.Resources {
		in.Now = latest(in.Now, r.ReadAt)
	}
	if p.Sweep != nil {
		in.Resources = live.Failed
		return BuildPlan(in)
	}
	for _, it := range p.Items {
		if r, ok := live.Resources[it.Key()]; ok && r.Class != cloud.ClassGone {
			in.Resources = append(in.Resources, r)
		}
	}
	return BuildPlan(in)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b.UTC()
	}
	return a
}
