package poller_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// binOn turns the demo project's recycle bin on with retention days.
func (e *simEnv) binOn(days int) {
	e.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": project,
		"retention_days": days, "default_use_recycle": true}, nil)
}

// approvedRestore plans a restore of refs as alice and has approvers approve.
func (e *simEnv) approvedRestore(rs []cloud.Ref) changes.Change {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.svc.PlanRestore(ctx, alice, changes.RestoreRequest{Refs: rs, Reason: "restore by mistake"})
	if err != nil {
		e.t.Fatalf("plan restore: %v", err)
	}
	for _, a := range []changes.Actor{bob, carol}[:c.ApprovalsRequired] {
		if c, err = e.svc.Approve(ctx, a, c.ID, c.PlanHash, "ok"); err != nil {
			e.t.Fatalf("approve: %v", err)
		}
	}
	return c
}

// TestRecycleAndRestore deletes 20 RocketMQ instances with the recycle bin
// on (the default flow: no force), restores 5 of them through a restore
// change request, and checks they run again while the other 15 stay in the
// bin. It also measures the share of deletions undoable within the
// retention in the default flow.
func TestRecycleAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS, f.RestoreDelayMS, f.LatencyMS = 300, 400, 1
	e.setFaults(f)
	e.binOn(3)
	ids := e.create("rocketmq", "instance", "RUNNING", "", 20)
	del := e.approved(changes.PlanRequest{Refs: refs(cloud.RocketMQ, cloud.KindInstance, "", ids)})
	if del.Plan.Force || del.ApprovalsRequired != 1 {
		t.Fatalf("default plan: force %v, %d approvals; want recycling with 1", del.Plan.Force, del.ApprovalsRequired)
	}
	recycled := 0
	for _, it := range del.Plan.Items {
		if del.Plan.UndoOf(it, time.Now()).Possible {
			recycled++
		}
	}
	if recycled != 20 {
		t.Errorf("plan says %d of 20 restorable", recycled)
	}
	e.execute(del)
	e.runUntilFinished(testOptions(), 60*time.Second, del.ID)
	e.checkOutcomes(del.ID)

	bin, err := e.client.RecycleBin(context.Background(), account, project, cloud.RocketMQ)
	if err != nil {
		t.Fatal(err)
	}
	inBin := map[string]bool{}
	for _, en := range bin {
		if en.Restorable(time.Now()) {
			inBin[en.Ref.ID] = true
		}
	}
	undoable := 0
	for _, id := range ids {
		if inBin[id] {
			undoable++
		}
	}
	t.Logf("FIGURE undoable within the retention, default flow, rocketmq bin on: %d/%d = %d%%",
		undoable, len(ids), undoable*100/len(ids))
	if undoable != len(ids) {
		t.Errorf("%d of %d deleted instances are in the bin", undoable, len(ids))
	}

	back := ids[:5]
	rc := e.approvedRestore(refs(cloud.RocketMQ, cloud.KindInstance, "", back))
	if rc.Plan.Kind != changes.KindRestore || len(rc.Plan.Items) != 5 || rc.ApprovalsRequired != 1 {
		t.Fatalf(
			"restore plan: kind %q, %d items, %d approvals",
			rc.Plan.Kind,
			len(rc.Plan.Items),
			rc.ApprovalsRequired,
		)
	}
	e.execute(rc)
	e.runUntilFinished(testOptions(), 60*time.Second, rc.ID)
	got, _ := e.svc.Get(context.Background(), rc.ID)
	if got.State != changes.StateSucceeded {
		t.Errorf("restore change ended %s: %+v", got.State, got.Progress())
	}
	live := e.resources()
	for _, id := range back {
		if live[id].Status != "RUNNING" {
			t.Errorf("restored %s is %q, want RUNNING", id, live[id].Status)
		}
	}
	for _, op := range got.Operations {
		if op.State != changes.OpDone || op.LastStatus != "RUNNING" {
			t.Errorf("restore of %s: %s, last status %q", op.Item.ID, op.State, op.LastStatus)
		}
	}
	bin, _ = e.client.RecycleBin(context.Background(), account, project, cloud.RocketMQ)
	if len(bin) != 15 {
		t.Errorf("%d instances left in the bin, want 15", len(bin))
	}
	var outcomes int
	if err := e.db.QueryRow(`SELECT count(*) FROM audit_events WHERE change_id = ? AND action = 'resource_outcome'
		AND outcome = 'done'`, rc.ID).Scan(&outcomes); err != nil || outcomes != 5 {
		t.Errorf("%d done outcomes audited (%v), want 5", outcomes, err)
	}
}

// TestRestoreRevalidation: an instance restored by someone else after the
// restore was approved is no longer in the bin, so execution sends the
// change back; a restore of instances no longer in the bin is refused.
func TestRestoreRevalidation(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS, f.RestoreDelayMS = 100, 100
	e.setFaults(f)
	e.binOn(1)
	ids := e.create("rocketmq", "instance", "RUNNING", "", 3)
	del := e.approved(changes.PlanRequest{Refs: refs(cloud.RocketMQ, cloud.KindInstance, "", ids)})
	e.execute(del)
	e.runUntilFinished(testOptions(), 30*time.Second, del.ID)
	rc := e.approvedRestore(refs(cloud.RocketMQ, cloud.KindInstance, "", ids))
	if _, err := e.client.RestoreDMS(context.Background(), account, project, cloud.RocketMQ, ids[:1]); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Execute(context.Background(), alice, rc.ID, "")
	if !errors.Is(err, changes.ErrDiffers) {
		t.Fatalf("execute after an instance left the bin: %v, want ErrDiffers", err)
	}
	back, _ := e.svc.Get(context.Background(), rc.ID)
	if back.State != changes.StatePending || len(back.Plan.Items) != 2 || len(back.Differences) != 1 ||
		back.Differences[0].Kind != changes.DiffGone {
		t.Errorf("sent back: %s, %d items, differences %+v", back.State, len(back.Plan.Items), back.Differences)
	}
	var ve *changes.ValidationError
	if _, err := e.svc.PlanRestore(context.Background(), alice, changes.RestoreRequest{
		Refs: refs(cloud.RocketMQ, cloud.KindInstance, "", ids[:1]), Reason: "again"}); !errors.As(err, &ve) {
		t.Errorf("restore of an instance not in the bin: %v, want a validation error", err)
	}
	if _, err := e.svc.PlanRestore(context.Background(), bob, changes.RestoreRequest{
		Refs: refs(cloud.RocketMQ, cloud.KindInstance, "", ids[1:]), Reason: "r"}); !errors.Is(err, changes.ErrForbidden) {
		t.Errorf("restore by an approver: %v, want ErrForbidden", err)
	}
}
