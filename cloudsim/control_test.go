package cloudsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

func TestControlDemoFleetDeterministic(t *testing.T) {
	a := newEnv(t, "demo", nil).resources()
	b := newEnv(t, "demo", nil).resources()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different fleets")
	}
	c := newEnv(t, "demo", func(o *cloudsim.Options) { o.Seed = 7 }).resources()
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same fleet")
	}
	count := map[string]int{}
	states := map[string]map[string]bool{}
	for _, r := range a {
		k := r.Service + "/" + r.Kind
		count[k]++
		if states[k] == nil {
			states[k] = map[string]bool{}
		}
		states[k][r.Status] = true
		if r.ProjectID != prod && r.ProjectID != staging {
			t.Fatalf("resource in unknown project: %+v", r)
		}
	}
	if count["rocketmq/instance"] != 60 || count["rabbitmq/instance"] != 40 || count["roma/instance"] != 4 ||
		count["clouddc/instance"] != 80 || count["roma/app"] < 140 || count["roma/task"] < 280 {
		t.Fatalf("demo fleet counts %v", count)
	}
	for _, st := range []string{"CREATEFAILED", "ERROR", "CREATING", "RUNNING"} {
		if !states["rocketmq/instance"][st] && !states["rabbitmq/instance"][st] {
			t.Fatalf("no DMS instance in %s: %v", st, states)
		}
	}
	for _, st := range []string{"running", "stopped", "error", "shutting-down", "terminated"} {
		if !states["clouddc/instance"][st] {
			t.Fatalf("no CloudDC instance in %s: %v", st, states["clouddc/instance"])
		}
	}
}

func TestControlReset(t *testing.T) {
	e := newEnv(t, "demo", nil)
	before := e.resources()
	e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod})
	if _, err := e.rocket(e.akskCred(prod)).ListInstances(listRocket); err != nil {
		t.Fatal(err)
	}
	if st := e.ctl(http.MethodPost, "/_sim/reset", map[string]string{"fleet": "demo"}, nil); st != http.StatusOK {
		t.Fatalf("reset status %d", st)
	}
	if after := e.resources(); !reflect.DeepEqual(before, after) {
		t.Fatal("reset did not rebuild the same demo fleet")
	}
	if s := e.stats(); s.Total != 0 || len(s.Deletes) != 0 {
		t.Fatalf("stats after reset %+v", s)
	}
	e.ctl(http.MethodPost, "/_sim/reset", map[string]string{"fleet": "empty"}, nil)
	if r := e.resources(); len(r) != 0 {
		t.Fatalf("empty fleet has %d resources", len(r))
	}
	if st := e.ctl(http.MethodPost, "/_sim/reset", map[string]string{"fleet": "huge"}, nil); st != http.StatusBadRequest {
		t.Fatalf("bad fleet status %d", st)
	}
}

func TestControlCreateValidation(t *testing.T) {
	e := newEnv(t, "empty", nil)
	inst := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	bad := []map[string]any{
		{"service": "kafka", "kind": "instance", "project_id": prod},
		{"service": "rocketmq", "kind": "app", "project_id": prod},
		{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "running"},
		{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "RUNNING"},
		{"service": "roma", "kind": "app", "project_id": prod, "instance_id": "nope"},
		{"service": "roma", "kind": "app", "project_id": prod, "instance_id": inst, "status": "RUNNING"},
		{"service": "roma", "kind": "task", "project_id": prod, "instance_id": inst, "status": "2"},
		{"service": "rocketmq", "kind": "instance"},
		{"service": "rocketmq", "kind": "instance", "project_id": 5},
	}
	for _, spec := range bad {
		if st := e.ctl(http.MethodPost, "/_sim/resources", spec, nil); st != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", spec, st)
		}
	}
	resp, err := http.Post(e.srv.URL+"/_sim/resources", "application/json", strings.NewReader("{"))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed body: %v %v", resp, err)
	}
	resp.Body.Close()
	if r := e.resources(); len(r) != 1 {
		t.Fatalf("bad creates changed state: %+v", r)
	}
}

func TestControlFaults(t *testing.T) {
	e := newEnv(t, "empty", nil)
	var got map[string]any
	if st := e.ctl(http.MethodPut, "/_sim/faults", map[string]any{"latency_ms": 5}, &got); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	if got["latency_ms"] != 5.0 || got["check_signatures"] != true || got["dms_delete_delay_ms"] != 3000.0 ||
		got["terminated_retention_ms"] != 600000.0 {
		t.Fatalf("knobs in force %v", got)
	}
	for _, body := range []map[string]any{
		{"error_rate": 1.5}, {"delete_failure_rate": -0.1}, {"latency_ms": -1}, {"rate_limit": -2},
		{"latency_ms": "5"}, {"no_such_knob": 1}, {"check_signatures": "yes"},
	} {
		if st := e.ctl(http.MethodPut, "/_sim/faults", body, nil); st != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", body, st)
		}
	}
	e.ctl(http.MethodGet, "/_sim/faults", nil, &got)
	if got["latency_ms"] != 5.0 || got["error_rate"] != 0.0 {
		t.Fatalf("bad PUTs changed knobs: %v", got)
	}
}

func TestControlResourcesShowsTransitional(t *testing.T) {
	e := newEnv(t, "empty", nil)
	e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "status": "DELETING"})
	e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "shutting-down"})
	e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "terminated"})
	var statuses []string
	for _, r := range e.resources() {
		statuses = append(statuses, r.Status)
	}
	slices.Sort(statuses)
	if strings.Join(statuses, ",") != "DELETING,shutting-down,terminated" {
		t.Fatalf("statuses %v", statuses)
	}
	e.clock.Advance(3 * time.Second)
	statuses = nil
	for _, r := range e.resources() {
		statuses = append(statuses, r.Status)
	}
	if strings.Join(statuses, ",") != "terminated,terminated" {
		t.Fatalf("after delay %v", statuses)
	}
}

