package poller

import (
	"fmt"
	"slices"
	"testing"

	"github.com/decom/decom/cloud"
)

// Every destructive call's request ID is kept; of the status reads only the
// latest keepReads.
func TestAddCallsKeepsDeletesAndLatestReads(t *testing.T) {
	var op Op
	addCalls(&op, []cloud.TrailCall{{Operation: "dms.batch_delete", RequestID: "d1", Destructive: true},
		{Operation: "dms.list", RequestID: ""}}) // no request ID: not kept
	for i := range 8 {
		addCalls(&op, []cloud.TrailCall{{Operation: "dms.list", RequestID: fmt.Sprint("r", i)}})
	}
	addCalls(&op, []cloud.TrailCall{{Operation: "dms.batch_delete", RequestID: "d2", Destructive: true}})
	if got := requestIDs(op, true); !slices.Equal(got, []string{"d1", "d2"}) {
		t.Errorf("delete IDs %v", got)
	}
	if got := requestIDs(op, false); !slices.Equal(got, []string{"r3", "r4", "r5", "r6", "r7"}) {
		t.Errorf("read IDs %v", got)
	}
	if back := parseTrail(trailJSON(op)); !slices.Equal(back, op.Trail) {
		t.Errorf("round trip %v != %v", back, op.Trail)
	}
	if parseTrail("not json") != nil || trailJSON(Op{}) != "[]" {
		t.Error("empty or bad trail")
	}
}
