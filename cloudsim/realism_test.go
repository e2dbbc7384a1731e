package cloudsim_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// lostAnswer checks err is the 500 or 504 of an applied write: a status the
// SDK sees, with no error code it could use.
func lostAnswer(t *testing.T, err error) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) || (se.StatusCode != 500 && se.StatusCode != 504) || se.ErrorCode != "" {
		t.Fatalf("err = %#v, want a 500 or 504 with no usable body", err)
	}
}

func (e *env) status(id string) (string, bool) {
	e.t.Helper()
	for _, r := range e.resources() {
		if r.ID == id {
			return r.Status, true
		}
	}
	return "", false
}

// deleteRequests is the delete_requests_by_id field of GET /_sim/stats.
func (e *env) deleteRequests() map[string]int {
	var s struct {
		ByID map[string]int `json:"delete_requests_by_id"`
	}
	e.ctl(http.MethodGet, "/_sim/stats", nil, &s)
	return s.ByID
}

func TestAppliedErrorRate(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	app := e.create(map[string]any{"service": "roma", "kind": "app", "project_id": prod, "instance_id": inst})
	dms := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod})
	dmsBatch := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod})
	cdc := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped"})
	cdcBatch := e.create(
		map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped"},
	)
	e.faults(map[string]any{"applied_error_rate": 1})

	rocket, dc := e.rocket(e.akskCred(prod)), e.cdc(e.akskCred(prod))
	_, err := rocket.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: dms})
	lostAnswer(t, err)
	_, err = rocket.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
		Instances: &[]string{dmsBatch}, Action: rmq.GetBatchDeleteInstanceReqActionEnum().DELETE}})
	lostAnswer(t, err)
	_, err = dc.DeleteInstance(&cm.DeleteInstanceRequest{Id: cdc})
	lostAnswer(t, err)
	_, err = dc.DeleteInstances(&cm.DeleteInstancesRequest{
		Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{cdcBatch}}})
	lostAnswer(t, err)
	_, err = e.roma(e.akskCred(prod)).DeleteAsset(&rm.DeleteAssetRequest{InstanceId: inst,
		Body: &rm.AssetOperateRequest{Apps: []rm.AssetExportRequestApps{{Id: &app}}}})
	lostAnswer(t, err)

	// Each write was applied exactly as for a success.
	want := map[string]string{dms: "DELETING", dmsBatch: "DELETING", cdc: "shutting-down", cdcBatch: "shutting-down"}
	for id, want := range want {
		if got, _ := e.status(id); got != want {
			t.Errorf("%s: status %q, want %q", id, got, want)
		}
	}
	e.clock.Advance(time.Second)
	if _, ok := e.status(app); ok {
		t.Error("the asset job did not run")
	}
	if st := e.stats(); len(st.Deletes) != 5 {
		t.Errorf("%d accepted deletes recorded, want 5", len(st.Deletes))
	}

	// Reads and refused writes keep their answers.
	if _, err := rocket.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: dms}); err != nil {
		t.Errorf("read: %v", err)
	}
	_, err = rocket.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: dms})
	wantSDKError(t, err, http.StatusBadRequest, "DMS.00400026")
	if got := e.deleteRequests(); got[dms] != 2 || got[cdc] != 1 || got[app] != 1 {
		t.Errorf("delete requests by ID %v, want 2 for %s (one refused), 1 for the others", got, dms)
	}
}

// TestAppliedErrorRateIsSeeded checks the lost answers are a fraction of
// the writes and the same for the same seed.
func TestAppliedErrorRateIsSeeded(t *testing.T) {
	run := func() []bool {
		e := newEnv(t, "empty", nil)
		var ids []string
		for range 100 {
			ids = append(ids, e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod,
				"status": "stopped"}))
		}
		e.faults(map[string]any{"applied_error_rate": 0.3})
		c := e.cdc(e.akskCred(prod))
		var lost []bool
		for _, id := range ids {
			_, err := c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id})
			lost = append(lost, err != nil)
		}
		if n := len(e.stats().Deletes); n != len(ids) {
			t.Fatalf("%d of %d deletes applied", n, len(ids))
		}
		return lost
	}
	a, b := run(), run()
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d: lost %v, then %v with the same seed", i, a[i], b[i])
		}
		if a[i] {
			n++
		}
	}
	if n < 15 || n > 45 {
		t.Fatalf("%d of 100 answers lost at applied_error_rate 0.3", n)
	}
}

