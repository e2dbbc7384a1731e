package cloudsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// resourcePatch is the PATCH /_sim/resources/{id} body: fields left out
// keep their value; tags replaces the whole list.
type resourcePatch struct {
	Status              *string `json:"status"`
	Tags                *[]tag  `json:"tags"`
	EnterpriseProjectID *string `json:"enterprise_project_id"`
}

// ctlPatch changes one resource at once, as if the cloud had done it, and
// answers it as GET /_sim/resources shows it.
func (s *Sim) ctlPatch(id string, body []byte) reply {
	var p resourcePatch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return controlError(http.StatusBadRequest, "invalid body: "+err.Error())
	}
	if p.Status == nil && p.Tags == nil && p.EnterpriseProjectID == nil {
		return controlError(http.StatusBadRequest, "nothing to change: give status, tags or enterprise_project_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advanceJobs(now)
	var err error
	switch {
	case s.st.dms[id] != nil:
		err = s.patchDMS(s.st.dms[id], p, now)
	case s.st.cdc[id] != nil:
		err = s.patchCDC(s.st.cdc[id], p, now)
	case s.st.roma[id] != nil:
		err = patchROMA(s.st.roma[id], p)
	default:
		r, task := s.st.assetOwner(id)
		if r == nil {
			return controlError(http.StatusNotFound, "no resource with id "+id)
		}
		err = patchAsset(r, id, task, p)
	}
	var gone errGone
	switch {
	case errors.As(err, &gone):
		return controlError(http.StatusNotFound, err.Error())
	case err != nil:
		return controlError(http.StatusBadRequest, err.Error())
	}
	for _, r := range s.dumpLocked() {
		if r.ID == id {
			return jsonReply(http.StatusOK, r)
		}
	}
	return controlError(http.StatusNotFound, "no resource with id "+id)
}

// errGone is a resource whose lifecycle has already removed it.
type errGone string

func (e errGone) Error() string { return "no resource with id " + string(e) + " (it has been deleted)" }

// checkPatch validates the tags and enterprise project of p for a resource.
func checkPatch(service, kind string, p resourcePatch) error {
	if p.Tags != nil {
		if err := checkTags(service, *p.Tags); err != nil {
			return err
		}
	}
	if p.EnterpriseProjectID != nil {
		return checkEnterpriseProject(service, kind, *p.EnterpriseProjectID)
	}
	return nil
}

func (s *Sim) patchDMS(d *dmsInst, p resourcePatch, now time.Time) error {
	if err := checkPatch(d.service(), "instance", p); err != nil {
		return err
	}
	_, place := d.current(now)
	if place == placeGone {
		s.st.removeDMS(d)
		return errGone(d.id)
	}
	if p.Status != nil {
		if !slices.Contains(dmsStatuses, *p.Status) {
			return fmt.Errorf("unknown DMS status %q", *p.Status)
		}
		if place == placeBin {
			return fmt.Errorf("instance %s is in the recycle bin: restore it before changing its status", d.id)
		}
		d.setStatus(*p.Status, now, ms(s.faults.DMSDeleteDelayMS))
	}
	if p.Tags != nil {
		d.tags = slices.Clone(*p.Tags)
	}
	if p.EnterpriseProjectID != nil {
		d.epid = *p.EnterpriseProjectID
	}
	return nil
}

func (s *Sim) patchCDC(c *cdcInst, p resourcePatch, now time.Time) error {
	if err := checkPatch("clouddc", "instance", p); err != nil {
		return err
	}
	if _, gone := c.current(now, ms(s.faults.TerminatedRetentionMS)); gone {
		s.st.removeCDC(c)
		return errGone(c.id)
	}
	if p.Status != nil {
		if !slices.Contains(cdcStates, *p.Status) {
			return fmt.Errorf("unknown CloudDC state %q", *p.Status)
		}
		c.setState(*p.Status, now, ms(s.faults.CloudDCDeleteDelayMS))
	}
	if p.Tags != nil {
		c.tags = slices.Clone(*p.Tags)
	}
	return nil
}

func patchROMA(r *romaInst, p resourcePatch) error {
	if err := checkPatch("roma", "instance", p); err != nil {
		return err
	}
	if p.Status != nil {
		if !slices.Contains(romaStatuses, *p.Status) {
			return fmt.Errorf("unknown ROMA instance status %q", *p.Status)
		}
		r.status = *p.Status
	}
	if p.EnterpriseProjectID != nil {
		r.epid = *p.EnterpriseProjectID
	}
	return nil
}

func patchAsset(r *romaInst, id string, task bool, p resourcePatch) error {
	kind := "app"
	if task {
		kind = "task"
	}
	if err := checkPatch("roma", kind, p); err != nil {
		return err
	}
	if !task {
		if p.Status != nil {
			return fmt.Errorf("apps have no status")
		}
		return nil
	}
	t := r.taskByID[id]
	if p.Status != nil {
		switch *p.Status {
		case "0":
			t.status = 0
		case "1":
			t.status = 1
		default:
			return fmt.Errorf("unknown task status %q: want 0 or 1", *p.Status)
		}
	}
	if p.EnterpriseProjectID != nil {
		t.epid = *p.EnterpriseProjectID
	}
	return nil
}

// assetOwner finds the ROMA instance holding the app or task with id.
func (st *state) assetOwner(id string) (r *romaInst, task bool) {
	for _, r := range st.roma {
		if r.appByID[id] != nil {
			return r, false
		}
		if r.taskByID[id] != nil {
			return r, true
		}
	}
	return nil, false
}
