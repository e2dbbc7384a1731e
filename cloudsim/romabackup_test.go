package cloudsim_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	roma "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2"
	rm "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2/model"
)

// backupFixture is a ROMA instance with three apps and two tasks.
type backupFixture struct {
	inst        string
	apps, tasks []string
}

func newBackupFixture(e *env, project, prefix string) backupFixture {
	f := backupFixture{inst: e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": project})}
	for i := range 3 {
		f.apps = append(f.apps, e.create(map[string]any{"service": "roma", "kind": "app", "instance_id": f.inst,
			"name": fmt.Sprintf("%sapp-%d", prefix, i)}))
	}
	for i := range 2 {
		f.tasks = append(f.tasks, e.create(map[string]any{"service": "roma", "kind": "task", "instance_id": f.inst,
			"name": fmt.Sprintf("%stask-%d", prefix, i)}))
	}
	return f
}

func exportBody(apps, tasks []string) *rm.AssetExportRequest {
	b := &rm.AssetExportRequest{}
	for _, a := range apps {
		b.Apps = append(b.Apps, rm.AssetExportRequestApps{Id: ptr(a)})
	}
	if tasks != nil {
		ts := []rm.AssetExportRequestTasks{}
		for _, t := range tasks {
			ts = append(ts, rm.AssetExportRequestTasks{Id: ptr(t)})
		}
		b.Tasks = &ts
	}
	return b
}

func jobOf(t *testing.T, c *roma.RomaClient, inst, job string) *rm.CheckAssetJobStatusResponse {
	t.Helper()
	j, err := c.CheckAssetJobStatus(&rm.CheckAssetJobStatusRequest{InstanceId: inst, JobId: job})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// exportArchive exports and downloads, returning the archive bytes.
func exportArchive(t *testing.T, e *env, c *roma.RomaClient, f backupFixture) []byte {
	t.Helper()
	resp, err := c.ExportAsset(&rm.ExportAssetRequest{InstanceId: f.inst, Body: exportBody(f.apps, f.tasks)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	j := jobOf(t, c, f.inst, *resp.JobId)
	if j.Status.Value() != "SUCCEEDED" || j.ArchiveId == nil {
		t.Fatalf("export job %v", j)
	}
	dl, err := c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: f.inst, ArchiveId: *j.ArchiveId})
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	data, err := io.ReadAll(dl.Body)
	if err != nil || len(data) == 0 {
		t.Fatalf("download %d bytes, %v", len(data), err)
	}
	return data
}

func writeTemp(t *testing.T, name string, data []byte) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func importFile(c *roma.RomaClient, inst string, f *os.File) (*rm.ImportAssetResponse, error) {
	return c.ImportAsset(&rm.ImportAssetRequest{InstanceId: inst,
		Body: &rm.ImportAssetRequestBody{ImportAssetRequestBody: def.NewFilePartWithContentType(f, "application/zip")}})
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestROMAExportAndDownload(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f := newBackupFixture(e, prod, "")
	c := e.roma(e.akskCred(prod))
	resp, err := c.ExportAsset(&rm.ExportAssetRequest{InstanceId: f.inst, Body: exportBody(f.apps[:2], nil)})
	if err != nil || !hex32.MatchString(*resp.JobId) {
		t.Fatalf("export %v %v", resp, err)
	}
	j := jobOf(t, c, f.inst, *resp.JobId)
	if j.Status.Value() != "RUNNING" || j.Type.Value() != "exportAsset" || j.ArchiveId != nil ||
		*j.ProgressPercent != 0 ||
		j.EndTime != nil {
		t.Fatalf("running export %v", j)
	}
	// One asset job per user: delete and import wait.
	_, err = c.DeleteAsset(&rm.DeleteAssetRequest{InstanceId: f.inst, Body: &rm.AssetOperateRequest{
		Apps: []rm.AssetExportRequestApps{{Id: ptr(f.apps[2])}}}})
	wantSDKError(t, err, 400, "ROMA.10012")
	e.clock.Advance(2 * time.Second)
	j = jobOf(t, c, f.inst, *resp.JobId)
	if j.Status.Value() != "SUCCEEDED" || !hex32.MatchString(*j.ArchiveId) || *j.ProgressPercent != 1 ||
		j.EndTime == nil {
		t.Fatalf("finished export %v", j)
	}
	_, raw, _ := rawCloud(t, e, http.MethodGet, "/v2/"+prod+"/instances/"+f.inst+"/assets/jobs/"+*resp.JobId, "")
	if _, ok := raw["archive_id"].(string); !ok || raw["type"] != "exportAsset" {
		t.Fatalf("raw job %v", raw)
	}
	// The export changed nothing.
	apps, _ := c.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: f.inst})
	if *apps.Total != 3 {
		t.Fatalf("apps after export: %d", *apps.Total)
	}
	// Download: raw headers, then once only.
	req, _ := http.NewRequest(
		http.MethodGet,
		e.srv.URL+"/v2/"+prod+"/instances/"+f.inst+"/assets/archives/"+*j.ArchiveId,
		nil,
	)
	req.Header.Set("X-Auth-Token", cloudsim.DemoToken)
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if hr.StatusCode != 200 || hr.Header.Get("Content-Type") != "application/octet-stream" ||
		hr.Header.Get("Content-Disposition") != `attachment; filename="`+*j.ArchiveId+`.zip"` ||
		hr.Header.Get("Content-Length") != fmt.Sprint(len(body)) || !bytes.HasPrefix(body, []byte("PK")) {
		t.Fatalf("download %d %v %d bytes", hr.StatusCode, hr.Header, len(body))
	}
	_, err = c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: f.inst, ArchiveId: *j.ArchiveId})
	wantSDKError(t, err, 404, "ROMA.00000404")

	// Another instance, unknown archives and expired archives are 404.
	other := newBackupFixture(e, prod, "o-")
	j2 := exportJob(t, e, c, f, f.apps[:1], nil)
	_, err = c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: other.inst, ArchiveId: *j2.ArchiveId})
	wantSDKError(t, err, 404, "ROMA.00000404")
	_, err = c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: f.inst, ArchiveId: "0123"})
	wantSDKError(t, err, 404, "ROMA.00000404")
	e.clock.Advance(time.Hour + time.Second)
	_, err = c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: f.inst, ArchiveId: *j2.ArchiveId})
	wantSDKError(t, err, 404, "ROMA.00000404")
	_, err = c.DownloadAssetArchive(&rm.DownloadAssetArchiveRequest{InstanceId: "nope", ArchiveId: *j2.ArchiveId})
	wantSDKError(t, err, 404, "APIG.3030")
}

