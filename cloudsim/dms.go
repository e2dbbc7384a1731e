package cloudsim

import (
	"net/http"
	"strconv"
	"strings"
)

// dmsJSON is the DMS Instance object (cloud-api.md §2.1), for both engines.
type dmsJSON struct {
	InstanceID          string   `json:"instance_id"`
	Name                string   `json:"name"`
	Engine              string   `json:"engine"`
	EngineVersion       string   `json:"engine_version"`
	Status              string   `json:"status"`
	Type                string   `json:"type"`
	Specification       string   `json:"specification"`
	Description         string   `json:"description"`
	CreatedAt           string   `json:"created_at"`
	ChargingMode        int32    `json:"charging_mode"`
	EnterpriseProjectID string   `json:"enterprise_project_id"`
	VpcID               string   `json:"vpc_id"`
	SubnetID            string   `json:"subnet_id"`
	SecurityGroupID     string   `json:"security_group_id"`
	StorageSpace        int32    `json:"storage_space"`
	UsedStorageSpace    int32    `json:"used_storage_space"`
	TotalStorageSpace   int32    `json:"total_storage_space"`
	ProductID           string   `json:"product_id"`
	ResourceSpecCode    string   `json:"resource_spec_code"`
	StorageSpecCode     string   `json:"storage_spec_code"`
	UserID              string   `json:"user_id"`
	UserName            string   `json:"user_name"`
	AvailableZones      []string `json:"available_zones"`
	Tags                []tag    `json:"tags"`
	BrokerNum           int32    `json:"broker_num"`
	NodeNum             int32    `json:"node_num,omitempty"`
	NamesrvAddress      string   `json:"namesrv_address,omitempty"`
	BrokerAddress       string   `json:"broker_address,omitempty"`
	ConnectAddress      string   `json:"connect_address,omitempty"`
	Port                int32    `json:"port,omitempty"`
	AccessUser          string   `json:"access_user,omitempty"`
}

// dmsVariant is one engine version, type and flavour.
type dmsVariant struct {
	version, typ, spec, product, specCode string
	brokers                               int32
}

var rocketVariants = []dmsVariant{
	{
		"4.8.0",
		"cluster",
		"c6.4u8g.cluster * 2 broker",
		"c6.4u8g.cluster",
		"dms.instance.reliability.cluster.c6.4u8g",
		2,
	},
	{"4.8.0", "single", "c6.2u4g.single * 1 broker", "c6.2u4g.single", "dms.instance.reliability.single.c6.2u4g", 1},
	{
		"5.x",
		"single.basic",
		"rocketmq.b1.large.1 * 1 broker",
		"rocketmq.b1.large.1",
		"dms.instance.reliability.single.basic",
		1,
	},
	{
		"5.x",
		"cluster.small",
		"rocketmq.b2.large.4 * 3 broker",
		"rocketmq.b2.large.4",
		"dms.instance.reliability.cluster.small",
		3,
	},
}

var rabbitVariants = []dmsVariant{
	{"3.8.35", "single", "2vCPUs 4GB", "c6.2u4g.single", "dms.instance.rabbitmq.single.c6.2u4g", 1},
	{"3.8.35", "cluster", "4vCPUs 8GB * 3", "c6.4u8g.cluster", "dms.instance.rabbitmq.cluster.c6.4u8g.3", 3},
	{"AMQP-0-9-1", "single", "rabbitmq.2u4g.single", "rabbitmq.2u4g.single", "dms.instance.rabbitmq.single.2u4g", 1},
	{"3.8.35", "cluster", "8vCPUs 16GB * 5", "c6.8u16g.cluster", "dms.instance.rabbitmq.cluster.c6.8u16g.5", 5},
}

