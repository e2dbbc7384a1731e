package cloudsim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

const otherAK, otherSK = "HWSIMOTHERAK00000001", "other-sk-for-deny-tests-only-000000000000"

// denyEnv has the demo identities plus a second AK/SK identity.
func denyEnv(t *testing.T) *env {
	return newEnv(t, "empty", func(o *cloudsim.Options) {
		o.Credentials = append(cloudsim.DemoCredentials(),
			cloudsim.Credential{AK: otherAK, SK: otherSK, User: "other", Projects: []string{prod}})
	})
}

func (e *env) deny(ak string, actions ...string) {
	e.t.Helper()
	if actions == nil {
		actions = []string{}
	}
	if st := e.ctl(http.MethodPut, "/_sim/deny", map[string]any{"ak": ak, "actions": actions}, nil); st != http.StatusOK {
		e.t.Fatalf("deny %q %v: status %d", ak, actions, st)
	}
}

func TestDenyDeleteChangesNothing(t *testing.T) {
	e := denyEnv(t)
	id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "name": "mq",
		"status": "ERROR"})
	e.deny(cloudsim.DemoAK, "dms:instance:delete")
	c := e.rocket(e.akskCred(prod))

	_, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id})
	se := wantSDKError(t, err, http.StatusForbidden, "DMS.00403000")
	if !strings.Contains(se.ErrorMessage, "dms:instance:delete") {
		t.Fatalf("message %q does not name the action", se.ErrorMessage)
	}
	force := true
	_, err = c.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
		Instances: &[]string{id}, Action: rmq.GetBatchDeleteInstanceReqActionEnum().DELETE, ForceDelete: &force}})
	wantSDKError(t, err, http.StatusForbidden, "DMS.00403000")
	// Reads are still allowed, and the instance is untouched.
	show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id})
	if err != nil || *show.Status != "ERROR" {
		t.Fatalf("after denied deletes: %v %v, want ERROR", show, err)
	}
	s := e.stats()
	if len(s.Deletes) != 0 {
		t.Fatalf("denied deletes were applied: %+v", s.Deletes)
	}
	if len(s.DeleteCalls) != 2 || s.DeleteCalls[0].Status != 403 || s.DeleteCalls[0].RequestID != se.RequestId {
		t.Fatalf("delete_calls = %+v, want 2 denied calls, the first with request %s", s.DeleteCalls, se.RequestId)
	}
	// The other identity is not denied.
	other := e.rocket(e.akskCredWith(otherAK, otherSK, prod))
	if _, err := other.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: id}); err != nil {
		t.Fatalf("other AK: %v", err)
	}
}

func TestDenyEveryIdentityAndClear(t *testing.T) {
	e := denyEnv(t)
	e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "name": "bm",
		"status": "stopped"})
	e.deny("", "clouddc:instance:list", "roma:instance:list")
	for name, cred := range map[string]auth.ICredential{"aksk": e.akskCred(prod),
		"token": TokenCredential{demoToken, prod}, "other": e.akskCredWith(otherAK, otherSK, prod)} {
		_, err := e.cdc(cred).ListInstances(&cm.ListInstancesRequest{})
		se := wantSDKError(t, err, http.StatusForbidden, "CLOUDDC.00000403")
		if !strings.Contains(se.ErrorMessage, "clouddc:instance:list") {
			t.Fatalf("%s: message %q", name, se.ErrorMessage)
		}
	}
	_, err := e.roma(e.akskCred(prod)).CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{})
	wantSDKError(t, err, http.StatusForbidden, "ROMA.00000403")

	e.deny("")
	if _, err := e.cdc(e.akskCred(prod)).ListInstances(&cm.ListInstancesRequest{}); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestDenyBadBody(t *testing.T) {
	e := denyEnv(t)
	for name, body := range map[string]any{
		"unknown action": map[string]any{"ak": "", "actions": []string{"dms:instance:explode"}},
		"unknown AK":     map[string]any{"ak": "NOPE", "actions": []string{"dms:instance:list"}},
		"no actions":     map[string]any{"ak": ""},
		"unknown field":  map[string]any{"ak": "", "actions": []string{}, "allow": true},
	} {
		if st := e.ctl(http.MethodPut, "/_sim/deny", body, nil); st != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, st)
		}
	}
	var got struct{ Deny []struct{ AK string } }
	e.ctl(http.MethodGet, "/_sim/deny", nil, &got)
	if len(got.Deny) != 0 {
		t.Fatalf("bad bodies changed the denials: %+v", got)
	}
}

func TestRequestIDsUnique(t *testing.T) {
	e := newEnv(t, "demo", nil)
	seen := map[string]bool{}
	paths := []string{"/v2/" + prod + "/instances?engine=rocketmq", "/v2/" + prod + "/instances",
		"/v1/" + prod + "/instances", "/v2/" + prod + "/instances/missing", "/v9/nowhere/at/all"}
	for i := 0; i < 20; i++ {
		_, _, h := rawCloud(t, e, http.MethodGet, paths[i%len(paths)], "")
		id := h.Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Fatalf("call %d: request id %q empty or repeated", i, id)
		}
		seen[id] = true
	}
}
