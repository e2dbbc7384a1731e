package cloudsim

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ROMA asset export, archive download and import (cloud-api.md §3.8-§3.12).

var (
	rtROMAExport   = route{op: "roma.export", svc: svcROMA, handle: (*Sim).romaExport}
	rtROMAImport   = route{op: "roma.import", svc: svcROMA, handle: (*Sim).romaImport}
	rtROMADownload = route{op: "roma.download_archive", svc: svcROMA, handle: (*Sim).romaDownload}
)

const (
	// maxImportBytes is the largest archive an import takes [SIM].
	maxImportBytes = 20 << 20
	// maxImportBody bounds the whole multipart request body read.
	maxImportBody = maxImportBytes + 1<<20
	// archiveRetention is how long an archive can be downloaded.
	archiveRetention = time.Hour
	archiveFormat    = "cloudsim-roma-assets/1"
	importPart       = "ImportAssetRequestBody"
	instanceGone     = "the instance no longer exists"
)

// archiveKey authenticates archives: an import takes only what some
// simulator exported, also after a restart.
var archiveKey = []byte("decom cloudsim ROMA asset archive v1")

// matchROMABackup routes …/instances/{id}/assets/{export|import} and
// …/assets/archives/{archive}; rest starts after "instances".
func matchROMABackup(m string, rest []string) (route, []string) {
	switch {
	case len(rest) == 3 && rest[2] == "export" && m == http.MethodPost:
		return rtROMAExport, rest[:1]
	case len(rest) == 3 && rest[2] == "import" && m == http.MethodPost:
		return rtROMAImport, rest[:1]
	case len(rest) == 4 && rest[2] == "archives" && m == http.MethodGet:
		return rtROMADownload, []string{rest[0], rest[3]}
	}
	return route{}, nil
}

// archiveManifest is an archive's content: a snapshot of apps and tasks
// with every field the list calls return.
type archiveManifest struct {
	Format     string         `json:"format"`
	ProjectID  string         `json:"project_id"`
	InstanceID string         `json:"instance_id"`
	ExportedAt string         `json:"exported_at"`
	Apps       []romaAppJSON  `json:"apps"`
	Tasks      []romaTaskJSON `json:"tasks"`
}

// romaArchive is one export's downloadable result.
type romaArchive struct {
	project, instance string
	created           time.Time
	data              []byte
	downloaded        bool
}

// rawBody is an answer body that is not JSON (an archive download).
type rawBody struct {
	contentType string
	data        []byte
}

func (s *Sim) romaExport(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	l, msg := parseAssets(c.body)
	if msg != "" {
		return svcROMA.badRequest(msg)
	}
	if s.busy(c) {
		return errBusy()
	}
	j := &romaJob{id: s.hexID(), project: c.project, instance: r.id, user: c.cred.User, typ: jobExport, begin: c.now,
		per:  ms(c.faults.ExportDelayMS),
		fail: c.faults.ExportFailureRate > 0 && s.rng.Float64() < c.faults.ExportFailureRate,
		manifest: &archiveManifest{Format: archiveFormat, ProjectID: c.project, InstanceID: r.id,
			Apps: []romaAppJSON{}, Tasks: []romaTaskJSON{}}}
	for i, id := range append(slices.Clone(l.apps), l.tasks...) {
		j.assets = append(j.assets, jobAsset{task: i >= len(l.apps), id: id, name: id})
	}
	s.startJob(j)
	return jsonReply(http.StatusOK, map[string]string{"job_id": j.id})
}

// exportAsset snapshots one asset into the job's manifest, or notes it
// missing.
func (s *Sim) exportAsset(j *romaJob, a jobAsset) {
	r := s.st.roma[j.instance]
	m := j.manifest
	switch {
	case r == nil:
		j.reasons = append(j.reasons, jobReason{assetType(a.task), a.name, "APIG.3030", instanceGone})
	case a.task && r.taskByID[a.id] != nil:
		if !slices.ContainsFunc(m.Tasks, func(t romaTaskJSON) bool { return t.TaskID == a.id }) {
			m.Tasks = append(m.Tasks, r.taskByID[a.id].toJSON(r.id))
		}
	case !a.task && r.appByID[a.id] != nil:
		if !slices.ContainsFunc(m.Apps, func(x romaAppJSON) bool { return x.ID == a.id }) {
			m.Apps = append(m.Apps, r.appByID[a.id].toJSON())
		}
	default:
		j.reasons = append(j.reasons, jobReason{assetType(a.task), a.id, "ROMA.00000404",
			"the " + assetType(a.task) + " does not exist: " + a.id})
	}
}

