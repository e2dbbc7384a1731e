package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

func isControl(path string) bool { return path == "/_sim" || strings.HasPrefix(path, "/_sim/") }

func controlError(status int, msg string) reply {
	return reply{status: status, body: &apiError{Code: fmt.Sprintf("SIM.%04d", status), Msg: msg}}
}

// serveControl serves the /_sim/ control API (cloudsim-control.md). It needs
// no credentials and is not counted in the stats.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var rep reply
	switch key := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/"); {
	case err != nil:
		rep = controlError(http.StatusBadRequest, "cannot read body")
	case key == "POST /_sim/reset":
		rep = s.ctlReset(body)
	case key == "POST /_sim/resources":
		rep = s.ctlCreate(body)
	case key == "GET /_sim/resources":
		rep = s.ctlResources()
	case strings.HasPrefix(key, "PATCH /_sim/resources/"):
		rep = s.ctlPatch(strings.TrimPrefix(key, "PATCH /_sim/resources/"), body)
	case key == "PUT /_sim/recycle":
		rep = s.ctlRecycle(body)
	case key == "PUT /_sim/faults":
		rep = s.ctlSetFaults(body)
	case key == "GET /_sim/faults":
		s.mu.Lock()
		rep = jsonReply(http.StatusOK, s.faults)
		s.mu.Unlock()
	case key == "PUT /_sim/deny":
		rep = s.ctlDeny(body)
	case key == "GET /_sim/deny":
		s.mu.Lock()
		rep = jsonReply(http.StatusOK, map[string]any{"deny": s.denyLocked()})
		s.mu.Unlock()
	case key == "GET /_sim/stats":
		rep = s.ctlStats()
	default:
		rep = controlError(http.StatusNotFound, "no such control endpoint: "+key)
	}
	writeReply(w, w.Header().Get("X-Request-Id"), rep)
}

func (s *Sim) ctlReset(body []byte) reply {
	var b struct {
		Fleet string `json:"fleet"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &b); err != nil {
			return controlError(http.StatusBadRequest, "invalid body: "+err.Error())
		}
	}
	switch b.Fleet {
	case "":
		b.Fleet = "demo"
	case "demo", "empty":
	default:
		return controlError(http.StatusBadRequest, `fleet must be "demo" or "empty"`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked(b.Fleet)
	return jsonReply(http.StatusOK, map[string]any{"fleet": b.Fleet, "resources": len(s.dumpLocked())})
}

func (s *Sim) ctlSetFaults(body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return controlError(http.StatusBadRequest, "invalid faults: "+err.Error())
	}
	if err := f.Validate(); err != nil {
		return controlError(http.StatusBadRequest, err.Error())
	}
	s.faults = f
	return jsonReply(http.StatusOK, f)
}

func (s *Sim) ctlStats() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.stats)
	if err != nil {
		return controlError(http.StatusInternalServerError, err.Error())
	}
	return jsonReply(http.StatusOK, json.RawMessage(b))
}

// resourceJSON is one simulated resource as GET /_sim/resources lists it.
// EnterpriseProjectID is empty for CloudDC (it has none); InRecycleBin is
// set for DMS instances only.
type resourceJSON struct {
	Service             string `json:"service"`
	Kind                string `json:"kind"`
	ProjectID           string `json:"project_id"`
	ID                  string `json:"id"`
	Name                string `json:"name"`
	Status              string `json:"status"`
	Parent              string `json:"parent,omitempty"`
	Tags                []tag  `json:"tags"`
	EnterpriseProjectID string `json:"enterprise_project_id,omitempty"`
	InRecycleBin        *bool  `json:"in_recycle_bin,omitempty"`
}

func (s *Sim) ctlResources() reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return jsonReply(http.StatusOK, map[string]any{"resources": s.dumpLocked()})
}

// dumpLocked lists every visible resource at the current time; s.mu held.
func (s *Sim) dumpLocked() []resourceJSON {
	now := s.now()
	s.advanceJobs(now)
	out := []resourceJSON{}
	for _, p := range sortedKeys(s.st.dmsBy) {
		for _, d := range slices.Clone(s.st.dmsBy[p]) {
			status, place := d.current(now)
			if place == placeGone {
				if !d.lagging(now) {
					s.st.removeDMS(d)
				}
				continue
			}
			binned := place == placeBin
			out = append(out, resourceJSON{Service: d.service(), Kind: "instance", ProjectID: p, ID: d.id, Name: d.name,
				Status: status, Tags: tagList(d.tags), EnterpriseProjectID: d.epid, InRecycleBin: &binned})
		}
	}
	for _, p := range sortedKeys(s.st.romaBy) {
		for _, r := range s.st.romaBy[p] {
			r.purge(now)
			out = append(out, resourceJSON{Service: "roma", Kind: "instance", ProjectID: p, ID: r.id, Name: r.name,
				Status: r.status, Tags: []tag{}, EnterpriseProjectID: r.epid})
			for _, a := range r.apps {
				if a.gone {
					continue
				}
				out = append(out, resourceJSON{Service: "roma", Kind: "app", ProjectID: p, ID: a.id, Name: a.name,
					Parent: r.id, Tags: []tag{}, EnterpriseProjectID: r.epid})
			}
			for _, t := range r.tasks {
				if t.gone {
					continue
				}
				out = append(out, resourceJSON{Service: "roma", Kind: "task", ProjectID: p, ID: t.id, Name: t.name,
					Status: fmt.Sprint(t.status), Parent: r.id, Tags: []tag{}, EnterpriseProjectID: t.epid})
			}
		}
	}
	retention := ms(s.faults.TerminatedRetentionMS)
	for _, p := range sortedKeys(s.st.cdcBy) {
		for _, c := range slices.Clone(s.st.cdcBy[p]) {
			if v, gone := c.current(now, retention); gone {
				if !c.lag.active(now) {
					s.st.removeCDC(c)
				}
			} else {
				out = append(out, resourceJSON{Service: "clouddc", Kind: "instance", ProjectID: p, ID: c.id,
					Name: c.name, Status: v.state, Tags: tagList(c.tags)})
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
