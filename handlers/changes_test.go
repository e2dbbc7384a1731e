package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/poller"
)

// ReadMany makes fakeCloud a changes.Cloud and poller.Cloud: it returns the
// listed resources that still exist.
func (f *fakeCloud) ReadMany(_ context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[string]bool{}
	for _, r := range refs {
		want[r.Key()] = true
	}
	out := map[string]cloud.Resource{}
	for _, list := range f.instances {
		for _, r := range list {
			if want[r.Key()] {
				out[r.Key()] = r
			}
		}
	}
	for _, list := range f.assets {
		for _, r := range list {
			if want[r.Key()] {
				out[r.Key()] = r
			}
		}
	}
	return out, nil
}

// remove deletes instances of svc by ID and reports one outcome each.
func (f *fakeCloud) remove(account, project string, svc cloud.Service, ids []string) []cloud.Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cloud.Outcome
	for _, id := range ids {
		o := cloud.Outcome{
			Ref: cloud.Ref{Account: account, Project: project, Service: svc, Kind: cloud.KindInstance, ID: id},
		}
		list := f.instances[svc]
		for i, r := range list {
			if r.ID == id && r.Deletable() {
				f.instances[svc] = append(list[:i:i], list[i+1:]...)
				o.Accepted = true
				break
			}
		}
		if !o.Accepted {
			o.Err = "not deletable"
		}
		out = append(out, o)
	}
	return out
}

func (f *fakeCloud) DeleteDMS(
	_ context.Context,
	account, project string,
	svc cloud.Service,
	ids []string,
	_ bool,
) ([]cloud.Outcome, error) {
	return f.remove(account, project, svc, ids), nil
}

func (f *fakeCloud) DeleteCloudDCBatch(
	_ context.Context,
	account, project string,
	ids []string,
) ([]cloud.Outcome, error) {
	return f.remove(account, project, cloud.CloudDC, ids), nil
}

func (f *fakeCloud) SubmitROMADelete(context.Context, string, string, string, []string, []string) (string, error) {
	return "job", nil
}

func (f *fakeCloud) ROMAJob(context.Context, string, string, string, string) (cloud.Job, error) {
	return cloud.Job{Status: cloud.JobSucceeded}, nil
}

func (f *fakeCloud) SettleTime(string) time.Duration { return cloud.DefaultSettleTime }