func assetType(task bool) string {
	if task {
		return "task"
	}
	return "application"
}

// finishJob completes a job that has processed its last asset: a
// successful export stores its archive; s.mu held.
func (s *Sim) finishJob(j *romaJob) {
	if j.typ != jobExport {
		j.manifest = nil
		return
	}
	if j.fail && len(j.reasons) == 0 {
		a := j.assets[0]
		j.reasons = append(j.reasons, jobReason{assetType(a.task), a.name, "ROMA.00000500",
			"export failed: internal error (injected fault)"})
	}
	if len(j.reasons) == 0 {
		j.manifest.ExportedAt = rfc3339(j.end)
		data, err := buildArchive(*j.manifest, j.end)
		if err != nil {
			j.reasons = append(j.reasons, jobReason{"application", "", "ROMA.00000500",
				"export failed: " + err.Error()})
		} else {
			j.archiveID = s.hexID()
			s.st.archives[j.archiveID] = &romaArchive{project: j.project, instance: j.instance, created: j.end,
				data: data}
		}
	}
	j.manifest = nil
}

// buildArchive writes the manifest and its MAC into a zip.
func buildArchive(m archiveManifest, at time.Time) ([]byte, error) {
	body, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, archiveKey)
	mac.Write(body)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", body}, {"manifest.hmac", []byte(hex.EncodeToString(mac.Sum(nil)))}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: at.UTC()})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseArchive reads and authenticates an archive built by buildArchive.
func parseArchive(data []byte) (archiveManifest, error) {
	var m archiveManifest
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return m, errors.New("the file is not a zip archive")
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.UncompressedSize64 > maxImportBytes {
			return m, errors.New("archive entry too large")
		}
		rc, err := f.Open()
		if err != nil {
			return m, errors.New("unreadable archive entry " + f.Name)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxImportBytes+1))
		rc.Close()
		if err != nil {
			return m, errors.New("unreadable archive entry " + f.Name)
		}
		files[f.Name] = b
	}
	mac := hmac.New(sha256.New, archiveKey)
	mac.Write(files["manifest.json"])
	got, err := hex.DecodeString(string(files["manifest.hmac"]))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return m, errors.New("not an asset archive exported by ROMA Connect")
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Format != archiveFormat {
		return m, errors.New("unsupported asset archive format")
	}
	if n := len(m.Apps) + len(m.Tasks); n == 0 || n > 100 {
		return m, fmt.Errorf("an archive holds 1 to 100 assets, this one %d", n)
	}
	return m, nil
}

func (s *Sim) romaDownload(c *call) reply {
	s.advanceJobs(c.now)
	r := s.st.roma[c.args[0]]
	if r == nil || r.project != c.project {
		return romaInstanceNotFound(c.args[0])
	}
	a := s.st.archives[c.args[1]]
	if a == nil || a.instance != r.id || a.downloaded || c.now.Sub(a.created) > archiveRetention {
		return errReply(svcROMA, http.StatusNotFound, "ROMA.00000404",
			"The archive does not exist, has expired or was already downloaded: "+c.args[1])
	}
	a.downloaded = true
	data := a.data
	a.data = nil
	return reply{status: http.StatusOK, body: rawBody{"application/octet-stream", data},
		header: map[string]string{"Content-Disposition": `attachment; filename="` + c.args[1] + `.zip"`}}
}

// importQuery is the parsed query of an import: type, prefix and
// datasource_overwrite, which the SDK cannot send but the API defines.
func importQuery(c *call) (merge bool, prefix string, msg string) {
	q := c.r.URL.Query()
	switch q.Get("type") {
	case "", "AddNew":
	case "Merge":
		merge = true
	default:
		return false, "", "invalid type " + strconv.Quote(q.Get("type")) + ": must be AddNew or Merge"
	}
	if _, err := boolParam(q, "datasource_overwrite"); err != nil {
		return false, "", err.Error()
	}
	return merge, q.Get("prefix"), ""
}

