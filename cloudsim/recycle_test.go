package cloudsim_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	rbmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
)

func binOn(t *testing.T, e *env, project string, days int) {
	t.Helper()
	var got map[string]any
	if st := e.ctl(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": project,
		"retention_days": days, "default_use_recycle": true}, &got); st != 200 {
		t.Fatalf("PUT /_sim/recycle: %d %v", st, got)
	}
}

func showBin(t *testing.T, e *env) *rmq.ShowRecycleInstancesResponse {
	t.Helper()
	resp, err := e.rocket(e.akskCred(prod)).ShowRecycleInstances(&rmq.ShowRecycleInstancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRecyclePolicyShowAndModify(t *testing.T) {
	e := newEnv(t, "demo", nil)
	// Default policy, empty bin: both SDKs decode; the bin is [] (not null).
	resp := showBin(t, e)
	if *resp.RetentionDays != 7 || *resp.DefaultUseRecycle || resp.RecycleInstances == nil ||
		len(*resp.RecycleInstances) != 0 {
		t.Fatalf("default %v %v %v", *resp.RetentionDays, *resp.DefaultUseRecycle, resp.RecycleInstances)
	}
	rb := e.rabbit(e.akskCred(prod))
	if _, err := rb.ShowRecycleInstances(&rbmodel.ShowRecycleInstancesRequest{}); err != nil {
		t.Fatalf("rabbit SDK on an empty bin: %v", err)
	}
	st, raw, _ := rawCloud(t, e, http.MethodGet, "/v2/"+prod+"/recycle", "")
	if _, ok := raw["retention_days"].(float64); st != 200 || !ok || raw["recycle_instances"] == nil {
		t.Fatalf("raw %d %v", st, raw)
	}

	c := e.rocket(e.akskCred(prod))
	mod, err := c.ModifyRecyclePolicy(&rmq.ModifyRecyclePolicyRequest{Body: &rmq.ModifyRecyclePolicyReq{
		RetentionDays: ptr(int32(3)), DefaultUseRecycle: ptr(true)}})
	if err != nil || *mod.RetentionDays != 3 || !*mod.DefaultUseRecycle || mod.RecycleInstances != nil {
		t.Fatalf("modify: %+v %v", mod, err)
	}
	// Absent fields keep their value; the RabbitMQ SDK works on the same policy.
	rmod, err := rb.ModifyRecyclePolicy(
		&rbmodel.ModifyRecyclePolicyRequest{Body: &rbmodel.ModifyRecyclePolicyReq{RetentionDays: ptr(int32(5))}},
	)
	if err != nil || *rmod.RetentionDays != 5 || !*rmod.DefaultUseRecycle {
		t.Fatalf("rabbit modify: %+v %v", rmod, err)
	}
	// The policy is per project.
	other, err := e.rocket(e.akskCred(staging)).ShowRecycleInstances(&rmq.ShowRecycleInstancesRequest{})
	if err != nil || *other.RetentionDays != 7 || *other.DefaultUseRecycle {
		t.Fatalf("staging: %+v %v", other, err)
	}
	for name, body := range map[string]*rmq.ModifyRecyclePolicyReq{
		"empty":     {},
		"zero days": {RetentionDays: ptr(int32(0))},
		"8 days":    {RetentionDays: ptr(int32(8))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.ModifyRecyclePolicy(&rmq.ModifyRecyclePolicyRequest{Body: body})
			wantSDKError(t, err, 400, "DMS.00400005")
		})
	}
	if st, _, _ := rawCloud(t, e, http.MethodPut, "/v2/"+prod+"/recycle", `{"retention_days":"3"}`); st != 400 {
		t.Fatalf("string retention: %d", st)
	}
	if resp := showBin(t, e); *resp.RetentionDays != 5 || !*resp.DefaultUseRecycle {
		t.Fatalf("refused changes changed the policy: %v %v", *resp.RetentionDays, *resp.DefaultUseRecycle)
	}
}

func TestRecycleLifecycle(t *testing.T) {
	e := newEnv(t, "empty", nil)
	binOn(t, e, prod, 3)
	mk := func(name, status, svc string) string {
		return e.create(map[string]any{"service": svc, "kind": "instance", "project_id": prod, "name": name,
			"status": status, "charging_mode": 0, "tags": tagsOf("team", "orders"), "enterprise_project_id": "ep-x"})
	}
	single, batch, forced, failed := mk("single", "ERROR", "rocketmq"), mk("batch", "RUNNING", "rocketmq"),
		mk("forced", "RUNNING", "rocketmq"), mk("failed", "CREATEFAILED", "rocketmq")
	rabbit := mk("rabbit", "RUNNING", "rabbitmq")
	c := e.rocket(e.akskCred(prod))
	if _, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: single}); err != nil {
		t.Fatal(err)
	}
	del := rmq.GetBatchDeleteInstanceReqActionEnum().DELETE
	for _, req := range []*rmq.BatchDeleteInstanceReq{
		{Instances: &[]string{batch, failed, rabbit}, Action: del, ForceDelete: ptr(false)},
		{Instances: &[]string{forced}, Action: del, ForceDelete: ptr(true)},
	} {
		if _, err := c.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: req}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(*showBin(t, e).RecycleInstances); n != 0 {
		t.Fatalf("%d entries while DELETING, want 0", n)
	}
	deletedAt := e.clock.Now().Add(3 * time.Second)
	e.clock.Advance(3 * time.Second)
	for _, id := range []string{single, batch, forced, failed, rabbit} {
		_, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id})
		wantSDKError(t, err, 404, "DMS.00404022")
	}
	bin := *showBin(t, e).RecycleInstances
	got := map[string]rmq.InstanceRecycleInfo{}
	for _, b := range bin {
		got[*b.Name] = b
	}
	if len(bin) != 3 || got["single"].InstanceId == nil || got["batch"].InstanceId == nil ||
		got["rabbit"].InstanceId == nil {
		t.Fatalf("bin %v, want single, batch and rabbit (not forced, not CREATEFAILED)", got)
	}
	s := got["single"]
	day := int64(24 * time.Hour / time.Millisecond)
	if *s.InstanceId != single || *s.Status != "ERROR" || *s.Engine != "reliability" || *s.SaveTime != 3 ||
		*s.InRecycleTime != deletedAt.UnixMilli() || *s.AutoDeleteTime != *s.InRecycleTime+3*day ||
		*s.CostPerHour != 0 || s.ErrorMessage != nil || *s.ProductId == "" || *got["rabbit"].Engine != "rabbitmq" {
		t.Fatalf("entry %+v", s)
	}
	// Raw JSON: the times are numbers (the RabbitMQ SDK's *string cannot read them).
	_, raw, _ := rawCloud(t, e, http.MethodGet, "/v2/"+prod+"/recycle", "")
	entry := raw["recycle_instances"].([]any)[0].(map[string]any)
	for _, k := range []string{"in_recycle_time", "auto_delete_time", "save_time", "cost_per_hour"} {
		if _, ok := entry[k].(float64); !ok {
			t.Fatalf("%s = %#v, want a number", k, entry[k])
		}
	}
	if _, err := e.rabbit(e.akskCred(prod)).ShowRecycleInstances(&rbmodel.ShowRecycleInstancesRequest{}); err == nil {
		t.Fatal("the RabbitMQ SDK decoded a non-empty bin; cloud-api.md §2.7 says it cannot")
	}
	// A binned instance is gone for every other call.
	_, err := c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: single})
	wantSDKError(t, err, 404, "DMS.00404022")
	res, err := c.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
		Instances: &[]string{batch}, Action: del}})
	if err != nil || (*res.Results)[0].Result.Value() != "failed" {
		t.Fatalf("batch delete of a binned ID: %v %v", res, err)
	}
	// Control API shows bin membership; the stats say which deletes were recycled.
	for _, r := range e.resourcesRaw() {
		if r["id"] == single && r["in_recycle_bin"] != true {
			t.Fatalf("resources: %v", r)
		}
	}
	recycled := map[string]bool{}
	for _, d := range e.stats().Deletes {
		recycled[d.ID] = d.Recycled
	}
	if !recycled[single] || !recycled[batch] || recycled[forced] || recycled[failed] {
		t.Fatalf("recycled flags %v", recycled)
	}

	// A later retention change does not alter existing entries; turning the
	// bin off does not empty it.
	binOn(t, e, prod, 1)
	e.ctl(
		http.MethodPut,
		"/_sim/recycle",
		map[string]any{"service": "rabbitmq", "project_id": prod, "default_use_recycle": false},
		nil,
	)
	after := showBin(t, e)
	if *after.RetentionDays != 1 || *after.DefaultUseRecycle || len(*after.RecycleInstances) != 3 ||
		*(*after.RecycleInstances)[0].SaveTime != 3 {
		t.Fatalf("after policy change %+v", after)
	}

	// Automatic deletion at auto_delete_time.
	e.clock.Advance(3*24*time.Hour - time.Millisecond)
	if n := len(*showBin(t, e).RecycleInstances); n != 3 {
		t.Fatalf("%d entries just before auto_delete_time", n)
	}
	e.clock.Advance(time.Millisecond)
	if n := len(*showBin(t, e).RecycleInstances); n != 0 {
		t.Fatalf("%d entries at auto_delete_time, want 0", n)
	}
	rr, err := c.RestoreRecycleInstance(
		&rmq.RestoreRecycleInstanceRequest{Body: &rmq.BatchResumeInstanceReq{Instances: &[]string{single}}},
	)
	if err != nil || (*rr.Results)[0].ErrorMsg == nil || (*rr.Results)[0].JobId != nil {
		t.Fatalf("restore after purge: %+v %v", rr, err)
	}
}

