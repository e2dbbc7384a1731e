package changes

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
)

func res(id string, svc cloud.Service, status string, class cloud.StatusClass) cloud.Resource {
	kind, parent := cloud.KindInstance, ""
	if svc == cloud.ROMA {
		kind, parent = cloud.KindApp, "roma1"
	}
	return cloud.Resource{
		Ref:    cloud.Ref{Account: "acc", Project: "p1", Service: svc, Kind: kind, ID: id, Parent: parent},
		Name:   "name-" + id,
		Status: status,
		Class:  class,
		ReadAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func many(n int, svc cloud.Service, status string) []cloud.Resource {
	out := make([]cloud.Resource, n)
	for i := range n {
		out[i] = res(fmt.Sprintf("%s-%04d", svc, i), svc, status, cloud.ClassActive)
	}
	return out
}

func TestBuildPlanBatches(t *testing.T) {
	var in []cloud.Resource
	in = append(in, many(120, cloud.CloudDC, "stopped")...)
	in = append(in, many(51, cloud.RocketMQ, "RUNNING")...)
	in = append(in, many(201, cloud.ROMA, "RUNNING")...)
	in = append(in, in[0]) // duplicates are dropped
	p := BuildPlan(PlanInput{Resources: in, Force: true, Reason: "r"})
	if got, want := len(p.Items), 120+51+201; got != want {
		t.Fatalf("items = %d, want %d", got, want)
	}
	var sizes []string
	for _, b := range p.Batches {
		sizes = append(sizes, fmt.Sprintf("%s:%d:%v", b.Service, len(b.IDs), b.Force))
	}
	want := []string{"clouddc:50:false", "clouddc:50:false", "clouddc:20:false", "rocketmq:50:true", "rocketmq:1:true",
		"roma:100:false", "roma:100:false", "roma:1:false"}
	if diff := cmp.Diff(want, sizes); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	for i, b := range p.Batches {
		if b.Seq != i+1 {
			t.Errorf("batch %d has seq %d", i, b.Seq)
		}
	}
	if p.Batches[0].Call != "POST /v1/p1/instances/batch-delete" ||
		p.Batches[5].Call != "POST /v2/p1/instances/roma1/assets/delete" ||
		p.Batches[3].Call != "POST /v2/p1/instances/action" {
		t.Errorf("calls: %q %q %q", p.Batches[0].Call, p.Batches[3].Call, p.Batches[5].Call)
	}
}

func TestBuildPlanROMABatches(t *testing.T) {
	// Tasks given first still go after the apps; jobs fill up to 100 assets.
	var in []cloud.Resource
	for i := range 70 {
		r := res(fmt.Sprintf("t%03d", i), cloud.ROMA, "RUNNING", cloud.ClassActive)
		r.Kind = cloud.KindTask
		in = append(in, r)
	}
	in = append(in, many(150, cloud.ROMA, "RUNNING")...)
	p := BuildPlan(PlanInput{Resources: in, Reason: "r"})
	var got [][]string
	for _, b := range p.Batches {
		got = append(got, []string{b.IDs[0], b.IDs[len(b.IDs)-1], fmt.Sprint(len(b.IDs))})
	}
	want := [][]string{{"roma-0000", "roma-0099", "100"}, {"roma-0100", "t049", "100"}, {"t050", "t069", "20"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batches (first, last, size) (-want +got):\n%s", diff)
	}
}

func TestBuildPlanWarnings(t *testing.T) {
	prepaid := res("pp", cloud.RabbitMQ, "RUNNING", cloud.ClassActive)
	prepaid.Prepaid = true
	tests := []struct {
		name  string
		in    PlanInput
		codes []string
	}{
		{
			"plain",
			PlanInput{Resources: []cloud.Resource{res("a", cloud.CloudDC, "stopped", cloud.ClassActive)}},
			[]string{WarnNoUndo},
		},
		{
			"force on DMS",
			PlanInput{Force: true, Resources: []cloud.Resource{res("a", cloud.RocketMQ, "RUNNING", cloud.ClassActive)}},
			[]string{WarnForce},
		},
		{
			"force without DMS is no force",
			PlanInput{Force: true, Resources: []cloud.Resource{res("a", cloud.CloudDC, "stopped", cloud.ClassActive)}},
			[]string{WarnNoUndo},
		},
		{"prepaid", PlanInput{Resources: []cloud.Resource{prepaid}}, []string{WarnPrepaid}},
		{
			"failed is deletable",
			PlanInput{Resources: []cloud.Resource{res("a", cloud.RocketMQ, "CREATEFAILED", cloud.ClassFailed)}},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range BuildPlan(tt.in).Warnings {
				got = append(got, w.Code)
			}
			if diff := cmp.Diff(tt.codes, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildPlanExcludes: protected resources and those the cloud refuses to
// delete in their status are left out with their reason, never planned.
func TestBuildPlanExcludes(t *testing.T) {
	ok := res("ok", cloud.CloudDC, "stopped", cloud.ClassActive)
	running := res("run", cloud.CloudDC, "running", cloud.ClassActive)
	restarting := res("rst", cloud.RocketMQ, "RESTARTING", cloud.ClassTransitional)
	deleting := res("del", cloud.CloudDC, "shutting-down", cloud.ClassDeleting)
	tagged := res("tag", cloud.RocketMQ, "CREATEFAILED", cloud.ClassFailed)
	tagged.Tags = []cloud.Tag{{Key: "decom:protect", Value: "yes"}}
	named := res("prod-mq", cloud.RabbitMQ, "RUNNING", cloud.ClassActive)
	rules := []Rule{{ID: 3, Kind: RuleName, Pattern: "name-prod-*", Note: "production"}}
	p := BuildPlan(
		PlanInput{Resources: []cloud.Resource{running, ok, restarting, deleting, tagged, named, ok}, Rules: rules,
			Reason: "r"},
	)
	if len(p.Items) != 1 || p.Items[0].ID != "ok" {
		t.Fatalf("items %+v, want only ok", p.Items)
	}
	if len(p.Batches) != 1 || len(p.Batches[0].IDs) != 1 {
		t.Errorf("batches %+v, want one call for ok", p.Batches)
	}
	type ex struct {
		ID        string
		Protected bool
		Reason    string
	}
	var got []ex
	for _, e := range p.Excluded {
		got = append(got, ex{e.ID, e.Protected, e.Reason})
	}
	want := []ex{
		{"del", false, "shutting-down: already being deleted"},
		{"run", false, "running: stop it first"},
		{"prod-mq", true, "protected by rule 3: name name-prod-* (production)"},
		{"rst", false, "RESTARTING: an operation is in progress; wait until it ends"},
		{"tag", true, "protected by the built-in tag decom:protect"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("excluded (-want +got):\n%s", diff)
	}
	// Exclusions delete nothing: they do not change what approvers approve.
	if p.Hash() != BuildPlan(PlanInput{Resources: []cloud.Resource{ok}, Reason: "r"}).Hash() {
		t.Error("the exclusions changed the plan hash")
	}
}

func TestPlanHash(t *testing.T) {
	a, b := res("a", cloud.CloudDC, "stopped", cloud.ClassActive), res("b", cloud.CloudDC, "stopped", cloud.ClassActive)
	base := BuildPlan(PlanInput{Resources: []cloud.Resource{a, b}, Reason: "r"})
	if len(base.Hash()) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", base.Hash())
	}
	later := b
	later.ReadAt = later.ReadAt.Add(time.Hour)
	same := BuildPlan(PlanInput{Resources: []cloud.Resource{later, a}, Reason: "r"})
	if base.Hash() != same.Hash() {
		t.Error("hash depends on input order or read time")
	}
	changed := b
	changed.Status = "error"
	for name, p := range map[string]Plan{
		"status": BuildPlan(PlanInput{Resources: []cloud.Resource{a, changed}, Reason: "r"}),
		"reason": BuildPlan(PlanInput{Resources: []cloud.Resource{a, b}, Reason: "r2"}),
		"ticket": BuildPlan(PlanInput{Resources: []cloud.Resource{a, b}, Reason: "r", Ticket: "T-1"}),
		"force":  BuildPlan(PlanInput{Resources: []cloud.Resource{a, b}, Reason: "r", Force: true}),
		"fewer":  BuildPlan(PlanInput{Resources: []cloud.Resource{a}, Reason: "r"}),
	} {
		if p.Hash() == base.Hash() {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
}

func TestRevalidate(t *testing.T) {
	a := res("a", cloud.RocketMQ, "CREATEFAILED", cloud.ClassFailed)
	b := res("b", cloud.RocketMQ, "CREATEFAILED", cloud.ClassFailed)
	c := res("c", cloud.RocketMQ, "CREATEFAILED", cloud.ClassFailed)
	sel := BuildPlan(PlanInput{Resources: []cloud.Resource{a, b}})
	sweep := BuildPlan(
		PlanInput{
			Resources: []cloud.Resource{a, b},
			Sweep:     &Sweep{Account: "acc", Project: "p1", Service: cloud.RocketMQ},
		},
	)
	bRunning := b
	bRunning.Status, bRunning.Class = "RUNNING", cloud.ClassActive
	bDeleting := b
	bDeleting.Status, bDeleting.Class = "DELETING", cloud.ClassDeleting
	bTagged := b
	bTagged.Tags = []cloud.Tag{{Key: "decom:protect"}}
	bTaggedRunning := bRunning
	bTaggedRunning.Tags = bTagged.Tags
	cTagged := c
	cTagged.Tags = bTagged.Tags
	byService := []Rule{{ID: 1, Kind: RuleService, Pattern: "rocketmq"}}
	// A plan made before deletability was checked at plan time.
	old := Plan{
		Items: []Item{{Ref: cloud.Ref{Account: "acc", Project: "p1", Service: cloud.CloudDC, Kind: cloud.KindInstance,
			ID: "bm"}, Name: "bm", Status: "running", Class: cloud.ClassActive}},
	}
	bmRunning := cloud.Resource{Ref: old.Items[0].Ref, Name: "bm", Status: "running", Class: cloud.ClassActive}
	byKey := func(rs ...cloud.Resource) map[string]cloud.Resource {
		m := map[string]cloud.Resource{}
		for _, r := range rs {
			m[r.Key()] = r
		}
		return m
	}
	tests := []struct {
		name  string
		plan  Plan
		live  Live
		kinds []DiffKind
	}{
		{"same", sel, Live{Resources: byKey(a, b)}, nil},
		{"gone", sel, Live{Resources: byKey(a)}, []DiffKind{DiffGone}},
		{"status changed", sel, Live{Resources: byKey(a, bRunning)}, []DiffKind{DiffStatus}},
		{"deleting by someone else", sel, Live{Resources: byKey(a, bDeleting)}, []DiffKind{DiffStatus}},
		{"sweep same", sweep, Live{Resources: byKey(a, b), Failed: []cloud.Resource{a, b}}, nil},
		{
			"sweep grew",
			sweep,
			Live{Resources: byKey(a, b), Failed: []cloud.Resource{a, b, c}},
			[]DiffKind{DiffFailedSetGrew},
		},
		{"sweep shrank", sweep, Live{Resources: byKey(a), Failed: []cloud.Resource{a}}, []DiffKind{DiffGone}},
		{"selection ignores new failures", sel, Live{Resources: byKey(a, b), Failed: []cloud.Resource{c}}, nil},
		{"protect tag added", sel, Live{Resources: byKey(a, bTagged)}, []DiffKind{DiffProtected}},
		{
			"protection reported before a status change",
			sel,
			Live{Resources: byKey(a, bTaggedRunning)},
			[]DiffKind{DiffProtected},
		},
		{"rule added", sel, Live{Resources: byKey(a, b), Rules: byService}, []DiffKind{DiffProtected, DiffProtected}},
		{
			"sweep ignores a protected new failure",
			sweep,
			Live{Resources: byKey(a, b), Failed: []cloud.Resource{a, b, cTagged}},
			nil,
		},
		{"old plan of an undeletable resource", old, Live{Resources: byKey(bmRunning)}, []DiffKind{DiffNotDeletable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []DiffKind
			for _, d := range Revalidate(tt.plan, tt.live) {
				got = append(got, d.Kind)
			}
			if diff := cmp.Diff(tt.kinds, got); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("reasons", func(t *testing.T) {
		d := Revalidate(sel, Live{Resources: byKey(a, bTaggedRunning)})
		if len(d) != 1 || d[0].Reason != "protected by the built-in tag decom:protect" || d[0].Live != "RUNNING" {
			t.Errorf("protected difference %+v", d)
		}
		d = Revalidate(old, Live{Resources: byKey(bmRunning)})
		if len(d) != 1 || d[0].Reason != "running: stop it first" {
			t.Errorf("not deletable difference %+v", d)
		}
	})
	t.Run("replan excludes protected", func(t *testing.T) {
		got := Replan(sel, Live{Resources: byKey(a, bTagged)})
		if len(got.Items) != 1 || got.Items[0].ID != "a" || len(got.Excluded) != 1 || got.Excluded[0].ID != "b" ||
			!got.Excluded[0].Protected {
			t.Errorf("replan: items %+v excluded %+v", got.Items, got.Excluded)
		}
	})
	t.Run("replan", func(t *testing.T) {
		if got := Replan(sel, Live{Resources: byKey(a, bRunning)}); len(got.Items) != 2 ||
			got.Items[1].Status != "RUNNING" {
			t.Errorf("replan selection: %+v", got.Items)
		}
		if got := Replan(sel, Live{Resources: byKey(a)}); len(got.Items) != 1 {
			t.Errorf("replan drops gone: %+v", got.Items)
		}
		if got := Replan(sweep, Live{Failed: []cloud.Resource{a, b, c}}); len(got.Items) != 3 || got.Sweep == nil {
			t.Errorf("replan sweep: %+v", got.Items)
		}
	})
}

func TestPolicy(t *testing.T) {
	global := DefaultPolicy()
	if err := global.Validate(-1); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	strict := Policy{Project: "p1", ApprovalsRequired: 2, ForceApprovalsRequired: 3,
		ApproverRoles: auth.Roles{auth.RoleApprover, auth.RoleAdmin}, TTL: time.Hour}
	eff := Effective(global, []Policy{strict})
	if eff.ApprovalsRequired != 2 || eff.ForceApprovalsRequired != 3 || eff.TTL != time.Hour {
		t.Errorf("effective = %+v", eff)
	}
	if diff := cmp.Diff(auth.Roles{auth.RoleApprover}, eff.ApproverRoles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	force := BuildPlan(
		PlanInput{Force: true, Resources: []cloud.Resource{res("a", cloud.RabbitMQ, "RUNNING", cloud.ClassActive)}},
	)
	plain := BuildPlan(PlanInput{Resources: []cloud.Resource{res("a", cloud.RabbitMQ, "RUNNING", cloud.ClassActive)}})
	if got := global.Required(force); got != 2 {
		t.Errorf("force approvals = %d, want 2", got)
	}
	if got := global.Required(plain); got != 1 {
		t.Errorf("approvals = %d, want 1", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	ok := Policy{
		ApprovalsRequired:      1,
		ForceApprovalsRequired: 2,
		ApproverRoles:          auth.Roles{auth.RoleApprover},
		TTL:                    time.Hour,
	}
	with := func(f func(*Policy)) Policy { p := ok; f(&p); return p }
	for _, tt := range []struct {
		name     string
		p        Policy
		eligible int
		field    string // "" = valid
	}{
		{"OK", ok, 5, ""},
		{"OKUnknownEligible", ok, -1, ""},
		{"OKMaxTTL", with(func(p *Policy) { p.TTL = MaxTTL }), 5, ""},
		{"OKTen", with(func(p *Policy) { p.ApprovalsRequired, p.ForceApprovalsRequired = 10, 10 }), 10, ""},
		{"NoApprovals", with(func(p *Policy) { p.ApprovalsRequired = 0 }), 5, "approvals_required"},
		{"ElevenApprovals", with(func(p *Policy) { p.ApprovalsRequired, p.ForceApprovalsRequired = 11, 11 }), 20, "approvals_required"},
		{"MoreThanEligible", with(func(p *Policy) { p.ApprovalsRequired = 2 }), 1, "approvals_required"},
		{"ForceMoreThanEligible", ok, 1, "force_approvals_required"},
		{"ForceBelowApprovals", with(func(p *Policy) { p.ApprovalsRequired = 3 }), 5, "force_approvals_required"},
		{"ForceEleven", with(func(p *Policy) { p.ForceApprovalsRequired = 11 }), 20, "force_approvals_required"},
		{"NoRoles", with(func(p *Policy) { p.ApproverRoles = nil }), 5, "approver_roles"},
		{"UnknownRole", with(func(p *Policy) { p.ApproverRoles = auth.Roles{"approver", "boss"} }), 5, "approver_roles"},
		{"RequesterApproves", with(func(p *Policy) { p.ApproverRoles = auth.Roles{auth.RoleRequester} }), 5, "approver_roles"},
		{"TTLBelowHour", with(func(p *Policy) { p.TTL = 59 * time.Minute }), 5, "ttl"},
		{"TTLAbove30Days", with(func(p *Policy) { p.TTL = MaxTTL + time.Hour }), 5, "ttl"},
		// 10^16 hours overflowed to about 25 minutes before TTLFromHours saturated.
		{"TTLHugeHours", with(func(p *Policy) { p.TTL = TTLFromHours(10_000_000_000_000_000) }), 5, "ttl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(tt.eligible)
			var ve *ValidationError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("valid policy refused: %v", err)
			case tt.field != "" && (!errors.As(err, &ve) || ve.Fields[tt.field] == ""):
				t.Fatalf("want a message for %s, got %v", tt.field, err)
			}
		})
	}
}

func TestTTLFromHours(t *testing.T) {
	for _, tt := range []struct {
		hours int
		want  time.Duration
	}{{1, time.Hour}, {720, MaxTTL}, {-5, 0}, {1 << 62, time.Duration(math.MaxInt64)}} {
		if got := TTLFromHours(tt.hours); got != tt.want {
			t.Errorf("TTLFromHours(%d) = %v, want %v", tt.hours, got, tt.want)
		}
	}
}
