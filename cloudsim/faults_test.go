package cloudsim_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/response"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rocketmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// retryAfter records the Retry-After header of error responses, which the
// SDK otherwise drops.
type retryAfter struct {
	mu   sync.Mutex
	seen []string
}

// HandleError is called for every response, successes included.
func (h *retryAfter) HandleError(_ *request.DefaultHttpRequest, resp *response.DefaultHttpResponse) error {
	if resp.GetStatusCode() < 400 {
		return nil
	}
	h.mu.Lock()
	h.seen = append(h.seen, resp.GetHeader("Retry-After"))
	h.mu.Unlock()
	return sdkerr.NewServiceResponseError(resp.Response)
}

func TestFaultRateLimit(t *testing.T) {
	e := newEnv(t, "demo", nil)
	e.faults(map[string]any{"rate_limit": 2})
	h := &retryAfter{}
	c := rocketmq.NewRocketMQClient(e.hc(rocketmq.RocketMQClientBuilder().WithErrorHandler(h), e.akskCred(prod)))
	for range 2 {
		if _, err := c.ListInstances(listRocket); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.ListInstances(listRocket)
	wantSDKError(t, err, http.StatusTooManyRequests, "APIGW.0308")
	// The token identity has its own bucket.
	if _, err := e.rocket(TokenCredential{Token: cloudsim.DemoToken, ProjectID: prod}).ListInstances(listRocket); err != nil {
		t.Fatal(err)
	}
	e.faults(map[string]any{"retry_after": 3})
	_, err = c.ListInstances(listRocket)
	wantSDKError(t, err, http.StatusTooManyRequests, "APIGW.0308")
	if len(h.seen) != 2 || h.seen[0] != "" || h.seen[1] != "3" {
		t.Fatalf("Retry-After seen %q, want [\"\" \"3\"]", h.seen)
	}
	e.clock.Advance(500 * time.Millisecond)
	if _, err := c.ListInstances(listRocket); err != nil {
		t.Fatalf("a token refills after 1/rate s: %v", err)
	}
	s := e.stats()
	if s.ByStatus["429"] != 2 || s.ByOperationCode["dms.list"]["429"] != 2 ||
		s.ByOperationCode["dms.list"]["200"] != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFaultErrorRateAndLatency(t *testing.T) {
	e := newEnv(t, "demo", nil)
	e.faults(map[string]any{"error_rate": 1})
	_, err := e.rocket(e.akskCred(prod)).ListInstances(listRocket)
	wantSDKError(t, err, http.StatusInternalServerError, "DMS.00500000")
	_, err = e.roma(e.akskCred(prod)).CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{})
	wantSDKError(t, err, http.StatusInternalServerError, "ROMA.00000500")
	_, err = e.cdc(e.akskCred(prod)).ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: "any"})
	wantSDKError(t, err, http.StatusInternalServerError, "CLOUDDC.00000500")
	if r := e.resources(); len(r) == 0 {
		t.Fatal("injected 500s must not change state")
	}
	e.faults(map[string]any{"error_rate": 0, "latency_ms": 150})
	start := time.Now()
	if _, err := e.rocket(e.akskCred(prod)).ListInstances(listRocket); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("call took %v, want >= 150ms latency", d)
	}
}

func TestFaultErrorRateIsAFraction(t *testing.T) {
	e := newEnv(t, "demo", nil)
	e.faults(map[string]any{"error_rate": 0.3})
	c := e.rocket(e.akskCred(prod))
	failed := 0
	for range 200 {
		if _, err := c.ListInstances(listRocket); err != nil {
			failed++
		}
	}
	if failed < 30 || failed > 90 {
		t.Fatalf("%d of 200 failed at error_rate 0.3", failed)
	}
}

func TestFaultDMSDeleteFailures(t *testing.T) {
	e := newEnv(t, "empty", nil)
	a := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "RUNNING"})
	b := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "ERROR"})
	e.faults(map[string]any{"delete_failure_rate": 1})
	c := e.rocket(e.akskCred(prod))
	resp, err := c.BatchDeleteInstances(&rmq.BatchDeleteInstancesRequest{Body: &rmq.BatchDeleteInstanceReq{
		Instances: &[]string{a}, Action: rmq.GetBatchDeleteInstanceReqActionEnum().DELETE}})
	if err != nil || (*resp.Results)[0].Result.Value() != "failed" {
		t.Fatalf("batch with failure: %v %v", resp, err)
	}
	// A single delete is accepted, then falls back to its old status.
	if _, err := c.DeleteInstance(&rmq.DeleteInstanceRequest{InstanceId: b}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: b})
	if err != nil || *show.Status != "ERROR" {
		t.Fatalf("after failed delete %v %v, want ERROR", show, err)
	}
}