func TestRecycleRestore(t *testing.T) {
	e := newEnv(t, "empty", func(o *cloudsim.Options) {
		o.RecyclePolicies = map[string]cloudsim.RecyclePolicy{prod: {RetentionDays: 2, DefaultUseRecycle: true}}
	})
	e.faults(map[string]any{"restore_delay_ms": 5000, "recycle_day_ms": 60000})
	var ids []string
	for i := range 4 {
		ids = append(ids, e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod,
			"name": fmt.Sprint("mq-", i), "status": []string{"RUNNING", "ERROR", "RUNNING", "FROZEN"}[i],
			"charging_mode": 0, "tags": tagsOf("decom:protect", ""), "enterprise_project_id": "ep-x"}))
	}
	c := e.rocket(e.akskCred(prod))
	del := rmq.GetBatchDeleteInstanceReqActionEnum().DELETE
	if _, err := c.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
		Instances: &ids, Action: del}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	if bin := *showBin(t, e).RecycleInstances; len(bin) != 4 ||
		*bin[0].AutoDeleteTime-*bin[0].InRecycleTime != 2*60000 {
		t.Fatalf("bin %v (recycle_day_ms sets the day)", bin)
	}
	req := []string{ids[1], "not-in-bin", ids[0], ids[1]}
	rr, err := c.RestoreRecycleInstance(
		&rmq.RestoreRecycleInstanceRequest{Body: &rmq.BatchResumeInstanceReq{Instances: &req}},
	)
	if err != nil {
		t.Fatal(err)
	}
	res := *rr.Results
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	if len(res) != 4 || *res[0].InstanceId != ids[1] || !hex32.MatchString(*res[0].JobId) || res[0].ErrorMsg != nil ||
		res[1].JobId != nil || res[1].ErrorMsg == nil || !hex32.MatchString(*res[2].JobId) || res[3].ErrorMsg == nil {
		t.Fatalf("results %+v", res)
	}
	// The same JSON through the RabbitMQ SDK.
	rr2, err := e.rabbit(e.akskCred(prod)).RestoreRecycleInstance(&rbmodel.RestoreRecycleInstanceRequest{
		Body: &rbmodel.BatchResumeInstanceReq{Instances: &[]string{ids[2]}}})
	if err != nil || (*rr2.Results)[0].JobId == nil {
		t.Fatalf("rabbit restore %+v %v", rr2, err)
	}
	show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: ids[1]})
	if err != nil || *show.Status != "STARTING" || *show.ChargingMode != 1 || *show.EnterpriseProjectId != "ep-x" ||
		(*show.Tags)[0].Key != "decom:protect" || *show.Name != "mq-1" {
		t.Fatalf("restoring: %+v %v", show, err)
	}
	_, err = c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: ids[1]})
	wantSDKError(t, err, 400, "DMS.00400026")
	if bin := *showBin(t, e).RecycleInstances; len(bin) != 1 || *bin[0].InstanceId != ids[3] {
		t.Fatalf("bin after restore %v", bin)
	}
	e.clock.Advance(5 * time.Second)
	for i, want := range []string{"RUNNING", "ERROR", "RUNNING"} {
		show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: ids[i]})
		if err != nil || *show.Status != want {
			t.Fatalf("%d after restore: %v %v, want %s", i, show, err, want)
		}
	}
	// Restore fault: the instance comes back in ERROR.
	e.faults(map[string]any{"restore_failure_rate": 1})
	if _, err := c.RestoreRecycleInstance(&rmq.RestoreRecycleInstanceRequest{Body: &rmq.BatchResumeInstanceReq{
		Instances: &[]string{ids[3]}}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	if show, _ := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: ids[3]}); *show.Status != "ERROR" {
		t.Fatalf("failed restore: %v", *show.Status)
	}
	// Bad requests.
	var fiftyOne []string
	for i := range 51 {
		fiftyOne = append(fiftyOne, fmt.Sprint(i))
	}
	for name, body := range map[string]*rmq.BatchResumeInstanceReq{
		"no instances": {}, "empty": {Instances: &[]string{}}, "51": {Instances: &fiftyOne},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.RestoreRecycleInstance(&rmq.RestoreRecycleInstanceRequest{Body: body})
			wantSDKError(t, err, 400, "DMS.00400005")
		})
	}
	// Another project's bin is not this one's.
	other, err := e.rocket(e.akskCred(staging)).RestoreRecycleInstance(&rmq.RestoreRecycleInstanceRequest{
		Body: &rmq.BatchResumeInstanceReq{Instances: &[]string{ids[3]}}})
	if err != nil || (*other.Results)[0].ErrorMsg == nil {
		t.Fatalf("restore from another project: %+v %v", other, err)
	}
}

