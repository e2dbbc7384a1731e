package cloudsim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// romaInstances lists every ROMA instance of project.
func romaInstances(t *testing.T, e *env, project string) []rm.RomaInstanceCheckListRespInstances {
	t.Helper()
	c := e.roma(e.akskCred(project))
	var all []rm.RomaInstanceCheckListRespInstances
	for offset := int32(0); ; {
		resp, err := c.CheckRomaInstanceListV2(
			&rm.CheckRomaInstanceListV2Request{Offset: ptr(offset), Limit: ptr(int32(1))},
		)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, *resp.Instances...)
		offset += *resp.Size
		if *resp.Size == 0 || offset >= *resp.Total {
			return all
		}
	}
}

func romaApps(t *testing.T, e *env, project, instance string) []rm.ServerAppInfo {
	t.Helper()
	c := e.roma(e.akskCred(project))
	var all []rm.ServerAppInfo
	for offset := int32(0); ; {
		resp, err := c.ListRomaApp(
			&rm.ListRomaAppRequest{InstanceId: instance, Offset: ptr(offset), Limit: ptr(int32(9))},
		)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, *resp.Apps...)
		offset += *resp.Size
		if *resp.Size == 0 || offset >= *resp.Total {
			return all
		}
	}
}

func romaTasks(t *testing.T, e *env, project, instance string) []rm.BriefTaskRespBean {
	t.Helper()
	c := e.roma(e.akskCred(project))
	var all []rm.BriefTaskRespBean
	for offset := int32(0); ; {
		resp, err := c.ListTasks(&rm.ListTasksRequest{InstanceId: instance, Offset: ptr(offset), Limit: ptr(int32(13))})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, *resp.Entities...)
		offset += *resp.Size
		if *resp.Size == 0 || int64(offset) >= *resp.Total {
			return all
		}
	}
}

func TestROMADemoFleetLists(t *testing.T) {
	e := newEnv(t, "demo", nil)
	apps, tasks, insts := 0, 0, 0
	for _, p := range []string{prod, staging} {
		for _, in := range romaInstances(t, e, p) {
			insts++
			if in.Status.Value() != "RUNNING" || in.PublicipEnable == nil || *in.ProjectId != p {
				t.Fatalf("instance %+v", in)
			}
			as := romaApps(t, e, p, *in.Id)
			ts := romaTasks(t, e, p, *in.Id)
			for _, task := range ts {
				if task.Status == nil || task.LastModifiedTime == nil || task.TaskType == nil {
					t.Fatalf("task %+v lacks typed fields", task)
				}
			}
			apps, tasks = apps+len(as), tasks+len(ts)
		}
	}
	if insts != 4 || apps < 140 || apps > 180 || tasks < 280 || tasks > 320 {
		t.Fatalf("demo ROMA: %d instances, %d apps, %d tasks", insts, apps, tasks)
	}
}

func TestROMATaskFilters(t *testing.T) {
	e := newEnv(t, "demo", nil)
	in := romaInstances(t, e, prod)[0]
	c := e.roma(e.akskCred(prod))
	all := romaTasks(t, e, prod, *in.Id)
	running := 0
	for _, task := range all {
		if task.Status.Value() == 1 {
			running++
		}
	}
	resp, err := c.ListTasks(&rm.ListTasksRequest{InstanceId: *in.Id, Limit: ptr(int32(999)),
		Status: ptr(
			rm.GetListTasksRequestStatusEnum().E_1,
		), SortField: ptr(rm.GetListTasksRequestSortFieldEnum().CREATED_DATE),
		SortType: ptr(rm.GetListTasksRequestSortTypeEnum().ASC)})
	if err != nil || int(*resp.Total) != running {
		t.Fatalf("status=1: %v %v, want %d", resp, err, running)
	}
	es := *resp.Entities
	for i := 1; i < len(es); i++ {
		if *es[i-1].CreatedDate > *es[i].CreatedDate {
			t.Fatal("not sorted ascending")
		}
	}
	resp, err = c.ListTasks(
		&rm.ListTasksRequest{
			InstanceId: *in.Id,
			TaskType:   ptr(rm.GetListTasksRequestTaskTypeEnum().REALTIME),
			Limit:      ptr(int32(999)),
		},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range *resp.Entities {
		if task.TaskType.Value() != "REALTIME" {
			t.Fatalf("task_type filter returned %v", task.TaskType.Value())
		}
	}
	_, err = c.ListTasks(&rm.ListTasksRequest{InstanceId: *in.Id, Limit: ptr(int32(1000))})
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
}

// romaFixture makes one RUNNING ROMA instance with two apps and two tasks.
func romaFixture(e *env) (inst string, apps, tasks []string) {
	inst = e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod, "name": "roma-test"})
	for _, n := range []string{"crm-sync", "erp-bridge"} {
		apps = append(
			apps,
			e.create(
				map[string]any{"service": "roma", "kind": "app", "project_id": prod, "instance_id": inst, "name": n},
			),
		)
	}
	for _, n := range []string{"sync-orders", "sync-stock"} {
		tasks = append(
			tasks,
			e.create(
				map[string]any{"service": "roma", "kind": "task", "project_id": prod, "instance_id": inst, "name": n},
			),
		)
	}
	return inst, apps, tasks
}

