package changes_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

func TestExecute(t *testing.T) {
	ctx := context.Background()
	approved := func(e *env, t *testing.T, rs ...cloud.Resource) changes.Change {
		c := e.pending(t, false, rs...)
		c, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, "")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		c := approved(e, t, e.resource("a", cloud.CloudDC, "stopped"), e.resource("b", cloud.RocketMQ, "RUNNING"))
		if _, err := e.svc.Execute(ctx, dave, c.ID, ""); !errors.Is(err, changes.ErrForbidden) {
			t.Errorf("viewer executes: %v", err)
		}
		c, err := e.svc.Execute(ctx, alice, c.ID, "")
		if err != nil || c.State != changes.StateExecuting || len(c.Operations) != 2 {
			t.Fatalf("execute: %v %s %d", err, c.State, len(c.Operations))
		}
		for _, op := range c.Operations {
			if op.State != changes.OpQueued || op.Batch == 0 {
				t.Errorf("operation %+v", op)
			}
		}
		if _, err := e.svc.Cancel(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrInvalidState) {
			t.Errorf("cancel executing: %v", err)
		}
	})
	t.Run("Confirmation", func(t *testing.T) {
		e := newEnv(t)
		var rs []cloud.Resource
		for i := range 11 {
			rs = append(rs, e.resource("r"+string(rune('a'+i)), cloud.CloudDC, "stopped"))
		}
		c := approved(e, t, rs...)
		if _, err := e.svc.Execute(ctx, alice, c.ID, "10"); !errors.Is(err, changes.ErrConfirmation) {
			t.Errorf("wrong confirmation: %v", err)
		}
		if _, err := e.svc.Execute(ctx, alice, c.ID, c.Name()); err != nil {
			t.Errorf("by name: %v", err)
		}
	})
	for _, tt := range []struct {
		name   string
		change func(e *env, r cloud.Resource)
		kind   changes.DiffKind
	}{
		{"Gone", func(e *env, r cloud.Resource) { e.cloud.drop(r.Ref) }, changes.DiffGone},
		{"StatusChanged", func(e *env, r cloud.Resource) { r.Status = "running"; e.cloud.put(r) }, changes.DiffStatus},
	} {
		t.Run("Differs"+tt.name, func(t *testing.T) {
			e := newEnv(t)
			a, b := e.resource("a", cloud.CloudDC, "stopped"), e.resource("b", cloud.CloudDC, "stopped")
			c := approved(e, t, a, b)
			tt.change(e, b)
			got, err := e.svc.Execute(ctx, alice, c.ID, "")
			if !errors.Is(err, changes.ErrDiffers) {
				t.Fatalf("execute: %v", err)
			}
			if got.State != changes.StatePending || len(got.Differences) != 1 || got.Differences[0].Kind != tt.kind ||
				got.PlanHash == c.PlanHash || got.Revision != 2 || got.Approvals() != 0 {
				t.Errorf(
					"after differences: %s %+v rev %d approvals %d",
					got.State,
					got.Differences,
					got.Revision,
					got.Approvals(),
				)
			}
			// Re-approval of the new plan executes.
			if _, err := e.svc.Approve(ctx, bob, c.ID, got.PlanHash, ""); err != nil {
				t.Fatal(err)
			}
			if got, err := e.svc.Execute(ctx, alice, c.ID, ""); err != nil || got.State != changes.StateExecuting {
				t.Errorf("execute re-approved: %v", err)
			}
		})
	}
	t.Run("DiffersFailedSet", func(t *testing.T) {
		e := newEnv(t)
		e.resource("f1", cloud.RabbitMQ, "CREATEFAILED")
		c, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Reason: "sweep",
			Sweep: &changes.Sweep{Account: "acc", Project: "p1", Service: cloud.RabbitMQ}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
			t.Fatal(err)
		}
		e.resource("f2", cloud.RabbitMQ, "CREATEFAILED")
		got, err := e.svc.Execute(ctx, alice, c.ID, "")
		if !errors.Is(err, changes.ErrDiffers) || len(got.Differences) != 1 ||
			got.Differences[0].Kind != changes.DiffFailedSetGrew ||
			len(got.Plan.Items) != 2 {
			t.Errorf("failed set grew: %v %+v", err, got.Differences)
		}
	})
}

// TestFailedTxNoAudit checks that a refused step leaves no audit event and
// no state change.
func TestFailedTxNoAudit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	before := e.auditCount(t, c.ID)
	// Break the decisions table so the approval's INSERT fails after the
	// rules passed: the transaction must roll back with its audit event.
	if _, err := e.db.Exec(`CREATE TRIGGER break_decisions BEFORE INSERT ON change_decisions
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err == nil {
		t.Fatal("approve succeeded with a broken table")
	}
	if got := e.auditCount(t, c.ID); got != before {
		t.Errorf("audit events %d -> %d after a failed transaction", before, got)
	}
	if got, _ := e.svc.Get(ctx, c.ID); got.State != changes.StatePending {
		t.Errorf("state %s", got.State)
	}
}

// TestFailedAuditNoChange checks the converse: when the audit event cannot be
// written, the state change and the decision roll back with it.
func TestFailedAuditNoChange(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	if _, err := e.db.Exec(`CREATE TRIGGER break_audit BEFORE INSERT ON audit_events
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err == nil {
		t.Fatal("approve succeeded without its audit event")
	}
	got, err := e.svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != changes.StatePending || len(got.Decisions) != 0 {
		t.Errorf("state %s, decisions %d after a failed audit append", got.State, len(got.Decisions))
	}
}

// TestConcurrentExecute: two executions of one approved change, one wins and
// the operations are written once.
func TestConcurrentExecute(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"), e.resource("b", cloud.CloudDC, "stopped"))
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, a := range []changes.Actor{alice, bob} {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = e.svc.Execute(ctx, a, c.ID, "") }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one execution, got %v / %v", errs[0], errs[1])
	}
	got, err := e.svc.Get(ctx, c.ID)
	if err != nil || len(got.Operations) != 2 || got.State != changes.StateExecuting {
		t.Errorf("after racing executes: %v, %d operations, %s", err, len(got.Operations), got.State)
	}
}

// TestStaleSendBack: an execution whose re-read is slow must not send back
// a revision that another execution sent back and approvers approved again
// meanwhile; the approved revision stays approved.
func TestStaleSendBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.resource("a", cloud.CloudDC, "stopped")
	c := e.pending(t, false, r)
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	r.Status = "error"
	e.cloud.put(r)
	var again changes.Change
	var once atomic.Bool
	e.cloud.onRead = func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		func() {
			// While this read is under way, another execution sends the change
			// back and bob approves the new revision.
			if _, err := e.svc.Execute(ctx, bob, c.ID, ""); !errors.Is(err, changes.ErrDiffers) {
				t.Errorf("other execute: %v", err)
			}
			got, _ := e.svc.Get(ctx, c.ID)
			var err error
			if again, err = e.svc.Approve(ctx, carol, c.ID, got.PlanHash, ""); err != nil ||
				again.State != changes.StateApproved {
				t.Errorf("approve revision 2: %v %s", err, again.State)
			}
		}()
	}
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); err == nil {
		t.Errorf("stale execute succeeded")
	}
	got, err := e.svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != changes.StateApproved || got.Revision != again.Revision || got.PlanHash != again.PlanHash {
		t.Errorf(
			"after the stale execute: %s, revision %d (want approved, revision %d)",
			got.State,
			got.Revision,
			again.Revision,
		)
	}
}
