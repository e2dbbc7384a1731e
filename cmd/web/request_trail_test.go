package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// TestDeleteRequestIDsOnChangePageAndAudit runs a change through the real
// console against cloudsim and expects the cloud's X-Request-Id of every
// accepted delete call on the change page and in the resource_outcome audit
// events.
func TestDeleteRequestIDsOnChangePageAndAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS, f.CloudDCDeleteDelayMS, f.ROMAAssetMS = 300, 300, 20
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "empty", Seed: 3, Faults: f})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	h := &heldSim{srv: srv}
	var refs []cloud.Ref
	refs = append(refs, simRefs(cloud.CloudDC, h.create(t, "clouddc", "stopped", 3))...)
	refs = append(refs, simRefs(cloud.RocketMQ, h.create(t, "rocketmq", "RUNNING", 3))...)

	data := t.TempDir()
	cfgPath := writeSimCloudConfig(t, srv.URL)
	base, out, stop := startServeInProcess(t, data, cfgPath)
	defer stop()
	db, svc := openChanges(t, data, cfgPath)
	ctx := context.Background()
	alice := changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester}}
	bob := changes.Actor{Name: "bob", Roles: auth.Roles{auth.RoleApprover}}
	c, err := svc.Plan(ctx, alice, changes.PlanRequest{Refs: refs, Reason: "support trail"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = svc.Approve(ctx, bob, c.ID, c.PlanHash, "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err = svc.Execute(ctx, alice, c.ID, fmt.Sprint(len(refs))); err != nil {
		t.Fatal(err)
	}
	if final := waitFinal(t, svc, c.ID, 60*time.Second); final.State != changes.StateSucceeded {
		t.Fatalf("change ended %s: %+v", final.State, final.Progress())
	}

	var stats struct {
		DeleteCalls []struct {
			Operation string
			RequestID string `json:"request_id"`
			Status    int
		} `json:"delete_calls"`
	}
	h.control(t, http.MethodGet, "/_sim/stats", nil, &stats)
	var deleteIDs []string
	for _, dc := range stats.DeleteCalls {
		if dc.Status < 300 {
			deleteIDs = append(deleteIDs, dc.RequestID)
		}
	}
	if len(deleteIDs) < 2 {
		t.Fatalf("the simulator saw %d accepted delete calls: %+v", len(deleteIDs), stats.DeleteCalls)
	}

	t.Logf("%d accepted delete calls: %v", len(deleteIDs), deleteIDs)
	page := signedInGet(t, base, "alice", fmt.Sprintf("/changes/%d", c.ID))
	shown := regexp.MustCompile(`data-testid="request-ids">([^<]+)<`).FindAllStringSubmatch(page, -1)
	if len(shown) != len(refs) {
		t.Errorf("%d result rows show delete request IDs, want %d", len(shown), len(refs))
	}
	var audited []string
	rows, err := db.Query(`SELECT details FROM audit_events WHERE change_id = ? AND action = 'resource_outcome'`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var details string
		if err := rows.Scan(&details); err != nil {
			t.Fatal(err)
		}
		var d struct {
			RequestIDs []string `json:"request_ids"`
		}
		if err := json.Unmarshal([]byte(details), &d); err != nil || len(d.RequestIDs) == 0 {
			t.Errorf("resource_outcome without request_ids: %s", details)
		}
		audited = append(audited, d.RequestIDs...)
		if strings.Contains(details, cloudsim.DemoSK) {
			t.Error("the SK is in an audit event")
		}
	}
	if strings.Contains(out.String(), cloudsim.DemoSK) {
		t.Error("the SK is in the console's output")
	}
	for _, id := range deleteIDs {
		if !strings.Contains(page, id) {
			t.Errorf("delete request %s not on the change page", id)
		}
		if !strings.Contains(strings.Join(audited, " "), id) {
			t.Errorf("delete request %s not in any resource_outcome audit event", id)
		}
	}
	if !strings.Contains(page, `data-testid="status-request-id"`) {
		t.Error("no status-read request ID on the change page")
	}
}

// startServeInProcess runs the console on data with the cloud config and
// returns its base URL and a stop function.
func startServeInProcess(t *testing.T, data, cfgPath string) (string, *syncBuffer, func()) {
	t.Helper()
	env := map[string]string{"DECOM_LOG_LEVEL": "error", "DECOM_DEMO_PASSWORD": demoPassword}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", "127.0.0.1:0", "--data", data, "--cloud-config", cfgPath},
			func(k string) string { return env[k] }, out)
	}()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("no graceful shutdown")
		}
	}
	for range 200 {
		if s := out.String(); strings.Contains(s, "decom console: ") {
			return strings.TrimSuffix(strings.Fields(s[strings.Index(s, "decom console: "):])[2], "/"), out, stop
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	t.Fatalf("did not start: %s", out.String())
	return "", nil, nil
}

// signedInGet signs user in with the demo password and returns the page.
func signedInGet(t *testing.T, base, user, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(p string) string {
		resp, err := c.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(get("/login"))
	if m == nil {
		t.Fatal("no CSRF field on the login page")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {demoPassword}, "_csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return get(path)
}
