package changes_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

// fakeCloud is an in-memory cloud for the service tests.
type fakeCloud struct {
	mu     sync.Mutex
	res    map[string]cloud.Resource
	onRead func() // if set, runs at the start of every ReadMany (a slow read)
}

func (f *fakeCloud) ReadMany(_ context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	if f.onRead != nil {
		f.onRead()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]cloud.Resource{}
	for _, r := range refs {
		if got, ok := f.res[r.Key()]; ok {
			out[r.Key()] = got
		}
	}
	return out, nil
}

func (f *fakeCloud) ListInstances(
	_ context.Context,
	account, project string,
	svc cloud.Service,
) ([]cloud.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cloud.Resource
	for _, r := range f.res {
		if r.Account == account && r.Project == project && r.Service == svc {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeCloud) put(r cloud.Resource) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res[r.Key()] = r
}

func (f *fakeCloud) drop(r cloud.Ref) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.res, r.Key())
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	db    *sql.DB
	cloud *fakeCloud
	clock *clock
	svc   *changes.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "decom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, cloud: &fakeCloud{res: map[string]cloud.Resource{}},
		clock: &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	e.svc = changes.New(db, e.cloud, changes.Options{Now: e.clock.Now})
	return e
}

var (
	alice = changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester}}
	bob   = changes.Actor{Name: "bob", Roles: auth.Roles{auth.RoleApprover}}
	carol = changes.Actor{Name: "carol", Roles: auth.Roles{auth.RoleApprover}}
	dave  = changes.Actor{Name: "dave", Roles: auth.Roles{auth.RoleViewer}}
)

func (e *env) resource(id string, svc cloud.Service, status string) cloud.Resource {
	class := cloud.ClassActive
	if status == "CREATEFAILED" {
		class = cloud.ClassFailed
	}
	r := cloud.Resource{Ref: cloud.Ref{Account: "acc", Project: "p1", Service: svc, Kind: cloud.KindInstance, ID: id},
		Name: "n-" + id, Status: status, Class: class}
	e.cloud.put(r)
	return r
}

// pending plans and submits a change over the given resources.
func (e *env) pending(t *testing.T, force bool, rs ...cloud.Resource) changes.Change {
	t.Helper()
	var refs []cloud.Ref
	for _, r := range rs {
		refs = append(refs, r.Ref)
	}
	c, err := e.svc.Plan(
		context.Background(),
		alice,
		changes.PlanRequest{Refs: refs, Reason: "decommission", Force: force},
	)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return c
}

func (e *env) auditCount(t *testing.T, id int64) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM audit_events WHERE change_id = ?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPlan(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		a, b := e.resource("a", cloud.CloudDC, "stopped"), e.resource("b", cloud.CloudDC, "stopped")
		gone := cloud.Ref{Account: "acc", Project: "p1", Service: cloud.CloudDC, Kind: cloud.KindInstance, ID: "zzz"}
		c, err := e.svc.Plan(
			ctx,
			alice,
			changes.PlanRequest{Refs: []cloud.Ref{a.Ref, b.Ref, gone}, Reason: "old", Ticket: "T-1"},
		)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != changes.StatePending || len(c.Plan.Items) != 2 || c.PlanHash != c.Plan.Hash() ||
			c.ApprovalsRequired != 1 {
			t.Errorf("change = %+v", c)
		}
		if n := e.auditCount(t, c.ID); n != 1 {
			t.Errorf("audit events = %d, want 1", n)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		e := newEnv(t)
		a := e.resource("a", cloud.CloudDC, "stopped")
		if _, err := e.svc.Plan(ctx, bob, changes.PlanRequest{Refs: []cloud.Ref{a.Ref}, Reason: "x"}); !errors.Is(
			err,
			changes.ErrForbidden,
		) {
			t.Errorf("approver plans: %v", err)
		}
	})
	t.Run("ValidationError", func(t *testing.T) {
		e := newEnv(t)
		a := e.resource("a", cloud.CloudDC, "stopped")
		var ve *changes.ValidationError
		if _, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Refs: []cloud.Ref{a.Ref}}); !errors.As(err, &ve) ||
			ve.Fields["reason"] == "" {
			t.Errorf("no reason: %v", err)
		}
		if _, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Reason: "x"}); !errors.As(err, &ve) {
			t.Errorf("nothing selected: %v", err)
		}
	})
	t.Run("Sweep", func(t *testing.T) {
		e := newEnv(t)
		e.resource("f1", cloud.RocketMQ, "CREATEFAILED")
		e.resource("f2", cloud.RocketMQ, "CREATEFAILED")
		e.resource("ok", cloud.RocketMQ, "RUNNING")
		e.resource("rf", cloud.RabbitMQ, "CREATEFAILED")
		c, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Reason: "sweep",
			Sweep: &changes.Sweep{Account: "acc", Project: "p1", Service: cloud.RocketMQ}})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Plan.Items) != 2 || c.Plan.Items[0].ID != "f1" || c.Plan.Items[1].ID != "f2" {
			t.Errorf("sweep items = %+v", c.Plan.Items)
		}
	})
}

