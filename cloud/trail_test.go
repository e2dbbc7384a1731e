package cloud

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/decom/decom/cloudsim"
)

// The trail of a delete holds the cloud's request ID of the delete call
// itself, the one the simulator recorded.
func TestTrailRecordsDeleteRequestIDs(t *testing.T) {
	_, url := credSim(t)
	c, err := New(Config{Accounts: []Account{{Name: "acct", Projects: []string{simProject},
		AK: cloudsim.DemoAK, SK: cloudsim.DemoSK, Endpoints: Endpoints{DMS: url, ROMA: url, CloudDC: url}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, err := c.ListInstances(ctx, "acct", simProject, RabbitMQ)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list {
		if r.Deletable() && len(ids) < 3 {
			ids = append(ids, r.ID)
		}
	}
	tctx, trail := WithTrail(ctx)
	if _, err := c.DeleteDMS(tctx, "acct", simProject, RabbitMQ, ids, true); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, call := range trail.Calls() {
		if call.Destructive {
			got = append(got, call.RequestID)
		}
	}
	resp, err := http.Get(url + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		DeleteCalls []struct {
			RequestID string `json:"request_id"`
		} `json:"delete_calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(st.DeleteCalls) != 1 || got[0] != st.DeleteCalls[0].RequestID || got[0] == "" {
		t.Fatalf("trail %v, simulator %+v", trail.Calls(), st.DeleteCalls)
	}
}
