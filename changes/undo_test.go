package changes

import (
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloud"
)

// TestUndoWarnings checks what the plan says before approval about undo:
// every recycled DMS instance with the time it stays restorable, a bin that
// is off, force delete, and CloudDC's lack of any undo.
func TestUndoWarnings(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	on := []Bin{{Account: "acc", Project: "p1", On: true, RetentionDays: 3}}
	off := []Bin{{Account: "acc", Project: "p1", On: false, RetentionDays: 3}}
	dms := []cloud.Resource{res("r1", cloud.RocketMQ, "RUNNING", cloud.ClassActive),
		res("r2", cloud.RabbitMQ, "RUNNING", cloud.ClassActive)}
	cdc := []cloud.Resource{res("c1", cloud.CloudDC, "stopped", cloud.ClassActive)}
	tests := []struct {
		name      string
		res       []cloud.Resource
		bins      []Bin
		force     bool
		want      map[string]int
		undoable  int
		wantInMsg string
	}{
		{"bin on", dms, on, false, map[string]int{WarnRecycled: 2}, 2, "until 2026-12-02 10:00 UTC"},
		{"bin off", dms, off, false, map[string]int{WarnBinOff: 1}, 0, "acc/p1 is off"},
		{"force with bin on", dms, on, true, map[string]int{WarnForce: 1}, 0, "cannot be restored"},
		{"clouddc", cdc, nil, false, map[string]int{WarnNoUndo: 1}, 0, "CloudDC has no undo"},
		{"policy unknown", dms, nil, false, map[string]int{}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := BuildPlan(PlanInput{Resources: tt.res, Bins: tt.bins, Force: tt.force, Reason: "r", Now: now})
			got := map[string]int{}
			var msgs []string
			for _, w := range p.Warnings {
				got[w.Code]++
				msgs = append(msgs, w.Message)
			}
			for code, n := range tt.want {
				if got[code] != n {
					t.Errorf("%s warnings = %d, want %d (%v)", code, got[code], n, msgs)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("warnings %v, want %v", got, tt.want)
			}
			if tt.wantInMsg != "" && !strings.Contains(strings.Join(msgs, "\n"), tt.wantInMsg) {
				t.Errorf("warnings %q do not say %q", msgs, tt.wantInMsg)
			}
			n := 0
			for _, it := range p.Items {
				if p.UndoOf(it, now).Possible {
					n++
				}
			}
			if n != tt.undoable {
				t.Errorf("undoable = %d, want %d", n, tt.undoable)
			}
		})
	}
}

// TestBinsInHash: the recycle policy is part of what is approved, and a
// plan without DMS keeps the hash it had before bins existed.
func TestBinsInHash(t *testing.T) {
	dms := []cloud.Resource{res("r1", cloud.RocketMQ, "RUNNING", cloud.ClassActive)}
	on := BuildPlan(
		PlanInput{
			Resources: dms,
			Reason:    "r",
			Bins:      []Bin{{Account: "acc", Project: "p1", On: true, RetentionDays: 3}},
		},
	)
	off := BuildPlan(
		PlanInput{Resources: dms, Reason: "r", Bins: []Bin{{Account: "acc", Project: "p1", RetentionDays: 3}}},
	)
	if on.Hash() == off.Hash() {
		t.Error("bin on and off plans hash alike")
	}
	none := BuildPlan(PlanInput{Resources: dms, Reason: "r"})
	if none.Hash() != "" && (none.Hash() == on.Hash()) {
		t.Error("a plan without bins hashes like one with")
	}
	if d := Revalidate(on, Live{Resources: map[string]cloud.Resource{dms[0].Key(): dms[0]},
		Bins: off.Bins}); len(d) != 1 || d[0].Kind != DiffRecycle {
		t.Errorf("bin switched off after approval: differences %+v, want one %s", d, DiffRecycle)
	}
	if d := Revalidate(on, Live{Resources: map[string]cloud.Resource{dms[0].Key(): dms[0]},
		Bins: on.Bins}); len(d) != 0 {
		t.Errorf("unchanged bin: differences %+v", d)
	}
}

// TestUndoFigure is the figure "share of deletions undoable within the
// retention, per service, in the default flow" as the plan states it before
// approval: DMS with the bin on 100 %, ROMA assets (backed up by default)
// 100 %, CloudDC 0 % with a no-undo warning. The end-to-end tests in poller
// check the DMS and ROMA figures against cloudsim.
func TestUndoFigure(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	var in []cloud.Resource
	in = append(in, many(20, cloud.RocketMQ, "RUNNING")...)
	in = append(in, many(10, cloud.RabbitMQ, "RUNNING")...)
	in = append(in, many(30, cloud.ROMA, "RUNNING")...)
	in = append(in, many(15, cloud.CloudDC, "stopped")...)
	p := BuildPlan(PlanInput{Resources: in, Reason: "r", Now: now,
		Bins: []Bin{{Account: "acc", Project: "p1", On: true, RetentionDays: 3}}})
	want := map[cloud.Service]int{cloud.RocketMQ: 100, cloud.RabbitMQ: 100, cloud.ROMA: 100, cloud.CloudDC: 0}
	total, undo := map[cloud.Service]int{}, map[cloud.Service]int{}
	for _, it := range p.Items {
		total[it.Service]++
		if u := p.UndoOf(it, now); u.Possible {
			undo[it.Service]++
		}
	}
	for _, svc := range cloud.Services {
		share := undo[svc] * 100 / total[svc]
		t.Logf(
			"FIGURE undoable within the retention, default flow: %-8s %d/%d = %d%%",
			svc,
			undo[svc],
			total[svc],
			share,
		)
		if share != want[svc] {
			t.Errorf("%s: %d%%, want %d%%", svc, share, want[svc])
		}
	}
	said := false
	for _, w := range p.Warnings {
		said = said || (w.Code == WarnNoUndo && strings.Contains(w.Message, "CloudDC has no undo"))
	}
	if !said {
		t.Error("the plan does not say CloudDC has no undo")
	}
}
