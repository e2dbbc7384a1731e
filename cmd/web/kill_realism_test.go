package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// TestKillRestartRealisticCloud is TestKillRestartMidExecution on a cloud
// that loses 30 % of its answers to writes it applied and whose reads lag
// writes by 3 s (the account's settle time is 3.5 s), with all four
// services. The console is SIGKILLed while delete outcomes are unknown, and
// the restarted console must confirm them from reads that show the old
// state for a while, without sending any delete twice.
func TestKillRestartRealisticCloud(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end with a child process")
	}
	f := cloudsim.DefaultFaults()
	f.CloudDCDeleteDelayMS, f.DMSDeleteDelayMS, f.ROMAAssetMS = 1000, 1000, 2
	f.AppliedErrorRate, f.ReadLagMS = 0.3, 3000

	// Four calls (CloudDC 50, RabbitMQ 20, RocketMQ 20, a ROMA job of 100
	// assets) reach the cloud and are applied; their answers are held until
	// the console is dead. The second ROMA job (10 assets) waits.
	t.Run("answers held", func(t *testing.T) {
		sim := newHeldSimFaults(t, f)
		refs, unplanned := sim.realismFleet(t, 50, 20, 20, 90, 20)
		killRealistic(t, sim, refs, unplanned, 5, func(svc *changes.Service, _ *sql.DB, id int64) {
			sim.waitDeletes(t, 190, 20*time.Second)
		}, func(mid changes.Progress) {
			if mid.Submitted != 190 || mid.Queued != 10 {
				t.Fatalf("at the kill: %+v, want 190 submitted with unknown outcome and 10 queued", mid)
			}
		})
	})
	// Nine calls, answered at once; the console is killed as soon as it has
	// recorded a lost answer (an outcome it must confirm after the settle
	// time). Until then every answer is lost, so that one surely is; after
	// the kill, 30 % again.
	t.Run("answer lost", func(t *testing.T) {
		sim := newHeldSimFaults(t, f)
		sim.releaseAnswers()
		refs, unplanned := sim.realismFleet(t, 200, 50, 100, 90, 20)
		sim.control(t, http.MethodPut, "/_sim/faults", map[string]any{"applied_error_rate": 1}, nil)
		killRealistic(t, sim, refs, unplanned, 9, func(_ *changes.Service, db *sql.DB, id int64) {
			waitUnknownOutcome(t, db, id, 20*time.Second)
		}, func(changes.Progress) {
			sim.control(
				t,
				http.MethodPut,
				"/_sim/faults",
				map[string]any{"applied_error_rate": f.AppliedErrorRate},
				nil,
			)
		})
	})
}

// killRealistic starts a console, executes refs, waits with beforeKill,
// SIGKILLs the console, checks the progress then with atKill, restarts it
// and checks the change ends as the cloud shows it, with every planned
// resource named in exactly one delete request and nothing else touched.
func killRealistic(t *testing.T, sim *heldSim, refs []cloud.Ref, unplanned map[string]string, batches int,
	beforeKill func(*changes.Service, *sql.DB, int64), atKill func(changes.Progress)) {
	t.Helper()
	data := t.TempDir()
	cfgPath := writeSimCloudConfigSettle(t, sim.srv.URL, "3500ms")
	first := startConsoleProcess(t, data, cfgPath)
	db, svc := openChanges(t, data, cfgPath)
	c := executeRefs(t, svc, refs)
	beforeKill(svc, db, c.ID)
	first.kill(t)
	tKill := time.Now()
	sim.releaseAnswers()
	mid := mustGet(t, svc, c.ID).Progress()
	t.Logf("at the kill: %+v", mid)
	atKill(mid)

	second := startConsoleProcess(t, data, cfgPath)
	got := waitFinal(t, svc, c.ID, 60*time.Second)
	t.Logf("finished %s after the kill", time.Since(tKill).Round(time.Millisecond))
	second.stop(t)
	if got.State != changes.StateSucceeded {
		t.Errorf("change ended %s, want succeeded", got.State)
	}
	for _, op := range got.Operations {
		// A ROMA batch exports its backup before its delete job: a kill
		// during the export leaves a delete never sent, which the restart
		// rightly sends (a second attempt). The delete-request count below
		// still proves no asset was named in two delete requests.
		maxAttempts := 1
		if op.Item.Service == cloud.ROMA {
			maxAttempts = 2
		}
		if op.State != changes.OpDone || op.Attempts > maxAttempts {
			t.Errorf("%s %s: %s after %d attempts (%s), want done after at most %d", op.Item.Service, op.Item.ID,
				op.State, op.Attempts, op.LastError, maxAttempts)
		}
	}
	planned := map[string]bool{}
	for _, r := range refs {
		planned[r.ID] = true
	}
	sim.checkResources(t, planned, unplanned)
	var st struct {
		ByStatus map[string]int `json:"by_status"`
		ByID     map[string]int `json:"delete_requests_by_id"`
	}
	sim.control(t, http.MethodGet, "/_sim/stats", nil, &st)
	for id := range planned {
		if st.ByID[id] != 1 {
			t.Errorf("planned %s named in %d delete requests, want 1", id, st.ByID[id])
		}
	}
	for id, n := range st.ByID {
		if !planned[id] {
			t.Errorf("unplanned %s named in %d delete requests", id, n)
		}
	}
	t.Logf("lost answers: %d x 500, %d x 504", st.ByStatus["500"], st.ByStatus["504"])
	checkChangeAudit(t, db, data, c.ID, planned, batches)
}