func TestApproval(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
		c, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, "fine")
		if err != nil || c.State != changes.StateApproved || !c.ExpiresAt.Equal(e.clock.Now().Add(24*time.Hour)) {
			t.Fatalf("approve: %v %s %s", err, c.State, c.ExpiresAt)
		}
		if _, err := e.svc.Cancel(ctx, alice, c.ID, ""); err != nil {
			t.Errorf("cancel approved: %v", err)
		}
		if _, err := e.svc.Approve(ctx, carol, c.ID, c.PlanHash, ""); !errors.Is(err, changes.ErrInvalidState) {
			t.Errorf("approve cancelled: %v", err)
		}
	})
	t.Run("SelfApproval", func(t *testing.T) {
		e := newEnv(t)
		c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
		both := changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester, auth.RoleApprover}}
		if _, err := e.svc.Approve(ctx, both, c.ID, c.PlanHash, ""); !errors.Is(err, changes.ErrForbidden) {
			t.Errorf("self approval: %v", err)
		}
		if _, err := e.svc.Approve(ctx, dave, c.ID, c.PlanHash, ""); !errors.Is(err, changes.ErrForbidden) {
			t.Errorf("viewer approval: %v", err)
		}
		if _, err := e.svc.Approve(ctx, bob, c.ID, "stale", ""); !errors.Is(err, changes.ErrConflict) {
			t.Errorf("stale hash: %v", err)
		}
	})
	t.Run("ForceNeedsTwo", func(t *testing.T) {
		e := newEnv(t)
		c := e.pending(t, true, e.resource("m", cloud.RocketMQ, "RUNNING"))
		if c.ApprovalsRequired != 2 {
			t.Fatalf("required = %d", c.ApprovalsRequired)
		}
		c, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, "")
		if err != nil || c.State != changes.StatePending || c.Approvals() != 1 {
			t.Fatalf("first approval: %v %s", err, c.State)
		}
		if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); !errors.Is(err, changes.ErrConflict) {
			t.Errorf("same approver twice: %v", err)
		}
		c, err = e.svc.Approve(ctx, carol, c.ID, c.PlanHash, "")
		if err != nil || c.State != changes.StateApproved {
			t.Errorf("second approval: %v %s", err, c.State)
		}
	})
	t.Run("Reject", func(t *testing.T) {
		e := newEnv(t)
		c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
		var ve *changes.ValidationError
		if _, err := e.svc.Reject(ctx, bob, c.ID, ""); !errors.As(err, &ve) {
			t.Errorf("reject without comment: %v", err)
		}
		c, err := e.svc.Reject(ctx, bob, c.ID, "not now")
		if err != nil || c.State != changes.StateRejected {
			t.Fatalf("reject: %v", err)
		}
		for name, fn := range map[string]func() error{
			"approve": func() error { _, err := e.svc.Approve(ctx, carol, c.ID, c.PlanHash, ""); return err },
			"cancel":  func() error { _, err := e.svc.Cancel(ctx, alice, c.ID, ""); return err },
			"execute": func() error { _, err := e.svc.Execute(ctx, alice, c.ID, ""); return err },
		} {
			if err := fn(); !errors.Is(err, changes.ErrInvalidState) {
				t.Errorf("%s after reject: %v", name, err)
			}
		}
	})
	t.Run("Policy", func(t *testing.T) {
		e := newEnv(t)
		p := changes.DefaultPolicy()
		p.Project, p.ApprovalsRequired, p.ForceApprovalsRequired, p.TTL = "p1", 2, 3, time.Hour
		if err := e.svc.SetPolicy(ctx, alice, p); !errors.Is(err, changes.ErrForbidden) {
			t.Errorf("requester sets policy: %v", err)
		}
		if err := e.svc.SetPolicy(ctx, changes.Actor{Name: "root", Roles: auth.Roles{auth.RoleAdmin}}, p); err != nil {
			t.Fatal(err)
		}
		c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
		if c.ApprovalsRequired != 2 {
			t.Errorf("required under project policy = %d", c.ApprovalsRequired)
		}
	})
}

