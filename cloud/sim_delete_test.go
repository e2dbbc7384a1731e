package cloud

import (
	"net/http/httptest"

	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

func TestSimDeleteDMS(t *testing.T) {
	env := newSim(t, "empty", nil)
	c, acct := env.client(authAKSK, Options{})
	t.Run("batch of 120 in 3 calls", func(t *testing.T) {
		ok := env.createN(115, spec{Service: "rocketmq"})
		busy := env.createN(3, spec{Service: "rocketmq", Status: "RESTARTING"})
		deleting := env.createN(2, spec{Service: "rocketmq", Status: "DELETING"})
		ids := append(append(append([]string{}, ok...), busy...), deleting...)
		before := env.stats()
		out, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, ids, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(ids) {
			t.Fatalf("%d outcomes", len(out))
		}
		for i, o := range out {
			if o.Ref.ID != ids[i] {
				t.Fatalf("outcome %d is %s, want %s", i, o.Ref.ID, ids[i])
			}
			isBusy := slices.Contains(busy, o.Ref.ID)
			if o.Accepted == isBusy || (isBusy && !strings.Contains(o.Err, "RESTARTING")) {
				t.Errorf("outcome %+v", o)
			}
		}
		if calls := env.callsSince(before); calls["dms.batch_delete"] != 3 {
			t.Errorf("calls %v", calls)
		}
		waitFor(t, 3*time.Second, "deleted", func() bool {
			r, err := c.ReadMany(
				ctxBG,
				[]Ref{{Account: acct, Project: simProject, Service: RocketMQ, Kind: KindInstance, ID: ok[0]}},
			)
			return err == nil && len(r) == 0
		})
	})
	t.Run("single delete, already deleting, gone", func(t *testing.T) {
		id := env.create(spec{Service: "rabbitmq"})
		ref := Ref{Account: acct, Project: simProject, Service: RabbitMQ, Kind: KindInstance, ID: id}
		if err := c.DeleteDMSInstance(ctxBG, ref); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteDMSInstance(ctxBG, ref); err != nil { // DELETING → 400 → re-read → fine
			t.Fatalf("second delete: %v", err)
		}
		ref.ID = "00000000-0000-0000-0000-000000000000"
		if err := c.DeleteDMSInstance(ctxBG, ref); err != nil {
			t.Fatalf("gone: %v", err)
		}
	})
	t.Run("not deletable", func(t *testing.T) {
		id := env.create(spec{Service: "rocketmq", Status: "CREATING"})
		err := c.DeleteDMSInstance(ctxBG, Ref{Account: acct, Project: simProject, Service: RocketMQ, ID: id})
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "CREATING") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("all failed sweep", func(t *testing.T) {
		failed := env.createN(4, spec{Service: "rabbitmq", Status: "CREATEFAILED"})
		rocketFailed := env.create(spec{Service: "rocketmq", Status: "CREATEFAILED"})
		if err := c.DeleteDMSAllFailed(ctxBG, acct, simProject, RabbitMQ, false); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadMany(ctxBG, []Ref{
			{Account: acct, Project: simProject, Service: RabbitMQ, Kind: KindInstance, ID: failed[0]},
			{Account: acct, Project: simProject, Service: RocketMQ, Kind: KindInstance, ID: rocketFailed}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			want := ClassDeleting
			if r.Service == RocketMQ {
				want = ClassFailed // the RabbitMQ sweep leaves RocketMQ alone
			}
			if r.Class != want {
				t.Errorf("%s %s: %s", r.Service, r.ID, r.Status)
			}
		}
	})
	t.Run("wrong service", func(t *testing.T) {
		if _, err := c.DeleteDMS(ctxBG, acct, simProject, CloudDC, []string{"x"}, false); !errors.Is(
			err,
			ErrPermanent,
		) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSimDeleteCloudDC(t *testing.T) {
	env := newSim(t, "empty", nil)
	c, acct := env.client(authToken, Options{})
	stopped := env.createN(55, spec{Service: "clouddc", Status: "stopped"})
	running := env.createN(2, spec{Service: "clouddc", Status: "running"})
	ids := append(append(append([]string{}, stopped...), running...), "00000000-0000-0000-0000-00000000dead")
	before := env.stats()
	out, err := c.DeleteCloudDCBatch(ctxBG, acct, simProject, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Ref.ID != ids[i] {
			t.Fatalf("order: %d", i)
		}
		isRunning := slices.Contains(running, o.Ref.ID)
		if o.Accepted == isRunning || (isRunning && !strings.Contains(o.Err, "running")) {
			t.Errorf("outcome %+v", o)
		}
	}
	if calls := env.callsSince(before); calls["clouddc.batch_delete"] != 2 {
		t.Errorf("calls %v, want 2 batches", calls)
	}
	t.Run("single on running refused", func(t *testing.T) {
		err := c.DeleteCloudDC(ctxBG, Ref{Account: acct, Project: simProject, Service: CloudDC, ID: running[0]})
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("clouddc_allow_delete_running", func(t *testing.T) {
		env.faults(map[string]any{"clouddc_allow_delete_running": true})
		defer env.faults(map[string]any{"clouddc_allow_delete_running": false})
		if err := c.DeleteCloudDC(ctxBG, Ref{Account: acct, Project: simProject, Service: CloudDC, ID: running[0]}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("whole batch refused is outcomes, not an error", func(t *testing.T) {
		out, err := c.DeleteCloudDCBatch(ctxBG, acct, simProject, running[1:])
		if err != nil || len(out) != 1 || out[0].Accepted {
			t.Fatalf("%+v %v", out, err)
		}
	})
}

func TestSimROMADelete(t *testing.T) {
	env := newSim(t, "empty", nil)
	c, acct := env.client(authAKSK, Options{})
	inst := env.create(spec{Service: "roma"})
	apps := env.createN(120, spec{Service: "roma", Kind: "app", InstanceID: inst})
	tasks := env.createN(30, spec{Service: "roma", Kind: "task", InstanceID: inst})
	batches := ChunkROMA(apps, tasks)
	if len(batches) != 2 {
		t.Fatalf("%d batches", len(batches))
	}
	before := env.stats()
	var jobs []string
	for _, b := range batches {
		// The second submit must wait for the first job: no ROMA.10012 collision.
		job, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, b.Apps, b.Tasks)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job)
	}
	for _, id := range jobs {
		var j Job
		waitFor(t, 10*time.Second, "job done", func() bool {
			var err error
			j, err = c.ROMAJob(ctxBG, acct, simProject, inst, id)
			return err == nil && j.Status != JobRunning
		})
		if j.Status != JobSucceeded || j.Progress != 1 || j.Begin.IsZero() || j.End.IsZero() {
			t.Errorf("job %+v", j)
		}
	}
	st := env.stats()
	if n := st.ByOpStatus["roma.delete_assets"]["400"] - before.ByOpStatus["roma.delete_assets"]["400"]; n != 0 {
		t.Errorf("%d busy (400) answers: submissions collided", n)
	}
	left, err := c.ListROMAAssets(ctxBG, acct, simProject, inst)
	if err != nil || len(left) != 0 {
		t.Fatalf("left %d, %v", len(left), err)
	}
	t.Run("limit", func(t *testing.T) {
		_, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, make([]string, 101), nil)
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("busy from another client is waited out", func(t *testing.T) {
		env.faults(map[string]any{"roma_asset_ms": 60})
		defer env.faults(map[string]any{"roma_asset_ms": 5})
		a := env.createN(5, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "busy"})
		b := env.createN(5, spec{Service: "roma", Kind: "task", InstanceID: inst, Name: "busy"})
		other, otherAcct := env.client(authToken, Options{}) // same user, other process
		if _, err := other.SubmitROMADelete(ctxBG, otherAcct, simProject, inst, a, nil); err != nil {
			t.Fatal(err)
		}
		before := env.stats()
		job, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, nil, b)
		if err != nil || job == "" {
			t.Fatalf("%q %v", job, err)
		}
		after := env.stats()
		if after.ByOpStatus["roma.delete_assets"]["400"] == before.ByOpStatus["roma.delete_assets"]["400"] {
			t.Error("expected at least one ROMA.10012 answer")
		}
		ctx, cancel := context.WithTimeout(ctxBG, 30*time.Millisecond)
		defer cancel()
		if _, err := c.SubmitROMADelete(ctx, acct, simProject, inst, a[:1], nil); !errors.Is(err, ErrTransient) {
			t.Errorf("busy wait ignored the context: %v", err)
		}
	})
	t.Run("failures are reported by name", func(t *testing.T) {
		env.faults(map[string]any{"delete_failure_rate": 1.0})
		defer env.faults(map[string]any{"delete_failure_rate": 0.0})
		id := env.create(spec{Service: "roma", Kind: "task", InstanceID: inst, Name: "doomed"})
		job, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, nil, []string{id})
		if err != nil {
			t.Fatal(err)
		}
		var j Job
		waitFor(t, 5*time.Second, "job done", func() bool {
			j, err = c.ROMAJob(ctxBG, acct, simProject, inst, job)
			return err == nil && j.Status != JobRunning
		})
		if j.Status != JobFailed || len(j.Reasons) != 1 || j.Reasons[0].ResourceName != "doomed" {
			t.Errorf("job %+v", j)
		}
	})
	t.Run("unknown job", func(t *testing.T) {
		if _, err := c.ROMAJob(ctxBG, acct, simProject, inst, "0123456789abcdef0123456789abcdef"); !errors.Is(
			err,
			ErrNotFound,
		) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestSimROMABusyResendsOnlyListed: a ROMA job whose identity is busy with
// another job (one of ours whose answer was lost, say) waits it out and
// then sends only the assets still listed, so none gets a second delete.
func TestSimROMABusyResendsOnlyListed(t *testing.T) {
	clk := &fakeClock{now: time.Now()} // the simulator's clock; the client's sleeps move it
	f := cloudsim.DefaultFaults()
	f.ROMAAssetMS = 300
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "empty", Seed: 1, Faults: f,
		Now: clk.Now})
	env := &simEnv{t: t, srv: httptest.NewServer(sim)}
	t.Cleanup(env.srv.Close)
	inst := env.create(spec{Service: "roma"})
	apps := env.createN(4, spec{Service: "roma", Kind: "app", InstanceID: inst})
	first, firstAcct := env.client(authToken, Options{})
	if _, err := first.SubmitROMADelete(ctxBG, firstAcct, simProject, inst, apps[:2], nil); err != nil {
		t.Fatal(err)
	}
	c, err := New(
		Config{Accounts: []Account{env.account(authAKSK)}},
		Options{Sleep: clk.Sleep, PollInterval: time.Second},
	)
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.SubmitROMADelete(ctxBG, "sim-aksk", simProject, inst, apps, nil) // busy: the first job runs 600 ms
	if err != nil || job == "" {
		t.Fatalf("%q %v", job, err)
	}
	var st struct {
		ByOpStatus map[string]map[string]int `json:"by_operation_status"`
		ByID       map[string]int            `json:"delete_requests_by_id"`
	}
	env.control("GET", "/_sim/stats", nil, &st)
	if st.ByOpStatus["roma.delete_assets"]["400"] == 0 {
		t.Fatal("the second job was never refused as busy")
	}
	for _, id := range apps {
		if st.ByID[id] != 1 {
			t.Errorf("app %s named in %d delete requests, want 1 (all %v)", id, st.ByID[id], st.ByID)
		}
	}
	t.Run("nothing left", func(t *testing.T) {
		more := env.createN(2, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "more"})
		_ = clk.Sleep(ctxBG, 2*time.Second) // the job above ends
		if _, err := first.SubmitROMADelete(ctxBG, firstAcct, simProject, inst, more, nil); err != nil {
			t.Fatal(err)
		}
		job, err := c.SubmitROMADelete(ctxBG, "sim-aksk", simProject, inst, more, nil)
		if err != nil || job != "" {
			t.Fatalf("%q %v, want no job and no error when every asset went meanwhile", job, err)
		}
	})
}
