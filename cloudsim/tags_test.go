package cloudsim_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	cm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1/model"
	rbmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2/model"
	rmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2/model"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

func tagsOf(kv ...string) []map[string]string {
	out := []map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]string{"key": kv[i], "value": kv[i+1]})
	}
	return out
}

// wantJSONTypes checks that obj has tags as an array of {key: string,
// value: string} and, if wantEP, enterprise_project_id as a string.
func wantJSONTypes(t *testing.T, what string, obj map[string]any, wantEP bool) {
	t.Helper()
	tags, ok := obj["tags"].([]any)
	if !ok {
		t.Fatalf("%s: tags = %#v, want an array", what, obj["tags"])
	}
	for _, x := range tags {
		m, ok := x.(map[string]any)
		_, kOK := m["key"].(string)
		_, vOK := m["value"].(string)
		if !ok || !kOK || !vOK {
			t.Fatalf("%s: tag %#v, want {key: string, value: string}", what, x)
		}
	}
	_, isString := obj["enterprise_project_id"].(string)
	if isString != wantEP {
		t.Fatalf("%s: enterprise_project_id = %#v, want a string: %t", what, obj["enterprise_project_id"], wantEP)
	}
}

func TestTagsAndEnterpriseProjectOnDMS(t *testing.T) {
	e := newEnv(t, "empty", nil)
	fin := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "name": "fin-mq",
		"tags": tagsOf("decom:protect", "", "team", "payments"), "enterprise_project_id": "ep-finance"})
	plain := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "name": "plain-mq"})
	rabbit := e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod, "name": "r",
		"tags": tagsOf("env", "prod"), "enterprise_project_id": "ep-ops"})

	// Raw JSON types, list and show, both engines.
	for _, path := range []string{"/v2/" + prod + "/instances/" + fin, "/v2/" + prod + "/instances/" + plain,
		"/v2/" + prod + "/instances/" + rabbit} {
		st, obj, _ := rawCloud(t, e, http.MethodGet, path, "")
		if st != http.StatusOK {
			t.Fatalf("GET %s: %d", path, st)
		}
		wantJSONTypes(t, path, obj, true)
	}
	_, list, _ := rawCloud(t, e, http.MethodGet, "/v2/"+prod+"/instances?engine=rocketmq", "")
	for _, x := range list["instances"].([]any) {
		wantJSONTypes(t, "list item", x.(map[string]any), true)
	}

	// SDK: list (RocketMQ), show (both), enterprise project filter.
	c := e.rocket(e.akskCred(prod))
	resp, err := c.ListInstances(&rmq.ListInstancesRequest{Engine: rmq.GetListInstancesRequestEngineEnum().ROCKETMQ,
		EnterpriseProjectId: ptr("ep-finance")})
	if err != nil {
		t.Fatal(err)
	}
	if *resp.InstanceNum != 1 || len(*resp.Instances) != 1 || *(*resp.Instances)[0].InstanceId != fin {
		t.Fatalf("ep filter: %d %v", *resp.InstanceNum, *resp.Instances)
	}
	got := (*resp.Instances)[0]
	want := []rmq.TagEntity{{Key: "decom:protect", Value: ""}, {Key: "team", Value: "payments"}}
	if *got.EnterpriseProjectId != "ep-finance" || !reflect.DeepEqual(*got.Tags, want) {
		t.Fatalf("list item: ep %q tags %v", *got.EnterpriseProjectId, *got.Tags)
	}
	show, err := c.ShowInstance(&rmq.ShowInstanceRequest{InstanceId: plain})
	if err != nil {
		t.Fatal(err)
	}
	if *show.EnterpriseProjectId != "0" || show.Tags == nil || len(*show.Tags) != 0 {
		t.Fatalf("defaults: ep %q tags %v", *show.EnterpriseProjectId, show.Tags)
	}
	rs, err := e.rabbit(e.akskCred(prod)).ShowInstance(&rbmodel.ShowInstanceRequest{InstanceId: rabbit})
	if err != nil {
		t.Fatal(err)
	}
	if *rs.EnterpriseProjectId != "ep-ops" || len(*rs.Tags) != 1 || *(*rs.Tags)[0].Key != "env" ||
		*(*rs.Tags)[0].Value != "prod" {
		t.Fatalf("rabbit show: %v %v", *rs.EnterpriseProjectId, *rs.Tags)
	}
}