// importFile returns the archive part of a multipart import body.
func importFile(c *call) ([]byte, string) {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "the body must be multipart/form-data with a part " + importPart
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, "missing part " + importPart
		}
		if p.FormName() != importPart {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, maxImportBytes+1))
		switch {
		case err != nil:
			return nil, "unreadable part " + importPart
		case len(data) > maxImportBytes:
			return nil, "the archive exceeds 20 MiB"
		}
		return data, ""
	}
}

func (s *Sim) romaImport(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	merge, prefix, msg := importQuery(c)
	if msg != "" {
		return svcROMA.badRequest(msg)
	}
	if len(c.body) >= maxImportBody {
		return svcROMA.badRequest("the archive exceeds 20 MiB")
	}
	data, msg := importFile(c)
	if msg != "" {
		return svcROMA.badRequest(msg)
	}
	m, err := parseArchive(data)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	if s.busy(c) {
		return errBusy()
	}
	j := &romaJob{id: s.hexID(), project: c.project, instance: r.id, user: c.cred.User, typ: jobImport, begin: c.now,
		per: ms(c.faults.ImportDelayMS), manifest: &m, merge: merge, prefix: prefix}
	for i, a := range m.Apps {
		j.assets = append(j.assets, jobAsset{id: a.ID, name: prefix + a.Name, idx: i})
	}
	for i, t := range m.Tasks {
		j.assets = append(j.assets, jobAsset{task: true, id: t.TaskID, name: t.TaskName, idx: i})
	}
	s.startJob(j)
	return jsonReply(http.StatusOK, map[string]string{"job_id": j.id})
}

// importAsset creates (or, with Merge, overwrites by name) one archived
// asset in the job's instance; a name clash under AddNew is a reason.
func (s *Sim) importAsset(j *romaJob, a jobAsset) {
	r := s.st.roma[j.instance]
	if r == nil {
		j.reasons = append(j.reasons, jobReason{assetType(a.task), a.name, "APIG.3030", instanceGone})
		return
	}
	if a.task {
		s.importTask(j, r, j.manifest.Tasks[a.idx])
		return
	}
	s.importApp(j, r, j.manifest.Apps[a.idx], a.name)
}

func (s *Sim) importApp(j *romaJob, r *romaInst, src romaAppJSON, name string) {
	i := slices.IndexFunc(r.apps, func(x *romaApp) bool { return x.name == name })
	if i >= 0 && !j.merge {
		j.reasons = append(j.reasons, jobReason{"application", name, "ROMA.00000409",
			"an application named " + name + " already exists"})
		return
	}
	app := &romaApp{name: name, remark: src.Remark, key: src.Key, creator: src.CreatedUser.UserName,
		created: parseRFC3339(src.CreateTime, j.end), owner: src.Owner, favorite: src.Favorite}
	if i >= 0 {
		app.id = r.apps[i].id
		r.apps[i], r.appByID[app.id] = app, app
		return
	}
	app.id = s.freeID(j.project, src.ID)
	r.addApp(app)
}

func (s *Sim) importTask(j *romaJob, r *romaInst, src romaTaskJSON) {
	i := slices.IndexFunc(r.tasks, func(x *romaTask) bool { return x.name == src.TaskName })
	if i >= 0 && !j.merge {
		j.reasons = append(j.reasons, jobReason{"task", src.TaskName, "ROMA.00000409",
			"a task named " + src.TaskName + " already exists"})
		return
	}
	t := &romaTask{name: src.TaskName, taskType: src.TaskType, exec: "UNSTARTED", srcApp: src.SourceAppID,
		tgtApp: src.TargetAppID, tag: src.TaskTag, epid: src.EnterpriseProjectID, status: 0,
		created: parseRFC3339(src.CreatedDate, j.end), modifiedMS: j.end.UnixMilli()}
	if i >= 0 {
		t.id = r.tasks[i].id
		r.tasks[i], r.taskByID[t.id] = t, t
		return
	}
	t.id = s.freeID(j.project, src.TaskID)
	r.addTask(t)
}

// freeID returns id if no app or task of project has it, else a new one.
func (s *Sim) freeID(project, id string) string {
	for _, r := range s.st.romaBy[project] {
		if r.appByID[id] != nil || r.taskByID[id] != nil {
			return s.hexID()
		}
	}
	if id == "" {
		return s.hexID()
	}
	return id
}

func parseRFC3339(v string, def time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	return def
}
