package inventory

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// Against cloudsim with dms:instance:list denied, the inventory names the
// missing permission for every project instead of an empty list or an error.
func TestServiceNamesMissingPermission(t *testing.T) {
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "demo", Seed: 1,
		Faults: cloudsim.DefaultFaults()})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if err := sim.Deny(cloudsim.DemoAK, "dms:instance:list"); err != nil {
		t.Fatal(err)
	}
	client, err := cloud.New(cloud.Config{Accounts: []cloud.Account{{Name: "demo", Projects: cloudsim.DemoProjects,
		AK: cloudsim.DemoAK, SK: cloudsim.DemoSK,
		Endpoints: cloud.Endpoints{DMS: srv.URL, ROMA: srv.URL, CloudDC: srv.URL}}}}, cloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := New(client, Options{})
	snap, err := inv.Service(context.Background(), cloud.RabbitMQ)
	if err != nil {
		t.Fatalf("all projects denied: %v, want a snapshot that says why", err)
	}
	if len(snap.Errors) != len(cloudsim.DemoProjects) {
		t.Fatalf("errors %q, want one per project", snap.Errors)
	}
	for i, p := range cloudsim.DemoProjects {
		want := "needs dms:instance:list in project " + p
		if !strings.Contains(snap.Errors[i], want) {
			t.Errorf("error %q lacks %q", snap.Errors[i], want)
		}
	}
	// Other services are unaffected.
	if snap, err := inv.Service(context.Background(), cloud.CloudDC); err != nil || len(snap.Errors) != 0 {
		t.Fatalf("clouddc: %v %v", err, snap.Errors)
	}
}
