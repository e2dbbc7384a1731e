package changes

import (
	"sort"

	"github.com/decom/decom/cloud"
)

// DiffKind says how the live state differs from the plan.
type DiffKind string

// Difference kinds found by re-validation.
const (
	DiffGone          DiffKind = "gone"           // the resource no longer exists
	DiffStatus        DiffKind = "status_changed" // its status is not the planned one
	DiffFailedSetGrew DiffKind = "failed_set_changed"
	DiffProtected     DiffKind = "protected"     // a protection rule or the protect tag now covers it
	DiffNotDeletable  DiffKind = "not_deletable" // the cloud refuses a delete in its status
)

// Difference is one way the live state differs from the plan.
type Difference struct {
	Kind    DiffKind  `json:"kind"`
	Ref     cloud.Ref `json:"ref"`
	Name    string    `json:"name"`
	Planned string    `json:"planned"`          // planned status ("" for a new failed instance)
	Live    string    `json:"live"`             // live status ("" when gone)
	Reason  string    `json:"reason,omitempty"` // why it is blocked (protected, not deletable)
}

// Live is the live state re-read at execution: resources by Ref.Key()
// (absent = gone), for a sweep plan every instance of the swept service
// currently in CREATEFAILED, and the protection rules in force now.
type Live struct {
	Resources map[string]cloud.Resource
	Failed    []cloud.Resource
	Rules     []Rule
}

// FailedStatus is the DMS status a sweep selects.
const FailedStatus = "CREATEFAILED"

// Revalidate compares the plan with the live state and lists every
// difference, sorted by resource key. No differences means execute.
func Revalidate(p Plan, live Live) []Difference {
	var out []Difference
	rules := NewMatcher(live.Rules)
	for _, it := range p.Items {
		r, ok := live.Resources[it.Key()]
		if !ok || r.Class == cloud.ClassGone {
			out = append(out, Difference{Kind: DiffGone, Ref: it.Ref, Name: it.Name, Planned: it.Status})
			continue
		}
		d := Difference{Ref: it.Ref, Name: it.Name, Planned: it.Status, Live: r.Status}
		b, blocked := rules.Blocked(r)
		switch {
		case blocked && b.Protected:
			d.Kind, d.Reason = DiffProtected, b.Reason
		case r.Status != it.Status:
			d.Kind = DiffStatus
		case blocked:
			d.Kind, d.Reason = DiffNotDeletable, b.Reason
		default:
			continue
		}
		out = append(out, d)
	}
	if p.Sweep != nil {
		planned := map[string]bool{}
		for _, it := range p.Items {
			planned[it.Key()] = true
		}
		for _, r := range live.Failed {
			// A blocked instance was left out of the plan and would be again.
			if _, blocked := rules.Blocked(r); !planned[r.Key()] && !blocked {
				out = append(out, Difference{Kind: DiffFailedSetGrew, Ref: r.Ref, Name: r.Name, Live: r.Status})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref.Key() < out[j].Ref.Key() })
	return out
}

// Replan builds the plan to approve again after differences: the same
// options, with live resources (gone ones dropped, blocked ones excluded with
// their reason) or, for a sweep, the current failed set.
func Replan(p Plan, live Live) Plan {
	in := PlanInput{Rules: live.Rules, Force: p.Force, Reason: p.Reason, Ticket: p.Ticket, Sweep: p.Sweep}
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
