package cloudsim

import (
	"net/http"
	"strings"
	"time"
)

// romaInstJSON is a ROMA Connect instance (cloud-api.md §3.1).
type romaInstJSON struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	FlavorID            string   `json:"flavor_id"`
	FlavorType          string   `json:"flavor_type"`
	CPUArch             string   `json:"cpu_arch"`
	VpcID               string   `json:"vpc_id"`
	SubnetID            string   `json:"subnet_id"`
	SecurityGroupID     string   `json:"security_group_id"`
	PublicipEnable      bool     `json:"publicip_enable"`
	PublicipID          string   `json:"publicip_id"`
	PublicipAddress     string   `json:"publicip_address"`
	Status              string   `json:"status"`
	ErrorCode           string   `json:"error_code"`
	ErrorMsg            string   `json:"error_msg"`
	ChargeType          string   `json:"charge_type"`
	ProjectID           string   `json:"project_id"`
	CreateTime          string   `json:"create_time"`
	UpdateTime          string   `json:"update_time"`
	MaintainBegin       string   `json:"maintain_begin"`
	MaintainEnd         string   `json:"maintain_end"`
	AvailableZoneIDs    []string `json:"available_zone_ids"`
	EnterpriseProjectID string   `json:"enterprise_project_id"`
}

var romaFlavors = []struct{ id, typ string }{
	{"00400-30101-0--0", "basic"}, {"00400-30102-0--0", "professional"},
	{"00400-30103-0--0", "enterprise"}, {"00400-30104-0--0", "platinum"},
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (r *romaInst) toJSON() romaInstJSON {
	f := romaFlavors[int(r.flavor)%len(romaFlavors)]
	j := romaInstJSON{
		ID: r.id, Name: r.name, Description: "ROMA Connect " + r.name, FlavorID: f.id, FlavorType: f.typ,
		CPUArch: "x86_64", VpcID: "vpc-" + r.id[:8], SubnetID: "subnet-" + r.id[:8], SecurityGroupID: "sg-" + r.id[:8],
		Status: r.status, ChargeType: "postPaid", ProjectID: r.project,
		CreateTime: rfc3339(r.created), UpdateTime: rfc3339(r.created.Add(time.Hour)),
		MaintainBegin: "22:00:00", MaintainEnd: "02:00:00",
		AvailableZoneIDs: []string{"cn-north-4a", "cn-north-4b"}, EnterpriseProjectID: r.epid,
	}
	if r.status == "ERROR" || r.status == "CREATE_FAILED" {
		j.ErrorCode, j.ErrorMsg = "ROMA.00000500", "instance provisioning failed"
	}
	return j
}

type romaUser struct {
	UserID   string `json:"user_id"`
	UserName string `json:"user_name"`
}

type romaAppJSON struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Remark          string   `json:"remark"`
	Roles           []string `json:"roles"`
	CreateTime      string   `json:"create_time"`
	UpdateTime      string   `json:"update_time"`
	CreatedUser     romaUser `json:"created_user"`
	LastUpdatedUser romaUser `json:"last_updated_user"`
	Owner           bool     `json:"owner"`
	Key             string   `json:"key"`
	Favorite        bool     `json:"favorite"`
}

func (a *romaApp) toJSON() romaAppJSON {
	u := romaUser{UserID: "c0ffee" + a.id[:26], UserName: a.creator}
	return romaAppJSON{
		ID: a.id, Name: a.name, Remark: a.remark, Roles: []string{"read", "access", "delete", "modify", "admin"},
		CreateTime: rfc3339(a.created), UpdateTime: rfc3339(a.created.Add(36 * time.Hour)),
		CreatedUser: u, LastUpdatedUser: u, Owner: a.owner, Key: a.key, Favorite: a.favorite,
	}
}

type romaTaskJSON struct {
	TaskID              string `json:"task_id"`
	TaskName            string `json:"task_name"`
	TaskType            string `json:"task_type"`
	Status              int32  `json:"status"`
	CreatedDate         string `json:"created_date"`
	Version             string `json:"version"`
	LastModifiedTime    int64  `json:"last_modified_time"`
	ExecuteStatus       string `json:"execute_status"`
	SourceAppID         string `json:"source_app_id"`
	TargetAppID         string `json:"target_app_id"`
	SourceInstanceID    string `json:"source_instance_id"`
	TargetInstanceID    string `json:"target_instance_id"`
	ExtType             string `json:"ext_type"`
	EnterpriseProjectID string `json:"enterprise_project_id"`
	TaskTag             string `json:"task_tag"`
}

