package cloudsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/decom/decom/cloudsim"
	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// fill creates n resources through the control API, straight on the handler.
func fill(t testing.TB, sim *cloudsim.Sim, n int) {
	t.Helper()
	post := func(spec map[string]any) string {
		b, _ := json.Marshal(spec)
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_sim/resources", bytes.NewReader(b)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("create %v: %d %s", spec, rec.Code, rec.Body)
		}
		var out struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return out.ID
	}
	var roma string
	for i := range n {
		p := cloudsim.DemoProjects[i%2]
		switch i % 10 {
		case 0, 1, 2:
			post(
				map[string]any{
					"service":    "rocketmq",
					"kind":       "instance",
					"project_id": p,
					"name":       fmt.Sprintf("orders-mq-%05d", i),
				},
			)
		case 3, 4:
			post(
				map[string]any{
					"service":    "rabbitmq",
					"kind":       "instance",
					"project_id": p,
					"name":       fmt.Sprintf("billing-amqp-%05d", i),
					"status":     "CREATEFAILED",
				},
			)
		case 5, 6:
			post(
				map[string]any{
					"service":    "clouddc",
					"kind":       "instance",
					"project_id": p,
					"name":       fmt.Sprintf("bms-db-%05d", i),
					"status":     "stopped",
				},
			)
		default:
			if roma == "" || i%1000 == 7 {
				roma = post(
					map[string]any{
						"service":    "roma",
						"kind":       "instance",
						"project_id": cloudsim.DemoProjects[0],
						"name":       fmt.Sprintf("roma-%d", i),
					},
				)
				continue
			}
			kind := map[bool]string{true: "app", false: "task"}[i%2 == 0]
			post(
				map[string]any{
					"service":     "roma",
					"kind":        kind,
					"instance_id": roma,
					"name":        fmt.Sprintf("%s-%05d", kind, i),
				},
			)
		}
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemory10k checks 10,000 resources fit in well under 50 MB.
func TestMemory10k(t *testing.T) {
	base := heapAlloc()
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Faults: cloudsim.DefaultFaults()})
	fill(t, sim, 10000)
	used := heapAlloc() - base
	runtime.KeepAlive(sim)
	t.Logf("10,000 resources: %.1f MB heap", float64(used)/(1<<20))
	if used > 50<<20 {
		t.Fatalf("10,000 resources use %d bytes, want < 50 MB", used)
	}
}

// TestConcurrentUse drives every operation from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, "demo", func(o *cloudsim.Options) { o.Faults.ROMAAssetMS = 0; o.Faults.DMSDeleteDelayMS = 0 })
	var romaID string
	var apps []string
	for _, r := range e.resources() {
		if r.Service == "roma" && r.Kind == "instance" && r.ProjectID == prod && romaID == "" {
			romaID = r.ID
		}
		if r.Kind == "app" && r.Parent == romaID && romaID != "" {
			apps = append(apps, r.ID)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rocket, cdc, roma := e.rocket(e.akskCred(prod)), e.cdc(e.akskCred(prod)), e.roma(e.akskCred(prod))
			for i := range 15 {
				resp, err := rocket.ListInstances(
					&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
						IncludeFailure: ptr(
							rmq.GetListInstancesRequestIncludeFailureEnum().TRUE,
						), Limit: ptr(int32(50))},
				)
				if err != nil {
					t.Error(err)
					return
				}
				if list := *resp.Instances; len(list) > 0 {
					_, _ = rocket.DeleteInstance(
						&rmq.DeleteInstanceRequest{InstanceId: *list[(g+i)%len(list)].InstanceId},
					)
				}
				if _, err := cdc.ListInstances(&cm.ListInstancesRequest{Limit: ptr("100")}); err != nil {
					t.Error(err)
				}
				if g%4 == 0 && i < len(apps) {
					_, _ = roma.DeleteAsset(assetReq(romaID, apps[i:i+1], nil))
				}
				if _, err := roma.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: romaID, Limit: ptr(int32(500))}); err != nil {
					t.Error(err)
				}
				e.stats()
				e.resources()
			}
		}()
	}
	wg.Wait()
	// No instance may be accepted for deletion twice.
	seen := map[string]bool{}
	for _, d := range e.stats().Deletes {
		if seen[d.ID] {
			t.Fatalf("%s deleted twice", d.ID)
		}
		seen[d.ID] = true
	}
}

func BenchmarkSDKListDMS(b *testing.B) {
	e := newEnv(b, "demo", nil)
	c := e.rocket(e.akskCred(prod))
	req := &rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
		IncludeFailure: ptr(rmq.GetListInstancesRequestIncludeFailureEnum().TRUE), Limit: ptr(int32(50))}
	for b.Loop() {
		if _, err := c.ListInstances(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSDKListCloudDC(b *testing.B) {
	e := newEnv(b, "demo", nil)
	c := e.cdc(e.akskCred(prod))
	for b.Loop() {
		if _, err := c.ListInstances(&cm.ListInstancesRequest{Limit: ptr("100")}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSDKListROMATasks(b *testing.B) {
	e := newEnv(b, "demo", nil)
	c := e.roma(e.akskCred(prod))
	list, err := c.CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{})
	if err != nil {
		b.Fatal(err)
	}
	id := *(*list.Instances)[0].Id
	for b.Loop() {
		if _, err := c.ListTasks(&rm.ListTasksRequest{InstanceId: id, Limit: ptr(int32(100))}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSDKStatusCloudDC(b *testing.B) {
	e := newEnv(b, "demo", nil)
	c := e.cdc(e.akskCred(prod))
	list, err := c.ListInstances(&cm.ListInstancesRequest{Limit: ptr("10")})
	if err != nil {
		b.Fatal(err)
	}
	id := (*list.Instances)[0].Id
	for b.Loop() {
		if _, err := c.ShowInstanceStatus(&cm.ShowInstanceStatusRequest{Id: id}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSDKStatusDMS(b *testing.B) {
	e := newEnv(b, "demo", nil)
	c := e.rocket(e.akskCred(prod))
	list, err := c.ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ})
	if err != nil {
		b.Fatal(err)
	}
	id := *(*list.Instances)[0].InstanceId
	for b.Loop() {
		if _, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id}); err != nil {
			b.Fatal(err)
		}
	}
}
