package cloudsim

import (
	"net/http"
	"strings"
)

// svc selects a service's error codes.
type svc int

const (
	svcGateway svc = iota
	svcDMS
	svcROMA
	svcCloudDC
)

func (v svc) code500() string {
	switch v {
	case svcDMS:
		return "DMS.00500000"
	case svcROMA:
		return "ROMA.00000500"
	case svcCloudDC:
		return "CLOUDDC.00000500"
	}
	return "APIGW.0500"
}

func (v svc) code400() string {
	switch v {
	case svcDMS:
		return "DMS.00400005"
	case svcROMA:
		return "ROMA.13000"
	case svcCloudDC:
		return "CLOUDDC.00000400"
	}
	return "APIGW.0400"
}

func (v svc) badRequest(msg string) reply {
	return errReply(v, http.StatusBadRequest, v.code400(), msg)
}

// apiError is the error body every service and the gateway send.
type apiError struct {
	Code      string `json:"error_code"`
	Msg       string `json:"error_msg"`
	RequestID string `json:"request_id"`
	Details   string `json:"error_details,omitempty"`
}

func errReply(v svc, status int, code, msg string) reply {
	e := &apiError{Code: code, Msg: msg}
	if v == svcROMA {
		e.Details = msg
	}
	return reply{status: status, body: e}
}

// route is one cloud operation.
type route struct {
	op     string
	svc    svc
	handle func(*Sim, *call) reply
}

var (
	rtDMSList        = route{"dms.list", svcDMS, (*Sim).dmsList}
	rtDMSShow        = route{"dms.show", svcDMS, (*Sim).dmsShow}
	rtDMSDelete      = route{"dms.delete", svcDMS, (*Sim).dmsDelete}
	rtDMSBatch       = route{"dms.batch_delete", svcDMS, (*Sim).dmsBatchDelete}
	rtROMAInstances  = route{"roma.list_instances", svcROMA, (*Sim).romaListInstances}
	rtROMAApps       = route{"roma.list_apps", svcROMA, (*Sim).romaListApps}
	rtROMATasks      = route{"roma.list_tasks", svcROMA, (*Sim).romaListTasks}
	rtROMADelete     = route{"roma.delete_assets", svcROMA, (*Sim).romaDeleteAssets}
	rtROMAJob        = route{"roma.job", svcROMA, (*Sim).romaJob}
	rtROMADeleteApp  = route{"roma.delete_app", svcROMA, (*Sim).romaDeleteApp}
	rtROMADeleteTask = route{"roma.delete_task", svcROMA, (*Sim).romaDeleteTask}
	rtCDCList        = route{"clouddc.list", svcCloudDC, (*Sim).cdcList}
	rtCDCStatus      = route{"clouddc.status", svcCloudDC, (*Sim).cdcStatus}
	rtCDCDelete      = route{"clouddc.delete", svcCloudDC, (*Sim).cdcDelete}
	rtCDCBatch       = route{"clouddc.batch_delete", svcCloudDC, (*Sim).cdcBatchDelete}
)

// matchRoute applies the one-base-URL routing rule of cloud-api.md §1.1 and
// returns the route, the path's project and the IDs that follow it.
func matchRoute(r *http.Request) (route, string, []string, bool) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(seg) < 3 || seg[1] == "" {
		return route{}, "", nil, false
	}
	ver, project, rest := seg[0], seg[1], seg[2:]
	m := r.Method
	var rt route
	var args []string
	switch {
	case ver == "v2" && rest[0] == "instances":
		rt, args = matchV2Instances(m, r.URL.Query().Has("engine"), rest[1:])
	case ver == "v2" && rest[0] == "fdi" && len(rest) >= 4 && rest[1] == "instances" && rest[3] == "tasks":
		switch {
		case len(rest) == 4 && m == http.MethodGet:
			rt, args = rtROMATasks, []string{rest[2]}
		case len(rest) == 5 && m == http.MethodDelete:
			rt, args = rtROMADeleteTask, []string{rest[2], rest[4]}
		}
	case ver == "v1" && rest[0] == "instances":
		rt, args = matchV1Instances(m, rest[1:])
	case ver == "v2" && (rest[0] == "rocketmq" || rest[0] == "rabbitmq"):
		rt, args = matchDMSTags(m, rest)
	case ver == "v2" && rest[0] == "recycle" && len(rest) == 1:
		rt = matchRecycle(m)
	}
	if rt.handle == nil || anyEmpty(args) {
		return route{}, "", nil, false
	}
	return rt, project, args, true
}

func matchV2Instances(m string, hasEngine bool, rest []string) (route, []string) {
	switch {
	case len(rest) == 0 && m == http.MethodGet && hasEngine:
		return rtDMSList, nil
	case len(rest) == 0 && m == http.MethodGet:
		return rtROMAInstances, nil
	case len(rest) == 1 && rest[0] == "action" && m == http.MethodPost:
		return rtDMSBatch, nil
	case len(rest) == 1 && m == http.MethodGet:
		return rtDMSShow, rest
	case len(rest) == 1 && m == http.MethodDelete:
		return rtDMSDelete, rest
	case len(rest) == 2 && rest[1] == "apps" && m == http.MethodGet:
		return rtROMAApps, rest[:1]
	case len(rest) == 3 && rest[1] == "apps" && m == http.MethodDelete:
		return rtROMADeleteApp, []string{rest[0], rest[2]}
	case len(rest) == 3 && rest[1] == "assets" && rest[2] == "delete" && m == http.MethodPost:
		return rtROMADelete, rest[:1]
	case len(rest) == 4 && rest[1] == "assets" && rest[2] == "jobs" && m == http.MethodGet:
		return rtROMAJob, []string{rest[0], rest[3]}
	case len(rest) >= 3 && rest[1] == "assets":
		return matchROMABackup(m, rest)
	}
	return route{}, nil
}

func matchV1Instances(m string, rest []string) (route, []string) {
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		return rtCDCList, nil
	case len(rest) == 1 && rest[0] == "batch-delete" && m == http.MethodPost:
		return rtCDCBatch, nil
	case len(rest) == 1 && m == http.MethodDelete:
		return rtCDCDelete, rest
	case len(rest) == 2 && rest[1] == "status" && m == http.MethodGet:
		return rtCDCStatus, rest[:1]
	}
	return route{}, nil
}

func anyEmpty(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return true
		}
	}
	return false
}