// exportJob exports and returns the finished job.
func exportJob(
	t *testing.T,
	e *env,
	c *roma.RomaClient,
	f backupFixture,
	apps, tasks []string,
) *rm.CheckAssetJobStatusResponse {
	t.Helper()
	resp, err := c.ExportAsset(&rm.ExportAssetRequest{InstanceId: f.inst, Body: exportBody(apps, tasks)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	return jobOf(t, c, f.inst, *resp.JobId)
}

func TestROMAExportFailuresAndErrors(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f := newBackupFixture(e, prod, "")
	c := e.roma(e.akskCred(prod))
	j := exportJob(t, e, c, f, []string{f.apps[0], "missing-app"}, []string{"missing-task"})
	if j.Status.Value() != "FAILED" || j.ArchiveId != nil || len(*j.Reasons) != 2 {
		t.Fatalf("export with missing IDs %v", j)
	}
	r := (*j.Reasons)[0]
	if r.ResourceType.Value() != "application" || *r.ResourceName != "missing-app" || *r.ErrorCode != "ROMA.00000404" {
		t.Fatalf("reason %v", r)
	}
	e.faults(map[string]any{"export_failure_rate": 1})
	if j := exportJob(t, e, c, f, f.apps, nil); j.Status.Value() != "FAILED" || j.ArchiveId != nil {
		t.Fatalf("injected failure %v", j)
	}
	e.faults(map[string]any{"export_failure_rate": 0})
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprint("a", i))
	}
	stopped := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod, "status": "ERROR"})
	cases := []struct {
		name, inst string
		body       *rm.AssetExportRequest
		status     int
		code       string
	}{
		{"nothing", f.inst, exportBody(nil, nil), 400, "ROMA.13000"},
		{"101 assets", f.inst, exportBody(many, nil), 400, "ROMA.13000"},
		{"empty id", f.inst, exportBody([]string{""}, nil), 400, "ROMA.13000"},
		{"instance not running", stopped, exportBody(f.apps, nil), 400, "ROMA.13000"},
		{"unknown instance", "nope", exportBody(f.apps, nil), 404, "APIG.3030"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ExportAsset(&rm.ExportAssetRequest{InstanceId: tc.inst, Body: tc.body})
			wantSDKError(t, err, tc.status, tc.code)
		})
	}
}