func TestControlRecycle(t *testing.T) {
	e := newEnv(t, "empty", nil)
	var got map[string]any
	if st := e.ctl(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rabbitmq", "project_id": staging,
		"retention_days": 2, "default_use_recycle": true}, &got); st != 200 ||
		got["retention_days"] != float64(2) || got["default_use_recycle"] != true || got["project_id"] != staging {
		t.Fatalf("%d %v", st, got)
	}
	resp, err := e.rocket(e.akskCred(staging)).ShowRecycleInstances(&rmq.ShowRecycleInstancesRequest{})
	if err != nil || *resp.RetentionDays != 2 || !*resp.DefaultUseRecycle {
		t.Fatalf("cloud sees %+v %v", resp, err)
	}
	for name, body := range map[string]map[string]any{
		"no service":    {"project_id": prod, "retention_days": 2},
		"roma":          {"service": "roma", "project_id": prod},
		"no project":    {"service": "rocketmq", "retention_days": 2},
		"9 days":        {"service": "rocketmq", "project_id": prod, "retention_days": 9},
		"unknown field": {"service": "rocketmq", "project_id": prod, "days": 2},
	} {
		t.Run(name, func(t *testing.T) {
			var got map[string]any
			if st := e.ctl(http.MethodPut, "/_sim/recycle", body, &got); st != 400 || got["error_msg"] == "" {
				t.Fatalf("%d %v", st, got)
			}
		})
	}
	// A reset restores the seeded policies.
	e.ctl(http.MethodPost, "/_sim/reset", map[string]any{"fleet": "empty"}, nil)
	if resp := showBinFor(t, e, staging); *resp.RetentionDays != 7 || *resp.DefaultUseRecycle {
		t.Fatalf("after reset %v %v", *resp.RetentionDays, *resp.DefaultUseRecycle)
	}
}

func showBinFor(t *testing.T, e *env, project string) *rmq.ShowRecycleInstancesResponse {
	t.Helper()
	resp, err := e.rocket(e.akskCred(project)).ShowRecycleInstances(&rmq.ShowRecycleInstancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) resourcesRaw() []map[string]any {
	var out struct{ Resources []map[string]any }
	e.ctl(http.MethodGet, "/_sim/resources", nil, &out)
	return out.Resources
}
