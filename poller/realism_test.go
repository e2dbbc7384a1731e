package poller_test

import (
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// Realism faults of issue 15: 30 % of write calls applied and then answered
// 500/504, and reads that lag writes by 3 s. The test account's settle
// time (testSettle, raised to realismSettle here) must cover the lag.
const (
	realismLag    = 3 * time.Second
	realismSettle = realismLag + 500*time.Millisecond
)

func realismFaults() cloudsim.Faults {
	f := cloudsim.DefaultFaults()
	f.AppliedErrorRate, f.ReadLagMS = 0.3, int(realismLag/time.Millisecond)
	f.DMSDeleteDelayMS, f.CloudDCDeleteDelayMS, f.ROMAAssetMS = 500, 500, 2
	return f
}

// realismFleet is fleet with more CloudDC and RocketMQ instances: nine
// write calls in all, so that some answers are lost.
func (e *simEnv) realismFleet() fleet {
	f := e.fleet()
	f.cdc = append(f.cdc, e.create("clouddc", "instance", "stopped", "", 90)...)
	f.rocket = append(f.rocket, e.create("rocketmq", "instance", "RUNNING", "", 70)...)
	return f
}

// realismPlan approves the fleet's deletes in all four services: one change
// of explicit IDs (CloudDC, RocketMQ, ROMA apps and tasks) and one RabbitMQ
// sweep.
func (e *simEnv) realismPlan(f fleet) (changes.Change, changes.Change) {
	var sel []cloud.Ref
	sel = append(sel, refs(cloud.CloudDC, cloud.KindInstance, "", append(f.cdc, f.cdcRunning...))...)
	sel = append(sel, refs(cloud.RocketMQ, cloud.KindInstance, "", f.rocket)...)
	sel = append(sel, refs(cloud.ROMA, cloud.KindApp, f.romaInstance, f.apps)...)
	sel = append(sel, refs(cloud.ROMA, cloud.KindTask, f.romaInstance, f.tasks)...)
	return e.approved(changes.PlanRequest{Refs: sel, Force: true}),
		e.approved(
			changes.PlanRequest{Sweep: &changes.Sweep{Account: account, Project: project, Service: cloud.RabbitMQ}},
		)
}

// checkRealism checks what the faults must not break: every operation ends
// as the cloud shows it (checkOutcomes), no planned resource was named in
// more than one delete request (none needed a resend: every first request
// reached the service), nothing outside the plan was named, and the faults
// were exercised.
func (e *simEnv) checkRealism(f fleet, ids ...int64) {
	e.t.Helper()
	e.checkOutcomes(ids...)
	planned := map[string]bool{}
	for _, id := range ids {
		c, err := e.svc.Get(t0ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, op := range c.Operations {
			planned[op.Item.ID] = true
			if e.state(id) == changes.StateExecuting {
				e.t.Errorf("change %d still executing", id)
			}
		}
	}
	st := e.stats()
	for id := range planned {
		if n := st.DeleteRequestsByID[id]; n != 1 {
			e.t.Errorf("planned %s named in %d delete requests, want 1", id, n)
		}
	}
	for id, n := range st.DeleteRequestsByID {
		if !planned[id] {
			e.t.Errorf("unplanned %s named in %d delete requests", id, n)
		}
	}
	for _, id := range f.untouched {
		if n := st.DeleteRequestsByID[id]; n != 0 {
			e.t.Errorf("untouched %s named in %d delete requests", id, n)
		}
	}
	if st.ByStatus["500"]+st.ByStatus["504"] == 0 {
		e.t.Errorf("no answer was lost: %v", st.ByStatus)
	}
}

// TestRealisticCloud deletes resources of all four services while the cloud
// loses 30 % of its answers to writes it applied and its reads lag writes
// by 3 s: no resource is deleted twice or misreported.
func TestRealisticCloud(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnvSettle(t, cloudsim.DefaultFaults(), 200, realismSettle)
	f := e.realismFleet()
	e.setFaults(realismFaults())
	c1, c2 := e.realismPlan(f)
	start := time.Now()
	e.execute(c1)
	e.execute(c2)
	e.runUntilFinished(testOptions(), 60*time.Second, c1.ID, c2.ID)
	e.checkRealism(f, c1.ID, c2.ID)
	got, _ := e.svc.Get(t0ctx, c1.ID)
	for _, op := range got.Operations {
		if want := changes.OpDone; op.Item.ID == f.cdcRunning[0] {
			if op.State != changes.OpFailed {
				t.Errorf("running CloudDC instance ended %s, want failed", op.State)
			}
		} else if op.State != want {
			t.Errorf("%s %s ended %s (%s), want done", op.Item.Service, op.Item.ID, op.State, op.LastError)
		}
	}
	st := e.stats()
	t.Logf("finished in %s; lost answers: %d x 500, %d x 504; calls by operation %v",
		time.Since(start).Round(time.Millisecond), st.ByStatus["500"], st.ByStatus["504"], st.ByOp)
}
