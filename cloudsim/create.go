package cloudsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// resourceSpec is the POST /_sim/resources body.
type resourceSpec struct {
	Service      string `json:"service"`
	Kind         string `json:"kind"`
	ProjectID    string `json:"project_id"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	InstanceID   string `json:"instance_id"`
	ChargingMode *int32 `json:"charging_mode"`
	// Tags and EnterpriseProjectID are optional: default [] and "0" (for a
	// ROMA task, its instance's enterprise project).
	Tags                *[]tag  `json:"tags"`
	EnterpriseProjectID *string `json:"enterprise_project_id"`
}

var (
	dmsStatuses = []string{
		"CREATING",
		"RUNNING",
		"RESTARTING",
		"DELETING",
		"ERROR",
		"CREATEFAILED",
		"FREEZING",
		"FROZEN",
		"EXTENDING",
		"SHRINKING",
		"EXTENDEDFAILED",
		"CONFIGURING",
		"ROLLBACK",
		"ROLLBACKFAILED",
		"VOLUMETYPECHANGING",
		"STARTING",
		"UPGRADING",
		"ROLLINGBACK",
	}
	romaStatuses = []string{"CREATING", "RUNNING", "DELETING", "DELETED", "ERROR", "CREATE_FAILED", "DELETE_FAILED",
		"SOFT_DELETED", "FREEZING", "FROZEN"}
	cdcStates = []string{
		"pending",
		"running",
		"stopped",
		"stopping",
		"reinstalling",
		"shutting-down",
		"terminated",
		"error",
	}
)

func (s *Sim) ctlCreate(body []byte) reply {
	var spec resourceSpec
	if err := json.Unmarshal(body, &spec); err != nil {
		return controlError(http.StatusBadRequest, "invalid body: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.create(spec)
	if err != nil {
		return controlError(http.StatusBadRequest, err.Error())
	}
	return jsonReply(http.StatusCreated, map[string]string{"id": id})
}

// create adds one resource; s.mu held.
func (s *Sim) create(spec resourceSpec) (string, error) {
	if spec.Kind != "instance" && !(spec.Service == "roma" && (spec.Kind == "app" || spec.Kind == "task")) {
		return "", fmt.Errorf("unknown kind %q for service %q", spec.Kind, spec.Service)
	}
	if spec.ProjectID == "" && spec.Kind == "instance" {
		return "", fmt.Errorf("project_id is required")
	}
	if spec.Tags != nil {
		if err := checkTags(spec.Service, *spec.Tags); err != nil {
			return "", err
		}
	}
	if spec.EnterpriseProjectID != nil {
		if err := checkEnterpriseProject(spec.Service, spec.Kind, *spec.EnterpriseProjectID); err != nil {
			return "", err
		}
	}
	now := s.now()
	switch spec.Service {
	case "rocketmq", "rabbitmq":
		return s.createDMS(spec, now)
	case "clouddc":
		return s.createCDC(spec, now)
	case "roma":
		if spec.Kind == "instance" {
			return s.createROMA(spec, now)
		}
		return s.createAsset(spec, now)
	}
	return "", fmt.Errorf("unknown service %q: want rocketmq, rabbitmq, roma or clouddc", spec.Service)
}

// checkEnterpriseProject rejects an enterprise project where the contract
// has none (CloudDC; ROMA apps belong to their instance's) and empty IDs.
func checkEnterpriseProject(service, kind, ep string) error {
	switch {
	case service == "clouddc":
		return fmt.Errorf("CloudDC resources have no enterprise project (cloud-api.md §4.7)")
	case service == "roma" && kind == "app":
		return fmt.Errorf("ROMA apps belong to their instance's enterprise project (cloud-api.md §3.13)")
	case ep == "":
		return fmt.Errorf("enterprise_project_id must not be empty (the default project is \"0\")")
	}
	return nil
}

func orPtr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func tagsOf(p *[]tag) []tag {
	if p == nil {
		return nil
	}
	return append([]tag(nil), *p...)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Sim) createDMS(spec resourceSpec, now time.Time) (string, error) {
	status := orDefault(spec.Status, "RUNNING")
	if !slices.Contains(dmsStatuses, status) {
		return "", fmt.Errorf("unknown DMS status %q", status)
	}
	d := &dmsInst{id: s.uuid(), project: spec.ProjectID, name: orDefault(spec.Name, spec.Service+"-instance"),
		rabbit: spec.Service == "rabbitmq", status: status, createdMS: now.UnixMilli(), charging: 1,
		variant: uint8(s.rng.IntN(4)), storage: 300, used: 12, epid: orPtr(spec.EnterpriseProjectID, "0"),
		tags: tagsOf(spec.Tags), vpc: s.uuid(), subnet: s.uuid(), sg: s.uuid()}
	if spec.ChargingMode != nil {
		d.charging = *spec.ChargingMode
	}
	if status == "DELETING" {
		d.status, d.deleteAt = "RUNNING", now.Add(ms(s.faults.DMSDeleteDelayMS))
	}
	s.st.addDMS(d)
	return d.id, nil
}

func (s *Sim) createCDC(spec resourceSpec, now time.Time) (string, error) {
	state := orDefault(spec.Status, "running")
	if !slices.Contains(cdcStates, state) {
		return "", fmt.Errorf("unknown CloudDC state %q", state)
	}
	c := &cdcInst{id: s.uuid(), project: spec.ProjectID, name: orDefault(spec.Name, "bms-instance"), serverID: s.uuid(),
		created: now, launched: true, image: uint8(s.rng.IntN(len(cdcImages))), vpc: s.uuid(), subnet: s.uuid(),
		ip: "10.0.0.10", tags: tagsOf(spec.Tags)}
	c.setState(state, now, ms(s.faults.CloudDCDeleteDelayMS))
	s.st.addCDC(c)
	return c.id, nil
}

// setState puts c in state at once, as if the cloud had moved it there:
// shutting-down starts a delete, terminated is a finished one.
func (c *cdcInst) setState(state string, now time.Time, deleteDelay time.Duration) {
	c.state, c.opState, c.errType, c.updated = state, "install-succeed", "", now
	c.deleteAt, c.deleteFail = time.Time{}, false
	switch state {
	case "pending":
		c.opState, c.launched = "install-processing", false
	case "error":
		c.opState, c.errType, c.launched = "install-failed", "create_instance_error", false
	case "reinstalling":
		c.opState = "reinstall-processing"
	case "shutting-down":
		c.state, c.deleteAt = "stopped", now.Add(deleteDelay)
	case "terminated":
		c.state, c.deleteAt = "stopped", now
	}
}

func (s *Sim) createROMA(spec resourceSpec, now time.Time) (string, error) {
	status := orDefault(spec.Status, "RUNNING")
	if !slices.Contains(romaStatuses, status) {
		return "", fmt.Errorf("unknown ROMA instance status %q", status)
	}
	r := &romaInst{id: s.uuid(), project: spec.ProjectID, name: orDefault(spec.Name, "roma-instance"), status: status,
		created: now, epid: orPtr(spec.EnterpriseProjectID, "0")}
	s.st.addROMA(r)
	return r.id, nil
}

func (s *Sim) createAsset(spec resourceSpec, now time.Time) (string, error) {
	r := s.st.roma[spec.InstanceID]
	if r == nil || (spec.ProjectID != "" && r.project != spec.ProjectID) {
		return "", fmt.Errorf("instance_id %q is not a ROMA instance of project %q", spec.InstanceID, spec.ProjectID)
	}
	id := s.hexID()
	if spec.Kind == "app" {
		if spec.Status != "" {
			return "", fmt.Errorf("apps have no status")
		}
		r.addApp(&romaApp{id: id, name: orDefault(spec.Name, "app-"+id[:6]), remark: "", key: s.hexID(),
			creator: "decom-ops", created: now, owner: true})
		return id, nil
	}
	var status int32
	switch orDefault(spec.Status, "1") {
	case "1":
		status = 1
	case "0":
	default:
		return "", fmt.Errorf("unknown task status %q: want 0 or 1", spec.Status)
	}
	r.addTask(&romaTask{id: id, name: orDefault(spec.Name, "task-"+id[:6]), taskType: "REALTIME", exec: "RUNNING",
		status: status, created: now, modifiedMS: now.UnixMilli(), tag: "decom",
		epid: orPtr(spec.EnterpriseProjectID, r.epid)})
	return id, nil
}
