package poller_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/poller"
	"github.com/decom/decom/store"
)

// gatedCloud wraps the real client: it can hold a poller right after its
// status read returned (a slow read) or right before its delete goes out,
// and it counts CloudDC batch deletes.
type gatedCloud struct {
	*cloud.Client
	afterRead  func()
	beforeSend func()
	readFails  *atomic.Bool // when set, every status read is refused (403)
	deletes    *atomic.Int32
}

func (g gatedCloud) ReadMany(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	if g.readFails != nil && g.readFails.Load() {
		return nil, &cloud.Error{Class: cloud.ErrPermission, Account: account, Service: refs[0].Service,
			Operation: "read", Message: "project no longer allowed"}
	}
	m, err := g.Client.ReadMany(ctx, refs)
	if g.afterRead != nil {
		g.afterRead()
	}
	return m, err
}

func (g gatedCloud) DeleteCloudDCBatch(
	ctx context.Context,
	account, project string,
	ids []string,
) ([]cloud.Outcome, error) {
	if g.beforeSend != nil {
		g.beforeSend()
	}
	g.deletes.Add(1)
	return g.Client.DeleteCloudDCBatch(ctx, account, project, ids)
}

// TestTwoPollersStaleRead runs two pollers on one database file (two
// console processes). Poller B reads an unconfirmed submission and is slow;
// meanwhile poller A judges it unsent, re-queues and re-submits it. B's
// verdict, taken from the older read, must not overwrite the new
// submission (it would re-queue a row whose delete is in flight, losing
// the call's result and deleting twice).
func TestTwoPollersStaleRead(t *testing.T) {
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	faults := cloudsim.DefaultFaults()
	faults.CloudDCDeleteDelayMS = 200
	e.setFaults(faults)
	ids := e.create("clouddc", "instance", "stopped", "", 1)
	c := e.approved(changes.PlanRequest{Refs: refs(cloud.CloudDC, cloud.KindInstance, "", ids)})
	e.execute(c)
	// A submission whose outcome was never recorded, long enough ago to re-send.
	now := time.Now().UTC()
	if _, err := e.db.Exec(`UPDATE change_operations SET state = 'submitted', attempts = 1, submitted_at = ?,
		next_poll_at = ?, deadline = ? WHERE change_id = ?`, store.FormatTime(now.Add(-10*time.Second)),
		store.FormatTime(now), store.FormatTime(now.Add(time.Minute)), c.ID); err != nil {
		t.Fatal(err)
	}
	db2, err := store.Open(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })

	var deletes atomic.Int32
	bRead, bGo := make(chan struct{}), make(chan struct{})
	aSending, aGo := make(chan struct{}), make(chan struct{})
	var bOnce, aOnce atomic.Bool
	b := poller.New(db2, gatedCloud{Client: e.client, deletes: &deletes, afterRead: func() {
		if bOnce.CompareAndSwap(false, true) {
			close(bRead)
			<-bGo
		}
	}}, testOptions())
	a := poller.New(e.db, gatedCloud{Client: e.client, deletes: &deletes, beforeSend: func() {
		if aOnce.CompareAndSwap(false, true) {
			close(aSending)
			<-aGo
		}
	}}, testOptions())
	ctx := context.Background()

	bDone := make(chan struct{})
	go func() { defer close(bDone); b.Tick(ctx) }() // its errors are the point
	<-bRead
	if _, err := a.Tick(ctx); err != nil { // re-queues the unconfirmed row
		t.Fatal(err)
	}
	aDone := make(chan struct{})
	go func() { defer close(aDone); a.Tick(ctx) }() // re-submits it
	<-aSending
	close(bGo)
	<-bDone
	var state string
	var attempts int
	if err := e.db.QueryRow(`SELECT state, attempts FROM change_operations WHERE change_id = ?`, c.ID).
		Scan(&state, &attempts); err != nil {
		t.Fatal(err)
	}
	if state != "submitted" || attempts != 2 {
		t.Errorf(
			"while A's delete is in flight the row is %s (attempt %d), want submitted (attempt 2)",
			state,
			attempts,
		)
	}
	close(aGo)
	<-aDone

	p := poller.New(e.db, gatedCloud{Client: e.client, deletes: &deletes}, testOptions())
	for end := time.Now().Add(30 * time.Second); !e.state(c.ID).Final() && time.Now().Before(end); {
		wait, err := p.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(wait)
	}
	if got := e.state(c.ID); got != changes.StateSucceeded {
		t.Errorf("change ended %s, want succeeded", got)
	}
	if n := deletes.Load(); n != 1 {
		t.Errorf("%d delete calls, want 1", n)
	}
}

// TestTimeoutWhileReadsFail: when status reads keep failing (credentials
// revoked, the service down), operations still end timed out once past
// their per-resource timeout, and the change finishes.
func TestTimeoutWhileReadsFail(t *testing.T) {
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	faults := cloudsim.DefaultFaults()
	faults.CloudDCDeleteDelayMS = 60000
	e.setFaults(faults)
	ids := e.create("clouddc", "instance", "stopped", "", 2)
	c := e.approved(changes.PlanRequest{Refs: refs(cloud.CloudDC, cloud.KindInstance, "", ids)})
	e.execute(c)
	o := testOptions()
	o.Timeout = time.Second
	var deletes atomic.Int32
	var fails atomic.Bool
	p := poller.New(e.db, gatedCloud{Client: e.client, deletes: &deletes, readFails: &fails}, o)
	ctx := context.Background()
	if _, err := p.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	fails.Store(true)
	for end := time.Now().Add(10 * time.Second); !e.state(c.ID).Final() && time.Now().Before(end); {
		wait, err := p.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(wait)
	}
	got, err := e.svc.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != changes.StateFailed {
		t.Errorf("change is %s, want failed", got.State)
	}
	for _, op := range got.Operations {
		if op.State != changes.OpTimedOut {
			t.Errorf("%s: %s (%s), want timed_out", op.Item.ID, op.State, op.LastError)
		}
	}
}

// TestEmptyPlanFinishes: re-validation found every planned resource gone,
// so the re-approved plan is empty; executing it must still finish the
// change rather than leave it executing for ever.
func TestEmptyPlanFinishes(t *testing.T) {
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	faults := cloudsim.DefaultFaults()
	faults.CloudDCDeleteDelayMS = 10
	e.setFaults(faults)
	ids := e.create("clouddc", "instance", "stopped", "", 1)
	c := e.approved(changes.PlanRequest{Refs: refs(cloud.CloudDC, cloud.KindInstance, "", ids)})
	ctx := context.Background()
	if _, err := e.client.DeleteCloudDCBatch(ctx, account, project, ids); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // terminated: gone
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrDiffers) {
		t.Fatalf("execute: %v", err)
	}
	c, err := e.svc.Get(ctx, c.ID)
	if err != nil || len(c.Plan.Items) != 0 {
		t.Fatalf("re-built plan: %v, %d items", err, len(c.Plan.Items))
	}
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); err != nil {
		t.Fatalf("execute the empty plan: %v", err)
	}
	e.runUntilFinished(testOptions(), 5*time.Second, c.ID)
}
