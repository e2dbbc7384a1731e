package cloudsim

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// state is every simulated resource. All of it is guarded by Sim.mu.
// Lifecycle is computed from timestamps when a resource is read (see the
// current methods), so no goroutine moves resources along.
type state struct {
	dms    map[string]*dmsInst   // one ID space for both engines
	dmsBy  map[string][]*dmsInst // by project: created_at desc, then id
	roma   map[string]*romaInst
	romaBy map[string][]*romaInst // by project: creation order
	cdc    map[string]*cdcInst
	cdcBy  map[string][]*cdcInst // by project: created_at asc, then id
	jobs   map[string]*romaJob
	active map[string]*romaJob // user + "\x00" + project → its RUNNING job
}

func newState() *state {
	return &state{
		dms: map[string]*dmsInst{}, dmsBy: map[string][]*dmsInst{},
		roma: map[string]*romaInst{}, romaBy: map[string][]*romaInst{},
		cdc: map[string]*cdcInst{}, cdcBy: map[string][]*cdcInst{},
		jobs: map[string]*romaJob{}, active: map[string]*romaJob{},
	}
}

// dmsInst is a RocketMQ or RabbitMQ instance.
type dmsInst struct {
	id, project, name string
	rabbit            bool
	status            string // status at rest; "DELETING" is derived from deleteAt
	createdMS         int64
	charging          int32
	variant           uint8 // picks version, type and specification
	storage, used     int32
	epid              string
	vpc, subnet, sg   string
	deleteAt          time.Time // non-zero while DELETING
	deleteFail        bool      // at deleteAt, fall back to status instead of vanishing
	lag               lag[string]
}

func (d *dmsInst) service() string {
	if d.rabbit {
		return "rabbitmq"
	}
	return "rocketmq"
}

// current returns the instance's status at now, or gone once a delete has
// finished.
func (d *dmsInst) current(now time.Time) (status string, gone bool) {
	switch {
	case d.deleteAt.IsZero():
		return d.status, false
	case now.Before(d.deleteAt):
		return "DELETING", false
	case d.deleteFail:
		d.deleteAt, d.deleteFail = time.Time{}, false
		return d.status, false
	}
	return "", true
}

func (st *state) addDMS(d *dmsInst) {
	st.dms[d.id] = d
	list := st.dmsBy[d.project]
	i, _ := slices.BinarySearchFunc(list, d, cmpDMS)
	st.dmsBy[d.project] = slices.Insert(list, i, d)
}

func (st *state) removeDMS(d *dmsInst) {
	delete(st.dms, d.id)
	st.dmsBy[d.project] = slices.DeleteFunc(st.dmsBy[d.project], func(x *dmsInst) bool { return x == d })
}

func cmpDMS(a, b *dmsInst) int {
	return cmp.Or(cmp.Compare(b.createdMS, a.createdMS), cmp.Compare(a.id, b.id))
}

// cdcInst is a CloudDC bare-metal instance.
type cdcInst struct {
	id, project, name, serverID string
	state, opState, errType     string // at rest; shutting-down/terminated derive from deleteAt
	created, updated            time.Time
	launched                    bool
	image                       uint8
	vpc, subnet, ip             string
	deleteAt                    time.Time // shutting-down until deleteAt, then terminated
	deleteFail                  bool      // at deleteAt go to error instead of terminated
	lag                         lag[cdcView]
}

// cdcView is an instance's state at one moment.
type cdcView struct {
	state, opState, errType string
	updated                 time.Time
}

// current returns the state at now, or gone once a terminated instance has
// outlived retention.
func (c *cdcInst) current(now time.Time, retention time.Duration) (cdcView, bool) {
	switch {
	case c.deleteAt.IsZero():
		return cdcView{c.state, c.opState, c.errType, c.updated}, false
	case now.Before(c.deleteAt):
		return cdcView{"shutting-down", "uninstall-processing", "", c.updated}, false
	case c.deleteFail:
		c.state, c.opState, c.errType = "error", "uninstall-failed", "delete_instance_error"
		c.updated, c.deleteAt, c.deleteFail = c.deleteAt, time.Time{}, false
		return cdcView{c.state, c.opState, c.errType, c.updated}, false
	case now.Before(c.deleteAt.Add(retention)):
		return cdcView{"terminated", "uninstall-succeed", "", c.deleteAt}, false
	}
	return cdcView{}, true
}

func (st *state) addCDC(c *cdcInst) {
	st.cdc[c.id] = c
	list := st.cdcBy[c.project]
	i, _ := slices.BinarySearchFunc(list, c, cmpCDC)
	st.cdcBy[c.project] = slices.Insert(list, i, c)
}

