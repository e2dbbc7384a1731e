package cloudsim_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	rbmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
)

// listAllRocket pages through every RocketMQ instance (include_failure=true).
func listAllRocket(t *testing.T, e *env, project string, status *rmq.ListInstancesRequestStatus) []rmq.InstanceDetail {
	t.Helper()
	c := e.rocket(e.akskCred(project))
	var all []rmq.InstanceDetail
	for offset := int32(0); ; {
		resp, err := c.ListInstances(&rmq.ListInstancesRequest{
			Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ, Status: status,
			IncludeFailure: ptr(rmq.GetListInstancesRequestIncludeFailureEnum().TRUE),
			Offset:         ptr(offset), Limit: ptr(int32(7)),
		})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, *resp.Instances...)
		offset += int32(len(*resp.Instances))
		if len(*resp.Instances) == 0 || offset >= *resp.InstanceNum {
			return all
		}
	}
}

func TestDMSListPagingAndTypes(t *testing.T) {
	e := newEnv(t, "demo", nil)
	all := listAllRocket(t, e, prod, nil)
	if len(all) < 20 {
		t.Fatalf("got %d RocketMQ instances in prod, want a demo fleet", len(all))
	}
	seen := map[string]bool{}
	states := map[string]int{}
	for i, in := range all {
		if seen[*in.InstanceId] {
			t.Fatalf("duplicate %s while paging", *in.InstanceId)
		}
		seen[*in.InstanceId] = true
		states[*in.Status]++
		if *in.Engine != "reliability" || in.ChargingMode == nil || in.StorageSpace == nil || in.CreatedAt == nil {
			t.Fatalf("instance %+v lacks contract fields", in)
		}
		if i > 0 && *all[i-1].CreatedAt < *in.CreatedAt && len(*in.CreatedAt) == len(*all[i-1].CreatedAt) {
			t.Fatalf("not ordered by created_at desc at %d", i)
		}
	}
	if states["CREATEFAILED"] == 0 || states["RUNNING"] == 0 {
		t.Fatalf("states %v, want a mix including CREATEFAILED", states)
	}
	// Without include_failure, CREATEFAILED is hidden and not counted.
	resp, err := e.rocket(e.akskCred(prod)).
		ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ, Limit: ptr(int32(50))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int(*resp.InstanceNum), len(all)-states["CREATEFAILED"]; got != want {
		t.Fatalf("instance_num without include_failure = %d, want %d", got, want)
	}
	// status=CREATEFAILED shows them even without include_failure.
	resp, err = e.rocket(e.akskCred(prod)).
		ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
			Status: ptr(rmq.GetListInstancesRequestStatusEnum().CREATEFAILED), Limit: ptr(int32(50))})
	if err != nil {
		t.Fatal(err)
	}
	if got := int(*resp.InstanceNum); got != states["CREATEFAILED"] {
		t.Fatalf("status=CREATEFAILED count = %d, want %d", got, states["CREATEFAILED"])
	}
	// Name filters: substring and exact.
	name := *all[0].Name
	resp, err = e.rocket(e.akskCred(prod)).
		ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
			Name: ptr(name), ExactMatchName: ptr(rmq.GetListInstancesRequestExactMatchNameEnum().TRUE),
			IncludeFailure: ptr(rmq.GetListInstancesRequestIncludeFailureEnum().TRUE)})
	if err != nil || *resp.InstanceNum != 1 || *(*resp.Instances)[0].InstanceId != *all[0].InstanceId {
		t.Fatalf("exact name filter: %v %v", resp, err)
	}
}

func TestDMSRabbitListAndShow(t *testing.T) {
	e := newEnv(t, "demo", nil)
	c := e.rabbit(e.akskCred(staging))
	var ids []string
	for offset := 0; ; {
		resp, err := c.ListInstancesDetails(&rbmodel.ListInstancesDetailsRequest{
			Engine:         rbmodel.GetListInstancesDetailsRequestEngineEnum().RABBITMQ,
			IncludeFailure: ptr(rbmodel.GetListInstancesDetailsRequestIncludeFailureEnum().TRUE),
			Offset:         ptr(strconv.Itoa(offset)), Limit: ptr("50"),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range *resp.Instances {
			if *in.Engine != "rabbitmq" || in.BrokerNum == nil || in.Port == nil {
				t.Fatalf("rabbit instance %+v lacks contract fields", in)
			}
			ids = append(ids, *in.InstanceId)
		}
		offset += len(*resp.Instances)
		if len(*resp.Instances) == 0 || offset >= int(*resp.InstanceNum) {
			break
		}
	}
	if len(ids) < 10 {
		t.Fatalf("got %d RabbitMQ instances in staging", len(ids))
	}
	show, err := c.ShowInstance(&rbmodel.ShowInstanceRequest{InstanceId: ids[0]})
	if err != nil || *show.InstanceId != ids[0] {
		t.Fatalf("show: %v %v", show, err)
	}
	_, err = c.ShowInstance(&rbmodel.ShowInstanceRequest{InstanceId: "00000000-0000-4000-8000-000000000000"})
	wantSDKError(t, err, http.StatusNotFound, "DMS.00404022")
	// Another project's instance is not visible.
	_, err = e.rabbit(e.akskCred(prod)).ShowInstance(&rbmodel.ShowInstanceRequest{InstanceId: ids[0]})
	wantSDKError(t, err, http.StatusNotFound, "DMS.00404022")
}

func TestDMSDeleteLifecycle(t *testing.T) {
	e := newEnv(t, "empty", nil)
	id := e.create(
		map[string]any{
			"service":    "rocketmq",
			"kind":       "instance",
			"project_id": prod,
			"name":       "orders-mq",
			"status":     "ERROR",
		},
	)
	c := e.rocket(e.akskCred(prod))
	if _, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id}); err != nil {
		t.Fatal(err)
	}
	show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id})
	if err != nil || *show.Status != "DELETING" {
		t.Fatalf("after delete: %v %v, want DELETING", show, err)
	}
	// Deleting again while DELETING is refused.
	_, err = c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id})
	wantSDKError(t, err, http.StatusBadRequest, "DMS.00400026")
	e.clock.Advance(3 * time.Second)
	_, err = c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id})
	wantSDKError(t, err, http.StatusNotFound, "DMS.00404022")
	_, err = c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id})
	wantSDKError(t, err, http.StatusNotFound, "DMS.00404022")
	if d := e.stats().Deletes; len(d) != 1 || d[0].ID != id || d[0].Service != "rocketmq" {
		t.Fatalf("deletes = %+v, want exactly one for %s", d, id)
	}
}