func TestDMSInstanceTagsPagingAndErrors(t *testing.T) {
	e := newEnv(t, "empty", nil)
	var tags []map[string]string
	for i := range 12 {
		tags = append(tags, map[string]string{"key": fmt.Sprintf("k%02d", i), "value": fmt.Sprint(i)})
	}
	id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "tags": tags})
	rid := e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod, "tags": tags[:3]})
	c := e.rocket(e.akskCred(prod))
	var keys []string
	for offset := int32(0); ; {
		resp, err := c.ShowRocketmqTags(
			&rmq.ShowRocketmqTagsRequest{InstanceId: id, Limit: ptr(int32(5)), Offset: ptr(offset)},
		)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Total != 12 {
			t.Fatalf("total %v, want 12", resp.Total)
		}
		for _, tg := range *resp.Tags {
			keys = append(keys, tg.Key)
		}
		offset += int32(len(*resp.Tags))
		if len(*resp.Tags) == 0 || offset >= 12 {
			break
		}
	}
	if len(keys) != 12 || keys[0] != "k00" || keys[11] != "k11" {
		t.Fatalf("paged keys %v", keys)
	}
	// Default page is 10.
	if resp, err := c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: id}); err != nil ||
		len(*resp.Tags) != 10 {
		t.Fatalf("default page: %v %v", resp, err)
	}
	rb := e.rabbit(e.akskCred(prod))
	rresp, err := rb.ShowRabbitMqTags(&rbmodel.ShowRabbitMqTagsRequest{InstanceId: rid})
	if err != nil {
		t.Fatal(err)
	}
	if *rresp.Total != 3 || len(*rresp.Tags) != 3 || *(*rresp.Tags)[2].Key != "k02" || *(*rresp.Tags)[2].Value != "2" {
		t.Fatalf("rabbit tags %v %v", *rresp.Total, *rresp.Tags)
	}
	// The engine segment must match; unknown IDs and bad paging are errors.
	_, err = rb.ShowRabbitMqTags(&rbmodel.ShowRabbitMqTagsRequest{InstanceId: id})
	wantSDKError(t, err, 404, "DMS.00404022")
	_, err = c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: "nope"})
	wantSDKError(t, err, 404, "DMS.00404022")
	_, err = c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: id, Offset: ptr(int32(-1))})
	wantSDKError(t, err, 400, "DMS.00400005")

	// Project tags: keys of live instances of the engine, values sorted.
	e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod,
		"tags": tagsOf("k00", "a", "zone", "x")})
	pt, err := c.ShowRocketmqProjectTags(&rmq.ShowRocketmqProjectTagsRequest{Limit: ptr(int32(50))})
	if err != nil {
		t.Fatal(err)
	}
	first := (*pt.Tags)[0]
	if pt.Total != 13 || *first.Key != "k00" || strings.Join(*first.Values, ",") != "0,a" {
		t.Fatalf("project tags total %v first %v %v", pt.Total, *first.Key, *first.Values)
	}
	rpt, err := rb.ShowRabbitMqProjectTags(&rbmodel.ShowRabbitMqProjectTagsRequest{})
	if err != nil || *rpt.Total != 3 {
		t.Fatalf("rabbit project tags %v %v", rpt, err)
	}
}

