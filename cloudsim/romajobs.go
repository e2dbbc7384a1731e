package cloudsim

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

var romaExecStatuses = []string{"UNSTARTED", "WAITING", "RUNNING", "SUCCESS", "CANCELLED", "ERROR"}

// taskFilter parses the ListTasks query; it returns the matching predicate
// and the ordering, or a message for a 400.
func taskFilter(c *call) (func(*romaTask) bool, func(a, b *romaTask) int, string) {
	q := c.r.URL.Query()
	name := q.Get("name") + q.Get("task_name") + q.Get("taks_name")
	status := q.Get("status")
	if status != "" && status != "0" && status != "1" {
		return nil, nil, "invalid status " + strconv.Quote(status) + ": must be 0 or 1"
	}
	typ := q.Get("task_type")
	if typ != "" && typ != "realtime" && typ != "timing" {
		return nil, nil, "invalid task_type " + strconv.Quote(typ) + ": must be realtime or timing"
	}
	exec := q.Get("execute_status")
	if exec != "" && !slices.Contains(romaExecStatuses, exec) {
		return nil, nil, "invalid execute_status " + strconv.Quote(exec)
	}
	field, order := cmp.Or(q.Get("sort_field"), "CREATED_DATE"), cmp.Or(q.Get("sort_type"), "DESC")
	if (field != "CREATED_DATE" && field != "STATUS") || (order != "ASC" && order != "DESC") {
		return nil, nil, "invalid sort_field or sort_type"
	}
	eq := func(want, got string) bool { return want == "" || want == got }
	keep := func(t *romaTask) bool {
		return eq(q.Get("task_id"), t.id) && strings.Contains(t.name, name) &&
			eq(status, strconv.Itoa(int(t.status))) && eq(strings.ToUpper(typ), t.taskType) &&
			eq(exec, t.exec) && eq(q.Get("source_app_id"), t.srcApp) &&
			eq(q.Get("target_app_id"), t.tgtApp) && eq(q.Get("task_tag"), t.tag) &&
			eq(q.Get("source_datasource_id"), "") && eq(q.Get("target_datasource_id"), "")
	}
	less := func(a, b *romaTask) int {
		k := a.created.Compare(b.created)
		if field == "STATUS" {
			k = cmp.Or(cmp.Compare(a.status, b.status), k)
		}
		if order == "DESC" {
			k = -k
		}
		return cmp.Or(k, cmp.Compare(a.id, b.id))
	}
	return keep, less, ""
}

func (s *Sim) romaListTasks(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	q := c.r.URL.Query()
	offset, err := intParam(q, "offset", 0, 0, maxInt)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	limit, err := intParam(q, "limit", 10, 1, 999)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	keep, less, msg := taskFilter(c)
	if msg != "" {
		return svcROMA.badRequest(msg)
	}
	var match []*romaTask
	r.purge(c.now)
	for _, t := range r.tasks {
		if keep(t) {
			match = append(match, t)
		}
	}
	slices.SortFunc(match, less)
	lo, hi := page(len(match), offset, limit)
	out := make([]romaTaskJSON, 0, hi-lo)
	for _, t := range match[lo:hi] {
		out = append(out, t.toJSON(r.id))
	}
	return jsonReply(http.StatusOK, map[string]any{"total": int64(len(match)), "size": len(out), "entities": out})
}

// romaJob is one asset job: a delete processes asset i at
// begin + (i+1)*per; an export or import processes every asset at
// begin + per. advanceJobs applies what is due.
type romaJob struct {
	id, project, instance, user string
	typ                         string // deleteAsset, exportAsset or importAsset
	begin, end                  time.Time
	visible                     time.Time // reads find the job from then on (read_lag_ms)
	per                         time.Duration
	assets                      []jobAsset
	done                        int
	reasons                     []jobReason
	fail                        bool             // export: injected fault, no archive
	manifest                    *archiveManifest // export: the snapshot; import: the archive
	merge                       bool             // import: Merge instead of AddNew
	prefix                      string           // import: put before application names
	archiveID                   string           // export: set once SUCCEEDED
}

