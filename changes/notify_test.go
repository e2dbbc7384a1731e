package changes_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/notify"
)

var auditor = changes.Actor{Name: "eve", Roles: auth.Roles{auth.RoleAuditor}}

// addChannel configures a channel for project ("" = global).
func (e *env) addChannel(t *testing.T, project string) {
	t.Helper()
	n := notify.New(e.db, notify.Options{Now: e.clock.Now})
	if _, err := n.AddChannel(context.Background(), notify.Actor{Name: "root"}, notify.Channel{Project: project,
		Format: notify.FormatSlack, URL: "https://hooks.example/services/T/B/secret"}); err != nil {
		t.Fatal(err)
	}
}

// outbox lists the kinds queued for change id, in order.
func (e *env) outbox(t *testing.T, id int64) []string {
	t.Helper()
	rows, err := e.db.Query(`SELECT kind FROM notify_outbox WHERE change_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// TestAnnounce: every lifecycle step queues its notification with the
// state change, one row per matching channel; other projects' channels get
// nothing.
func TestAnnounce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.addChannel(t, "")
	e.addChannel(t, "other-project")
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	if _, err := e.svc.AddComment(ctx, bob, c.ID, "Is this the last one?"); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, "ok")
	if err != nil {
		t.Fatal(err)
	}
	e.cloud.put(cloud.Resource{Ref: c.Plan.Items[0].Ref, Name: "n-a", Status: "running", Class: cloud.ClassActive})
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); !errors.Is(err, changes.ErrDiffers) {
		t.Fatalf("execute after a live change: %v", err)
	}
	c, _ = e.svc.Get(ctx, c.ID)
	if _, err := e.svc.Reject(ctx, bob, c.ID, "not now"); err != nil {
		t.Fatal(err)
	}
	want := []string{"pending_approval", "comment", "approved", "sent_back", "rejected"}
	if diff := cmp.Diff(want, e.outbox(t, c.ID)); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}

	e.addChannel(t, "p1")
	d := e.pending(t, false, e.resource("b", cloud.CloudDC, "stopped"))
	d, _ = e.svc.Approve(ctx, bob, d.ID, d.PlanHash, "")
	if _, err := e.svc.Execute(ctx, alice, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"pending_approval",
		"pending_approval",
		"approved",
		"approved",
		"execution_started",
		"execution_started",
	}
	if diff := cmp.Diff(want, e.outbox(t, d.ID)); diff != "" {
		t.Errorf("outbox with a global and a project channel (-want +got):\n%s", diff)
	}
}

// TestAnnounceRollsBack: a refused step queues nothing.
func TestAnnounceRollsBack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.addChannel(t, "")
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	if _, err := e.svc.Approve(ctx, alice, c.ID, c.PlanHash, ""); !errors.Is(err, changes.ErrForbidden) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := e.svc.AddComment(ctx, dave, c.ID, "hi"); !errors.Is(err, changes.ErrForbidden) {
		t.Fatalf("viewer comments: %v", err)
	}
	if diff := cmp.Diff([]string{"pending_approval"}, e.outbox(t, c.ID)); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

func TestCanComment(t *testing.T) {
	c := changes.Change{ID: 1, Requester: "alice", State: changes.StateSucceeded}
	pol := changes.DefaultPolicy()
	for _, tt := range []struct {
		name string
		a    changes.Actor
		ok   bool
	}{
		{"Requester", alice, true},
		{"Approver", bob, true},
		{"Auditor", auditor, true},
		{"Admin", root, true},
		{"Viewer", dave, false},
		{"OtherRequester", changes.Actor{Name: "zed", Roles: auth.Roles{auth.RoleRequester}}, false},
		{"Anonymous", changes.Actor{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := changes.CanComment(tt.a, c, pol)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, changes.ErrForbidden)) {
				t.Errorf("CanComment = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	t.Run("OK", func(t *testing.T) {
		before := e.auditCount(t, c.ID)
		if _, err := e.svc.AddComment(ctx, alice, c.ID, "  Please approve before Friday. zebrafish  "); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddComment(ctx, auditor, c.ID, "Ticket checked."); err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.Comments(ctx, c.ID)
		if err != nil || len(list) != 2 || list[0].Body != "Please approve before Friday. zebrafish" ||
			list[1].Actor != "eve" {
			t.Fatalf("comments %+v, %v", list, err)
		}
		if got := e.auditCount(t, c.ID); got != before+2 {
			t.Errorf("audit events %d, want %d", got, before+2)
		}
		var details string
		if err := e.db.QueryRow(`SELECT details FROM audit_events WHERE action = 'commented' ORDER BY seq LIMIT 1`).
			Scan(&details); err != nil || !strings.Contains(details, "zebrafish") {
			t.Errorf("audit details %q (%v) lack the text", details, err)
		}
	})
	for _, tt := range []struct {
		name, body string
	}{
		{"Empty", "   "},
		{"TooLong", strings.Repeat("é", changes.MaxText+1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.AddComment(ctx, alice, c.ID, tt.body)
			var ve *changes.ValidationError
			if !errors.As(err, &ve) || ve.Fields["comment"] == "" {
				t.Fatalf("want a comment message, got %v", err)
			}
		})
	}
	t.Run("ExactlyMax", func(t *testing.T) {
		if _, err := e.svc.AddComment(ctx, alice, c.ID, strings.Repeat("é", changes.MaxText)); err != nil {
			t.Errorf("4000 characters refused: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := e.svc.AddComment(ctx, alice, 999, "hi"); !errors.Is(err, changes.ErrNotFound) {
			t.Errorf("comment on a missing change: %v", err)
		}
	})
}

// TestTextBounds: reasons and decision comments over 4,000 characters get a
// message and change nothing.
func TestTextBounds(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	long := strings.Repeat("x", changes.MaxText+1)
	r := e.resource("a", cloud.CloudDC, "stopped")
	_, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Refs: []cloud.Ref{r.Ref}, Reason: long})
	var ve *changes.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["reason"], "4000") {
		t.Fatalf("long reason: %v", err)
	}
	c := e.pending(t, false, r)
	for name, call := range map[string]func() error{
		"approve": func() error { _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, long); return err },
		"reject":  func() error { _, err := e.svc.Reject(ctx, bob, c.ID, long); return err },
		"cancel":  func() error { _, err := e.svc.Cancel(ctx, alice, c.ID, long); return err },
	} {
		if err := call(); !errors.As(err, &ve) || ve.Fields["comment"] == "" {
			t.Errorf("%s with a long comment: %v", name, err)
		}
	}
	if got, _ := e.svc.Get(ctx, c.ID); got.State != changes.StatePending || len(got.Decisions) != 0 {
		t.Errorf("state %s, decisions %d after refused decisions", got.State, len(got.Decisions))
	}
}

// TestSetPolicyEligible: a policy may not need more approvals than users
// holding its approver roles can give.
func TestSetPolicyEligible(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.svc = changes.New(e.db, e.cloud, changes.Options{Now: e.clock.Now,
		Eligible: func(_ context.Context, roles auth.Roles) (int, error) { return 2, nil }})
	p := changes.DefaultPolicy()
	p.ApprovalsRequired, p.ForceApprovalsRequired = 2, 3
	err := e.svc.SetPolicy(ctx, root, p)
	var ve *changes.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["force_approvals_required"], "only 2") {
		t.Fatalf("3 approvals of 2 approvers: %v", err)
	}
	p.ForceApprovalsRequired = 2
	if err := e.svc.SetPolicy(ctx, root, p); err != nil {
		t.Fatalf("2 of 2: %v", err)
	}
}

// TestAnnounceExpired: the expiry sweep announces what it expires.
func TestAnnounceExpired(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.addChannel(t, "p1")
	c := e.pending(t, false, e.resource("a", cloud.CloudDC, "stopped"))
	if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(changes.DefaultTTL + time.Second)
	if n, err := e.svc.ExpireDue(ctx); n != 1 || err != nil {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	if diff := cmp.Diff([]string{"pending_approval", "approved", "expired"}, e.outbox(t, c.ID)); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	var ev string
	if err := e.db.QueryRow(`SELECT event_json FROM notify_outbox WHERE kind = 'expired'`).Scan(&ev); err != nil ||
		!strings.Contains(ev, `"actor":"system"`) || !strings.Contains(ev, `"projects":["p1"]`) {
		t.Errorf("expired event %s (%v)", ev, err)
	}
}
