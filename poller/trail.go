package poller

import (
	"encoding/json"

	"github.com/decom/decom/cloud"
)

// keepReads is how many status-read request IDs an operation keeps (the
// latest); every destructive call's ID is kept.
const keepReads = 5

// addCalls appends the answered calls of a trail to op's support trail.
func addCalls(op *Op, calls []cloud.TrailCall) {
	for _, c := range calls {
		if c.RequestID != "" {
			op.Trail = append(op.Trail, c)
		}
	}
	reads := 0
	for i := len(op.Trail) - 1; i >= 0; i-- {
		if op.Trail[i].Destructive {
			continue
		}
		if reads++; reads > keepReads {
			op.Trail = append(op.Trail[:i], op.Trail[i+1:]...)
		}
	}
}

// lastReads keeps the last keepReads calls of a read-only trail, so a paged
// listing shared by many operations is not copied whole into each.
func lastReads(calls []cloud.TrailCall) []cloud.TrailCall {
	if len(calls) > keepReads {
		return calls[len(calls)-keepReads:]
	}
	return calls
}

// requestIDs lists the request IDs of op's destructive calls (destructive
// true) or of its kept status reads.
func requestIDs(op Op, destructive bool) []string {
	out := []string{}
	for _, c := range op.Trail {
		if c.Destructive == destructive {
			out = append(out, c.RequestID)
		}
	}
	return out
}

func trailJSON(op Op) string {
	if len(op.Trail) == 0 {
		return "[]"
	}
	b, err := json.Marshal(op.Trail)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func parseTrail(s string) []cloud.TrailCall {
	var out []cloud.TrailCall
	_ = json.Unmarshal([]byte(s), &out) // a bad value only loses the trail, never the operation
	return out
}
