package cloudsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// RecyclePolicy is a project's DMS recycle-bin policy (cloud-api.md §2.7,
// §2.8): one per project for both engines.
type RecyclePolicy struct {
	// RetentionDays (1..7) applies to instances deleted from now on.
	RetentionDays int `json:"retention_days"`
	// DefaultUseRecycle sends deletes that are not forced to the bin.
	DefaultUseRecycle bool `json:"default_use_recycle"`
}

// DefaultRecyclePolicy is a project's policy unless Options seed another:
// recycling off [DOC], 7 days retention [SIM].
var DefaultRecyclePolicy = RecyclePolicy{RetentionDays: 7, DefaultUseRecycle: false}

var (
	rtDMSRecycle       = route{op: "dms.recycle_get", svc: svcDMS, handle: (*Sim).dmsRecycle}
	rtDMSRecyclePolicy = route{op: "dms.recycle_set", svc: svcDMS, handle: (*Sim).dmsRecyclePolicy}
	rtDMSRestore       = route{op: "dms.restore", svc: svcDMS, handle: (*Sim).dmsRestore}
)

// matchRecycle routes /v2/{p}/recycle (cloud-api.md §2.7-§2.9).
func matchRecycle(m string) route {
	switch m {
	case http.MethodGet:
		return rtDMSRecycle
	case http.MethodPut:
		return rtDMSRecyclePolicy
	case http.MethodPost:
		return rtDMSRestore
	}
	return route{}
}

// policy returns project's recycle policy; s.mu held.
func (s *Sim) policy(project string) RecyclePolicy {
	if p, ok := s.st.recycle[project]; ok {
		return p
	}
	if p, ok := s.recycleSeed[project]; ok {
		return p
	}
	return DefaultRecyclePolicy
}

// recycleDay is the length of one retention day.
func recycleDay(f Faults) time.Duration {
	if f.RecycleDayMS == 0 {
		return 24 * time.Hour
	}
	return ms(f.RecycleDayMS)
}

// binOnDelete marks a delete that is starting to end in the bin when the
// policy is on, the delete is not forced and the instance is not
// CREATEFAILED (§2.10); s.mu held.
func (s *Sim) binOnDelete(c *call, d *dmsInst, status string, force bool) {
	p := s.policy(c.project)
	if force || !p.DefaultUseRecycle || status == "CREATEFAILED" {
		return
	}
	d.toBin, d.saveDays = true, p.RetentionDays
	d.binFor = time.Duration(p.RetentionDays) * recycleDay(c.faults)
}

// recycleEntryJSON is one entry of the bin (§2.7). The times are numbers.
type recycleEntryJSON struct {
	InstanceID     string  `json:"instance_id"`
	Status         string  `json:"status"`
	Name           string  `json:"name"`
	Engine         string  `json:"engine"`
	InRecycleTime  int64   `json:"in_recycle_time"`
	SaveTime       int     `json:"save_time"`
	AutoDeleteTime int64   `json:"auto_delete_time"`
	CostPerHour    float64 `json:"cost_per_hour"`
	ErrorMessage   *string `json:"error_message"`
	ProductID      string  `json:"product_id"`
}

// recycleJSON is the bin and policy answer; RecycleInstances is null in
// the answer to a policy change.
type recycleJSON struct {
	RetentionDays     int                 `json:"retention_days"`
	DefaultUseRecycle bool                `json:"default_use_recycle"`
	RecycleInstances  *[]recycleEntryJSON `json:"recycle_instances"`
}

// binned lists project's instances in the bin, newest first, removing
// those purged; s.mu held.
func (s *Sim) binned(project string, now time.Time) []*dmsInst {
	var out, gone []*dmsInst
	for _, d := range s.st.dmsBy[project] {
		v := d.view(now) // a read: it lags writes (read_lag_ms)
		switch _, place := v.current(now); place {
		case placeBin:
			out = append(out, v)
		case placeGone:
			if v == d {
				gone = append(gone, d)
			}
		}
	}
	for _, d := range gone {
		s.st.removeDMS(d)
	}
	slices.SortFunc(out, func(a, b *dmsInst) int { return cmp.Or(b.binAt.Compare(a.binAt), cmp.Compare(a.id, b.id)) })
	return out
}

func (s *Sim) dmsRecycle(c *call) reply {
	p := s.policy(c.project)
	entries := []recycleEntryJSON{}
	for _, d := range s.binned(c.project, c.now) {
		j := d.toJSON(d.status)
		entries = append(entries, recycleEntryJSON{InstanceID: d.id, Status: d.status, Name: d.name, Engine: j.Engine,
			InRecycleTime: d.binAt.UnixMilli(), SaveTime: d.saveDays, AutoDeleteTime: d.purgeAt().UnixMilli(),
			ProductID: j.ProductID})
	}
	return jsonReply(http.StatusOK, recycleJSON{p.RetentionDays, p.DefaultUseRecycle, &entries})
}

