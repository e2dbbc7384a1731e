package cloud

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestObserverSeesEveryRequest checks that Options.Observe is told about each
// request sent, retries included, with the classified error, so metrics
// match what the cloud counted.
func TestObserverSeesEveryRequest(t *testing.T) {
	env := newSim(t, "empty", nil)
	env.createN(3, spec{Service: "clouddc", Status: "stopped"})
	var mu sync.Mutex
	outcomes := map[string]int{}
	observe := func(svc Service, op string, err error, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case svc != CloudDC || d < 0:
			t.Errorf("observed %s %s after %v", svc, op, d)
		case err == nil:
			outcomes["ok"]++
		case errors.Is(err, ErrTransient):
			outcomes["transient"]++
		default:
			outcomes[err.Error()]++
		}
	}
	noSleep := func(context.Context, time.Duration) error { return nil }
	c, acct := env.client(authAKSK, Options{Sleep: noSleep, Observe: observe})

	env.faults(map[string]any{"error_rate": 1})
	before := env.stats()
	if _, err := c.ListInstances(ctxBG, acct, simProject, CloudDC); !errors.Is(err, ErrTransient) {
		t.Fatalf("list with every call failing: %v", err)
	}
	env.faults(map[string]any{"error_rate": 0})
	if _, err := c.ListInstances(ctxBG, acct, simProject, CloudDC); err != nil {
		t.Fatal(err)
	}
	sent := env.stats().Total - before.Total // control calls are not counted
	mu.Lock()
	defer mu.Unlock()
	if outcomes["transient"] != MaxAttempts || outcomes["ok"] != 1 || len(outcomes) != 2 {
		t.Errorf("observed %v, want %d transient and 1 ok", outcomes, MaxAttempts)
	}
	if got := outcomes["transient"] + outcomes["ok"]; got != sent {
		t.Errorf("observed %d requests, the simulator counted %d", got, sent)
	}
}
