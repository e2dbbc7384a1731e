package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// binSim is cloudsim serving account "acct" (projects p1 and p2) on the
// test server's clock, with a cloud.Client that reads it.
type binSim struct {
	t      testing.TB
	srv    *httptest.Server
	client *cloud.Client
}

func newBinSim(t testing.TB, now func() time.Time) *binSim {
	t.Helper()
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS = 0
	sim := cloudsim.New(cloudsim.Options{Credentials: []cloudsim.Credential{{AK: cloudsim.DemoAK, SK: cloudsim.DemoSK,
		User: "u", Projects: []string{"p1", "p2"}}}, Fleet: "empty", Seed: 1, Faults: f, Now: now})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := cloud.New(cloud.Config{Accounts: []cloud.Account{{Name: "acct", Region: "cn-east-3",
		Projects: []string{"p1", "p2"}, AK: cloudsim.DemoAK, SK: cloudsim.DemoSK, Simulated: true,
		Endpoints: cloud.Endpoints{DMS: srv.URL, ROMA: srv.URL, CloudDC: srv.URL}}}}, cloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &binSim{t: t, srv: srv, client: c}
}

func (b *binSim) control(method, path string, body any) string {
	b.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		b.t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	return out.ID
}

// binned creates an instance and deletes it into the bin.
func (b *binSim) binned(svc cloud.Service, project, name string) string {
	b.t.Helper()
	id := b.control(http.MethodPost, "/_sim/resources", map[string]any{"service": svc, "kind": "instance",
		"project_id": project, "name": name})
	outs, err := b.client.DeleteDMS(context.Background(), "acct", project, svc, []string{id}, false)
	if err != nil || !outs[0].Accepted {
		b.t.Fatalf("delete %s: %+v %v", name, outs, err)
	}
	return id
}

func TestRecycleBinPage(t *testing.T) {
	ts := newTestServer(t)
	sim := newBinSim(t, ts.now.Now)
	ts.srv.Recycle = sim.client
	sim.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": "p1",
		"retention_days": 3, "default_use_recycle": true})
	sim.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rabbitmq", "project_id": "p2",
		"retention_days": 1, "default_use_recycle": true})
	oldest := sim.binned(cloud.RocketMQ, "p1", "orders-mq")
	ts.now.Add(30 * time.Hour)
	newest := sim.binned(cloud.RocketMQ, "p1", hostileName)
	soonest := sim.binned(cloud.RocketMQ, "p2", "billing-mq")
	rabbit := sim.binned(cloud.RabbitMQ, "p1", "notify-rabbit")
	ts.now.Add(time.Hour)

	c := ts.login(t, "vera") // any role may look
	resp, body := c.get(t, "/recycle/rocketmq")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, hostileName) {
		t.Fatal("instance name not escaped")
	}
	d := doc(t, body)
	rows := testIDs(d, "recycle-row")
	var ids, left, cost []string
	rows.Each(func(_ int, r *goquery.Selection) {
		ids = append(ids, r.AttrOr("data-id", ""))
		left = append(left, strings.Fields(r.Find(`[data-testid="time-left"]`).Text())[0:3]...)
		cost = append(cost, strings.TrimSpace(r.Find(`[data-testid="cost-per-hour"]`).Text()))
	})
	// Soonest purge first: p2 keeps 1 day, p1 3 days.
	if strings.Join(ids, ",") != strings.Join([]string{soonest, oldest, newest}, ",") {
		t.Fatalf("rows %v, want %v", ids, []string{soonest, oldest, newest})
	}
	if got := strings.Join(left, " "); got != "23 h 0 1 d 17 2 d 23" {
		t.Errorf("time left %q", got)
	}
	if cost[0] != "0.00" {
		t.Errorf("cost per hour %v", cost)
	}
	if testIDs(d, "recycle-row").First().Find(".urgent").Length() != 1 {
		t.Error("less than a day left is not flagged")
	}
	if n := testIDs(d, "recycle-policy").Length(); n != 2 {
		t.Errorf("%d policy rows, want 2", n)
	}
	if strings.Contains(body, rabbit) || testIDs(d, "read-error").Length() != 0 {
		t.Error("RabbitMQ entry on the RocketMQ page, or a read error")
	}
	if cur := d.Find(`[data-testid="recycle-tabs"] [aria-current="page"]`).Text(); cur != serviceLabel(cloud.RocketMQ) {
		t.Errorf("current tab %q", cur)
	}
	if d.Find(`[data-testid="nav-recycle"][aria-current="page"]`).Length() != 1 {
		t.Error("nav entry not current")
	}

	_, body = c.get(t, "/recycle/rabbitmq")
	d = doc(t, body)
	if testIDs(d, "recycle-row").Length() != 1 || testIDs(d, "recycle-name").Text() != "notify-rabbit" {
		t.Errorf("rabbit page rows: %q", testIDs(d, "recycle-name").Text())
	}

	// Restored instances leave the bin.
	if _, err := sim.client.RestoreDMS(context.Background(), "acct", "p1", cloud.RabbitMQ, []string{rabbit}); err != nil {
		t.Fatal(err)
	}
	_, body = c.get(t, "/recycle/rabbitmq")
	if d = doc(t, body); testIDs(d, "recycle-row").Length() != 0 || testIDs(d, "empty").Length() != 1 {
		t.Error("restored instance still listed")
	}
}