func TestReadLag(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	app := e.create(map[string]any{"service": "roma", "kind": "app", "project_id": prod, "instance_id": inst})
	task := e.create(map[string]any{"service": "roma", "kind": "task", "project_id": prod, "instance_id": inst})
	dms := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod})
	cdc := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped"})
	e.faults(map[string]any{"read_lag_ms": 3000, "dms_delete_delay_ms": 1000, "clouddc_delete_delay_ms": 1000,
		"roma_asset_ms": 10})
	rocket, dc, ro := e.rocket(e.akskCred(prod)), e.cdc(e.akskCred(prod)), e.roma(e.akskCred(prod))

	if _, err := rocket.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: dms}); err != nil {
		t.Fatal(err)
	}
	if _, err := dc.DeleteInstance(&cm.DeleteInstanceRequest{Id: cdc}); err != nil {
		t.Fatal(err)
	}
	job, err := ro.DeleteAsset(&rm.DeleteAssetRequest{InstanceId: inst, Body: &rm.AssetOperateRequest{
		Apps: []rm.AssetExportRequestApps{{Id: &app}}, Tasks: []rm.AssetExportRequestTasks{{Id: &task}}}})
	if err != nil {
		t.Fatal(err)
	}
	// A second write inside the lag is refused as for the current state.
	_, err = rocket.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: dms})
	wantSDKError(t, err, http.StatusBadRequest, "DMS.00400026")

	type seen struct {
		dmsShow, dmsList, cdcStatus, cdcList string
		apps, tasks                          int
		jobFound                             bool
	}
	read := func() seen {
		var s seen
		if in, err := rocket.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: dms}); err == nil {
			s.dmsShow = *in.Status
		}
		if l, err := rocket.ListInstances(listRocket); err == nil {
			for _, in := range *l.Instances {
				if *in.InstanceId == dms {
					s.dmsList = *in.Status
				}
			}
		}
		if st, err := dc.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: cdc}); err == nil {
			s.cdcStatus = st.State.Value()
		}
		if l, err := dc.ListInstances(&cm.ListInstancesRequest{InstanceId: &cdc}); err == nil &&
			len(*l.Instances) == 1 {
			s.cdcList = (*l.Instances)[0].State.Value()
		}
		if l, err := ro.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: inst}); err == nil {
			s.apps = len(*l.Apps)
		}
		if l, err := ro.ListTasks(&rm.ListTasksRequest{InstanceId: inst}); err == nil {
			s.tasks = len(*l.Entities)
		}
		_, err := ro.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: *job.JobId})
		s.jobFound = err == nil
		return s
	}
	t0 := e.clock.Now()
	before := seen{dmsShow: "RUNNING", dmsList: "RUNNING", cdcStatus: "stopped", cdcList: "stopped", apps: 1, tasks: 1}
	for _, at := range []time.Duration{0, 1500 * time.Millisecond, 2999 * time.Millisecond} {
		e.clock.Advance(t0.Add(at).Sub(e.clock.Now()))
		if got := read(); got != before {
			t.Errorf("read at +%s: %+v, want the state before the write %+v", at, got, before)
		}
	}
	// The truth meanwhile: deleted, terminated, assets gone.
	if _, ok := e.status(dms); ok {
		t.Error("control API: DMS instance still there")
	}
	if got, _ := e.status(cdc); got != "terminated" {
		t.Errorf("control API: CloudDC %q", got)
	}
	e.clock.Advance(time.Millisecond)
	after := seen{cdcStatus: "terminated", cdcList: "terminated", jobFound: true}
	if got := read(); got != after {
		t.Errorf("read after the lag: %+v, want %+v", got, after)
	}
	if got := e.deleteRequests(); got[dms] != 2 || got[cdc] != 1 || got[app] != 1 || got[task] != 1 {
		t.Errorf("delete requests by ID: %v", got)
	}
}

func TestRealismKnobsValidated(t *testing.T) {
	e := newEnv(t, "empty", nil)
	for _, bad := range []map[string]any{{"applied_error_rate": 1.5}, {"applied_error_rate": -0.1}, {"read_lag_ms": -1}} {
		if st := e.ctl(http.MethodPut, "/_sim/faults", bad, nil); st != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", bad, st)
		}
	}
	var f cloudsim.Faults
	e.ctl(http.MethodGet, "/_sim/faults", nil, &f)
	if f.AppliedErrorRate != 0 || f.ReadLagMS != 0 {
		t.Errorf("defaults %+v, want both off", f)
	}
}

// TestRealismRestore: a DMS restore is a write like a delete: its answer
// can be lost after it was applied, and reads lag it (the bin still lists
// the instance, show does not find it).
func TestRealismRestore(t *testing.T) {
	e := newEnv(t, "empty", func(o *cloudsim.Options) {
		o.RecyclePolicies = map[string]cloudsim.RecyclePolicy{prod: {RetentionDays: 1, DefaultUseRecycle: true}}
	})
	id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod})
	c := e.rocket(e.akskCred(prod))
	if _, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(4 * time.Second) // the delete ends in the bin
	if n := len(*showBin(t, e).RecycleInstances); n != 1 {
		t.Fatalf("%d in the bin, want 1", n)
	}
	e.faults(map[string]any{"applied_error_rate": 1, "read_lag_ms": 2000, "restore_delay_ms": 100})
	_, err := c.RestoreRecycleInstance(&rmq.RestoreRecycleInstanceRequest{Body: &rmq.BatchResumeInstanceReq{
		Instances: &[]string{id}}})
	lostAnswer(t, err)
	e.clock.Advance(1999 * time.Millisecond)
	if _, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id}); err == nil {
		t.Error("show finds the instance within the read lag of its restore")
	}
	if n := len(*showBin(t, e).RecycleInstances); n != 1 {
		t.Errorf("the bin lists %d within the read lag, want the instance still", n)
	}
	e.clock.Advance(time.Millisecond)
	if in, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id}); err != nil || *in.Status != "RUNNING" {
		t.Errorf("after the lag: %v %v, want the restored instance RUNNING", in, err)
	}
	if n := len(*showBin(t, e).RecycleInstances); n != 0 {
		t.Errorf("the bin lists %d after the lag, want 0", n)
	}
}
