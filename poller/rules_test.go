package poller

import (
	"testing"
	"time"

	"github.com/decom/decom/cloud"
)

func TestCanMove(t *testing.T) {
	all := []State{Queued, Submitted, InProgress, Done, Failed, TimedOut}
	allowed := map[[2]State]bool{
		{Queued, Submitted}: true, {Submitted, InProgress}: true, {Submitted, Done}: true,
		{Submitted, Failed}: true, {Submitted, TimedOut}: true, {Submitted, Queued}: true,
		{InProgress, Done}: true, {InProgress, Failed}: true, {InProgress, TimedOut}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := CanMove(from, to), allowed[[2]State{from, to}]; got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

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
	inProgress := Op{State: InProgress, PlannedStatus: "stopped", Attempts: 1, SubmittedAt: now.Add(-time.Minute), Deadline: now.Add(time.Hour)}
	unknown := Op{State: Submitted, PlannedStatus: "stopped", Attempts: 1, SubmittedAt: now.Add(-2 * time.Minute), Deadline: now.Add(time.Hour)}
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
		want  State
	}{
		{"gone", inProgress, cloud.Resource{}, false, Done},
		{"terminated", inProgress, r("terminated", cloud.ClassGone), true, Done},
		{"deleting", inProgress, r("shutting-down", cloud.ClassDeleting), true, InProgress},
		{"delete failed to error", inProgress, r("error", cloud.ClassFailed), true, Failed},
		{"DMS back to running", inProgress, r("RUNNING", cloud.ClassActive), true, Failed},
		{"unknown but deleting", unknown, r("DELETING", cloud.ClassDeleting), true, InProgress},
		{"unknown but gone", unknown, cloud.Resource{}, false, Done},
		{"unknown, unchanged, grace over: re-send", unknown, r("stopped", cloud.ClassActive), true, Queued},
		{"unknown, unchanged, within grace: wait", fresh, r("stopped", cloud.ClassActive), true, Submitted},
		{"unknown, unchanged, attempts spent", spent, r("stopped", cloud.ClassActive), true, Failed},
		{"unknown, changed", unknown, r("running", cloud.ClassActive), true, Failed},
		{"past deadline", late, r("shutting-down", cloud.ClassDeleting), true, TimedOut},
		{"past deadline but gone", late, cloud.Resource{}, false, Done},
		// Planned in error; the delete's outcome was unknown; the instance is in
		// error again, now from a failed uninstall: failed, not re-sent (§5).
		{"unknown, planned error, delete failed", erroredUnknown, failedUninstall, true, Failed},
		{"unknown, planned error, no delete seen: re-send", erroredUnknown, stillErrored, true, Queued},
		// Within the settle time a lagging read may show the state before the delete.
		{"accepted, unchanged within settle: wait", freshAccepted, r("RUNNING", cloud.ClassActive), true, InProgress},
		{"accepted, deleting within settle", freshAccepted, r("DELETING", cloud.ClassDeleting), true, InProgress},
		{"accepted, gone within settle", freshAccepted, cloud.Resource{}, false, Done},
		{"unknown, changed within settle: wait", fresh, r("running", cloud.ClassActive), true, Submitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.op, tt.res, tt.found, now, 5*time.Second, o)
			if v.State != tt.want {
				t.Errorf("Judge = %+v, want %s", v, tt.want)
			}
			if v.State != tt.op.State && !CanMove(tt.op.State, v.State) {
				t.Errorf("Judge moves %s -> %s, which CanMove refuses", tt.op.State, v.State)
			}
			if (v.State == Failed || v.State == TimedOut) && v.Err == "" {
				t.Error("failure without an error message")
			}
		})
	}
}

func TestFinal(t *testing.T) {
	for _, tt := range []struct {
		done, failed int
		want         string
	}{{3, 0, "succeeded"}, {0, 3, "failed"}, {2, 1, "partially_failed"}, {0, 0, "succeeded"}} {
		if got := Final(tt.done, tt.failed); got != tt.want {
			t.Errorf("Final(%d, %d) = %s, want %s", tt.done, tt.failed, got, tt.want)
		}
	}
}