// Job types as the job progress call reports them.
const (
	jobDelete = "deleteAsset"
	jobExport = "exportAsset"
	jobImport = "importAsset"
)

type jobAsset struct {
	task     bool
	id, name string
	fail     bool
	idx      int // import: index into the archive's apps or tasks
}

type jobReason struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	ErrorCode    string `json:"error_code"`
	ErrorMsg     string `json:"error_msg"`
}

type jobJSON struct {
	ID              string      `json:"id"`
	Type            string      `json:"type"`
	Status          string      `json:"status"`
	ProgressPercent float64     `json:"progress_percent"`
	Reasons         []jobReason `json:"reasons,omitempty"`
	ArchiveID       string      `json:"archive_id,omitempty"`
	BeginTime       string      `json:"begin_time"`
	EndTime         string      `json:"end_time,omitempty"`
}

const jobRetention = time.Hour

func (j *romaJob) running() bool { return j.done < len(j.assets) }

// dueAt is when asset i is processed.
func (j *romaJob) dueAt(i int) time.Time {
	if j.typ == jobDelete {
		return j.begin.Add(time.Duration(i+1) * j.per)
	}
	return j.begin.Add(j.per)
}

func (j *romaJob) toJSON() jobJSON {
	out := jobJSON{ID: j.id, Type: j.typ, Status: "RUNNING", BeginTime: rfc3339(j.begin), Reasons: j.reasons,
		ProgressPercent: float64(j.done) / float64(len(j.assets))}
	if !j.running() {
		out.Status, out.EndTime, out.ArchiveID = "SUCCEEDED", rfc3339(j.end), j.archiveID
		if len(j.reasons) > 0 {
			out.Status = "FAILED"
		}
	}
	return out
}

// advanceJobs processes every asset whose time has come, oldest job
// first; s.mu held.
func (s *Sim) advanceJobs(now time.Time) {
	jobs := slices.Collect(maps.Values(s.st.active))
	slices.SortFunc(jobs, func(a, b *romaJob) int { return cmp.Or(a.begin.Compare(b.begin), cmp.Compare(a.id, b.id)) })
	for _, j := range jobs {
		for j.running() && !now.Before(j.dueAt(j.done)) {
			s.processAsset(j, j.assets[j.done], now)
			j.done++
		}
		if !j.running() {
			j.end = j.dueAt(len(j.assets) - 1)
			s.finishJob(j)
			delete(s.st.active, j.user+"\x00"+j.project)
		}
	}
}

func (s *Sim) processAsset(j *romaJob, a jobAsset, now time.Time) {
	switch j.typ {
	case jobExport:
		s.exportAsset(j, a)
		return
	case jobImport:
		s.importAsset(j, a)
		return
	}
	kind := "application"
	if a.task {
		kind = "task"
	}
	reason := func(code, msg string) {
		j.reasons = append(j.reasons, jobReason{kind, a.name, code, msg})
	}
	r := s.st.roma[j.instance]
	switch {
	case r == nil:
		reason("APIG.3030", "the instance no longer exists")
	case a.fail:
		reason("ROMA.00000500", "failed to delete the "+kind+": internal error (injected fault)")
	case a.task && !r.removeTask(a.id, now), !a.task && !r.removeApp(a.id, now):
		reason("ROMA.00000404", "the "+kind+" does not exist: "+a.id)
	}
}

type assetRef struct {
	ID *string `json:"id"`
}

// assetList is a parsed {"apps":[{"id"}],"tasks":[{"id"}]} body: 1 to 100
// assets with non-empty IDs (null or missing lists are empty).
type assetList struct{ apps, tasks []string }

