package cloud

import (
	"regexp"
	"strings"
)

// Permission is one IAM action decom needs on a real Huawei Cloud account,
// with the decom operations that need it and why. docs/cloud.md ships the
// policies built from this table; TestPolicyDocMatchesPermissions keeps them
// in step.
type Permission struct {
	Action     string   // IAM action, e.g. "dms:instance:list"
	Operations []string // decom's operation names (Error.Operation)
	Operator   bool     // only the operator policy grants it (a write)
	Confirmed  bool     // the name was found in Huawei Cloud's permission docs
	Why        string
}

// Permissions lists every action decom calls, read-only ones first.
var Permissions = []Permission{
	{"dms:instance:list", []string{"dms.list"}, false, true,
		"list RocketMQ and RabbitMQ instances: inventory, plans, re-validation, cloud check"},
	{"dms:instance:get", []string{"dms.show", "dms.tags"}, false, true,
		"read one DMS instance (status polls after a delete, re-reads before a resend) and its tags (protection rules)"},
	{"roma:instances:list", []string{"roma.instances.list"}, false, true,
		"list ROMA Connect instances: inventory and cloud check"},
	{"roma:applications:list", []string{"roma.apps.list"}, false, true,
		"list the integration apps of a ROMA instance: inventory, plans, job re-reads"},
	{"roma:tasks:list", []string{"roma.tasks.list"}, false, true,
		"list the data-integration tasks of a ROMA instance: inventory, plans, job re-reads"},
	{"roma:assets:get", []string{"roma.job"}, false, false,
		"follow an asset job (delete, export, import) to its end"},
	{"clouddc:instance:list", []string{"clouddc.list"}, false, true,
		"list CloudDC bare-metal instances: inventory, status reads, cloud check"},
	{"clouddc:instance:get", []string{"clouddc.status"}, false, true,
		"read one CloudDC instance's status after a delete"},
	{"dms:instance:delete", []string{"dms.delete", "dms.batch_delete", "dms.delete_all_failed"}, true, true,
		"delete approved DMS instances (single and batch delete)"},
	{"dms:instance:restore", []string{"dms.restore"}, true, true,
		"restore a DMS instance from the recycle bin (undo within the retention period)"},
	{"dms::updateRecyclePolicy", []string{"dms.recycle_policy"}, true, true,
		"set the project's DMS recycle-bin policy (retention, default use) from the recycle-bin page"},
	{"roma:assets:delete", []string{"roma.assets.delete"}, true, false,
		"delete approved ROMA apps and tasks (one asset job per batch)"},
	{"roma:assets:export", []string{"roma.assets.export", "roma.archive.download"}, true, true,
		"export ROMA assets before deleting them and download the archive (the download's own action is not documented)"},
	{"roma:assets:import", []string{"roma.assets.import"}, true, true,
		"import an exported archive to restore deleted ROMA assets"},
	{"clouddc:instance:delete", []string{"clouddc.delete"}, true, true,
		"delete one approved CloudDC instance"},
	{"clouddc:instance:deleteBatch", []string{"clouddc.batch_delete"}, true, true,
		"delete approved CloudDC instances in batches of up to 50"},
}

// IAMAction returns the IAM action a decom operation needs ("" if none is
// known).
func IAMAction(op string) string {
	for _, p := range Permissions {
		for _, o := range p.Operations {
			if o == op {
				return p.Action
			}
		}
	}
	return ""
}

// actionInMessage finds an IAM action named in a 403 message, as Huawei
// Cloud's IAM check writes it: "Policy doesn't allow dms:instance:list to be
// performed."
var actionInMessage = regexp.MustCompile(`\b([a-z][a-z0-9]*:[A-Za-z0-9]*:[A-Za-z0-9*]+)\b`)

// missingAction names the permission a 403 answer lacks: the action the
// cloud's message names, else the one decom knows the operation needs.
func missingAction(op, msg string) string {
	if m := actionInMessage.FindStringSubmatch(msg); m != nil && !strings.HasPrefix(m[1], "http") {
		return m[1]
	}
	return IAMAction(op)
}
