package poller_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/poller"
)

func faultyFaults() cloudsim.Faults {
	f := cloudsim.DefaultFaults()
	f.LatencyMS, f.ErrorRate, f.RateLimit, f.RetryAfter = 2, 0.1, 8, 1
	f.DMSDeleteDelayMS, f.CloudDCDeleteDelayMS, f.ROMAAssetMS = 500, 500, 2
	f.DeleteFailureRate = 0.1
	return f
}

// fleet creates planned and unplanned resources in all four services.
type fleet struct {
	cdc, cdcRunning, rocket, rabbitFailed, apps, tasks []string
	romaInstance                                       string
	untouched                                          []string
}

func (e *simEnv) fleet() fleet {
	var f fleet
	f.cdc = e.create("clouddc", "instance", "stopped", "", 60)
	f.cdcRunning = e.create("clouddc", "instance", "running", "", 1)
	f.rocket = e.create("rocketmq", "instance", "RUNNING", "", 30)
	f.rabbitFailed = e.create("rabbitmq", "instance", "CREATEFAILED", "", 5)
	f.romaInstance = e.create("roma", "instance", "RUNNING", "", 1)[0]
	f.apps = e.create("roma", "app", "", f.romaInstance, 110)
	f.tasks = e.create("roma", "task", "", f.romaInstance, 20)
	f.untouched = append(f.untouched, e.create("clouddc", "instance", "stopped", "", 5)...)
	f.untouched = append(f.untouched, e.create("rocketmq", "instance", "RUNNING", "", 5)...)
	f.untouched = append(f.untouched, e.create("rabbitmq", "instance", "RUNNING", "", 3)...)
	f.untouched = append(f.untouched, e.create("roma", "app", "", f.romaInstance, 5)...)
	f.untouched = append(f.untouched, f.romaInstance)
	return f
}

// TestEndToEnd deletes resources of all four services through plan,
// approval, execution and polling, with 429s, 5xx, delete failures and slow
// deletes injected, and checks every outcome against the simulator.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	f := e.fleet()
	e.setFaults(faultyFaults())
	if _, err := notify.New(e.db, notify.Options{}).AddChannel(context.Background(), notify.Actor{Name: "test"},
		notify.Channel{Format: notify.FormatSlack, URL: "https://hooks.example/services/x"}); err != nil {
		t.Fatal(err)
	}
	var sel []cloud.Ref
	sel = append(sel, refs(cloud.CloudDC, cloud.KindInstance, "", append(f.cdc, f.cdcRunning...))...)
	sel = append(sel, refs(cloud.RocketMQ, cloud.KindInstance, "", f.rocket)...)
	sel = append(sel, refs(cloud.ROMA, cloud.KindApp, f.romaInstance, f.apps)...)
	sel = append(sel, refs(cloud.ROMA, cloud.KindTask, f.romaInstance, f.tasks)...)
	c1 := e.approved(changes.PlanRequest{Refs: sel, Force: true})
	c2 := e.approved(
		changes.PlanRequest{Sweep: &changes.Sweep{Account: account, Project: project, Service: cloud.RabbitMQ}},
	)
	// The running CloudDC instance is refused at plan time, not at execution.
	if len(c1.Plan.Items) != len(sel)-1 || len(c2.Plan.Items) != len(f.rabbitFailed) {
		t.Fatalf("planned %d and %d items", len(c1.Plan.Items), len(c2.Plan.Items))
	}
	if x := c1.Plan.Excluded; len(x) != 1 || x[0].ID != f.cdcRunning[0] || x[0].Reason != "running: stop it first" {
		t.Errorf("excluded %+v, want the running CloudDC instance", x)
	}
	e.execute(c1)
	e.execute(c2)
	e.runUntilFinished(testOptions(), 90*time.Second, c1.ID, c2.ID)
	e.checkOutcomes(c1.ID, c2.ID)
	live := e.resources()
	for _, id := range f.untouched {
		if _, ok := live[id]; !ok {
			t.Errorf("unplanned resource %s was deleted", id)
		}
	}
	if _, ok := live[f.cdcRunning[0]]; !ok {
		t.Error("the running CloudDC instance was deleted")
	}
	for _, id := range []int64{c1.ID, c2.ID} {
		want := "execution_failed"
		if e.state(id) == changes.StateSucceeded {
			want = "execution_finished"
		}
		var n int
		if err := e.db.QueryRow(`SELECT count(*) FROM notify_outbox WHERE change_id = ? AND kind = ?`, id, want).
			Scan(&n); err != nil || n != 1 {
			t.Errorf("change %d (%s): %d %s notifications (%v)", id, e.state(id), n, want, err)
		}
	}
	got, _ := e.svc.Get(context.Background(), c1.ID)
	st := e.stats()
	t.Logf("change %d: %s %+v; change %d: %s; cloud calls by status %v", c1.ID, got.State, got.Progress(), c2.ID,
		e.state(c2.ID), st.ByStatus)
	if st.ByStatus["429"]+st.ByStatus["500"] == 0 {
		t.Errorf("faults not exercised: %v", st.ByStatus)
	}
}

func (e *simEnv) state(id int64) changes.State {
	c, err := e.svc.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.State
}

