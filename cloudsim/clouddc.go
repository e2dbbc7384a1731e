package cloudsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cdcJSON is the CloudDC BmInstance object (cloud-api.md §4.1).
type cdcJSON struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	VpcID             string            `json:"vpc_id"`
	NetworkInterfaces []cdcNIC          `json:"network_interfaces,omitempty"`
	Tags              []tag             `json:"tags"`
	Image             cdcImage          `json:"image"`
	Description       string            `json:"description,omitempty"`
	State             string            `json:"state"`
	OperationState    string            `json:"operation_state,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	ServerID          string            `json:"server_id"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
	LaunchedAt        string            `json:"launched_at"`
	Error             *cdcError         `json:"error,omitempty"`
}

type cdcNIC struct {
	SubnetID    string `json:"subnet_id"`
	IPv4Address string `json:"ipv4_address"`
}

type cdcImage struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	OSType string `json:"os_type"`
}

type cdcError struct {
	Code string `json:"error_code"`
	Msg  string `json:"error_msg"`
	Type string `json:"error_type"`
}

// cdcStatusJSON is the ShowInstanceStatus body (cloud-api.md §4.2).
type cdcStatusJSON struct {
	State          string    `json:"state"`
	OperationState string    `json:"operation_state,omitempty"`
	Error          *cdcError `json:"error,omitempty"`
}

var cdcImages = []cdcImage{
	{"6f4e8c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b", "EulerOS 2.9 64bit", "Linux"},
	{"0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d", "Ubuntu 22.04 server 64bit", "Linux"},
	{"5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716", "CentOS 7.9 64bit", "Linux"},
	{"9c8b7a69-5847-4362-9150-4f3e2d1c0b0a", "Windows Server 2019 Datacenter 64bit", "Windows"},
}

func cdcErrorFor(v cdcView) *cdcError {
	if v.errType == "" {
		return nil
	}
	msg := "instance creation failed: no capacity left in the resource pool"
	if v.errType == "delete_instance_error" {
		msg = "instance deletion failed: the server did not power off in time"
	}
	return &cdcError{Code: "CLOUDDC.00000500", Msg: msg, Type: v.errType}
}

func (c *cdcInst) toJSON(v cdcView) cdcJSON {
	launched := ""
	if c.launched {
		launched = c.created.Add(7 * time.Minute).UTC().Format(time.RFC3339)
	}
	return cdcJSON{
		ID: c.id, Name: c.name, VpcID: c.vpc,
		NetworkInterfaces: []cdcNIC{{c.subnet, c.ip}},
		Tags:              tagList(c.tags),
		Image:             cdcImages[int(c.image)%len(cdcImages)],
		Description:       "bare-metal server " + c.name,
		State:             v.state, OperationState: v.opState,
		ServerID:  c.serverID,
		CreatedAt: c.created.UTC().Format(time.RFC3339), UpdatedAt: v.updated.UTC().Format(time.RFC3339),
		LaunchedAt: launched, Error: cdcErrorFor(v),
	}
}

func envOf(name string) string {
	if strings.Contains(name, "stg") || strings.Contains(name, "staging") {
		return "staging"
	}
	return "prod"
}

func cdcNotFound(id string) reply {
	return errReply(svcCloudDC, http.StatusNotFound, "CLOUDDC.00000404", "The instance does not exist: "+id)
}

// cdcLookup finds a visible instance of the call's project, as it is for a
// write (read says whether a read, which may lag, asks); s.mu held.
func (s *Sim) cdcLookup(c *call, id string, read bool) (*cdcInst, cdcView, bool) {
	inst := s.st.cdc[id]
	if inst == nil || inst.project != c.project {
		return nil, cdcView{}, false
	}
	retention := ms(c.faults.TerminatedRetentionMS)
	v, gone := inst.current(c.now, retention)
	if read {
		v, gone = inst.seen(c.now, retention)
	}
	if gone {
		if !inst.lag.active(c.now) {
			s.st.removeCDC(inst)
		}
		return nil, cdcView{}, false
	}
	return inst, v, true
}

var cdcFilterStates = map[string]string{
	"pending": "pending", "running": "running", "stopping": "stopping", "stopped": "stopped",
	"reinstalling": "reinstalling", "shutting-down": "shutting-down", "terminated": "terminated",
	"failed": "error", "error": "error",
}

// cdcFilter is a parsed CloudDC list query.
type cdcFilter struct {
	limit         int
	marker, state string
	ids, servers  []string
}

func parseCDCFilter(c *call) (cdcFilter, string) {
	q := c.r.URL.Query()
	f := cdcFilter{limit: 10, marker: q.Get("marker")}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			return f, "invalid limit " + strconv.Quote(q.Get("limit"))
		}
		f.limit = min(max(n, 10), 1000)
	}
	if st := q.Get("instance_state"); st != "" {
		if f.state = cdcFilterStates[st]; f.state == "" {
			return f, "invalid instance_state " + strconv.Quote(st)
		}
	}
	if q.Get("instance_id") != "" && q.Get("server_id") != "" {
		return f, "instance_id and server_id cannot be combined"
	}
	for _, p := range []struct {
		name string
		dst  *[]string
	}{{"instance_id", &f.ids}, {"server_id", &f.servers}} {
		if v := q.Get(p.name); v != "" {
			*p.dst = strings.Split(v, ",")
			if len(*p.dst) > 100 {
				return f, p.name + " accepts at most 100 IDs"
			}
		}
	}
	return f, ""
}

