package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Actions lists every IAM-form action name the simulator knows, in the
// order of cloudsim-control.md, plus dms:instance:modify for tag changes
// (DMS's own action for them). PUT /_sim/deny accepts only these. They are
// the simulator's names; real policies use the names in docs/cloud.md.
var Actions = []string{
	"dms:instance:list", "dms:instance:get", "dms:instance:delete", "dms:instance:restore", "dms:instance:modify",
	"dms:recycle:get", "dms:recycle:modify",
	"roma:instance:list", "roma:app:list", "roma:task:list",
	"roma:asset:delete", "roma:asset:export", "roma:asset:import",
	"clouddc:instance:list", "clouddc:instance:get", "clouddc:instance:delete",
}

// actionOf maps each simulated operation (the stats name) to the one action
// it needs. A ROMA job read needs only the instance read: every identity
// that started a job may follow it.
var actionOf = map[string]string{
	"dms.list":              "dms:instance:list",
	"dms.show":              "dms:instance:get",
	"dms.delete":            "dms:instance:delete",
	"dms.batch_delete":      "dms:instance:delete",
	"dms.restore":           "dms:instance:restore",
	"dms.recycle_get":       "dms:recycle:get",
	"dms.recycle_set":       "dms:recycle:modify",
	"roma.list_instances":   "roma:instance:list",
	"roma.list_apps":        "roma:app:list",
	"roma.list_tasks":       "roma:task:list",
	"roma.delete_assets":    "roma:asset:delete",
	"roma.delete_app":       "roma:asset:delete",
	"roma.delete_task":      "roma:asset:delete",
	"roma.job":              "roma:instance:list",
	"roma.export":           "roma:asset:export",
	"roma.download_archive": "roma:asset:export",
	"roma.import":           "roma:asset:import",
	"dms.tags":              "dms:instance:get",
	"dms.project_tags":      "dms:instance:get",
	"dms.tags_action":       "dms:instance:modify",
	"clouddc.list":          "clouddc:instance:list",
	"clouddc.status":        "clouddc:instance:get",
	"clouddc.delete":        "clouddc:instance:delete",
	"clouddc.batch_delete":  "clouddc:instance:delete",
}

// ActionOf returns the action a simulated operation needs ("" if unknown).
func ActionOf(op string) string { return actionOf[op] }

// code403 is the service's permission-error code [SIM]; the message names
// the action as Huawei Cloud's own IAM check does ("Policy doesn't allow
// <action> to be performed.").
func (v svc) code403() string {
	switch v {
	case svcDMS:
		return "DMS.00403000"
	case svcROMA:
		return "ROMA.00000403"
	case svcCloudDC:
		return "CLOUDDC.00000403"
	}
	return "APIGW.0302"
}

// denied answers 403 when the call's action is denied to its identity: to
// its AK, or to every identity (key ""). s.mu held.
func (s *Sim) denied(c *call, rt route) (reply, bool) {
	action := actionOf[rt.op]
	if action == "" {
		return reply{}, false
	}
	if !s.deny[""][action] && (c.cred.AK == "" || !s.deny[c.cred.AK][action]) {
		return reply{}, false
	}
	return errReply(rt.svc, http.StatusForbidden, rt.svc.code403(),
		"Policy doesn't allow "+action+" to be performed."), true
}

// denyBody is the body of PUT /_sim/deny and its answer.
type denyBody struct {
	AK      string   `json:"ak"`
	Actions []string `json:"actions"`
}

// ctlDeny replaces the denied actions of one AK ("" = every identity).
func (s *Sim) ctlDeny(body []byte) reply {
	var b denyBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return controlError(http.StatusBadRequest, "invalid deny body: "+err.Error())
	}
	if b.Actions == nil {
		return controlError(http.StatusBadRequest, `"actions" is required ([] clears)`)
	}
	if err := s.Deny(b.AK, b.Actions...); err != nil {
		return controlError(http.StatusBadRequest, err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return jsonReply(http.StatusOK, map[string]any{"deny": s.denyLocked()})
}

// Deny replaces the actions denied to one AK ("" = every identity, token
// identities included); no actions clears them. It is PUT /_sim/deny for Go
// callers.
func (s *Sim) Deny(ak string, actions ...string) error {
	set := map[string]bool{}
	for _, a := range actions {
		if !slices.Contains(Actions, a) {
			return fmt.Errorf("unknown action %s", a)
		}
		set[a] = true
	}
	if ak != "" && s.credByAK(ak) == nil {
		return fmt.Errorf("unknown access key %s", ak)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(set) == 0 {
		delete(s.deny, ak)
	} else {
		s.deny[ak] = set
	}
	return nil
}

// denyLocked lists the denials in force, sorted; s.mu held.
func (s *Sim) denyLocked() []denyBody {
	out := []denyBody{}
	for _, ak := range sortedKeys(s.deny) {
		acts := make([]string, 0, len(s.deny[ak]))
		for a := range s.deny[ak] {
			acts = append(acts, a)
		}
		sort.Strings(acts)
		out = append(out, denyBody{AK: ak, Actions: acts})
	}
	return out
}

// deleteCall is one delete call the cloud answered, with its request ID,
// whatever the outcome (GET /_sim/stats "delete_calls").
type deleteCall struct {
	Operation string `json:"operation"`
	ProjectID string `json:"project_id"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
}

// recordDeleteCall notes a delete call's request ID for the stats.
func (s *Sim) recordDeleteCall(op, project, reqID string, status int) {
	if !strings.HasSuffix(actionOf[op], ":delete") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.DeleteCalls = append(s.stats.DeleteCalls, deleteCall{op, project, reqID, status})
}