func TestDMSDeleteRefusedStates(t *testing.T) {
	e := newEnv(t, "empty", nil)
	c := e.rocket(e.akskCred(prod))
	for _, st := range []string{"CREATING", "RESTARTING", "EXTENDING"} {
		id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": st})
		_, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id})
		wantSDKError(t, err, http.StatusBadRequest, "DMS.00400026")
	}
	e.faults(map[string]any{"refuse_prepaid_delete": true})
	id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "charging_mode": 0})
	_, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id})
	wantSDKError(t, err, http.StatusBadRequest, "DMS.00400026")
	resp, err := e.rabbit(TokenCredential{Token: demoToken, ProjectID: prod}).
		BatchRestartOrDeleteInstances(&rbmodel.BatchRestartOrDeleteInstancesRequest{
			Body: &rbmodel.BatchRestartOrDeleteInstanceReq{
				Instances: &[]string{id},
				Action:    rbmodel.GetBatchRestartOrDeleteInstanceReqActionEnum().DELETE,
			}})
	if err != nil || *(*resp.Results)[0].Result != "failed" {
		t.Fatalf("prepaid batch delete: %v %v, want failed", resp, err)
	}
	if d := e.stats().Deletes; len(d) != 0 {
		t.Fatalf("deletes = %+v, want none", d)
	}
}

func TestDMSBatchDelete(t *testing.T) {
	e := newEnv(t, "empty", nil)
	a := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "RUNNING"})
	b := e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod, "status": "CREATING"})
	unknown := "11111111-1111-4111-8111-111111111111"
	resp, err := e.rocket(e.akskCred(prod)).
		BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
			Instances: &[]string{
				a,
				b,
				unknown,
				a,
			}, Action: rmq.GetBatchDeleteInstanceReqActionEnum().DELETE, ForceDelete: ptr(true)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"success", "failed", "failed", "failed"}
	for i, r := range *resp.Results {
		if r.Result == nil || r.Result.Value() != want[i] {
			t.Fatalf("result %d = %+v, want %s", i, r, want[i])
		}
	}
	if d := e.stats().Deletes; len(d) != 1 || d[0].ID != a || !d[0].Force {
		t.Fatalf("deletes = %+v, want one forced delete of %s", d, a)
	}
}

func TestDMSBatchAllFailure(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f1 := e.create(
		map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod, "status": "CREATEFAILED"},
	)
	e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod, "status": "RUNNING"})
	e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "CREATEFAILED"})
	e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": staging, "status": "CREATEFAILED"})
	resp, err := e.rabbit(e.akskCred(prod)).BatchRestartOrDeleteInstances(&rbmodel.BatchRestartOrDeleteInstancesRequest{
		Body: &rbmodel.BatchRestartOrDeleteInstanceReq{
			Action:     rbmodel.GetBatchRestartOrDeleteInstanceReqActionEnum().DELETE,
			AllFailure: ptr(rbmodel.GetBatchRestartOrDeleteInstanceReqAllFailureEnum().RABBITMQ),
		}})
	if err != nil || resp.HttpStatusCode != http.StatusNoContent {
		t.Fatalf("all_failure: %v %v", resp, err)
	}
	if d := e.stats().Deletes; len(d) != 1 || d[0].ID != f1 {
		t.Fatalf("deletes = %+v, want only %s", d, f1)
	}
	// The RocketMQ flavour selects RocketMQ instances only.
	_, err = e.rocket(e.akskCred(prod)).
		BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
			Action: rmq.GetBatchDeleteInstanceReqActionEnum().
				DELETE, AllFailure: ptr(rmq.GetBatchDeleteInstanceReqAllFailureEnum().RELIABILITY)}})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.stats().Deletes; len(d) != 2 || d[1].Service != "rocketmq" {
		t.Fatalf("deletes = %+v", d)
	}
}