func (s *Sim) cdcList(c *call) reply {
	f, msg := parseCDCFilter(c)
	if msg != "" {
		return svcCloudDC.badRequest(msg)
	}
	var after *cdcInst
	if f.marker != "" {
		if after = s.st.cdc[f.marker]; after == nil || after.project != c.project {
			return svcCloudDC.badRequest("marker " + strconv.Quote(f.marker) + " does not exist")
		}
	}
	retention := ms(c.faults.TerminatedRetentionMS)
	type hit struct {
		inst *cdcInst
		v    cdcView
	}
	var match []hit
	var gone []*cdcInst
	start := 0
	for _, inst := range s.st.cdcBy[c.project] {
		v, g := inst.seen(c.now, retention)
		switch {
		case g:
			gone = append(gone, inst)
			continue
		case f.state != "" && v.state != f.state,
			f.ids != nil && !slices.Contains(f.ids, inst.id),
			f.servers != nil && !slices.Contains(f.servers, inst.serverID):
			continue
		}
		if after != nil && cmpCDC(inst, after) <= 0 {
			start++
		}
		match = append(match, hit{inst, v})
	}
	for _, inst := range gone {
		s.st.removeCDC(inst)
	}
	lo, hi := page(len(match), start, f.limit)
	items := make([]cdcJSON, 0, hi-lo)
	for _, h := range match[lo:hi] {
		items = append(items, h.inst.toJSON(h.v))
	}
	info := map[string]any{"current_count": len(items)}
	if hi < len(match) && len(items) > 0 {
		info["next_marker"] = items[len(items)-1].ID
	}
	if f.marker != "" && len(items) > 0 {
		info["previous_marker"] = items[0].ID
	}
	return jsonReply(http.StatusOK, map[string]any{"instances": items, "page_info": info, "count": len(match)})
}

func (s *Sim) cdcStatus(c *call) reply {
	_, v, ok := s.cdcLookup(c, c.args[0], true)
	if !ok {
		return cdcNotFound(c.args[0])
	}
	return jsonReply(http.StatusOK, cdcStatusJSON{v.state, v.opState, cdcErrorFor(v)})
}

// cdcDeletable reports whether state allows DeleteInstance.
func cdcDeletable(state string, f Faults) bool {
	switch state {
	case "pending", "stopped", "error":
		return true
	case "running":
		return f.CloudDCAllowDeleteRunning
	}
	return false
}

// startCDCDelete moves inst, seen as before, to shutting-down.
func (s *Sim) startCDCDelete(c *call, inst *cdcInst, before cdcView) {
	inst.lag.note(c.now, ms(c.faults.ReadLagMS), before)
	inst.deleteAt = c.now.Add(ms(c.faults.CloudDCDeleteDelayMS))
	inst.deleteFail = s.failDelete(c.faults)
	inst.updated = c.now
	s.recordDelete(deleteRecord{Service: "clouddc", Kind: "instance", ProjectID: inst.project, ID: inst.id}, c.now)
}

func (s *Sim) cdcDelete(c *call) reply {
	s.countDeleteRequest(c.args[0])
	inst, v, ok := s.cdcLookup(c, c.args[0], false)
	if !ok {
		return cdcNotFound(c.args[0])
	}
	if !cdcDeletable(v.state, c.faults) {
		return errReply(
			svcCloudDC,
			http.StatusBadRequest,
			"CLOUDDC.00000409",
			"The instance cannot be deleted in state "+v.state,
		)
	}
	s.startCDCDelete(c, inst, v)
	return emptyReply(http.StatusNoContent)
}

func (s *Sim) cdcBatchDelete(c *call) reply {
	var b struct {
		IDs *[]string `json:"instance_id_set"`
	}
	if err := decodeBody(c.body, &b); err != nil {
		return svcCloudDC.badRequest(err.Error())
	}
	if b.IDs == nil || len(*b.IDs) == 0 || len(*b.IDs) > 50 {
		return svcCloudDC.badRequest("instance_id_set must hold 1 to 50 IDs")
	}
	accepted := []map[string]string{}
	for _, id := range *b.IDs {
		s.countDeleteRequest(id)
		inst, v, ok := s.cdcLookup(c, id, false)
		if !ok || !cdcDeletable(v.state, c.faults) {
			continue
		}
		s.startCDCDelete(c, inst, v)
		accepted = append(accepted, map[string]string{"id": id})
	}
	if len(accepted) == 0 {
		return errReply(svcCloudDC, http.StatusBadRequest, "CLOUDDC.00000409", "None of the instances can be deleted")
	}
	return jsonReply(http.StatusAccepted, map[string]any{"instances": accepted})
}