func assetReq(inst string, apps, tasks []string) *rm.DeleteAssetRequest {
	body := &rm.AssetOperateRequest{}
	for _, a := range apps {
		body.Apps = append(body.Apps, rm.AssetExportRequestApps{Id: ptr(a)})
	}
	for _, tk := range tasks {
		body.Tasks = append(body.Tasks, rm.AssetExportRequestTasks{Id: ptr(tk)})
	}
	return &rm.DeleteAssetRequest{InstanceId: inst, Body: body}
}

func TestROMAAssetJob(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst, apps, tasks := romaFixture(e)
	c := e.roma(e.akskCred(prod))
	missing := "ffffffffffffffffffffffffffffffff"
	resp, err := c.DeleteAsset(assetReq(inst, apps[:1], []string{tasks[0], missing}))
	if err != nil || len(*resp.JobId) != 32 {
		t.Fatalf("delete assets: %v %v", resp, err)
	}
	job := *resp.JobId
	// A second job of the same user is refused while the first runs.
	_, err = c.DeleteAsset(assetReq(inst, apps[1:], nil))
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.10012")
	// The token identity is the same user, so it is refused too.
	_, err = e.roma(TokenCredential{Token: demoToken, ProjectID: prod}).DeleteAsset(assetReq(inst, apps[1:], nil))
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.10012")

	last := float32(-1)
	for step := 0; ; step++ {
		st, err := c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: job})
		if err != nil {
			t.Fatal(err)
		}
		if *st.ProgressPercent < last || *st.ProgressPercent > 1 {
			t.Fatalf("progress %v after %v", *st.ProgressPercent, last)
		}
		last = *st.ProgressPercent
		if st.Status.Value() != "RUNNING" {
			if st.Status.Value() != "FAILED" || last != 1 || st.EndTime == nil || len(*st.Reasons) != 1 {
				t.Fatalf("final job %+v", st)
			}
			r := (*st.Reasons)[0]
			if r.ResourceType.Value() != "task" || *r.ResourceName != missing {
				t.Fatalf("reason %+v", r)
			}
			break
		}
		if st.EndTime != nil || step > 10 {
			t.Fatalf("running job %+v at step %d", st, step)
		}
		e.clock.Advance(100 * time.Millisecond)
	}
	if got := romaApps(t, e, prod, inst); len(got) != 1 || *got[0].Id != apps[1] {
		t.Fatalf("apps after job = %+v", got)
	}
	if got := romaTasks(t, e, prod, inst); len(got) != 1 || *got[0].TaskId != tasks[1] {
		t.Fatalf("tasks after job = %+v", got)
	}
	// Now the user may start another job.
	if _, err := c.DeleteAsset(assetReq(inst, apps[1:], nil)); err != nil {
		t.Fatal(err)
	}
	_, err = c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: missing})
	wantSDKError(t, err, http.StatusNotFound, "ROMA.00000404")
	// Finished jobs are kept for an hour.
	e.clock.Advance(59 * time.Minute)
	if _, err := c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: job}); err != nil {
		t.Fatalf("job gone before an hour: %v", err)
	}
	e.clock.Advance(2 * time.Minute)
	_, err = c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: job})
	wantSDKError(t, err, http.StatusNotFound, "ROMA.00000404")
	if d := e.stats().Deletes; len(d) != 3 {
		t.Fatalf("deletes = %+v, want 3 (missing IDs are not accepted deletes)", d)
	}
}

