package cloudsim

import (
	"slices"
	"testing"
)

// Every simulated operation maps to exactly one known action.
func TestEveryRouteHasAnAction(t *testing.T) {
	routes := []route{rtDMSList, rtDMSShow, rtDMSDelete, rtDMSBatch, rtROMAInstances, rtROMAApps, rtROMATasks,
		rtROMADelete, rtROMAJob, rtROMADeleteApp, rtROMADeleteTask, rtCDCList, rtCDCStatus, rtCDCDelete, rtCDCBatch,
		rtDMSRecycle, rtDMSRecyclePolicy, rtDMSRestore, rtROMAExport, rtROMAImport, rtROMADownload}
	ops := []string{"dms.tags", "dms.project_tags", "dms.tags_action"} // built per engine in tags.go
	for _, rt := range routes {
		ops = append(ops, rt.op)
	}
	for _, op := range ops {
		a := actionOf[op]
		if a == "" || !slices.Contains(Actions, a) {
			t.Errorf("operation %s: action %q is not one of Actions", op, a)
		}
	}
}