// policyChange is the body of a policy change; absent fields keep their
// value.
type policyChange struct {
	RetentionDays     *int  `json:"retention_days"`
	DefaultUseRecycle *bool `json:"default_use_recycle"`
}

// apply validates ch and returns p changed by it, or a message for a 400.
func (ch policyChange) apply(p RecyclePolicy) (RecyclePolicy, string) {
	if ch.RetentionDays != nil {
		if *ch.RetentionDays < 1 || *ch.RetentionDays > 7 {
			return p, "retention_days must be within 1..7"
		}
		p.RetentionDays = *ch.RetentionDays
	}
	if ch.DefaultUseRecycle != nil {
		p.DefaultUseRecycle = *ch.DefaultUseRecycle
	}
	return p, ""
}

func (s *Sim) dmsRecyclePolicy(c *call) reply {
	var ch policyChange
	if err := decodeBody(c.body, &ch); err != nil {
		return svcDMS.badRequest(err.Error())
	}
	if ch.RetentionDays == nil && ch.DefaultUseRecycle == nil {
		return svcDMS.badRequest("give retention_days or default_use_recycle")
	}
	p, msg := ch.apply(s.policy(c.project))
	if msg != "" {
		return svcDMS.badRequest(msg)
	}
	s.st.recycle[c.project] = p
	return jsonReply(http.StatusOK, recycleJSON{p.RetentionDays, p.DefaultUseRecycle, nil})
}

// restoreResult is one entry of a restore answer (§2.9).
type restoreResult struct {
	InstanceID string  `json:"instance_id"`
	JobID      string  `json:"job_id,omitempty"`
	ErrorMsg   *string `json:"error_msg"`
}

// maxRestore is the largest restore request [SIM].
const maxRestore = 50

func (s *Sim) dmsRestore(c *call) reply {
	var b struct {
		Instances *[]string `json:"instances"`
	}
	if err := decodeBody(c.body, &b); err != nil {
		return svcDMS.badRequest(err.Error())
	}
	if b.Instances == nil || len(*b.Instances) == 0 || len(*b.Instances) > maxRestore {
		return svcDMS.badRequest("instances must hold 1 to 50 IDs")
	}
	results := make([]restoreResult, 0, len(*b.Instances))
	for _, id := range *b.Instances {
		res := restoreResult{InstanceID: id}
		d := s.st.dms[id]
		if _, place := s.placeOf(d, c); place != placeBin {
			msg := "instance not in recycle bin: " + id
			res.ErrorMsg = &msg
			results = append(results, res)
			continue
		}
		d.noteWrite(c.now, ms(c.faults.ReadLagMS))
		d.binAt, d.binFor, d.saveDays = time.Time{}, 0, 0
		d.restoreUntil = c.now.Add(ms(c.faults.RestoreDelayMS))
		d.restoreFail = c.faults.RestoreFailureRate > 0 && s.rng.Float64() < c.faults.RestoreFailureRate
		d.charging = 1
		res.JobID = s.hexID()
		results = append(results, res)
	}
	return jsonReply(http.StatusOK, map[string]any{"results": results})
}

// placeOf returns where d (possibly nil) is for the call's project.
func (s *Sim) placeOf(d *dmsInst, c *call) (string, dmsPlace) {
	if d == nil || d.project != c.project {
		return "", placeGone
	}
	status, place := d.current(c.now)
	if place == placeGone {
		s.st.removeDMS(d)
	}
	return status, place
}

// ctlRecycle is PUT /_sim/recycle: the same change as the cloud's policy
// call, for one project.
func (s *Sim) ctlRecycle(body []byte) reply {
	var b struct {
		Service   string `json:"service"`
		ProjectID string `json:"project_id"`
		policyChange
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return controlError(http.StatusBadRequest, "invalid body: "+err.Error())
	}
	if b.Service != "rocketmq" && b.Service != "rabbitmq" {
		return controlError(http.StatusBadRequest, `service must be "rocketmq" or "rabbitmq" (one bin for both)`)
	}
	if b.ProjectID == "" {
		return controlError(http.StatusBadRequest, "project_id is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, msg := b.apply(s.policy(b.ProjectID))
	if msg != "" {
		return controlError(http.StatusBadRequest, msg)
	}
	s.st.recycle[b.ProjectID] = p
	return jsonReply(http.StatusOK, map[string]any{"project_id": b.ProjectID, "retention_days": p.RetentionDays,
		"default_use_recycle": p.DefaultUseRecycle})
}