func TestROMAAssetJobInjectedFailure(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst, apps, tasks := romaFixture(e)
	e.faults(map[string]any{"delete_failure_rate": 1, "roma_asset_ms": 0})
	c := e.roma(e.akskCred(prod))
	resp, err := c.DeleteAsset(assetReq(inst, apps, tasks))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: *resp.JobId})
	if err != nil || st.Status.Value() != "FAILED" || len(*st.Reasons) != 4 ||
		*(*st.Reasons)[0].ResourceName != "crm-sync" {
		t.Fatalf("job %+v %v", st, err)
	}
	if got := romaApps(t, e, prod, inst); len(got) != 2 {
		t.Fatalf("failed deletes removed apps: %+v", got)
	}
}

func TestROMASingleDeletes(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst, apps, tasks := romaFixture(e)
	c := e.roma(e.akskCred(prod))
	if _, err := c.DeleteRomaApp(&rm.DeleteRomaAppRequest{InstanceId: inst, AppId: apps[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTask(&rm.DeleteTaskRequest{InstanceId: inst, TaskId: tasks[0]}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteRomaApp(&rm.DeleteRomaAppRequest{InstanceId: inst, AppId: apps[0]})
	wantSDKError(t, err, http.StatusNotFound, "ROMA.00000404")
	_, err = c.DeleteTask(&rm.DeleteTaskRequest{InstanceId: inst, TaskId: tasks[0]})
	wantSDKError(t, err, http.StatusNotFound, "ROMA.00000404")
	if len(romaApps(t, e, prod, inst)) != 1 || len(romaTasks(t, e, prod, inst)) != 1 {
		t.Fatal("single deletes did not remove the assets")
	}
}

func TestROMAErrors(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst, apps, _ := romaFixture(e)
	broken := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod, "status": "ERROR"})
	c := e.roma(e.akskCred(prod))
	unknown := "22222222-2222-4222-8222-222222222222"
	_, err := c.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: unknown})
	wantSDKError(t, err, http.StatusNotFound, "APIG.3030")
	_, err = c.ListTasks(&rm.ListTasksRequest{InstanceId: broken})
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	_, err = c.DeleteAsset(assetReq(unknown, apps, nil))
	wantSDKError(t, err, http.StatusNotFound, "APIG.3030")
	_, err = c.DeleteAsset(assetReq(inst, nil, nil))
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	many := make([]string, 101)
	for i := range many {
		many[i] = apps[0]
	}
	_, err = c.DeleteAsset(assetReq(inst, many[:60], many[60:]))
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	_, err = c.DeleteAsset(assetReq(inst, []string{""}, nil))
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	_, err = c.CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{Limit: ptr(int32(101))})
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	_, err = c.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: inst, Limit: ptr(int32(501))})
	wantSDKError(t, err, http.StatusBadRequest, "ROMA.13000")
	if d := e.stats().Deletes; len(d) != 0 || len(romaApps(t, e, prod, inst)) != 2 {
		t.Fatalf("bad requests changed state: %+v", d)
	}
}

func TestROMAAssetJobDuplicateIDs(t *testing.T) {
	e := newEnv(t, "empty", func(o *cloudsim.Options) { o.Faults.ROMAAssetMS = 0 })
	inst, apps, _ := romaFixture(e)
	c := e.roma(e.akskCred(prod))
	resp, err := c.DeleteAsset(assetReq(inst, []string{apps[0], apps[0]}, nil))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: *resp.JobId})
	if err != nil || st.Status.Value() != "FAILED" || len(*st.Reasons) != 1 {
		t.Fatalf("job %+v %v: the repeat must fail as missing", st, err)
	}
	if d := e.stats().Deletes; len(d) != 1 || d[0].ID != apps[0] || d[0].Kind != "app" {
		t.Fatalf("deletes %+v, want one", d)
	}
}
