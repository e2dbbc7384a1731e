package poller

import (
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

// TestJudgeRestore: a restore is done when the instance runs again, in
// progress while it starts, failed when it comes back in error or never
// comes back, and sent again only when its submission's outcome is unknown.
func TestJudgeRestore(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	o := DefaultOptions()
	base := Op{Action: "restore", PlannedStatus: changes.BinStatus, Attempts: 1, Deadline: now.Add(time.Hour)}
	op := func(s changes.OpState, age time.Duration, attempts int) Op {
		x := base
		x.State, x.SubmittedAt, x.Attempts = s, now.Add(-age), attempts
		return x
	}
	live := func(status string, class cloud.StatusClass) cloud.Resource {
		return cloud.Resource{Status: status, Class: class}
	}
	tests := []struct {
		name  string
		op    Op
		r     cloud.Resource
		found bool
		want  changes.OpState
	}{
		{
			"running again",
			op(changes.OpInProgress, time.Minute, 1),
			live("RUNNING", cloud.ClassActive),
			true,
			changes.OpDone,
		},
		{
			"starting",
			op(changes.OpInProgress, time.Minute, 1),
			live("STARTING", cloud.ClassTransitional),
			true,
			changes.OpInProgress,
		},
		{
			"back in error",
			op(changes.OpInProgress, time.Minute, 1),
			live("ERROR", cloud.ClassFailed),
			true,
			changes.OpFailed,
		},
		{
			"accepted, not back yet",
			op(changes.OpInProgress, time.Second, 1),
			cloud.Resource{},
			false,
			changes.OpInProgress,
		},
		{"accepted, never back", op(changes.OpInProgress, 2*time.Minute, 1), cloud.Resource{}, false, changes.OpFailed},
		{
			"unknown outcome, early",
			op(changes.OpSubmitted, time.Second, 1),
			cloud.Resource{},
			false,
			changes.OpSubmitted,
		},
		{
			"unknown outcome, still in bin",
			op(changes.OpSubmitted, 2*time.Minute, 1),
			cloud.Resource{},
			false,
			changes.OpQueued,
		},
		{
			"unknown outcome, attempts used",
			op(changes.OpSubmitted, 2*time.Minute, 3),
			cloud.Resource{},
			false,
			changes.OpFailed,
		},
		{
			"unknown outcome, it came back",
			op(changes.OpSubmitted, time.Second, 1),
			live("STARTING", cloud.ClassTransitional),
			true,
			changes.OpInProgress,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.op, tt.r, tt.found, now, time.Minute, o)
			if v.State != tt.want {
				t.Errorf("state %s, want %s (%q)", v.State, tt.want, v.Err)
			}
			if tt.op.State != v.State && !changes.CanMoveOp(tt.op.State, v.State) {
				t.Errorf("%s -> %s is not an operation move", tt.op.State, v.State)
			}
		})
	}
	late := op(changes.OpInProgress, 2*time.Hour, 1)
	late.Deadline = now.Add(-time.Minute)
	if v := Judge(late, live("STARTING", cloud.ClassTransitional), true, now, time.Minute, o); v.State != changes.OpTimedOut {
		t.Errorf("past the deadline while starting: %s", v.State)
	}
}