// TestConcurrentApproveCancel races approval with cancellation: exactly one wins.
func TestConcurrentApproveCancel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for i := range 10 {
		c := e.pending(t, false, e.resource("a"+string(rune('0'+i)), cloud.CloudDC, "stopped"))
		var wg sync.WaitGroup
		var approveErr, cancelErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, approveErr = e.svc.Approve(ctx, bob, c.ID, c.PlanHash, "") }()
		go func() { defer wg.Done(); _, cancelErr = e.svc.Cancel(ctx, alice, c.ID, "") }()
		wg.Wait()
		got, err := e.svc.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cancelErr != nil {
			t.Errorf("cancel lost (it may follow approval): %v", cancelErr)
		}
		// Cancel is allowed after approval, so cancel always ends last; what
		// must never happen is an approval recorded after the cancel.
		if got.State != changes.StateCancelled {
			t.Errorf("final state %s", got.State)
		}
		if approveErr != nil && !errors.Is(approveErr, changes.ErrInvalidState) {
			t.Errorf("approve error %v", approveErr)
		}
		if approveErr != nil && got.Approvals() != 0 {
			t.Error("refused approval was recorded")
		}
	}
}

// TestConcurrentApprovals races two approvers on a change that needs one: the
// change is approved once, with one approval event.
func TestConcurrentApprovals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, a := range []changes.Actor{bob, carol} {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = e.svc.Approve(ctx, a, c.ID, c.PlanHash, "") }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one winner, got %v / %v", errs[0], errs[1])
	}
	if n := e.auditCount(t, c.ID); n != 2 { // plan_created + approved
		t.Errorf("audit events = %d, want 2", n)
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(23 * time.Hour)
	if n, err := e.svc.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("early sweep: %d %v", n, err)
	}
	e.clock.Add(time.Hour)
	if n, err := e.svc.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	got, _ := e.svc.Get(ctx, c.ID)
	if got.State != changes.StateExpired {
		t.Errorf("state %s", got.State)
	}
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrInvalidState) {
		t.Errorf("execute expired: %v", err)
	}
	t.Run("AtExecute", func(t *testing.T) {
		c := e.pending(t, false, e.resource("b", cloud.CloudDC, "stopped"))
		if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(25 * time.Hour)
		if _, err := e.svc.Execute(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrExpired) {
			t.Errorf("execute after TTL: %v", err)
		}
		if got, _ := e.svc.Get(ctx, c.ID); got.State != changes.StateExpired {
			t.Errorf("state %s", got.State)
		}
	})
	t.Run("DuringReread", func(t *testing.T) {
		// The approval lapses while Execute re-reads the live state.
		c := e.pending(t, false, e.resource("c", cloud.CloudDC, "stopped"))
		if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(24*time.Hour - time.Second)
		e.cloud.onRead = func() { e.clock.Add(2 * time.Second) }
		defer func() { e.cloud.onRead = nil }()
		if _, err := e.svc.Execute(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrExpired) {
			t.Errorf("execute with the approval lapsing during the re-read: %v", err)
		}
		if got, _ := e.svc.Get(ctx, c.ID); got.State != changes.StateExpired || len(got.Operations) != 0 {
			t.Errorf("state %s with %d operations, want expired with none", got.State, len(got.Operations))
		}
	})
}

func TestMigrateTwice(t *testing.T) {
	e := newEnv(t)
	if err := store.Migrate(context.Background(), e.db, migrations.FS); err != nil {
		t.Fatalf("second migration: %v", err)
	}
}

// TestApprovalsBoundToRevision sends a change back twice so that its third
// revision has the same plan (and hash) as its first: the first revision's
// approvals must not count again, and their authors may approve anew.
func TestApprovalsBoundToRevision(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	erin := changes.Actor{Name: "erin", Roles: auth.Roles{auth.RoleApprover}}
	m := e.resource("m", cloud.RocketMQ, "RUNNING")
	c := e.pending(t, true, m)
	h1 := c.PlanHash
	approveAll := func(as ...changes.Actor) {
		t.Helper()
		for _, a := range as {
			var err error
			if c, err = e.svc.Approve(ctx, a, c.ID, c.PlanHash, ""); err != nil {
				t.Fatalf("approve as %s (revision %d): %v", a.Name, c.Revision, err)
			}
		}
	}
	sendBack := func(status string) {
		t.Helper()
		m.Status = status
		e.cloud.put(m)
		var err error
		if _, err = e.svc.Execute(ctx, alice, c.ID, c.Name()); !errors.Is(err, changes.ErrDiffers) {
			t.Fatalf("execute: %v", err)
		}
		if c, err = e.svc.Get(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	approveAll(bob, carol)
	sendBack("FROZEN")
	approveAll(bob, carol)
	sendBack("RUNNING")
	if c.PlanHash != h1 || c.Revision != 3 || c.State != changes.StatePending {
		t.Fatalf("revision %d %s, hash equal to the first: %v", c.Revision, c.State, c.PlanHash == h1)
	}
	if got := c.Approvals(); got != 0 {
		t.Errorf("revision 3 starts with %d approvals, want 0", got)
	}
	approveAll(erin)
	if c.State != changes.StatePending {
		t.Errorf("after one fresh approval of two: %s", c.State)
	}
	approveAll(bob)
	if c.State != changes.StateApproved {
		t.Errorf("after two fresh approvals: %s", c.State)
	}
}