// rawCloud sends an unsigned request with the demo token.
func rawCloud(t *testing.T, e *env, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("X-Auth-Token", cloudsim.DemoToken)
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: non-JSON body %q", method, path, b)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, "demo", nil)
	before := e.resources()
	var romaID string
	for _, r := range before {
		if r.Service == "roma" && r.Kind == "instance" && r.ProjectID == prod {
			romaID = r.ID
			break
		}
	}
	p := "/v2/" + prod
	cases := []struct {
		method, path, body, code string
	}{
		{"POST", p + "/instances/action", `{"instances": [`, "DMS.00400005"},
		{"POST", p + "/instances/action", `{"instances": "abc", "action": "delete"}`, "DMS.00400005"},
		{"POST", p + "/instances/action", `{"instances": ["a"], "action": 1}`, "DMS.00400005"},
		{"POST", p + "/instances/action", `{"instances": ["a"], "action": "restart"}`, "DMS.00400005"},
		{"POST", p + "/instances/action", `{"action": "delete", "all_failure": "kafka"}`, "DMS.00400005"},
		{"POST", p + "/instances/action", `{"action": "delete"}`, "DMS.00400005"},
		{
			"POST",
			p + "/instances/action",
			`{"instances": ["a"], "action": "delete", "force_delete": "yes"}`,
			"DMS.00400005",
		},
		{"POST", p + "/instances/action", ``, "DMS.00400005"},
		{"GET", p + "/instances?engine=kafka", ``, "DMS.00400005"},
		{"GET", p + "/instances?engine=rocketmq&limit=0", ``, "DMS.00400005"},
		{"GET", p + "/instances?engine=rocketmq&limit=51", ``, "DMS.00400005"},
		{"GET", p + "/instances?engine=rocketmq&offset=-1", ``, "DMS.00400005"},
		{"GET", p + "/instances?engine=rabbitmq&include_failure=yes", ``, "DMS.00400005"},
		{"POST", p + "/instances/" + romaID + "/assets/delete", `{"apps": "x", "tasks": []}`, "ROMA.13000"},
		{"POST", p + "/instances/" + romaID + "/assets/delete", `{"apps": [{"id": 5}], "tasks": null}`, "ROMA.13000"},
		{"POST", p + "/instances/" + romaID + "/assets/delete", `{"apps": null, "tasks": null}`, "ROMA.13000"},
		{"POST", p + "/instances/" + romaID + "/assets/delete", `not json`, "ROMA.13000"},
		{"GET", p + "/fdi/instances/" + romaID + "/tasks?task_type=REALTIME", ``, "ROMA.13000"},
		{"GET", p + "/fdi/instances/" + romaID + "/tasks?status=2", ``, "ROMA.13000"},
		{"GET", p + "/instances/" + romaID + "/apps?offset=x", ``, "ROMA.13000"},
		{"POST", "/v1/" + prod + "/instances/batch-delete", `{"instance_id_set": "x"}`, "CLOUDDC.00000400"},
		{"POST", "/v1/" + prod + "/instances/batch-delete", `{"instance_id_set": [1]}`, "CLOUDDC.00000400"},
		{"POST", "/v1/" + prod + "/instances/batch-delete", `{}`, "CLOUDDC.00000400"},
		{"GET", "/v1/" + prod + "/instances?instance_state=broken", ``, "CLOUDDC.00000400"},
		{"GET", "/v1/" + prod + "/instances?marker=nope", ``, "CLOUDDC.00000400"},
		{"GET", "/v3/" + prod + "/instances", ``, "APIGW.0101"},
		{"PATCH", p + "/instances/x", ``, "APIGW.0101"},
	}
	for _, tc := range cases {
		st, body, h := rawCloud(t, e, tc.method, tc.path, tc.body)
		if body["error_code"] != tc.code || body["error_msg"] == "" || body["request_id"] == nil ||
			body["request_id"] != h.Get("X-Request-Id") || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %q: %d %v", tc.method, tc.path, tc.body, st, body)
		}
		if want := map[bool]int{true: 404, false: 400}[tc.code == "APIGW.0101"]; st != want {
			t.Errorf("%s %s %q: status %d, want %d", tc.method, tc.path, tc.body, st, want)
		}
	}
	if after := e.resources(); !reflect.DeepEqual(before, after) {
		t.Fatal("bad input changed state")
	}
	if d := e.stats().Deletes; len(d) != 0 {
		t.Fatalf("bad input deleted %+v", d)
	}
}

func TestRoutingAndHeaders(t *testing.T) {
	e := newEnv(t, "demo", nil)
	st, body, h := rawCloud(t, e, "GET", "/v2/"+prod+"/instances?engine=rabbitmq", "")
	if st != 200 || body["instance_num"] == nil || h.Get("X-Request-Id") == "" {
		t.Fatalf("DMS list: %d %v", st, body)
	}
	st, body, _ = rawCloud(t, e, "GET", "/v2/"+prod+"/instances", "")
	if st != 200 || body["total"] == nil || body["instance_num"] != nil {
		t.Fatalf("ROMA list: %d %v", st, body)
	}
	s := e.stats()
	if s.ByOperation["dms.list"] != 1 || s.ByOperation["roma.list_instances"] != 1 {
		t.Fatalf("routing stats %+v", s.ByOperation)
	}
}
