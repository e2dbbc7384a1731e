package changes_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

var root = changes.Actor{Name: "root", Roles: auth.Roles{auth.RoleAdmin}}

// protectionEvents returns the details of every protection_changed event.
func (e *env) protectionEvents(t *testing.T) []string {
	t.Helper()
	rows, err := e.db.Query(`SELECT actor || ' ' || outcome || ' ' || details FROM audit_events
		WHERE action = 'protection_changed' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestProtectionRules(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		r, err := e.svc.AddProtectionRule(
			ctx,
			root,
			changes.Rule{Kind: changes.RuleTag, Pattern: " env = prod", Note: " prod "},
		)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID == 0 || r.Pattern != "env= prod" || r.Note != "prod" || r.CreatedBy != "root" || r.CreatedAt.IsZero() {
			t.Errorf("added %+v", r)
		}
		r2, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleService, Pattern: "ROMA"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.ProtectionRules(ctx)
		if err != nil || len(got) != 2 || got[0].ID != r.ID || got[1].Pattern != "roma" {
			t.Fatalf("rules %+v, %v", got, err)
		}
		if err := e.svc.RemoveProtectionRule(ctx, root, r.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.svc.ProtectionRules(ctx); len(got) != 1 || got[0].ID != r2.ID {
			t.Errorf("after remove: %+v", got)
		}
		ev := e.protectionEvents(t)
		if len(ev) != 3 || !strings.HasPrefix(ev[0], "root added ") || !strings.HasPrefix(ev[2], "root removed ") ||
			!strings.Contains(ev[2], `"pattern":"env= prod"`) {
			t.Errorf("audit events %q", ev)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		e := newEnv(t)
		for _, a := range []changes.Actor{alice, bob, dave} {
			if _, err := e.svc.AddProtectionRule(ctx, a, changes.Rule{Kind: changes.RuleName, Pattern: "x"}); !errors.Is(
				err,
				changes.ErrForbidden,
			) {
				t.Errorf("%s adds: %v", a.Name, err)
			}
		}
		r, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleName, Pattern: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RemoveProtectionRule(ctx, bob, r.ID); !errors.Is(err, changes.ErrForbidden) {
			t.Errorf("approver removes: %v", err)
		}
		if got, _ := e.svc.ProtectionRules(ctx); len(got) != 1 || len(e.protectionEvents(t)) != 1 {
			t.Errorf("a refused change changed something: %+v", got)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleName, Pattern: "[a-"}); !isField(
			err,
			"pattern",
		) {
			t.Errorf("bad glob: %v", err)
		}
		if _, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleTag, Pattern: "Team=A"}); err != nil {
			t.Fatal(err)
		}
		// The same meaning in another case is the same rule.
		if _, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleTag, Pattern: "team=a"}); !isField(
			err,
			"pattern",
		) {
			t.Errorf("duplicate: %v", err)
		}
		if got, _ := e.svc.ProtectionRules(ctx); len(got) != 1 || len(e.protectionEvents(t)) != 1 {
			t.Errorf("refused rules were stored: %+v", got)
		}
	})
	t.Run("ErrRuleNotFound", func(t *testing.T) {
		e := newEnv(t)
		if err := e.svc.RemoveProtectionRule(ctx, root, 42); !errors.Is(err, changes.ErrRuleNotFound) {
			t.Errorf("remove missing: %v", err)
		}
		if len(e.protectionEvents(t)) != 0 {
			t.Error("a failed remove was audited")
		}
	})
}

func isField(err error, field string) bool {
	var ve *changes.ValidationError
	return errors.As(err, &ve) && ve.Fields[field] != ""
}

// TestPlanBlocked: a plan leaves out protected and undeletable resources and
// says which and why; with nothing left it is refused with the reasons.
func TestPlanBlocked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ok := e.resource("ok", cloud.CloudDC, "stopped")
	running := e.resource("run", cloud.CloudDC, "running")
	tagged := e.resource("tag", cloud.RocketMQ, "RUNNING")
	tagged.Tags = []cloud.Tag{{Key: "decom:protect", Value: "true"}}
	e.cloud.put(tagged)
	if _, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleName, Pattern: "n-keep*"}); err != nil {
		t.Fatal(err)
	}
	keep := e.resource("keep-1", cloud.RabbitMQ, "RUNNING")
	c := e.pending(t, false, ok, running, tagged, keep)
	if len(c.Plan.Items) != 1 || c.Plan.Items[0].ID != "ok" || len(c.Plan.Excluded) != 3 {
		t.Fatalf("plan items %+v excluded %+v", c.Plan.Items, c.Plan.Excluded)
	}
	reasons := map[string]string{}
	for _, x := range c.Plan.Excluded {
		reasons[x.ID] = x.Reason
	}
	want := map[string]string{"run": "running: stop it first", "tag": "protected by the built-in tag decom:protect",
		"keep-1": "protected by rule 1: name n-keep*"}
	for id, w := range want {
		if reasons[id] != w {
			t.Errorf("%s excluded for %q, want %q", id, reasons[id], w)
		}
	}
	_, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Refs: []cloud.Ref{running.Ref, tagged.Ref}, Reason: "r"})
	var ve *changes.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["resources"], "n-run: running: stop it first") ||
		!strings.Contains(ve.Fields["resources"], "n-tag: protected by the built-in tag") {
		t.Errorf("all blocked: %v", err)
	}
	// A sweep leaves protected failed instances out as well.
	f1, f2 := e.resource("f1", cloud.RabbitMQ, "CREATEFAILED"), e.resource("f2", cloud.RabbitMQ, "CREATEFAILED")
	f2.Tags = tagged.Tags
	e.cloud.put(f2)
	sw, err := e.svc.Plan(ctx, alice, changes.PlanRequest{Reason: "sweep",
		Sweep: &changes.Sweep{Account: "acc", Project: "p1", Service: cloud.RabbitMQ}})
	if err != nil || len(sw.Plan.Items) != 1 || sw.Plan.Items[0].ID != f1.ID || len(sw.Plan.Excluded) != 1 {
		t.Fatalf("sweep: %v items %+v excluded %+v", err, sw.Plan.Items, sw.Plan.Excluded)
	}
	if _, err := e.svc.Approve(ctx, bob, sw.ID, sw.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.Execute(ctx, alice, sw.ID, ""); err != nil || got.State != changes.StateExecuting {
		t.Errorf("a protected failed instance sent the sweep back: %v %+v", err, got.Differences)
	}
}

// TestExecuteProtectedAfterApproval: protection added after approval, by tag
// or by rule, sends the change back; nothing is queued for deletion, and the
// rebuilt plan leaves the protected resource out.
func TestExecuteProtectedAfterApproval(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		protect func(e *env, r cloud.Resource)
		reason  string
	}{
		{"Tag", func(e *env, r cloud.Resource) {
			r.Tags = []cloud.Tag{{Key: "Decom:Protect", Value: "ask-ops"}}
			e.cloud.put(r)
		}, "protected by the built-in tag decom:protect"},
		{"Rule", func(e *env, r cloud.Resource) {
			if _, err := e.svc.AddProtectionRule(ctx, root, changes.Rule{Kind: changes.RuleEnterpriseProject, Pattern: "ep-fin"}); err != nil {
				t.Fatal(err)
			}
		}, "protected by rule 1: enterprise project ep-fin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a, b := e.resource("a", cloud.CloudDC, "stopped"), e.resource("b", cloud.RocketMQ, "RUNNING")
			b.EnterpriseProject = "ep-fin"
			e.cloud.put(b)
			c := e.pending(t, false, a, b)
			if _, err := e.svc.Approve(ctx, bob, c.ID, c.PlanHash, ""); err != nil {
				t.Fatal(err)
			}
			tt.protect(e, b)
			got, err := e.svc.Execute(ctx, alice, c.ID, "")
			if !errors.Is(err, changes.ErrDiffers) {
				t.Fatalf("execute: %v", err)
			}
			if got.State != changes.StatePending || len(got.Operations) != 0 || len(got.Differences) != 1 {
				t.Fatalf(
					"after execute: %s, %d operations, differences %+v",
					got.State,
					len(got.Operations),
					got.Differences,
				)
			}
			if d := got.Differences[0]; d.Kind != changes.DiffProtected || d.Ref.ID != "b" || d.Reason != tt.reason {
				t.Errorf("difference %+v, want b protected: %s", d, tt.reason)
			}
			if len(got.Plan.Items) != 1 || got.Plan.Items[0].ID != "a" || len(got.Plan.Excluded) != 1 {
				t.Errorf("rebuilt plan: items %+v excluded %+v", got.Plan.Items, got.Plan.Excluded)
			}
			var n int
			if err := e.db.QueryRow(`SELECT count(*) FROM change_operations`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d operations written (%v)", n, err)
			}
			var details string
			if err := e.db.QueryRow(`SELECT details FROM audit_events WHERE action = 'revalidation_failed'`).Scan(&details); err != nil {
				t.Fatal(err)
			}
			var ev struct{ Differences []changes.Difference }
			if err := json.Unmarshal([]byte(details), &ev); err != nil || len(ev.Differences) != 1 ||
				ev.Differences[0].Reason != tt.reason {
				t.Errorf("audit details %s (%v)", details, err)
			}
		})
	}
}

// tagCloud answers DMSTags from its own map, as the real per-instance tag
// call does when the list leaves tags out.
type tagCloud struct {
	*fakeCloud
	tags map[string][]cloud.Tag // by Ref.Key(); absent = not found
}

func (c tagCloud) DMSTags(_ context.Context, ref cloud.Ref) ([]cloud.Tag, error) {
	t, ok := c.tags[ref.Key()]
	if !ok {
		return nil, &cloud.Error{Class: cloud.ErrNotFound, Service: ref.Service, Operation: "dms.tags"}
	}
	return t, nil
}

// TestExecuteRereadsDMSTags: at execution the DMS tags come from the
// per-instance call, not from the list; an instance that call no longer
// finds is gone.
func TestExecuteRereadsDMSTags(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tc := tagCloud{fakeCloud: e.cloud, tags: map[string][]cloud.Tag{}}
	e.svc = changes.New(e.db, tc, changes.Options{Now: e.clock.Now})
	a, b, c := e.resource(
		"a",
		cloud.RocketMQ,
		"RUNNING",
	), e.resource(
		"b",
		cloud.RabbitMQ,
		"RUNNING",
	), e.resource(
		"c",
		cloud.CloudDC,
		"stopped",
	)
	tc.tags[a.Key()], tc.tags[b.Key()] = nil, nil
	ch := e.pending(t, false, a, b, c)
	if _, err := e.svc.Approve(ctx, bob, ch.ID, ch.PlanHash, ""); err != nil {
		t.Fatal(err)
	}
	tc.tags[a.Key()] = []cloud.Tag{{Key: "decom:protect"}} // only the tag call knows
	delete(tc.tags, b.Key())
	got, err := e.svc.Execute(ctx, alice, ch.ID, "")
	if !errors.Is(err, changes.ErrDiffers) {
		t.Fatalf("execute: %v", err)
	}
	kinds := map[string]changes.DiffKind{}
	for _, d := range got.Differences {
		kinds[d.Ref.ID] = d.Kind
	}
	if len(kinds) != 2 || kinds["a"] != changes.DiffProtected || kinds["b"] != changes.DiffGone {
		t.Errorf("differences %+v, want a protected and b gone", got.Differences)
	}
}