// checkOutcomes compares every operation of the changes with the simulator:
// done means gone, failed means still there; nothing outside the plans was
// deleted, and nothing was deleted twice.
func (e *simEnv) checkOutcomes(ids ...int64) {
	e.t.Helper()
	live := e.resources()
	planned := map[string]bool{}
	for _, id := range ids {
		c, err := e.svc.Get(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if !slices.Contains(
			[]changes.State{changes.StateSucceeded, changes.StatePartiallyFailed, changes.StateFailed},
			c.State,
		) {
			e.t.Errorf("change %d ended %s", id, c.State)
		}
		var outcomes int
		if err := e.db.QueryRow(`SELECT count(*) FROM audit_events WHERE change_id = ? AND action = 'resource_outcome'`, id).Scan(&outcomes); err != nil {
			e.t.Fatal(err)
		}
		if outcomes != len(c.Operations) {
			e.t.Errorf("change %d: %d resource_outcome events for %d operations", id, outcomes, len(c.Operations))
		}
		for _, op := range c.Operations {
			planned[op.Item.ID] = true
			r, present := live[op.Item.ID]
			gone := !present || r.Status == "terminated" || r.InRecycleBin
			switch op.State {
			case changes.OpDone:
				if !gone {
					e.t.Errorf("%s %s done but live as %q", op.Item.Service, op.Item.ID, r.Status)
				}
			case changes.OpFailed, changes.OpTimedOut:
				if gone {
					e.t.Errorf("%s %s %s but gone", op.Item.Service, op.Item.ID, op.State)
				}
				if op.LastError == "" {
					e.t.Errorf("%s %s %s without an error", op.Item.Service, op.Item.ID, op.State)
				}
			default:
				e.t.Errorf("%s %s left %s", op.Item.Service, op.Item.ID, op.State)
			}
		}
	}
	if _, err := audit.New(e.db, audit.Options{}).Verify(context.Background(), nil); err != nil {
		e.t.Errorf("audit chain: %v", err)
	}
	seen := map[string]bool{}
	for _, d := range e.stats().Deletes {
		if !planned[d.ID] {
			e.t.Errorf("deleted %s %s outside the plan", d.Service, d.ID)
		}
		if seen[d.ID] {
			e.t.Errorf("deleted %s %s twice", d.Service, d.ID)
		}
		seen[d.ID] = true
	}
}

// TestKillAndRestart cancels the poller mid-execution, opens the database
// again with a new poller and checks the change completes with no duplicate
// deletes and no lost results.
func TestKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	for _, kill := range []time.Duration{20 * time.Millisecond, 60 * time.Millisecond, 150 * time.Millisecond, 700 * time.Millisecond} {
		t.Run(kill.String(), func(t *testing.T) {
			e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
			f := e.fleet()
			faults := faultyFaults()
			faults.ErrorRate, faults.DeleteFailureRate, faults.LatencyMS = 0, 0, 40
			e.setFaults(faults)
			var sel []cloud.Ref
			sel = append(sel, refs(cloud.CloudDC, cloud.KindInstance, "", f.cdc)...)
			sel = append(sel, refs(cloud.RocketMQ, cloud.KindInstance, "", f.rocket)...)
			sel = append(sel, refs(cloud.ROMA, cloud.KindApp, f.romaInstance, f.apps)...)
			sel = append(sel, refs(cloud.ROMA, cloud.KindTask, f.romaInstance, f.tasks)...)
			c := e.approved(changes.PlanRequest{Refs: sel})
			e.execute(c)

			ctx, cancel := context.WithTimeout(context.Background(), kill)
			p := poller.New(e.db, e.client, testOptions())
			if err := p.Run(ctx); err != nil {
				t.Fatal(err)
			}
			cancel()
			mid, _ := e.svc.Get(context.Background(), c.ID)
			t.Logf("killed after %s: %+v", kill, mid.Progress())

			e.reopen()
			e.runUntilFinished(testOptions(), 60*time.Second, c.ID)
			e.checkOutcomes(c.ID)
			if got := e.state(c.ID); got != changes.StateSucceeded {
				t.Errorf("change ended %s, want succeeded", got)
			}
		})
	}
}

// TestUnknownSubmissionIsReread leaves rows submitted after the delete went
// out unrecorded (a crash between the call and its record): the poller must
// re-read them and not delete again.
func TestUnknownSubmissionIsReread(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	faults := cloudsim.DefaultFaults()
	faults.CloudDCDeleteDelayMS = 300
	e.setFaults(faults)
	sent := e.create("clouddc", "instance", "stopped", "", 10)
	unsent := e.create("clouddc", "instance", "stopped", "", 10)
	c := e.approved(changes.PlanRequest{Refs: refs(cloud.CloudDC, cloud.KindInstance, "", append(sent, unsent...))})
	e.execute(c)
	if _, err := e.client.DeleteCloudDCBatch(context.Background(), account, project, sent); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	later := time.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04:05.000000000Z")
	if _, err := e.db.Exec(`UPDATE change_operations SET state = 'submitted', attempts = 1, submitted_at = ?,
		next_poll_at = ?, deadline = ? WHERE change_id = ?`, now, now, later, c.ID); err != nil {
		t.Fatal(err)
	}
	e.runUntilFinished(testOptions(), 30*time.Second, c.ID)
	e.checkOutcomes(c.ID)
	if got := e.state(c.ID); got != changes.StateSucceeded {
		t.Errorf("change ended %s, want succeeded", got)
	}
	got, _ := e.svc.Get(context.Background(), c.ID)
	for _, op := range got.Operations {
		want := 1
		if slices.Contains(unsent, op.Item.ID) {
			want = 2 // re-read proved the first submission never happened
		}
		if op.Attempts != want {
			t.Errorf("%s: %d attempts, want %d", op.Item.ID, op.Attempts, want)
		}
	}
}