// TestUnconfirmedDeleteLabel: while a delete's outcome is unknown the
// result row says so, in the domain's words.
func TestUnconfirmedDeleteLabel(t *testing.T) {
	ts := newTestServer(t)
	alice, url1 := planChange(t, ts, 2, false)
	bob := ts.login(t, "bob")
	_, body := bob.get(t, url1)
	hash := testIDs(doc(t, body), "plan-hash").Text()
	resp, _ := bob.post(t, url1+"/approve", url.Values{"plan_hash": {hash}, "comment": {"go"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if resp, _ := alice.post(t, url1+"/execute", url.Values{"confirm": {"2"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("execute: %d", resp.StatusCode)
	}
	if _, err := ts.db.Exec(`UPDATE change_operations SET state = 'submitted', attempts = 1
		WHERE id = (SELECT MIN(id) FROM change_operations)`); err != nil {
		t.Fatal(err)
	}
	_, body = alice.get(t, url1+"/progress", "HX-Request", "true")
	rows := testIDs(doc(t, body), "result-row")
	if got := rows.Filter(`[data-state="submitted"]`).Text(); !strings.Contains(
		got,
		"sent; confirming with the cloud",
	) {
		t.Errorf("submitted row reads %q", got)
	}
	got := rows.Filter(`[data-state="queued"]`).Text()
	if !strings.Contains(got, "queued") || strings.Contains(got, "confirming") {
		t.Errorf("queued row reads %q", got)
	}
}

// planChange has alice select the first n RUNNING RocketMQ instances of p1
// and create a change request; it returns the change's URL.
func planChange(t *testing.T, ts *testServer, n int, force bool) (*client, string) {
	t.Helper()
	alice := ts.login(t, "alice")
	var keys []string
	for _, r := range ts.cloud.instances[cloud.RocketMQ] {
		if r.Status == "RUNNING" && r.Project == "p1" && len(keys) < n {
			keys = append(keys, r.Key())
		}
	}
	alice.post(t, "/inventory/rocketmq/select", url.Values{"visible": keys, "key": keys}, "HX-Request", "true")
	scope := inventory.ServiceScope(cloud.RocketMQ)
	resp, body := alice.post(t, "/changes/new", url.Values{"scope": {scope}})
	d := doc(t, body)
	if resp.StatusCode != http.StatusOK || testIDs(d, "plan-form").Length() != 1 || testIDs(d, "force").Length() != 1 {
		t.Fatalf("plan form: %d\n%.300s", resp.StatusCode, body)
	}
	resp, body = alice.post(t, "/changes", url.Values{"scope": {scope}, "reason": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(doc(t, body), "error-reason").Length() != 1 {
		t.Fatalf("no reason: %d", resp.StatusCode)
	}
	form := url.Values{"scope": {scope}, "reason": {"old brokers"}, "ticket": {"T-42"}}
	if force {
		form.Set("force", "1")
	}
	resp, _ = alice.post(t, "/changes", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/changes/") {
		t.Fatalf("create: %d %q", resp.StatusCode, loc)
	}
	return alice, loc
}

func TestChangeFlow(t *testing.T) {
	ts := newTestServer(t)
	alice, url1 := planChange(t, ts, 12, false)

	_, body := alice.get(t, url1)
	d := doc(t, body)
	if got := testIDs(d, "result-row").Length(); got != 12 {
		t.Errorf("plan rows = %d, want 12", got)
	}
	if testIDs(d, "approve").Length() != 0 || testIDs(d, "cancel").Length() != 1 ||
		testIDs(d, "execute").Length() != 0 {
		t.Error("requester sees approve, or no cancel, or execute before approval")
	}
	if testIDs(d, "flash").Length() != 1 {
		t.Error("no flash after create")
	}
	hash := testIDs(d, "plan-hash").Text()

	// Roles are checked on the server whatever the page shows.
	if resp, _ := alice.post(t, url1+"/approve", url.Values{"plan_hash": {hash}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("requester approves: %d", resp.StatusCode)
	}
	vera := ts.login(t, "vera")
	if resp, _ := vera.get(t, url1); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer reads change: %d", resp.StatusCode)
	}

	bob := ts.login(t, "bob")
	_, body = bob.get(t, "/approvals")
	if testIDs(doc(t, body), "change-row").Length() != 1 {
		t.Fatalf("approval queue:\n%.500s", body)
	}
	if resp, _ := bob.post(t, url1+"/approve", url.Values{"plan_hash": {"stale"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("stale hash: %d", resp.StatusCode)
	}
	if resp, _ := bob.post(t, url1+"/approve", url.Values{"plan_hash": {hash}, "comment": {"go"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}

	_, body = alice.get(t, url1)
	d = doc(t, body)
	if testIDs(d, "execute").Length() != 1 || testIDs(d, "confirm").Length() != 1 {
		t.Fatal("no execute form with confirmation for 12 resources")
	}
	alice.post(t, url1+"/execute", url.Values{"confirm": {"3"}})
	_, body = alice.get(t, url1)
	if !strings.Contains(body, "confirmation does not match") {
		t.Error("wrong confirmation not reported")
	}
	if resp, _ := alice.post(t, url1+"/execute", url.Values{"confirm": {"12"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("execute: %d", resp.StatusCode)
	}

	// While executing, the fragment polls itself.
	resp, body := alice.get(t, url1+"/progress", "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `<section id="change-progress"`) ||
		!strings.Contains(
			body,
			`hx-trigger="every 2s"`,
		) || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
		t.Fatalf("progress fragment: %d %q\n%.300s", resp.StatusCode, resp.Header.Get("Vary"), body)
	}

	p := poller.New(ts.db, ts.cloud, poller.Options{MinInterval: time.Millisecond, Now: ts.now.Now})
	for range 5 {
		if _, err := p.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		ts.now.Add(time.Second)
	}
	_, body = alice.get(t, url1+"/progress", "HX-Request", "true")
	d = doc(t, body)
	if strings.Contains(body, "hx-trigger") || testIDs(d, "change-progress").AttrOr("data-finished", "") != "true" ||
		testIDs(d, "done-count").Text() != "12" {
		t.Errorf("finished fragment still polls or is incomplete:\n%.600s", body)
	}
	var steps []string
	testIDs(d, "timeline").Find("li").Each(func(_ int, li *goquery.Selection) {
		steps = append(steps, strings.Join(strings.Fields(li.Text()), " "))
	})
	timeline := strings.Join(steps, "\n")
	for _, want := range []string{"planned by alice", "approved by bob", "all approvals in", "execution started by alice", "batch 1 sent", "finished: succeeded"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	_, body = alice.get(t, "/changes/mine")
	if testIDs(doc(t, body), "change-row").Length() != 1 {
		t.Error("my requests list is empty")
	}
	_, body = bob.get(t, "/changes?state=succeeded")
	if testIDs(doc(t, body), "change-row").Length() != 1 {
		t.Error("filter by state lost the change")
	}
}

func TestChangeRejectAndCancel(t *testing.T) {
	ts := newTestServer(t)
	alice, url1 := planChange(t, ts, 2, true)
	_, body := alice.get(t, url1)
	d := doc(t, body)
	if testIDs(d, "warning-force_delete").Length() != 1 || testIDs(d, "approvals").Text() != "0 of 2" {
		t.Errorf(
			"force plan: warning %d, approvals %q",
			testIDs(d, "warning-force_delete").Length(),
			testIDs(d, "approvals").Text(),
		)
	}
	bob := ts.login(t, "bob")
	if resp, _ := bob.post(t, url1+"/reject", url.Values{"comment": {""}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reject without comment: %d", resp.StatusCode)
	}
	bob.post(t, url1+"/reject", url.Values{"comment": {"too risky"}})
	if resp, _ := alice.post(t, url1+"/cancel", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("cancel rejected: %d", resp.StatusCode)
	}
	_, url2 := planChange(t, ts, 1, false)
	if resp, _ := bob.post(t, url2+"/cancel", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("approver cancels: %d", resp.StatusCode)
	}
	resp, _ := alice.post(t, url2+"/cancel", nil, "HX-Request", "true")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Location") != url2 {
		t.Errorf("htmx cancel: %d %q", resp.StatusCode, resp.Header.Get("HX-Location"))
	}
}

func TestChangeSweep(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.login(t, "alice")
	_, body := alice.get(t, "/changes/new")
	if testIDs(doc(t, body), "sweep-choices").Find("form").Length() != 4 { // 2 projects x 2 engines
		t.Fatalf("sweep choices:\n%.500s", body)
	}
	sweep := url.Values{"sweep_service": {"rocketmq"}, "sweep_account": {"acct"}, "sweep_project": {"p2"}}
	_, body = alice.post(t, "/changes/new", sweep)
	if testIDs(doc(t, body), "plan-form").Length() != 1 {
		t.Fatal("no plan form for a sweep")
	}
	sweep.Set("reason", "clean up failed creations")
	resp, _ := alice.post(t, "/changes", sweep)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create sweep: %d", resp.StatusCode)
	}
	_, body = alice.get(t, resp.Header.Get("Location"))
	rows := testIDs(doc(t, body), "result-row")
	if rows.Length() != 30 { // p2 holds the odd instances; every 4th instance is CREATEFAILED
		t.Errorf("sweep planned %d instances", rows.Length())
	}
	rows.Each(func(_ int, r *goquery.Selection) {
		if !strings.Contains(r.Text(), "CREATEFAILED") {
			t.Errorf("non-failed instance in sweep: %s", r.Text())
		}
	})
}

func TestPolicies(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin")
	_, body := admin.get(t, "/admin/policies")
	if testIDs(doc(t, body), "policy-row").Length() != 1 {
		t.Fatalf("policies page:\n%.500s", body)
	}
	bad := url.Values{
		"project":         {"p1"},
		"approvals":       {"0"},
		"force_approvals": {"2"},
		"roles":           {"approver"},
		"ttl_hours":       {"24"},
	}
	if resp, body := admin.post(t, "/admin/policies", bad); resp.StatusCode != http.StatusUnprocessableEntity ||
		testIDs(doc(t, body), "field-error").Length() == 0 {
		t.Errorf("invalid policy: %d", resp.StatusCode)
	}
	for _, tt := range []struct{ name, field, value, want string }{
		{"HugeTTL", "ttl_hours", "10000000000000000", "between 1 hour and 30 days"},
		{"TTLOver30Days", "ttl_hours", "721", "between 1 hour and 30 days"},
		{"UnknownRole", "roles", "approver,boss", "unknown role"},
		{"RequesterApproves", "roles", "requester", "requester role cannot approve"},
		{"MoreThanApprovers", "force_approvals", "3", "only 1 user(s) hold an approver role"},
		{"ElevenApprovals", "approvals", "11", "between 1 and 10"},
	} {
		form := url.Values{
			"project":         {"p1"},
			"approvals":       {"1"},
			"force_approvals": {"1"},
			"roles":           {"approver"},
			"ttl_hours":       {"4"},
		}
		form.Set(tt.field, tt.value)
		resp, body := admin.post(t, "/admin/policies", form)
		if resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(testIDs(doc(t, body), "field-error").Text(), tt.want) {
			t.Errorf(
				"%s: status %d, messages %q",
				tt.name,
				resp.StatusCode,
				testIDs(doc(t, body), "field-error").Text(),
			)
		}
	}
	for _, name := range []string{"carol", "dan"} {
		if _, err := ts.users.Create(context.Background(), auth.Origin{Actor: "test"}, name, testPassword,
			auth.Roles{auth.RoleApprover}); err != nil {
			t.Fatal(err)
		}
	}
	good := url.Values{
		"project":         {"p1"},
		"approvals":       {"2"},
		"force_approvals": {"3"},
		"roles":           {"approver"},
		"ttl_hours":       {"4"},
	}
	if resp, _ := admin.post(t, "/admin/policies", good); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save policy: %d", resp.StatusCode)
	}
	_, body = admin.get(t, "/admin/policies")
	if testIDs(doc(t, body), "policy-row").Length() != 2 {
		t.Error("project policy not listed")
	}
	// The project policy applies to new requests in p1.
	alice, url1 := planChange(t, ts, 1, false)
	_, body = alice.get(t, url1)
	if got := testIDs(doc(t, body), "approvals").Text(); got != "0 of 2" {
		t.Errorf("approvals under project policy = %q", got)
	}
}

// TestChangeActionsFollowRules: every action a page offers is one the server
// accepts, and none it refuses is offered. An admin is not an approver under
// the default policy, so sees Cancel but no Approve or Reject.
func TestChangeActionsFollowRules(t *testing.T) {
	ts := newTestServer(t)
	_, url1 := planChange(t, ts, 1, false)
	admin := ts.login(t, "admin")
	_, body := admin.get(t, url1)
	d := doc(t, body)
	if testIDs(d, "approve").Length() != 0 || testIDs(d, "reject").Length() != 0 {
		t.Error("admin is offered Approve or Reject, which the policy refuses")
	}
	if testIDs(d, "cancel").Length() != 1 {
		t.Error("admin is not offered Cancel, which the rules allow")
	}
	if resp, _ := admin.post(t, url1+"/approve", url.Values{"plan_hash": {testIDs(d, "plan-hash").Text()}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin approves: %d, want 403", resp.StatusCode)
	}
	bob := ts.login(t, "bob")
	_, body = bob.get(t, url1)
	if d := doc(t, body); testIDs(d, "approve").Length() != 1 || testIDs(d, "cancel").Length() != 0 {
		t.Error("approver: want Approve and no Cancel")
	}
}
