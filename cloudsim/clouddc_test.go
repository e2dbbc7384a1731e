package cloudsim_test

import (
	"net/http"
	"testing"
	"time"

	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
)

func cdcListAll(
	t *testing.T,
	e *env,
	project string,
	state *cm.ListInstancesRequestInstanceState,
) []cm.QueryInstanceResponseBody {
	t.Helper()
	c := e.cdc(e.akskCred(project))
	var all []cm.QueryInstanceResponseBody
	var marker *string
	for page := 0; ; page++ {
		resp, err := c.ListInstances(&cm.ListInstancesRequest{Limit: ptr("10"), Marker: marker, InstanceState: state})
		if err != nil {
			t.Fatal(err)
		}
		if (page == 0) != (resp.PageInfo.PreviousMarker == nil) {
			t.Fatalf("page %d previous_marker %v", page, resp.PageInfo.PreviousMarker)
		}
		all = append(all, *resp.Instances...)
		if int(*resp.PageInfo.CurrentCount) != len(*resp.Instances) {
			t.Fatal("current_count mismatch")
		}
		if resp.PageInfo.NextMarker == nil {
			if int(*resp.Count) != len(all) {
				t.Fatalf("count %d, paged %d", *resp.Count, len(all))
			}
			return all
		}
		marker = resp.PageInfo.NextMarker
	}
}

func TestCloudDCListPaging(t *testing.T) {
	e := newEnv(t, "demo", nil)
	all := cdcListAll(t, e, prod, nil)
	states := map[string]int{}
	seen := map[string]bool{}
	for i, in := range all {
		if seen[in.Id] || in.Image == nil || in.Tags == nil || in.State == nil {
			t.Fatalf("instance %d %+v", i, in)
		}
		seen[in.Id] = true
		states[in.State.Value()]++
		if i > 0 && all[i-1].CreatedAt > in.CreatedAt {
			t.Fatal("not ordered by created_at ascending")
		}
	}
	if len(all) < 30 || states["error"] == 0 || states["running"] == 0 {
		t.Fatalf("%d instances, states %v", len(all), states)
	}
	failed := cdcListAll(t, e, prod, ptr(cm.GetListInstancesRequestInstanceStateEnum().FAILED))
	if len(failed) != states["error"] {
		t.Fatalf("failed filter: %d, want %d", len(failed), states["error"])
	}
	resp, err := e.cdc(e.akskCred(prod)).
		ListInstances(&cm.ListInstancesRequest{Limit: ptr("5000"), InstanceId: ptr(all[0].Id + "," + all[1].Id)})
	if err != nil || *resp.Count != 2 || resp.PageInfo.NextMarker != nil {
		t.Fatalf("instance_id filter: %v %v", resp, err)
	}
}

func TestCloudDCDeleteLifecycle(t *testing.T) {
	e := newEnv(t, "empty", nil)
	id := e.create(
		map[string]any{
			"service":    "clouddc",
			"kind":       "instance",
			"project_id": prod,
			"name":       "bms-db-01",
			"status":     "stopped",
		},
	)
	c := e.cdc(e.akskCred(prod))
	resp, err := c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id})
	if err != nil || resp.HttpStatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	status := func() string {
		st, err := c.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return st.State.Value() + "/" + st.OperationState.Value()
	}
	if got := status(); got != "shutting-down/uninstall-processing" {
		t.Fatalf("after delete %s", got)
	}
	_, err = c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000409")
	e.clock.Advance(3 * time.Second)
	if got := status(); got != "terminated/uninstall-succeed" {
		t.Fatalf("after delay %s", got)
	}
	e.clock.Advance(10 * time.Minute)
	_, err = c.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: id})
	wantSDKError(t, err, http.StatusNotFound, "CLOUDDC.00000404")
}

func TestCloudDCDeleteFailureAndRetry(t *testing.T) {
	e := newEnv(t, "empty", nil)
	id := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "pending"})
	c := e.cdc(e.akskCred(prod))
	e.faults(map[string]any{"delete_failure_rate": 1})
	if _, err := c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	st, err := c.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: id})
	if err != nil || st.State.Value() != "error" || st.Error == nil ||
		st.Error.ErrorType.Value() != "delete_instance_error" {
		t.Fatalf("status %+v %v", st, err)
	}
	e.faults(map[string]any{"delete_failure_rate": 0})
	if _, err := c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id}); err != nil {
		t.Fatalf("error state must be deletable again: %v", err)
	}
	if d := e.stats().Deletes; len(d) != 2 {
		t.Fatalf("deletes %+v", d)
	}
}

func TestCloudDCBatchDelete(t *testing.T) {
	e := newEnv(t, "empty", nil)
	a := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped"})
	b := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "running"})
	d := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "error"})
	c := e.cdc(e.akskCred(prod))
	resp, err := c.DeleteInstances(
		&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{d, b, "nope", a}}},
	)
	if err != nil || resp.HttpStatusCode != http.StatusAccepted {
		t.Fatalf("batch: %v %v", resp, err)
	}
	var got []string
	for _, x := range *resp.Instances {
		got = append(got, *x.Id)
	}
	if len(got) != 2 || got[0] != d || got[1] != a {
		t.Fatalf("accepted %v, want [%s %s]", got, d, a)
	}
	_, err = c.DeleteInstances(&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{b}}})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000409")
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = b
	}
	_, err = c.DeleteInstances(&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &ids}})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000400")
	_, err = c.DeleteInstances(&cm.DeleteInstancesRequest{Body: &cm.BatchDeleteOptions{InstanceIdSet: &[]string{}}})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000400")
	// The knob allows deleting running instances.
	e.faults(map[string]any{"clouddc_allow_delete_running": true})
	if _, err := c.DeleteInstance(&cm.DeleteInstanceRequest{Id: b}); err != nil {
		t.Fatal(err)
	}
	if d := e.stats().Deletes; len(d) != 3 {
		t.Fatalf("deletes %+v", d)
	}
}

func TestCloudDCErrors(t *testing.T) {
	e := newEnv(t, "empty", nil)
	c := e.cdc(e.akskCred(prod))
	_, err := c.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: "nope"})
	wantSDKError(t, err, http.StatusNotFound, "CLOUDDC.00000404")
	_, err = c.DeleteInstance(&cm.DeleteInstanceRequest{Id: "nope"})
	wantSDKError(t, err, http.StatusNotFound, "CLOUDDC.00000404")
	_, err = c.ListInstances(&cm.ListInstancesRequest{Limit: ptr("ten")})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000400")
	_, err = c.ListInstances(&cm.ListInstancesRequest{InstanceId: ptr("a"), ServerId: ptr("b")})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000400")
	id := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "running"})
	_, err = c.DeleteInstance(&cm.DeleteInstanceRequest{Id: id})
	wantSDKError(t, err, http.StatusBadRequest, "CLOUDDC.00000409")
}