// fakeBins answers recycle bins from memory; a project in fail errors.
type fakeBins struct {
	bins map[string]cloud.RecycleBin
	fail map[string]bool
}

func (f *fakeBins) ReadRecycleBin(_ context.Context, account, project string) (cloud.RecycleBin, error) {
	if f.fail[project] {
		return cloud.RecycleBin{}, &cloud.Error{Class: cloud.ErrTransient, Message: "boom"}
	}
	return f.bins[project], nil
}

func TestRecycleBinErrors(t *testing.T) {
	ts := newTestServer(t)
	now := ts.now.Now()
	ts.srv.Recycle = &fakeBins{fail: map[string]bool{"p2": true}, bins: map[string]cloud.RecycleBin{"p1": {
		Policy: cloud.RecyclePolicy{RetentionDays: 1, DefaultUseRecycle: true},
		Entries: []cloud.RecycleEntry{{Ref: cloud.Ref{Account: "acct", Project: "p1", Service: cloud.RocketMQ, ID: "x"},
			Name: "expired-mq", InRecycle: now.Add(-25 * time.Hour), AutoDelete: now.Add(-time.Hour), CostPerHour: 0.5}},
	}}}
	c := ts.login(t, "alice")
	resp, body := c.get(t, "/recycle/rocketmq")
	d := doc(t, body)
	if resp.StatusCode != http.StatusOK ||
		strings.TrimSpace(testIDs(d, "read-error").Text()) != "Could not read the recycle bin of acct/p2" {
		t.Fatalf("status %d, read errors %q", resp.StatusCode, testIDs(d, "read-error").Text())
	}
	if tl := testIDs(d, "time-left").Text(); !strings.Contains(tl, "expired") ||
		testIDs(d, "cost-per-hour").Text() != "0.50" {
		t.Errorf("time left %q cost %q", tl, testIDs(d, "cost-per-hour").Text())
	}
	for _, tc := range []struct {
		path string
		want int
	}{{"/recycle/roma", http.StatusNotFound}, {"/recycle/clouddc", http.StatusNotFound}, {"/recycle/", http.StatusNotFound}} {
		if resp, _ := c.get(t, tc.path); resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
	if resp, _ := ts.client().get(t, "/recycle/rocketmq"); resp.StatusCode != http.StatusSeeOther &&
		resp.StatusCode != http.StatusFound {
		t.Errorf("signed out: %d, want a redirect to sign in", resp.StatusCode)
	}
	ts.srv.Recycle = nil
	if resp, _ := c.get(t, "/recycle/rocketmq"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("not configured: %d", resp.StatusCode)
	}
	// htmx request: same page, errors as a flash fragment.
	if resp, body := c.get(t, "/recycle/roma", "HX-Request", "true"); resp.StatusCode != http.StatusNotFound ||
		testIDs(doc(t, body), "flash").Length() != 1 {
		t.Errorf("htmx 404: %d %s", resp.StatusCode, body)
	}
}

func TestTimeLeft(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "expired"}, {0, "expired"}, {10 * time.Second, "1 min"}, {59 * time.Minute, "59 min"},
		{time.Hour, "1 h 0 min"}, {23*time.Hour + 59*time.Minute, "23 h 59 min"}, {24 * time.Hour, "1 d 0 h"},
		{24*time.Hour - time.Millisecond, "1 d 0 h"}, {90 * time.Second, "2 min"},
		{7*24*time.Hour - time.Minute, "6 d 23 h"},
	} {
		if got := timeLeft(tc.d); got != tc.want {
			t.Errorf("timeLeft(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