func (d *dmsInst) toJSON(status string) dmsJSON {
	vs := rocketVariants
	if d.rabbit {
		vs = rabbitVariants
	}
	v := vs[int(d.variant)%len(vs)]
	j := dmsJSON{
		InstanceID: d.id, Name: d.name, Engine: "reliability", EngineVersion: v.version, Status: status,
		Type: v.typ, Specification: v.spec, Description: "", CreatedAt: strconv.FormatInt(d.createdMS, 10),
		ChargingMode: d.charging, EnterpriseProjectID: d.epid, VpcID: d.vpc, SubnetID: d.subnet,
		SecurityGroupID: d.sg, StorageSpace: d.storage, UsedStorageSpace: d.used, TotalStorageSpace: d.storage,
		ProductID: v.product, ResourceSpecCode: v.specCode, StorageSpecCode: "dms.physical.storage.high.v2",
		UserID: "5b2e0e1f6c3d4a8b9f0e1d2c3b4a5968", UserName: "decom-ops",
		AvailableZones: []string{"effdcbc7d4d64a02aa1fa26b42f56533"}, Tags: tagList(d.tags),
		BrokerNum: v.brokers,
	}
	if d.rabbit {
		j.Engine, j.ConnectAddress, j.Port, j.AccessUser = "rabbitmq", "192.168.0.21:5672", 5672, "admin"
	} else {
		j.NodeNum, j.NamesrvAddress, j.BrokerAddress = v.brokers*2, "192.168.0.11:8100", "192.168.0.12:10100"
	}
	return j
}

// dmsDeletable lists the statuses a DMS delete accepts (cloud-api.md §2.5).
var dmsDeletable = map[string]bool{
	"CREATEFAILED": true, "RUNNING": true, "ERROR": true, "EXTENDEDFAILED": true, "ROLLBACKFAILED": true, "FROZEN": true,
}

// dmsLookup finds a live instance of the call's project, as it is for a
// write (read says whether a read, which may lag, asks); s.mu held.
func (s *Sim) dmsLookup(c *call, id string, read bool) (*dmsInst, string, bool) {
	d := s.st.dms[id]
	if d == nil || d.project != c.project {
		return nil, "", false
	}
	status, place := d.current(c.now)
	if read {
		status, place = d.seen(c.now)
	}
	if place == placeGone && !d.lagging(c.now) {
		s.st.removeDMS(d)
	}
	if place != placeLive {
		return nil, "", false
	}
	return d, status, true
}

func dmsNotFound(id string) reply {
	return errReply(svcDMS, http.StatusNotFound, "DMS.00404022", "The instance does not exist: "+id)
}

func (s *Sim) dmsList(c *call) reply {
	q := c.r.URL.Query()
	var rabbit bool
	switch q.Get("engine") {
	case "rocketmq", "reliability":
	case "rabbitmq":
		rabbit = true
	default:
		return svcDMS.badRequest(
			"invalid engine " + strconv.Quote(q.Get("engine")) + ": must be rocketmq, reliability or rabbitmq",
		)
	}
	offset, err := intParam(q, "offset", 0, 0, maxInt)
	if err != nil {
		return svcDMS.badRequest(err.Error())
	}
	limit, err := intParam(q, "limit", 10, 1, 50)
	if err != nil {
		return svcDMS.badRequest(err.Error())
	}
	inclFail, err := boolParam(q, "include_failure")
	if err != nil {
		return svcDMS.badRequest(err.Error())
	}
	exact, err := boolParam(q, "exact_match_name")
	if err != nil {
		return svcDMS.badRequest(err.Error())
	}
	name, id, want, epid := q.Get("name"), q.Get("instance_id"), q.Get("status"), q.Get("enterprise_project_id")
	type hit struct {
		d      *dmsInst
		status string
	}
	var match []hit
	var gone []*dmsInst
	for _, d := range s.st.dmsBy[c.project] {
		status, place := d.seen(c.now)
		switch {
		case place == placeGone:
			gone = append(gone, d)
			continue
		case place == placeBin,
			d.rabbit != rabbit,
			id != "" && d.id != id,
			want != "" && status != want,
			status == "CREATEFAILED" && !inclFail && want != "CREATEFAILED",
			epid != "" && d.epid != epid,
			name != "" && exact && d.name != name,
			name != "" && !exact && !strings.Contains(d.name, name):
			continue
		}
		match = append(match, hit{d, status})
	}
	for _, d := range gone {
		s.st.removeDMS(d)
	}
	lo, hi := page(len(match), offset, limit)
	out := make([]dmsJSON, 0, hi-lo)
	for _, h := range match[lo:hi] {
		out = append(out, h.d.toJSON(h.status))
	}
	return jsonReply(http.StatusOK, map[string]any{"instances": out, "instance_num": len(match)})
}