func parseAssets(body []byte) (assetList, string) {
	var b struct {
		Apps  []assetRef `json:"apps"`
		Tasks []assetRef `json:"tasks"`
	}
	if err := decodeBody(body, &b); err != nil {
		return assetList{}, err.Error()
	}
	if n := len(b.Apps) + len(b.Tasks); n == 0 || n > 100 {
		return assetList{}, "apps and tasks together must hold 1 to 100 assets"
	}
	var l assetList
	for i, a := range append(slices.Clone(b.Apps), b.Tasks...) {
		if a.ID == nil || *a.ID == "" {
			return assetList{}, "every asset needs a non-empty id"
		}
		if i < len(b.Apps) {
			l.apps = append(l.apps, *a.ID)
		} else {
			l.tasks = append(l.tasks, *a.ID)
		}
	}
	return l, ""
}

func (s *Sim) romaDeleteAssets(c *call) reply {
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
	j := &romaJob{id: s.hexID(), project: c.project, instance: r.id, user: c.cred.User, typ: jobDelete, begin: c.now,
		visible: c.now.Add(ms(c.faults.ReadLagMS)), per: ms(c.faults.ROMAAssetMS)}
	for _, id := range append(slices.Clone(l.apps), l.tasks...) {
		s.countDeleteRequest(id)
	}
	seen := map[string]bool{}
	for i, id := range append(slices.Clone(l.apps), l.tasks...) {
		asset := jobAsset{task: i >= len(l.apps), id: id, name: id}
		// A repeated ID is one accepted delete; its repeat fails as missing.
		if name, kind, ok := r.asset(asset.task, asset.id); ok && !seen[kind+asset.id] {
			seen[kind+asset.id] = true
			asset.name, asset.fail = name, s.failDelete(c.faults)
			s.recordDelete(deleteRecord{Service: "roma", Kind: kind, ProjectID: c.project, ID: asset.id}, c.now)
			r.written(asset.task, asset.id, c.now, c.faults.ReadLagMS)
		}
		j.assets = append(j.assets, asset)
	}
	s.startJob(j)
	return jsonReply(http.StatusOK, map[string]string{"job_id": j.id})
}

// startJob registers j as its user's running job; s.mu held.
func (s *Sim) startJob(j *romaJob) {
	s.expireJobs(j.begin)
	s.st.jobs[j.id] = j
	s.st.active[j.user+"\x00"+j.project] = j
	s.advanceJobs(j.begin)
}

// busy reports whether the call's user has an asset job running; s.mu
// held, jobs advanced.
func (s *Sim) busy(c *call) bool { return s.st.active[c.cred.User+"\x00"+c.project] != nil }

func errBusy() reply {
	return errReply(svcROMA, http.StatusBadRequest, "ROMA.10012", "An asset management task is running")
}

// expireJobs forgets jobs finished more than jobRetention ago; s.mu held.
func (s *Sim) expireJobs(now time.Time) {
	for id, j := range s.st.jobs {
		if !j.running() && now.Sub(j.end) > jobRetention {
			delete(s.st.jobs, id)
		}
	}
}

func (s *Sim) romaJob(c *call) reply {
	s.advanceJobs(c.now)
	r := s.st.roma[c.args[0]]
	if r == nil || r.project != c.project {
		return romaInstanceNotFound(c.args[0])
	}
	j := s.st.jobs[c.args[1]]
	// Until its read lag ends, a read finds the job as before it was created: not at all.
	if j == nil || j.instance != r.id || c.now.Before(j.visible) || (!j.running() && c.now.Sub(j.end) > jobRetention) {
		return errReply(svcROMA, http.StatusNotFound, "ROMA.00000404", "The job does not exist: "+c.args[1])
	}
	return jsonReply(http.StatusOK, j.toJSON())
}

// written notes a write of one asset at now (its read lag).
func (r *romaInst) written(task bool, id string, now time.Time, lagMS int) {
	if task {
		r.taskByID[id].written(now, lagMS)
	} else {
		r.appByID[id].written(now, lagMS)
	}
}

// asset returns the name and kind ("app" or "task") of one asset.
func (r *romaInst) asset(task bool, id string) (name, kind string, ok bool) {
	if task {
		if t := r.taskByID[id]; t != nil {
			return t.name, "task", true
		}
	} else if a := r.appByID[id]; a != nil {
		return a.name, "app", true
	}
	return "", "", false
}