func (st *state) removeCDC(c *cdcInst) {
	delete(st.cdc, c.id)
	st.cdcBy[c.project] = slices.DeleteFunc(st.cdcBy[c.project], func(x *cdcInst) bool { return x == c })
}

func cmpCDC(a, b *cdcInst) int {
	return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.id, b.id))
}

// romaInst is a ROMA Connect instance with its integration apps and
// data-integration tasks.
type romaInst struct {
	id, project, name, status string
	flavor                    uint8
	created                   time.Time
	apps                      []*romaApp // creation order
	appByID                   map[string]*romaApp
	tasks                     []*romaTask
	taskByID                  map[string]*romaTask
}

type romaApp struct {
	id, name, remark, key, creator string
	created                        time.Time
	owner, favorite                bool
	shadow                         // deleted but still listed while its read lag lasts
}

type romaTask struct {
	id, name, taskType, exec string // taskType REALTIME|TIMING
	srcApp, tgtApp, tag      string
	status                   int32
	created                  time.Time
	modifiedMS               int64
	shadow                   // deleted but still listed while its read lag lasts
}

func (st *state) addROMA(r *romaInst) {
	r.appByID, r.taskByID = map[string]*romaApp{}, map[string]*romaTask{}
	st.roma[r.id] = r
	st.romaBy[r.project] = append(st.romaBy[r.project], r)
}

func (r *romaInst) addApp(a *romaApp) {
	r.apps = append(r.apps, a)
	r.appByID[a.id] = a
}

func (r *romaInst) addTask(t *romaTask) {
	r.tasks = append(r.tasks, t)
	r.taskByID[t.id] = t
}

// removeApp deletes an app at now. While a read lag of the app lasts it
// stays in the list, marked gone, so that reads still show it.
func (r *romaInst) removeApp(id string, now time.Time) bool {
	a := r.appByID[id]
	if a == nil {
		return false
	}
	delete(r.appByID, id)
	a.gone = true
	r.purge(now)
	return true
}

func (r *romaInst) removeTask(id string, now time.Time) bool {
	t := r.taskByID[id]
	if t == nil {
		return false
	}
	delete(r.taskByID, id)
	t.gone = true
	r.purge(now)
	return true
}

// purge drops the deleted assets no read shows any more.
func (r *romaInst) purge(now time.Time) {
	r.apps = slices.DeleteFunc(r.apps, func(a *romaApp) bool { return !a.shows(now) })
	r.tasks = slices.DeleteFunc(r.tasks, func(t *romaTask) bool { return !t.shows(now) })
}

// stats counts cloud calls and accepted deletes since the last reset.
type stats struct {
	Total      int                       `json:"total"`
	ByOp       map[string]int            `json:"by_operation"`
	ByStatus   map[string]int            `json:"by_status"`
	ByOpStatus map[string]map[string]int `json:"by_operation_status"`
	Deletes    []deleteRecord            `json:"deletes"`
	// DeleteRequestsByID counts, per resource ID, the delete requests that
	// named it and reached the service (past auth, rate limit, injected
	// errors and ROMA's one-job rule), accepted or not.
	DeleteRequestsByID map[string]int `json:"delete_requests_by_id"`
}

// deleteRecord is one accepted delete of one resource.
type deleteRecord struct {
	Service   string `json:"service"`
	Kind      string `json:"kind"`
	ProjectID string `json:"project_id"`
	ID        string `json:"id"`
	At        string `json:"at"`
	Force     bool   `json:"force_delete,omitempty"` // DMS batch force_delete
}

func newStats() stats {
	return stats{ByOp: map[string]int{}, ByStatus: map[string]int{}, ByOpStatus: map[string]map[string]int{},
		Deletes: []deleteRecord{}, DeleteRequestsByID: map[string]int{}}
}

func (s *Sim) record(op string, status int) {
	code := strconv.Itoa(status)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Total++
	s.stats.ByStatus[code]++
	s.stats.ByOp[op]++
	m := s.stats.ByOpStatus[op]
	if m == nil {
		m = map[string]int{}
		s.stats.ByOpStatus[op] = m
	}
	m[code]++
}

// recordDelete notes an accepted delete; s.mu held.
func (s *Sim) recordDelete(d deleteRecord, now time.Time) {
	d.At = now.UTC().Format(time.RFC3339Nano)
	s.stats.Deletes = append(s.stats.Deletes, d)
}
