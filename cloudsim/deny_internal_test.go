package cloudsim

import (
	"slices"
	"testing"
)

// Every simulated operation maps to exactly one known action.
func TestEveryRouteHasAnAction(t *testing.T) {
	routes := []route{rtDMSList, rtDMSShow, rtDMSDelete, rtDMSBatch, rtROMAInstances, rtROMAApps, rtROMATasks,
		rtROMADelete, rtROMAJob, rtROMADeleteApp, rtROMADeleteTask, rtCDCList, rtCDCStatus, rtCDCDelete, rtCDCBatch}
	for _, rt := range routes {
		a := actionOf[rt.op]
		if a == "" || !slices.Contains(Actions, a) {
			t.Errorf("operation %s: action %q is not one of Actions", rt.op, a)
		}
	}
}