// executeRefs plans refs as alice, has bob approve and starts the execution.
func executeRefs(t *testing.T, svc *changes.Service, refs []cloud.Ref) changes.Change {
	t.Helper()
	ctx := context.Background()
	alice := changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester}}
	bob := changes.Actor{Name: "bob", Roles: auth.Roles{auth.RoleApprover}}
	c, err := svc.Plan(ctx, alice, changes.PlanRequest{Refs: refs, Reason: "kill on a realistic cloud"})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if c, err = svc.Approve(ctx, bob, c.ID, c.PlanHash, "ok"); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if c, err = svc.Execute(ctx, alice, c.ID, fmt.Sprint(len(refs))); err != nil {
		t.Fatalf("execute: %v", err)
	}
	return c
}

// waitUnknownOutcome waits until the console has recorded a delete whose
// answer was lost and whose outcome it has not confirmed yet.
func waitUnknownOutcome(t *testing.T, db *sql.DB, id int64, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); ; {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM change_operations WHERE change_id = ? AND state = 'submitted'
			AND last_error LIKE 'outcome unknown%'`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lost answer recorded within %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// realismFleet creates, to delete, CloudDC (stopped), RabbitMQ and RocketMQ
// (RUNNING) instances and the apps and tasks of a ROMA instance, in the
// given numbers; a few of each kind stay out of the plan.
func (h *heldSim) realismFleet(t *testing.T, cdc, rabbit, rocket, apps, tasks int) ([]cloud.Ref, map[string]string) {
	t.Helper()
	refs := append(simRefs(cloud.CloudDC, h.create(t, "clouddc", "stopped", cdc)),
		simRefs(cloud.RabbitMQ, h.create(t, "rabbitmq", "RUNNING", rabbit))...)
	refs = append(refs, simRefs(cloud.RocketMQ, h.create(t, "rocketmq", "RUNNING", rocket))...)
	inst := h.create(t, "roma", "RUNNING", 1)[0]
	for _, a := range []struct {
		kind cloud.Kind
		n    int
	}{{cloud.KindApp, apps}, {cloud.KindTask, tasks}} {
		for _, id := range h.createAssets(t, inst, string(a.kind), a.n) {
			refs = append(refs, cloud.Ref{Account: "sim", Project: cloudsim.DemoProjects[0], Service: cloud.ROMA,
				Kind: a.kind, ID: id, Parent: inst})
		}
	}
	unplanned := map[string]string{inst: "RUNNING"}
	for svc, status := range map[string]string{"clouddc": "stopped", "rocketmq": "RUNNING", "rabbitmq": "RUNNING"} {
		for _, id := range h.create(t, svc, status, 3) {
			unplanned[id] = status
		}
	}
	for _, id := range h.createAssets(t, inst, "app", 3) {
		unplanned[id] = ""
	}
	return refs, unplanned
}

func (h *heldSim) createAssets(t *testing.T, inst, kind string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		var got struct{ ID string }
		h.control(t, http.MethodPost, "/_sim/resources", map[string]any{"service": "roma", "kind": kind,
			"project_id": cloudsim.DemoProjects[0], "instance_id": inst, "name": fmt.Sprintf("%s-%d-%d", kind, n, i)}, &got)
		ids[i] = got.ID
	}
	return ids
}
