package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decom/decom/notify"
)

// TestReceiverDown60s: a receiver that answers 503 for 60 s while events
// keep coming loses none of them. The clock is injected and advanced one
// second per round, with the default (jittered exponential) backoff, so the
// test takes well under a second.
func TestReceiverDown60s(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	start := clk.Now()
	rec := newReceiver(t)
	rec.setStatus(func() int {
		if clk.Now().Sub(start) < 60*time.Second {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	svc := notify.New(db, notify.Options{Now: clk.Now, Client: notify.NewClient(loopback, 5*time.Second),
		Logger: quietLogger()})
	if _, err := svc.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: notify.FormatWeCom,
		URL: rec.srv.URL + "/cgi-bin/webhook/send?key=k"}); err != nil {
		t.Fatal(err)
	}
	const events = 20
	sent := map[string]time.Time{}
	for sec := 0; sec < 300; sec++ {
		if sec%3 == 0 && len(sent) < events {
			ev := sampleEvent(int64(len(sent) + 1))
			ev.At = clk.Now()
			ev = enqueue(t, db, ev)
			sent[ev.ID] = clk.Now()
		}
		if _, err := svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
	}
	ds, err := svc.Deliveries(ctx, notify.DeliveryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	maxAttempts, worst := 0, time.Duration(0)
	for _, d := range ds {
		if d.State != notify.StateDelivered {
			t.Errorf("delivery %d: %s after %d attempts (%s)", d.ID, d.State, d.Attempts, d.LastError)
		}
		maxAttempts = max(maxAttempts, d.Attempts)
		worst = max(worst, d.DeliveredAt.Sub(sent[d.EventID]))
	}
	if len(ds) != events {
		t.Fatalf("%d deliveries, want %d", len(ds), events)
	}
	got := map[string]bool{}
	for _, r := range rec.requests() {
		if strings.Contains(string(r.Body), "CR-") && r.Header.Get(notify.HeaderEventID) != "" {
			got[r.Header.Get(notify.HeaderEventID)] = true
		}
	}
	for id := range sent {
		if !got[id] {
			t.Errorf("event %s never reached the receiver", id)
		}
	}
	t.Logf("receiver down 60 s: %d/%d events delivered, at most %d attempts, worst delay %v (injected clock)",
		len(got), events, maxAttempts, worst)
}

// TestBackoff: failed attempts are recorded with growing waits and the row
// gives up after MaxAttempts.
func TestBackoff(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	rec := newReceiver(t)
	rec.setStatus(func() int { return http.StatusInternalServerError })
	svc := notify.New(db, notify.Options{Now: clk.Now, Client: notify.NewClient(loopback, 5*time.Second),
		Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }, MaxAttempts: 3, Logger: quietLogger()})
	if _, err := svc.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: notify.FormatSlack,
		URL: rec.srv.URL + "/services/x"}); err != nil {
		t.Fatal(err)
	}
	enqueue(t, db, sampleEvent(1))
	for _, step := range []struct {
		advance time.Duration
		sends   int
	}{{0, 1}, {59 * time.Second, 1}, {time.Second, 2}, {time.Minute, 2}, {time.Minute, 3}, {time.Hour, 3}} {
		clk.Add(step.advance)
		if _, err := svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.requests()); n != step.sends {
			t.Fatalf("after +%v: %d sends, want %d", step.advance, n, step.sends)
		}
	}
	ds, _ := svc.Deliveries(ctx, notify.DeliveryFilter{})
	atts, _ := svc.Attempts(ctx, ds[0].ID)
	if ds[0].State != notify.StateFailed || ds[0].Attempts != 3 || len(atts) != 3 || atts[2].Status != 500 {
		t.Errorf("delivery %+v, attempts %+v", ds[0], atts)
	}
	ofChange, _ := svc.Deliveries(ctx, notify.DeliveryFilter{ChangeID: 1})
	if len(ofChange) != 1 || len(ofChange[0].Tries) != 3 || ofChange[0].Tries[1].Error != "status 500" ||
		!ofChange[0].Tries[1].At.Equal(ofChange[0].Tries[0].At.Add(time.Minute)) {
		t.Errorf("tries of the change's delivery: %+v", ofChange)
	}
}

// The crash test runs the first worker in a child process (this test binary
// re-executed) and kills it with SIGKILL while its request is at the
// receiver: the event was committed, sent, but its delivery never recorded.
// A new worker on the same database file then sends it again.
const crashEnv = "DECOM_NOTIFY_CRASH_CHILD"

func TestCrashChild(t *testing.T) {
	if os.Getenv(crashEnv) == "" {
		t.Skip("child process of TestOutboxSurvivesKill")
	}
	db := openDB(t, os.Getenv("DECOM_TEST_DB"))
	svc := notify.New(db, notify.Options{Client: notify.NewClient(loopback, time.Minute), Logger: quietLogger()})
	enqueue(t, db, sampleEvent(42)) // the state change commits
	fmt.Println("committed")
	_, _ = svc.DeliverDue(context.Background()) // killed in here
	t.Fatal("the child was not killed")
}

func TestOutboxSurvivesKill(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip()
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decom.db")
	db := openDB(t, path)
	rec := newReceiver(t)
	var hold atomic.Bool
	hold.Store(true)
	release := make(chan struct{})
	defer close(release)
	// The first request stays at the receiver (answer unsent) until the child is dead.
	rec.setAfter(func(r *http.Request) {
		if hold.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	setup := notify.New(db, notify.Options{Logger: quietLogger()})
	if _, err := setup.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: notify.FormatJSON,
		URL: rec.srv.URL + "/hook", Secret: "0123456789abcdef0123"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"=1", "DECOM_TEST_DB="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var first request
	select {
	case first = <-rec.notify:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child never reached the receiver")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	hold.Store(false)

	db2 := openDB(t, path)
	defer db2.Close()
	if st := stateOf(t, db2); st != "pending/0" {
		t.Fatalf("after the kill the row is %s, want pending/0", st)
	}
	svc := notify.New(db2, notify.Options{Client: notify.NewClient(loopback, 5*time.Second), Logger: quietLogger()})
	if n, err := svc.DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("DeliverDue after restart = %d, %v", n, err)
	}
	var second request
	select {
	case second = <-rec.notify:
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery after the restart")
	}
	id := first.Header.Get(notify.HeaderEventID)
	if id == "" || second.Header.Get(notify.HeaderEventID) != id {
		t.Errorf("event IDs %q then %q: a receiver could not deduplicate", id, second.Header.Get(notify.HeaderEventID))
	}
	if st := stateOf(t, db2); st != "delivered/1" {
		t.Errorf("row %s, want delivered/1", st)
	}
}

func stateOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	var state string
	var n int
	if err := db.QueryRow(`SELECT state, attempts FROM notify_outbox`).Scan(&state, &n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%d", state, n)
}
