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
	// recycle holds the DMS recycle policies changed since the reset.
	recycle map[string]RecyclePolicy
	// archives are the ROMA export archives by archive ID.
	archives map[string]*romaArchive
}

func newState() *state {
	return &state{
		dms: map[string]*dmsInst{}, dmsBy: map[string][]*dmsInst{},
		roma: map[string]*romaInst{}, romaBy: map[string][]*romaInst{},
		cdc: map[string]*cdcInst{}, cdcBy: map[string][]*cdcInst{},
		jobs: map[string]*romaJob{}, active: map[string]*romaJob{},
		recycle: map[string]RecyclePolicy{}, archives: map[string]*romaArchive{},
	}
}

// dmsInst is a RocketMQ or RabbitMQ instance.
type dmsInst struct {
	id, project, name string
	rabbit            bool
	status            string // status at rest; DELETING and STARTING are derived from the timers
	createdMS         int64
	charging          int32
	variant           uint8 // picks version, type and specification
	storage, used     int32
	epid              string
	tags              []tag
	vpc, subnet, sg   string
	deleteAt          time.Time // non-zero while DELETING
	deleteFail        bool      // at deleteAt, fall back to status instead of vanishing
	// The recycle bin (cloud-api.md §2.10): a delete that started with toBin
	// set enters the bin at deleteAt for binFor (saveDays retention days).
	toBin        bool
	saveDays     int
	binFor       time.Duration
	binAt        time.Time // in_recycle_time; non-zero while in the bin
	restoreUntil time.Time // STARTING until then, after a restore
	restoreFail  bool      // at restoreUntil go to ERROR instead of status
	gone         bool      // deleted for good
	// Read lag (read_lag_ms): until lagUntil, reads see lagSnap, a copy of
	// the instance from before the write that started the lag.
	lagUntil time.Time
	lagSnap  *dmsInst
}

// dmsPlace is where an instance is: live (list and show see it), in the
// recycle bin, or gone for good.
type dmsPlace int

const (
	placeLive dmsPlace = iota
	placeBin
	placeGone
)

func (d *dmsInst) service() string {
	if d.rabbit {
		return "rabbitmq"
	}
	return "rocketmq"
}

// purgeAt is the bin entry's auto_delete_time.
func (d *dmsInst) purgeAt() time.Time { return d.binAt.Add(d.binFor) }

// current applies what is due at now (a delete finished or failed, a bin
// entry purged, a restore finished) and returns the status and place.
func (d *dmsInst) current(now time.Time) (string, dmsPlace) {
	if !d.deleteAt.IsZero() && !now.Before(d.deleteAt) {
		switch {
		case d.deleteFail:
		case d.toBin:
			d.binAt = d.deleteAt
		default:
			d.gone = true
		}
		d.deleteAt, d.deleteFail, d.toBin = time.Time{}, false, false
	}
	if !d.binAt.IsZero() && !now.Before(d.purgeAt()) {
		d.gone = true
	}
	if !d.restoreUntil.IsZero() && !now.Before(d.restoreUntil) {
		if d.restoreFail {
			d.status = "ERROR"
		}
		d.restoreUntil, d.restoreFail = time.Time{}, false
	}
	switch {
	case d.gone:
		return "", placeGone
	case !d.binAt.IsZero():
		return d.status, placeBin
	case !d.deleteAt.IsZero():
		return "DELETING", placeLive
	case !d.restoreUntil.IsZero():
		return "STARTING", placeLive
	}
	return d.status, placeLive
}

// setStatus puts a live instance in status at once, as if the cloud had
// moved it there; DELETING starts a delete that ends in removal.
func (d *dmsInst) setStatus(status string, now time.Time, deleteDelay time.Duration) {
	d.deleteAt, d.deleteFail, d.toBin = time.Time{}, false, false
	d.restoreUntil, d.restoreFail = time.Time{}, false
	if status == "DELETING" {
		d.deleteAt = now.Add(deleteDelay)
		return
	}
	d.status = status
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
	tags                        []tag
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
	epid                      string
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
	epid                     string
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
	// DeleteCalls lists the request ID of every delete call (§1.5).
	DeleteCalls []deleteCall `json:"delete_calls"`
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
	Recycled  bool   `json:"recycled,omitempty"`     // DMS: the delete ends in the recycle bin
}

func newStats() stats {
	return stats{ByOp: map[string]int{}, ByStatus: map[string]int{}, ByOpStatus: map[string]map[string]int{},
		Deletes: []deleteRecord{}, DeleteCalls: []deleteCall{}, DeleteRequestsByID: map[string]int{}}
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