func (s *Sim) dmsShow(c *call) reply {
	d, status, ok := s.dmsLookup(c, c.args[0], true)
	if !ok {
		return dmsNotFound(c.args[0])
	}
	return jsonReply(http.StatusOK, d.toJSON(status))
}

func (s *Sim) dmsDelete(c *call) reply {
	s.countDeleteRequest(c.args[0])
	d, status, ok := s.dmsLookup(c, c.args[0], false)
	if !ok {
		return dmsNotFound(c.args[0])
	}
	if msg := s.dmsRefusal(c, d, status); msg != "" {
		return errReply(svcDMS, http.StatusBadRequest, "DMS.00400026", msg)
	}
	s.startDMSDelete(c, d, status, s.failDelete(c.faults), false)
	return emptyReply(http.StatusNoContent)
}

// dmsRefusal says why d may not be deleted now, or "".
func (s *Sim) dmsRefusal(c *call, d *dmsInst, status string) string {
	switch {
	case !dmsDeletable[status]:
		return "The instance cannot be deleted in status " + status
	case c.faults.RefusePrepaidDelete && d.charging == 0:
		return "Yearly/monthly instances cannot be deleted through this API"
	}
	return ""
}

// startDMSDelete starts deleting d, which is in status; it ends in the
// recycle bin when the project's policy says so (cloud-api.md §2.10).
func (s *Sim) startDMSDelete(c *call, d *dmsInst, status string, fail, force bool) {
	d.noteWrite(c.now, ms(c.faults.ReadLagMS))
	d.deleteAt = c.now.Add(ms(c.faults.DMSDeleteDelayMS))
	d.deleteFail = fail
	s.binOnDelete(c, d, status, force)
	s.recordDelete(deleteRecord{Service: d.service(), Kind: "instance", ProjectID: d.project, ID: d.id, Force: force,
		Recycled: d.toBin && !fail}, c.now)
}

type dmsBatchBody struct {
	Instances   *[]string `json:"instances"`
	Action      *string   `json:"action"`
	AllFailure  *string   `json:"all_failure"`
	ForceDelete *bool     `json:"force_delete"`
}

type dmsBatchResult struct {
	Result   string `json:"result"`
	Instance string `json:"instance"`
}

func (s *Sim) dmsBatchDelete(c *call) reply {
	var b dmsBatchBody
	if err := decodeBody(c.body, &b); err != nil {
		return svcDMS.badRequest(err.Error())
	}
	if b.Action == nil || *b.Action != "delete" {
		return svcDMS.badRequest("invalid action: only \"delete\" is supported")
	}
	if b.AllFailure != nil {
		return s.dmsDeleteAllFailed(c, *b.AllFailure, b.ForceDelete != nil && *b.ForceDelete)
	}
	if b.Instances == nil || len(*b.Instances) == 0 {
		return svcDMS.badRequest("instances is required unless all_failure is given")
	}
	results := make([]dmsBatchResult, 0, len(*b.Instances))
	for _, id := range *b.Instances {
		s.countDeleteRequest(id)
		res := "failed"
		if d, status, ok := s.dmsLookup(c, id, false); ok && s.dmsRefusal(c, d, status) == "" &&
			!s.failDelete(c.faults) {
			s.startDMSDelete(c, d, status, false, b.ForceDelete != nil && *b.ForceDelete)
			res = "success"
		}
		results = append(results, dmsBatchResult{res, id})
	}
	return jsonReply(http.StatusOK, map[string]any{"results": results})
}

func (s *Sim) dmsDeleteAllFailed(c *call, engine string, force bool) reply {
	var rabbit bool
	switch engine {
	case "reliability", "rocketmq":
	case "rabbitmq":
		rabbit = true
	default:
		return svcDMS.badRequest("invalid all_failure " + strconv.Quote(engine) + ": must be reliability or rabbitmq")
	}
	for _, d := range append([]*dmsInst(nil), s.st.dmsBy[c.project]...) {
		if d.rabbit != rabbit {
			continue
		}
		if status, place := d.current(c.now); place != placeLive || status != "CREATEFAILED" ||
			s.dmsRefusal(c, d, status) != "" {
			continue
		}
		if !s.failDelete(c.faults) {
			s.startDMSDelete(c, d, "CREATEFAILED", false, force)
		}
	}
	return emptyReply(http.StatusNoContent)
}