func (t *romaTask) toJSON(instanceID string) romaTaskJSON {
	return romaTaskJSON{
		TaskID: t.id, TaskName: t.name, TaskType: t.taskType, Status: t.status, CreatedDate: rfc3339(t.created),
		Version: "1.0", LastModifiedTime: t.modifiedMS, ExecuteStatus: t.exec, SourceAppID: t.srcApp,
		TargetAppID: t.tgtApp, SourceInstanceID: instanceID, TargetInstanceID: instanceID, ExtType: "",
		EnterpriseProjectID: t.epid, TaskTag: t.tag,
	}
}

func romaInstanceNotFound(id string) reply {
	return errReply(svcROMA, http.StatusNotFound, "APIG.3030", "The instance does not exist: "+id)
}

// romaAssets finds a RUNNING instance of the call's project for an asset
// call, advancing asset jobs first; s.mu held.
func (s *Sim) romaAssets(c *call) (*romaInst, reply, bool) {
	s.advanceJobs(c.now)
	r := s.st.roma[c.args[0]]
	if r == nil || r.project != c.project {
		return nil, romaInstanceNotFound(c.args[0]), false
	}
	if r.status != "RUNNING" {
		return nil, svcROMA.badRequest("The instance is not running (status " + r.status + ")"), false
	}
	return r, reply{}, true
}

func (s *Sim) romaListInstances(c *call) reply {
	q := c.r.URL.Query()
	offset, err := intParam(q, "offset", 0, 0, maxInt)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	limit, err := intParam(q, "limit", 10, 1, 100)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	var match []romaInstJSON
	for _, r := range s.st.romaBy[c.project] {
		if st := q.Get("status"); st == "" || st == r.status {
			match = append(match, r.toJSON())
		}
	}
	lo, hi := page(len(match), offset, limit)
	return jsonReply(
		http.StatusOK,
		map[string]any{"total": len(match), "size": hi - lo, "instances": append([]romaInstJSON{}, match[lo:hi]...)},
	)
}

func (s *Sim) romaListApps(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	q := c.r.URL.Query()
	offset, err := intParam(q, "offset", 0, 0, maxInt)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	limit, err := intParam(q, "limit", 10, 1, 500)
	if err != nil {
		return svcROMA.badRequest(err.Error())
	}
	fav, err1 := boolParam(q, "favorite")
	own, err2 := boolParam(q, "owner")
	if err1 != nil || err2 != nil {
		return svcROMA.badRequest("favorite and owner must be true or false")
	}
	var match []*romaApp
	r.purge(c.now)
	for _, a := range r.apps {
		if strings.Contains(a.name, q.Get("name")) && (!fav || a.favorite) && (!own || a.owner) {
			match = append(match, a)
		}
	}
	lo, hi := page(len(match), offset, limit)
	out := make([]romaAppJSON, 0, hi-lo)
	for _, a := range match[lo:hi] {
		out = append(out, a.toJSON())
	}
	return jsonReply(http.StatusOK, map[string]any{"total": len(match), "size": len(out), "apps": out})
}

func (s *Sim) romaDeleteApp(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	s.countDeleteRequest(c.args[1])
	if a := r.appByID[c.args[1]]; a != nil {
		a.written(c.now, c.faults.ReadLagMS)
	}
	if !r.removeApp(c.args[1], c.now) {
		return errReply(svcROMA, http.StatusNotFound, "ROMA.00000404", "The application does not exist: "+c.args[1])
	}
	s.recordDelete(deleteRecord{Service: "roma", Kind: "app", ProjectID: c.project, ID: c.args[1]}, c.now)
	return emptyReply(http.StatusNoContent)
}

func (s *Sim) romaDeleteTask(c *call) reply {
	r, rep, ok := s.romaAssets(c)
	if !ok {
		return rep
	}
	s.countDeleteRequest(c.args[1])
	if t := r.taskByID[c.args[1]]; t != nil {
		t.written(c.now, c.faults.ReadLagMS)
	}
	if !r.removeTask(c.args[1], c.now) {
		return errReply(svcROMA, http.StatusNotFound, "ROMA.00000404", "The task does not exist: "+c.args[1])
	}
	s.recordDelete(deleteRecord{Service: "roma", Kind: "task", ProjectID: c.project, ID: c.args[1]}, c.now)
	return emptyReply(http.StatusNoContent)
}
