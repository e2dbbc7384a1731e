package poller

import (
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

func TestInterval(t *testing.T) {
	o := DefaultOptions()
	if got := Interval(0, o, 0.5); got != o.MinInterval {
		t.Errorf("first interval = %s, want %s", got, o.MinInterval)
	}
	if got := Interval(time.Hour, o, 0.5); got != o.MaxInterval {
		t.Errorf("capped interval = %s, want %s", got, o.MaxInterval)
	}
	if got, want := Interval(10*time.Second, o, 0.5), 2*time.Second; got != want {
		t.Errorf("interval at 10s = %s, want %s", got, want)
	}
	lo, hi := Interval(10*time.Second, o, 0), Interval(10*time.Second, o, 0.999)
	if lo != 1800*time.Millisecond || hi <= 2*time.Second || hi > 2200*time.Millisecond {
		t.Errorf("jitter range %s..%s", lo, hi)
	}
	// Polls needed to notice a 5 s delete: few, and the lag stays under Stretch.
	age, polls := time.Duration(0), 0
	for age < 5*time.Second {
		age += Interval(age, o, 0.5)
		polls++
	}
	if polls > 15 || age > 5*time.Second*120/100 {
		t.Errorf("5 s delete noticed at %s after %d polls", age, polls)
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	o := DefaultOptions()
	inProgress := Op{
		State:         changes.OpInProgress,
		PlannedStatus: "stopped",
		Attempts:      1,
		SubmittedAt:   now.Add(-time.Minute),
		Deadline:      now.Add(time.Hour),
	}
	unknown := Op{
		State:         changes.OpSubmitted,
		PlannedStatus: "stopped",
		Attempts:      1,
		SubmittedAt:   now.Add(-2 * time.Minute),
		Deadline:      now.Add(time.Hour),
	}
	fresh := unknown
	fresh.SubmittedAt = now.Add(-time.Second)
	spent := unknown
	spent.Attempts = o.MaxAttempts
	freshAccepted := inProgress
	freshAccepted.SubmittedAt = now.Add(-time.Second)
	late := inProgress
	late.Deadline = now.Add(-time.Second)
	erroredUnknown := unknown
	erroredUnknown.PlannedStatus = "error"
	failedUninstall := cloud.Resource{Ref: cloud.Ref{Service: cloud.CloudDC}, Status: "error", Class: cloud.ClassFailed,
		Details: map[string]string{"operation": "uninstall-failed", "error": "delete_instance_error"}}
	stillErrored := cloud.Resource{Ref: cloud.Ref{Service: cloud.CloudDC}, Status: "error", Class: cloud.ClassFailed,
		Details: map[string]string{"operation": "install-failed", "error": "create_instance_error"}}
	r := func(status string, class cloud.StatusClass) cloud.Resource {
		return cloud.Resource{Status: status, Class: class}
	}
	tests := []struct {
		name  string
		op    Op
		res   cloud.Resource
		found bool
		want  changes.OpState
	}{
		{"gone", inProgress, cloud.Resource{}, false, changes.OpDone},
		{"terminated", inProgress, r("terminated", cloud.ClassGone), true, changes.OpDone},
		{"deleting", inProgress, r("shutting-down", cloud.ClassDeleting), true, changes.OpInProgress},
		{"delete failed to error", inProgress, r("error", cloud.ClassFailed), true, changes.OpFailed},
		{"DMS back to running", inProgress, r("RUNNING", cloud.ClassActive), true, changes.OpFailed},
		{"unknown but deleting", unknown, r("DELETING", cloud.ClassDeleting), true, changes.OpInProgress},
		{"unknown but gone", unknown, cloud.Resource{}, false, changes.OpDone},
		{"unknown, unchanged, grace over: re-send", unknown, r("stopped", cloud.ClassActive), true, changes.OpQueued},
		{"unknown, unchanged, within grace: wait", fresh, r("stopped", cloud.ClassActive), true, changes.OpSubmitted},
		{"unknown, unchanged, attempts spent", spent, r("stopped", cloud.ClassActive), true, changes.OpFailed},
		{"unknown, changed", unknown, r("running", cloud.ClassActive), true, changes.OpFailed},
		{"past deadline", late, r("shutting-down", cloud.ClassDeleting), true, changes.OpTimedOut},
		{"past deadline but gone", late, cloud.Resource{}, false, changes.OpDone},
		// Planned in error; the delete's outcome was unknown; the instance is in
		// error again, now from a failed uninstall: failed, not re-sent (§5).
		{"unknown, planned error, delete failed", erroredUnknown, failedUninstall, true, changes.OpFailed},
		{"unknown, planned error, no delete seen: re-send", erroredUnknown, stillErrored, true, changes.OpQueued},
		// Within the settle time a lagging read may show the state before the delete.
		{"accepted, unchanged within settle: wait", freshAccepted, r("RUNNING", cloud.ClassActive), true,
			changes.OpInProgress},
		{"accepted, deleting within settle", freshAccepted, r("DELETING", cloud.ClassDeleting), true,
			changes.OpInProgress},
		{"accepted, gone within settle", freshAccepted, cloud.Resource{}, false, changes.OpDone},
		{"unknown, changed within settle: wait", fresh, r("running", cloud.ClassActive), true, changes.OpSubmitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.op, tt.res, tt.found, now, 5*time.Second, o)
			if v.State != tt.want {
				t.Errorf("Judge = %+v, want %s", v, tt.want)
			}
			if v.State != tt.op.State && !changes.CanMoveOp(tt.op.State, v.State) {
				t.Errorf("Judge moves %s -> %s, which CanMove refuses", tt.op.State, v.State)
			}
			if (v.State == changes.OpFailed || v.State == changes.OpTimedOut) && v.Err == "" {
				t.Error("failure without an error message")
			}
		})
	}
}