func TestDMSTagAction(t *testing.T) {
	e := newEnv(t, "empty", nil)
	id := e.create(
		map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod, "tags": tagsOf("a", "1")},
	)
	rid := e.create(map[string]any{"service": "rabbitmq", "kind": "instance", "project_id": prod})
	c := e.rocket(e.akskCred(prod))
	create := rmq.GetBatchCreateOrDeleteTagReqActionEnum().CREATE
	del := rmq.GetBatchCreateOrDeleteTagReqActionEnum().DELETE
	if _, err := c.BatchCreateOrDeleteRocketmqTag(&rmq.BatchCreateOrDeleteRocketmqTagRequest{InstanceId: id,
		Body: &rmq.BatchCreateOrDeleteTagReq{Action: create, Tags: []rmq.TagEntity{{Key: "a", Value: "2"}, {Key: "decom:protect"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BatchCreateOrDeleteRocketmqTag(&rmq.BatchCreateOrDeleteRocketmqTagRequest{InstanceId: id,
		Body: &rmq.BatchCreateOrDeleteTagReq{Action: del, Tags: []rmq.TagEntity{{Key: "a", Value: "ignored"}}}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: id})
	if err != nil || len(*resp.Tags) != 1 || (*resp.Tags)[0].Key != "decom:protect" {
		t.Fatalf("after create+delete: %v %v", resp, err)
	}
	bad := []struct {
		name string
		tags []rmq.TagEntity
	}{
		{"null tags", nil},
		{"empty key", []rmq.TagEntity{{Key: ""}}},
		{"leading space", []rmq.TagEntity{{Key: " a"}}},
		{"_sys_ prefix", []rmq.TagEntity{{Key: "_sys_x"}}},
		{"bad character", []rmq.TagEntity{{Key: "a/b"}}},
		{"long key", []rmq.TagEntity{{Key: strings.Repeat("k", 129)}}},
		{"long value", []rmq.TagEntity{{Key: "k", Value: strings.Repeat("v", 256)}}},
		{"21 tags", func() []rmq.TagEntity {
			var out []rmq.TagEntity
			for i := range 21 {
				out = append(out, rmq.TagEntity{Key: fmt.Sprint("t", i)})
			}
			return out
		}()},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.BatchCreateOrDeleteRocketmqTag(&rmq.BatchCreateOrDeleteRocketmqTagRequest{InstanceId: id,
				Body: &rmq.BatchCreateOrDeleteTagReq{Action: create, Tags: tc.tags}})
			wantSDKError(t, err, 400, "DMS.00400005")
		})
	}
	if resp, _ := c.ShowRocketmqTags(&rmq.ShowRocketmqTagsRequest{InstanceId: id}); len(*resp.Tags) != 1 {
		t.Fatalf("a refused tag action changed tags: %v", *resp.Tags)
	}
	// RabbitMQ: pointer model; wrong engine path is 404.
	rb := e.rabbit(e.akskCred(prod))
	ract := rbmodel.GetBatchCreateOrDeleteTagReqActionEnum().CREATE
	if _, err := rb.BatchCreateOrDeleteRabbitMqTag(&rbmodel.BatchCreateOrDeleteRabbitMqTagRequest{InstanceId: rid,
		Body: &rbmodel.BatchCreateOrDeleteTagReq{Action: &ract, Tags: &[]rbmodel.TagEntity{{Key: ptr("x"), Value: ptr("y")}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = rb.BatchCreateOrDeleteRabbitMqTag(&rbmodel.BatchCreateOrDeleteRabbitMqTagRequest{InstanceId: id,
		Body: &rbmodel.BatchCreateOrDeleteTagReq{Action: &ract, Tags: &[]rbmodel.TagEntity{{Key: ptr("x")}}}})
	wantSDKError(t, err, 404, "DMS.00404022")
	st, _, _ := rawCloud(
		t,
		e,
		http.MethodPost,
		"/v2/"+prod+"/rabbitmq/"+rid+"/tags/action",
		`{"action":"update","tags":[{"key":"a"}]}`,
	)
	if st != 400 {
		t.Fatalf("unknown action: %d", st)
	}
}

func TestTagsOnCloudDCAndEnterpriseProjectOnROMA(t *testing.T) {
	e := newEnv(t, "empty", nil)
	bm := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "stopped",
		"tags": tagsOf("decom:protect", "yes")})
	st, list, _ := rawCloud(t, e, http.MethodGet, "/v1/"+prod+"/instances", "")
	if st != 200 {
		t.Fatal(st)
	}
	item := list["instances"].([]any)[0].(map[string]any)
	wantJSONTypes(t, "clouddc", item, false)
	resp, err := e.cdc(e.akskCred(prod)).ListInstances(&cm.ListInstancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	in := (*resp.Instances)[0]
	if in.Id != bm || len(in.Tags) != 1 || in.Tags[0].Key != "decom:protect" || *in.Tags[0].Value != "yes" {
		t.Fatalf("clouddc tags %+v", in.Tags)
	}

	ri := e.create(
		map[string]any{"service": "roma", "kind": "instance", "project_id": prod, "enterprise_project_id": "ep-int"},
	)
	e.create(map[string]any{"service": "roma", "kind": "task", "instance_id": ri, "name": "inherits"})
	e.create(
		map[string]any{
			"service":               "roma",
			"kind":                  "task",
			"instance_id":           ri,
			"name":                  "own",
			"enterprise_project_id": "ep-x",
		},
	)
	rc := e.roma(e.akskCred(prod))
	insts, err := rc.CheckRomaInstanceListV2(&rm.CheckRomaInstanceListV2Request{})
	if err != nil || *(*insts.Instances)[0].EnterpriseProjectId != "ep-int" {
		t.Fatalf("roma instance ep: %v %v", insts, err)
	}
	tasks, err := rc.ListTasks(&rm.ListTasksRequest{InstanceId: ri, SortType: nil})
	if err != nil {
		t.Fatal(err)
	}
	eps := map[string]string{}
	for _, tk := range *tasks.Entities {
		eps[*tk.TaskName] = *tk.EnterpriseProjectId
	}
	if eps["inherits"] != "ep-int" || eps["own"] != "ep-x" {
		t.Fatalf("task eps %v", eps)
	}
	_, romaList, _ := rawCloud(t, e, http.MethodGet, "/v2/"+prod+"/instances", "")
	if _, has := romaList["instances"].([]any)[0].(map[string]any)["tags"]; has {
		t.Fatal("ROMA instances must not carry tags")
	}
}

func TestControlTagsAndPatch(t *testing.T) {
	e := newEnv(t, "empty", nil)
	id := e.create(map[string]any{"service": "rocketmq", "kind": "instance", "project_id": prod})
	bm := e.create(map[string]any{"service": "clouddc", "kind": "instance", "project_id": prod, "status": "running"})
	ri := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	app := e.create(map[string]any{"service": "roma", "kind": "app", "instance_id": ri})

	var got map[string]any
	if st := e.ctl(http.MethodPatch, "/_sim/resources/"+id, map[string]any{"status": "ERROR",
		"tags": tagsOf("decom:protect", "yes"), "enterprise_project_id": "ep-finance"}, &got); st != 200 {
		t.Fatalf("patch: %d %v", st, got)
	}
	if got["status"] != "ERROR" || got["enterprise_project_id"] != "ep-finance" || got["in_recycle_bin"] != false ||
		len(got["tags"].([]any)) != 1 {
		t.Fatalf("patched resource %v", got)
	}
	show, err := e.rocket(e.akskCred(prod)).ShowInstance(&rmq.ShowInstanceRequest{InstanceId: id})
	if err != nil || *show.Status != "ERROR" || *show.EnterpriseProjectId != "ep-finance" ||
		(*show.Tags)[0].Key != "decom:protect" {
		t.Fatalf("cloud sees %v %v", show, err)
	}
	// tags replaces the list; [] clears it; other fields keep their value.
	e.ctl(http.MethodPatch, "/_sim/resources/"+id, map[string]any{"tags": []any{}}, &got)
	if len(got["tags"].([]any)) != 0 || got["status"] != "ERROR" || got["enterprise_project_id"] != "ep-finance" {
		t.Fatalf("after clearing tags %v", got)
	}
	// CloudDC status drift, as if the cloud had done it.
	e.ctl(http.MethodPatch, "/_sim/resources/"+bm, map[string]any{"status": "stopped"}, &got)
	if got["status"] != "stopped" {
		t.Fatalf("clouddc %v", got)
	}
	st, _, _ := rawCloud(t, e, http.MethodDelete, "/v1/"+prod+"/instances/"+bm, "")
	if st != 204 {
		t.Fatalf("stopped instance not deletable: %d", st)
	}

	before := e.resources()
	bad := []struct {
		name, id string
		body     any
		want     int
	}{
		{"unknown id", "nope", map[string]any{"status": "RUNNING"}, 404},
		{"empty body", id, map[string]any{}, 400},
		{"not JSON", id, "x", 400},
		{"unknown field", id, map[string]any{"name": "x"}, 400},
		{"bad DMS status", id, map[string]any{"status": "running"}, 400},
		{"bad CloudDC state", bm, map[string]any{"status": "RUNNING"}, 400},
		{"bad tag", id, map[string]any{"tags": tagsOf("_sys_x", "")}, 400},
		{"duplicate key", id, map[string]any{"tags": tagsOf("a", "1", "a", "2")}, 400},
		{"ep on clouddc", bm, map[string]any{"enterprise_project_id": "ep"}, 400},
		{"empty ep", id, map[string]any{"enterprise_project_id": ""}, 400},
		{"tags on roma", ri, map[string]any{"tags": tagsOf("a", "1")}, 400},
		{"status on app", app, map[string]any{"status": "1"}, 400},
		{"ep on app", app, map[string]any{"enterprise_project_id": "ep"}, 400},
		{"valid tags, bad status", id, map[string]any{"tags": tagsOf("ok", ""), "status": "NOPE"}, 400},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]any
			if st := e.ctl(http.MethodPatch, "/_sim/resources/"+tc.id, tc.body, &out); st != tc.want ||
				out["error_msg"] == "" {
				t.Fatalf("status %d body %v, want %d with a message", st, out, tc.want)
			}
		})
	}
	if after := e.resources(); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused patches changed resources:\n%v\n%v", before, after)
	}
	// Creating validates the same way.
	for _, spec := range []map[string]any{
		{"service": "clouddc", "kind": "instance", "project_id": prod, "enterprise_project_id": "ep"},
		{"service": "rocketmq", "kind": "instance", "project_id": prod, "tags": tagsOf("", "x")},
		{"service": "roma", "kind": "instance", "project_id": prod, "tags": tagsOf("a", "")},
	} {
		if st := e.ctl(http.MethodPost, "/_sim/resources", spec, nil); st != 400 {
			t.Fatalf("create %v: %d, want 400", spec, st)
		}
	}
}

func TestControlResourcesListsTagsAndEnterpriseProjects(t *testing.T) {
	e := newEnv(t, "demo", nil)
	var out struct {
		Resources []map[string]any
	}
	e.ctl(http.MethodGet, "/_sim/resources", nil, &out)
	seen := map[string]bool{}
	for _, r := range out.Resources {
		key := r["service"].(string) + "/" + r["kind"].(string)
		seen[key] = true
		if _, ok := r["tags"].([]any); !ok {
			t.Fatalf("%s without tags array: %v", key, r)
		}
		_, hasEP := r["enterprise_project_id"].(string)
		_, hasBin := r["in_recycle_bin"].(bool)
		isDMS := r["service"] == "rocketmq" || r["service"] == "rabbitmq"
		if hasEP != (r["service"] != "clouddc") || hasBin != isDMS {
			t.Fatalf("%s: ep %v bin %v: %v", key, hasEP, hasBin, r)
		}
		if r["service"] == "roma" && len(r["tags"].([]any)) > 0 || isDMS && len(r["tags"].([]any)) == 0 {
			t.Fatalf("%s tags: %v", key, r)
		}
	}
	if len(seen) != 6 {
		t.Fatalf("kinds seen: %v", seen)
	}
}
