package poller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// TestFullChangeAuditSequence walks one change through plan, approval,
// execution and finish, and checks the exact audit events it leaves.
func TestFullChangeAuditSequence(t *testing.T) {
	faults := cloudsim.DefaultFaults()
	faults.DMSDeleteDelayMS, faults.CloudDCDeleteDelayMS = 200, 200
	e := newSimEnv(t, faults, 200)
	cdc := e.create("clouddc", "instance", "stopped", "", 2)
	rmq := e.create("rocketmq", "instance", "RUNNING", "", 1)
	sel := append(
		refs(cloud.CloudDC, cloud.KindInstance, "", cdc),
		refs(cloud.RocketMQ, cloud.KindInstance, "", rmq)...)

	c := e.approved(changes.PlanRequest{Refs: sel})
	e.execute(c)
	e.runUntilFinished(testOptions(), 30*time.Second, c.ID)

	page, err := audit.New(e.db, audit.Options{Now: time.Now}).
		Query(context.Background(), audit.Filter{ChangeID: c.ID, Limit: 100, Oldest: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range page.Events {
		got = append(got, fmt.Sprintf("%s %s %s %s", ev.Action, ev.Actor, ev.ResourceID, ev.Outcome))
	}
	// Batches and resources finish concurrently, so the middle of the
	// sequence is compared as a multiset; its ends are fixed.
	want := []string{
		"plan_created alice  pending",
		"approved bob  approved",
		"execution_started alice  executing",
	}
	middle := []string{
		"cloud_call system  submitted", "cloud_call system  answered", // CloudDC batch
		"cloud_call system  submitted", "cloud_call system  answered", // DMS batch
	}
	for _, id := range append(cdc, rmq...) {
		middle = append(middle, "resource_outcome system "+id+" done")
	}
	last := "change_finished system  succeeded"
	if len(got) != len(want)+len(middle)+1 {
		t.Fatalf("got %d events, want %d:\n%s", len(got), len(want)+len(middle)+1, strings.Join(got, "\n"))
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("first events (-want +got):\n%s", diff)
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	if diff := cmp.Diff(sorted(middle), sorted(got[len(want):len(got)-1])); diff != "" {
		t.Errorf("execution events (-want +got):\n%s", diff)
	}
	if got[len(got)-1] != last {
		t.Errorf("last event %q, want %q", got[len(got)-1], last)
	}
	if _, err := audit.New(e.db, audit.Options{Now: time.Now}).Verify(context.Background(), nil); err != nil {
		t.Fatalf("audit chain does not verify: %v", err)
	}
}
