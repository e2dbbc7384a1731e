package cloud

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestConfirm(t *testing.T) {
	ended := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	settle := 5 * time.Second
	early, late := ended.Add(time.Second), ended.Add(settle)
	res := func(svc Service, status string, class StatusClass) Resource {
		return Resource{Ref: Ref{Service: svc}, Status: status, Class: class}
	}
	running := res(RocketMQ, "RUNNING", ClassActive)
	uninstallFailed := res(CloudDC, "error", ClassFailed)
	uninstallFailed.Details = map[string]string{"operation": "uninstall-failed", "error": "delete_instance_error"}
	unknown := Sent{Ended: ended, Planned: "RUNNING"}
	accepted := Sent{Ended: ended, Accepted: true, Planned: "RUNNING"}
	tests := []struct {
		name  string
		sent  Sent
		r     Resource
		found bool
		at    time.Time
		want  Confirmation
	}{
		{"gone at once", unknown, Resource{}, false, early, Gone},
		{"terminated at once", unknown, res(CloudDC, "terminated", ClassGone), true, early, Gone},
		{"deleting at once", unknown, res(RocketMQ, "DELETING", ClassDeleting), true, early, Deleting},
		// Within the settle time a lagging read may show the state before the delete.
		{"unchanged, within settle", unknown, running, true, early, Unsettled},
		{"accepted, unchanged, within settle", accepted, running, true, early, Unsettled},
		{"delete failed, within settle", unknown, uninstallFailed, true, early, Unsettled},
		{"unchanged, settled: resend", unknown, running, true, late, Resend},
		{"unchanged, no plan, settled: resend", Sent{Ended: ended}, running, true, late, Resend},
		{"accepted, unchanged, settled: not deleted", accepted, running, true, late, NotDeleted},
		{"delete failed, settled", unknown, uninstallFailed, true, late, NotDeleted},
		{"changed, settled", unknown, res(RocketMQ, "ERROR", ClassFailed), true, late, NotDeleted},
		{"not deletable, settled", Sent{Ended: ended}, res(RocketMQ, "RESTARTING", ClassTransitional), true, late,
			NotDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Confirm(tt.sent, tt.r, tt.found, tt.at, settle)
			if got != tt.want {
				t.Errorf("Confirm = %s (%s), want %s", got, why, tt.want)
			}
			if (got == NotDeleted) != (why != "") {
				t.Errorf("why %q with %s", why, got)
			}
		})
	}
}

// TestDeleteSettlesBeforeReread: after an ambiguous answer to a single
// delete, the re-read waits the account's settle time, so a cloud whose
// reads lag shows the truth.
func TestDeleteSettlesBeforeReread(t *testing.T) {
	show := func(status string) func(http.ResponseWriter, *http.Request) {
		return answer(200, `{"instance_id":"i1","name":"n","status":"`+status+
			`","engine":"reliability","created_at":"1700000000000"}`)
	}
	lost := answer(504, "<html>504 Gateway Time-out</html>")
	type answers = []func(http.ResponseWriter, *http.Request)
	ref := Ref{Account: "acct", Project: "p1", Service: RocketMQ, ID: "i1"}
	for _, tt := range []struct {
		name    string
		answers answers
		want    []string
		wantErr bool
	}{
		{"applied: deleting after settle", answers{lost, show("DELETING")}, []string{"DELETE", "GET"}, false},
		{"not applied: resent", answers{lost, show("RUNNING"), answer(204, "")}, []string{"DELETE", "GET", "DELETE"}, false},
		{"changed: not resent", answers{lost, show("RESTARTING")}, []string{"DELETE", "GET"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{answers: tt.answers}
			clock := newFakeClock()
			c := fakeClient(t, s, clock, func(a *Account) { a.SettleTime = 7 * time.Second })
			err := c.DeleteDMSInstance(context.Background(), ref)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrTransient)) {
				t.Fatalf("err = %v", err)
			}
			assertMethods(t, s, tt.want...)
			if sl := clock.Sleeps(); len(sl) == 0 || sl[0] != 7*time.Second {
				t.Errorf("sleeps %v, want the 7s settle time before the re-read", sl)
			}
		})
	}
}

// TestBatchAmbiguousNotResent: a batch delete whose answer is lost is not
// re-read at once or resent by the cloud layer; its caller confirms it
// after the settle time.
func TestBatchAmbiguousNotResent(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter, *http.Request){answer(500, "Internal Server Error")}}
	c := fakeClient(t, s, newFakeClock(), nil)
	out, err := c.DeleteCloudDCBatch(context.Background(), "acct", "p1", []string{"a", "b"})
	if !errors.Is(err, ErrTransient) || len(out) != 0 {
		t.Fatalf("%v %v, want no outcome and a transient error", out, err)
	}
	assertMethods(t, s, "POST")
}
