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
	"github.com/decom/decom/poller"
)

// TestProtectTagAfterApproval: the tag decom:protect, added in the cloud
// (PATCH /_sim/resources/{id}) after the change was approved, makes Execute
// send the change back and nothing is deleted, not even the unprotected
// resources of the plan. The rebuilt plan, approved again, deletes the others
// and leaves the protected instance alone.
func TestProtectTagAfterApproval(t *testing.T) {
	ctx := context.Background()
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	rocket := e.create("rocketmq", "instance", "RUNNING", "", 3)
	rabbit := e.create("rabbitmq", "instance", "RUNNING", "", 2)
	cdc := e.create("clouddc", "instance", "stopped", "", 2)
	sel := append(
		refs(cloud.RocketMQ, cloud.KindInstance, "", rocket),
		refs(cloud.RabbitMQ, cloud.KindInstance, "", rabbit)...)
	sel = append(sel, refs(cloud.CloudDC, cloud.KindInstance, "", cdc)...)
	c := e.approved(changes.PlanRequest{Refs: sel})
	if len(c.Plan.Items) != len(sel) || c.State != changes.StateApproved {
		t.Fatalf("planned %d of %d, %s", len(c.Plan.Items), len(sel), c.State)
	}
	protectedIDs := []string{rocket[1], rabbit[0], cdc[0]}
	for i, id := range protectedIDs {
		tags := []map[string]string{
			{"key": "team", "value": "payments"},
			{"key": "decom:protect", "value": []string{"yes", "", "ask ops"}[i]},
		}
		e.control(http.MethodPatch, "/_sim/resources/"+id, map[string]any{"tags": tags}, nil)
	}

	got, err := e.svc.Execute(ctx, alice, c.ID, "")
	if !errors.Is(err, changes.ErrDiffers) {
		t.Fatalf("execute after the protect tag: %v", err)
	}
	if got.State != changes.StatePending || len(got.Operations) != 0 {
		t.Fatalf("after execute: %s with %d operations", got.State, len(got.Operations))
	}
	diffs := map[string]changes.Difference{}
	for _, d := range got.Differences {
		diffs[d.Ref.ID] = d
	}
	for _, id := range protectedIDs {
		if d := diffs[id]; d.Kind != changes.DiffProtected ||
			d.Reason != "protected by the built-in tag decom:protect" {
			t.Errorf("difference of %s: %+v", id, d)
		}
	}
	if len(got.Differences) != len(protectedIDs) || len(got.Plan.Items) != len(sel)-len(protectedIDs) ||
		len(got.Plan.Excluded) != len(protectedIDs) {
		t.Errorf("differences %+v; rebuilt plan %d items, %d excluded", got.Differences, len(got.Plan.Items),
			len(got.Plan.Excluded))
	}
	// DMS tags were re-read with the per-instance call (cloud-api.md §2.11).
	if n := e.stats().ByOp["dms.tags"]; n != len(rocket)+len(rabbit) {
		t.Errorf("%d per-instance tag reads, want %d", n, len(rocket)+len(rabbit))
	}
	// Nothing was deleted, even with a poller running.
	e.runFor(testOptions(), time.Second)
	if d := e.stats().Deletes; len(d) != 0 {
		t.Fatalf("deleted after the change was sent back: %+v", d)
	}

	// The rebuilt plan, approved again, deletes only the unprotected ones.
	if _, err := e.svc.Approve(ctx, bob, c.ID, got.PlanHash, "without the protected ones"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Execute(ctx, alice, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	e.runUntilFinished(testOptions(), 30*time.Second, c.ID)
	e.checkOutcomes(c.ID)
	live := e.resources()
	for _, id := range protectedIDs {
		if r, ok := live[id]; !ok || r.Status == "terminated" {
			t.Errorf("protected %s was deleted", id)
		}
	}
	if n := len(e.stats().Deletes); n != len(sel)-len(protectedIDs) {
		t.Errorf("%d deletes, want %d", n, len(sel)-len(protectedIDs))
	}
}

// runFor runs a poller for d.
func (e *simEnv) runFor(o poller.Options, d time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := poller.New(e.db, e.client, o).Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		e.t.Fatal(err)
	}
}