func names(t *testing.T, c *roma.RomaClient, inst string) (apps, tasks map[string]string) {
	t.Helper()
	la, err := c.ListRomaApp(&rm.ListRomaAppRequest{InstanceId: inst, Limit: ptr(int32(500))})
	if err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTasks(&rm.ListTasksRequest{InstanceId: inst, Limit: ptr(int32(999))})
	if err != nil {
		t.Fatal(err)
	}
	apps, tasks = map[string]string{}, map[string]string{}
	for _, a := range *la.Apps {
		apps[*a.Name] = *a.Id
	}
	for _, tk := range *lt.Entities {
		tasks[*tk.TaskName] = *tk.TaskId
		if tk.Status.Value() != 0 && strings.HasPrefix(*tk.TaskName, "imported") {
			t.Fatalf("imported task %s not stopped", *tk.TaskName)
		}
	}
	return apps, tasks
}

func TestROMAImportRestoresDeletedAssets(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f := newBackupFixture(e, prod, "")
	c := e.roma(e.akskCred(prod))
	archive := exportArchive(t, e, c, f)
	appsBefore, tasksBefore := names(t, c, f.inst)
	// Delete everything that was backed up.
	del := &rm.AssetOperateRequest{}
	for _, a := range f.apps {
		del.Apps = append(del.Apps, rm.AssetExportRequestApps{Id: ptr(a)})
	}
	for _, tk := range f.tasks {
		del.Tasks = append(del.Tasks, rm.AssetExportRequestTasks{Id: ptr(tk)})
	}
	if _, err := c.DeleteAsset(&rm.DeleteAssetRequest{InstanceId: f.inst, Body: del}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if apps, tasks := names(t, c, f.inst); len(apps)+len(tasks) != 0 {
		t.Fatalf("left after delete: %v %v", apps, tasks)
	}
	// Import through the SDK (multipart, UNSIGNED-PAYLOAD signature).
	resp, err := importFile(c, f.inst, writeTemp(t, "assets.zip", archive))
	if err != nil || !hex32.MatchString(*resp.JobId) {
		t.Fatalf("import %v %v", resp, err)
	}
	j := jobOf(t, c, f.inst, *resp.JobId)
	if j.Status.Value() != "RUNNING" || j.Type.Value() != "importAsset" {
		t.Fatalf("running import %v", j)
	}
	e.clock.Advance(2 * time.Second)
	if j = jobOf(t, c, f.inst, *resp.JobId); j.Status.Value() != "SUCCEEDED" || j.ArchiveId != nil {
		t.Fatalf("import job %v", j)
	}
	apps, tasks := names(t, c, f.inst)
	if fmt.Sprint(apps) != fmt.Sprint(appsBefore) || fmt.Sprint(tasks) != fmt.Sprint(tasksBefore) {
		t.Fatalf("restored %v %v, want the same names and IDs %v %v", apps, tasks, appsBefore, tasksBefore)
	}
	lt, _ := c.ListTasks(&rm.ListTasksRequest{InstanceId: f.inst})
	for _, tk := range *lt.Entities {
		if tk.Status.Value() != 0 || *tk.ExecuteStatus != "UNSTARTED" {
			t.Fatalf("restored task %v not stopped", *tk.TaskName)
		}
	}
	// AddNew again: every asset clashes by name; the job fails with reasons.
	resp, _ = importFile(c, f.inst, writeTemp(t, "assets.zip", archive))
	e.clock.Advance(2 * time.Second)
	j = jobOf(t, c, f.inst, *resp.JobId)
	if j.Status.Value() != "FAILED" || len(*j.Reasons) != 5 || *(*j.Reasons)[0].ErrorCode != "ROMA.00000409" {
		t.Fatalf("clashing import %v", j)
	}
	// Into another instance of the project: same names, new IDs (taken).
	other := e.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	resp, _ = importFile(c, other, writeTemp(t, "assets.zip", archive))
	e.clock.Advance(2 * time.Second)
	oApps, _ := names(t, c, other)
	if len(oApps) != 3 || oApps["app-0"] == "" || oApps["app-0"] == apps["app-0"] {
		t.Fatalf("other instance apps %v", oApps)
	}
}

// rawImport posts a multipart import with the token, with an optional query.
func rawImport(t *testing.T, e *env, inst, query, part string, data []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile(part, "assets.zip")
	w.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v2/"+prod+"/instances/"+inst+"/assets/import"+query, &buf)
	req.Header.Set("X-Auth-Token", cloudsim.DemoToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = jsonUnmarshal(b, &out)
	return resp.StatusCode, out
}

func TestROMAImportMergePrefixAndErrors(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f := newBackupFixture(e, prod, "")
	c := e.roma(e.akskCred(prod))
	archive := exportArchive(t, e, c, f)
	before, _ := names(t, c, f.inst)
	// Merge overwrites by name and keeps the current IDs.
	st, out := rawImport(t, e, f.inst, "?type=Merge&datasource_overwrite=true", "ImportAssetRequestBody", archive)
	if st != 200 {
		t.Fatalf("merge %d %v", st, out)
	}
	e.clock.Advance(2 * time.Second)
	if j := jobOf(t, c, f.inst, out["job_id"].(string)); j.Status.Value() != "SUCCEEDED" {
		t.Fatalf("merge job %v", j)
	}
	if after, _ := names(t, c, f.inst); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("merge changed IDs: %v → %v", before, after)
	}
	// A prefix goes in front of application names.
	st, out = rawImport(t, e, f.inst, "?prefix=restored-", "ImportAssetRequestBody", archive)
	e.clock.Advance(2 * time.Second)
	j := jobOf(t, c, f.inst, out["job_id"].(string))
	apps, _ := names(t, c, f.inst)
	if st != 200 || apps["restored-app-0"] == "" || len(*j.Reasons) != 2 {
		t.Fatalf("prefix import %d %v %v (tasks clash by name)", st, apps, j)
	}

	tampered := bytes.Clone(archive)
	tampered[len(tampered)/2] ^= 0xff
	junk := make([]byte, 1024)
	rand.Read(junk)
	huge := make([]byte, 20<<20+1)
	cases := []struct {
		name, query, part string
		data              []byte
	}{
		{"not an archive", "", "ImportAssetRequestBody", junk},
		{"tampered", "", "ImportAssetRequestBody", tampered},
		{"missing part", "", "file", archive},
		{"over 20 MiB", "", "ImportAssetRequestBody", huge},
		{"bad type", "?type=Replace", "ImportAssetRequestBody", archive},
		{"bad overwrite", "?datasource_overwrite=yes", "ImportAssetRequestBody", archive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, out := rawImport(t, e, f.inst, tc.query, tc.part, tc.data)
			if st != 400 || out["error_code"] != "ROMA.13000" {
				t.Fatalf("%d %v", st, out)
			}
		})
	}
	// Through the SDK: a non-archive file is 400; a busy user is ROMA.10012.
	_, err := importFile(c, f.inst, writeTemp(t, "junk.zip", junk))
	wantSDKError(t, err, 400, "ROMA.13000")
	if _, err := c.ExportAsset(&rm.ExportAssetRequest{InstanceId: f.inst, Body: exportBody(f.apps, nil)}); err != nil {
		t.Fatal(err)
	}
	_, err = importFile(c, f.inst, writeTemp(t, "assets.zip", archive))
	wantSDKError(t, err, 400, "ROMA.10012")
	_, err = importFile(c, "nope", writeTemp(t, "assets.zip", archive))
	wantSDKError(t, err, 404, "APIG.3030")
}

func TestROMAArchiveSurvivesRestart(t *testing.T) {
	e := newEnv(t, "empty", nil)
	f := newBackupFixture(e, prod, "")
	c := e.roma(e.akskCred(prod))
	archive := exportArchive(t, e, c, f)
	// A new simulator (as after a console restart) accepts the archive.
	e2 := newEnv(t, "empty", nil)
	inst := e2.create(map[string]any{"service": "roma", "kind": "instance", "project_id": prod})
	c2 := e2.roma(e2.akskCred(prod))
	resp, err := importFile(c2, inst, writeTemp(t, "a.zip", archive))
	if err != nil {
		t.Fatal(err)
	}
	e2.clock.Advance(2 * time.Second)
	apps, tasks := names(t, c2, inst)
	got := append(keys(apps), keys(tasks)...)
	if j := jobOf(t, c2, inst, *resp.JobId); j.Status.Value() != "SUCCEEDED" || len(got) != 5 {
		t.Fatalf("%v %v", j, got)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
