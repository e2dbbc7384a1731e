package changes

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/decom/decom/cloud"
)

// Bin is a project's DMS recycle policy as read when the plan was built: it
// decides whether the plan's DMS deletes can be undone, so it is part of
// what approvers approve (and of the plan hash).
type Bin struct {
	Account       string `json:"account"`
	Project       string `json:"project"`
	On            bool   `json:"on"`             // deletes that are not forced go to the bin
	RetentionDays int    `json:"retention_days"` // how long a binned instance stays restorable
}

// Warning codes about undo.
const (
	WarnRecycled = "recycle_bin" // a DMS instance goes to the recycle bin: restorable until …
	WarnNoUndo   = "no_undo"     // nothing can bring the resource back
	WarnBinOff   = "recycle_off" // the project's recycle bin is off: DMS deletes are final
	WarnBackup   = "roma_backup" // ROMA assets are exported before the delete
)

// RecyclePolicies reads DMS recycle policies; *cloud.Client satisfies it. A
// Cloud that does not offer it plans without recycle-bin information.
type RecyclePolicies interface {
	RecyclePolicy(ctx context.Context, account, project string) (cloud.RecyclePolicy, error)
}

// bins reads the recycle policy of every project with DMS resources in res,
// in account/project order. Nil when the cloud cannot say.
func (s *Service) bins(ctx context.Context, res []cloud.Resource) ([]Bin, error) {
	rp, ok := s.cloud.(RecyclePolicies)
	if !ok {
		return nil, nil
	}
	seen := map[[2]string]bool{}
	var out []Bin
	for _, r := range res {
		k := [2]string{r.Account, r.Project}
		if !isDMS(r.Service) || seen[k] {
			continue
		}
		seen[k] = true
		pol, err := rp.RecyclePolicy(ctx, r.Account, r.Project)
		if err != nil {
			return nil, fmt.Errorf("read the recycle policy of %s/%s: %w", r.Account, r.Project, err)
		}
		out = append(out, Bin{Account: r.Account, Project: r.Project, On: pol.DefaultUseRecycle,
			RetentionDays: pol.RetentionDays})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Account+"/"+out[i].Project < out[j].Account+"/"+out[j].Project
	})
	return out, nil
}

// binOf is the bin of an item's project, if read.
func (p Plan) binOf(it Item) (Bin, bool) {
	for _, b := range p.Bins {
		if b.Account == it.Account && b.Project == it.Project {
			return b, true
		}
	}
	return Bin{}, false
}

// Undo says whether, and until when, the deletion of one planned item can
// be undone in the default flow.
type Undo struct {
	Possible bool
	Until    time.Time // zero when not possible or unknown
	How      string    // "recycle bin", "" when not possible
	Why      string    // why not, when not possible
}

// UndoOf tells whether deleting it (planned at now) can be undone: a DMS
// instance deleted without force into a project whose bin is on stays
// restorable for the retention days; CloudDC has no undo.
func (p Plan) UndoOf(it Item, now time.Time) Undo {
	switch {
	case isDMS(it.Service):
		b, ok := p.binOf(it)
		switch {
		case !ok:
			return Undo{Why: "recycle policy unknown"}
		case p.Force:
			return Undo{Why: "force delete skips the recycle bin"}
		case !b.On:
			return Undo{Why: "the recycle bin of project " + it.Project + " is off"}
		}
		return Undo{Possible: true, How: "recycle bin", Until: now.Add(time.Duration(b.RetentionDays) * 24 * time.Hour)}
	case it.Service == cloud.CloudDC:
		return Undo{Why: "CloudDC has no undo"}
	}
	if it.Service == cloud.ROMA && !p.NoBackup {
		return Undo{Possible: true, How: "backup archive"}
	}
	return Undo{Why: "deleted without a backup"}
}

// hasROMA reports whether the plan deletes ROMA assets.
func (p Plan) hasROMA() bool {
	for _, it := range p.Items {
		if it.Service == cloud.ROMA {
			return true
		}
	}
	return false
}

// BacksUp reports whether the plan exports its ROMA assets to an archive
// before deleting them (the default).
func (p Plan) BacksUp() bool { return p.Kind == KindDelete && p.hasROMA() && !p.NoBackup }

// SkipsBackup reports whether the plan deletes ROMA assets with no backup:
// explicit, and it needs one more approval (Policy.Required).
func (p Plan) SkipsBackup() bool { return p.Kind == KindDelete && p.hasROMA() && p.NoBackup }

// undoWarnings tell approvers, before approval, what can and cannot be
// brought back: each recycled DMS instance with the time it stays
// restorable, projects whose bin is off, and CloudDC's lack of any undo.
func undoWarnings(p Plan, now time.Time) []Warning {
	var out []Warning
	off := map[string]bool{}
	cdc := 0
	for _, it := range p.Items {
		switch {
		case isDMS(it.Service) && !p.Force:
			b, ok := p.binOf(it)
			if !ok {
				continue
			}
			if !b.On {
				off[it.Account+"/"+it.Project] = true
				continue
			}
			u := p.UndoOf(it, now)
			out = append(out, Warning{Code: WarnRecycled, Resource: it.Name, Message: fmt.Sprintf(
				"Goes to the recycle bin: restorable for %d day(s) after the delete, until %s if executed now.",
				b.RetentionDays, u.Until.UTC().Format("2006-01-02 15:04 UTC"))})
		case it.Service == cloud.CloudDC:
			cdc++
		}
	}
	roma := 0
	for _, it := range p.Items {
		if it.Service == cloud.ROMA {
			roma++
		}
	}
	switch {
	case p.BacksUp():
		out = append(out, Warning{Code: WarnBackup, Message: fmt.Sprintf("The %d ROMA asset(s) are exported to an "+
			"archive before the delete (stored by decom, named by its SHA-256); the archive can be imported again. "+
			"If the export fails, nothing is deleted.", roma)})
	case p.SkipsBackup():
		out = append(out, Warning{Code: WarnNoUndo, Message: fmt.Sprintf("No backup: the %d ROMA asset(s) are "+
			"deleted without an export and cannot be restored. This needs one more approval.", roma)})
	}
	if cdc > 0 {
		out = append(out, Warning{Code: WarnNoUndo, Message: fmt.Sprintf(
			"CloudDC has no undo: the %d bare-metal instance(s) cannot be restored once deleted.", cdc)})
	}
	var offs []string
	for k := range off {
		offs = append(offs, k)
	}
	sort.Strings(offs)
	for _, k := range offs {
		out = append(out, Warning{Code: WarnBinOff, Message: "The recycle bin of " + k +
			" is off: its DMS instances are deleted for good and cannot be restored."})
	}
	return out
}

// binsChanged lists the projects whose recycle policy no longer matches the
// plan's: a bin switched off (or its retention shortened) after approval
// breaks the undo the approvers were promised.
func binsChanged(planned []Bin, live []Bin) []string {
	now := map[string]Bin{}
	for _, b := range live {
		now[b.Account+"/"+b.Project] = b
	}
	var out []string
	for _, b := range planned {
		l, ok := now[b.Account+"/"+b.Project]
		if ok && (l.On != b.On || l.RetentionDays != b.RetentionDays) {
			out = append(out, fmt.Sprintf("%s/%s: recycle %s for %d day(s), planned %s for %d day(s)",
				b.Account, b.Project, onOff(l.On), l.RetentionDays, onOff(b.On), b.RetentionDays))
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
