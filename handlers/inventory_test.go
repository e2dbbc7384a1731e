package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/inventory"
)

func TestInventoryOverview(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "vera")
	resp, body := c.get(t, "/inventory")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := doc(t, body)
	if got := testIDs(d, "service-rocketmq").Find(`[data-testid="service-total"]`).Text(); got != "120" {
		t.Errorf("rocketmq total = %q, want 120", got)
	}
	if testIDs(d, "sim-banner").Length() != 1 {
		t.Error("no simulated-cloud banner")
	}
	if n := d.Find(`[data-testid="project-table"] tbody tr`).Length(); n != 2 {
		t.Errorf("project rows = %d, want 2", n)
	}
	if testIDs(d, "read-at").Text() == "" {
		t.Error("no read-at time")
	}
}

func TestInventoryList(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")

	t.Run("FullPage", func(t *testing.T) {
		resp, body := c.get(t, "/inventory/rocketmq?status=failed&sort=created&dir=desc&per=25&page=2")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") {
			t.Error("no Vary: HX-Request")
		}
		d := doc(t, body)
		if n := testIDs(d, "resource-row").Length(); n != 25 {
			t.Errorf("rows = %d, want 25", n)
		}
		if got := testIDs(d, "total").Text(); got != "60" { // half are CREATEFAILED or ERROR
			t.Errorf("total = %q, want 60", got)
		}
		testIDs(d, "status-badge").Each(func(_ int, s *goquery.Selection) {
			if !s.HasClass("badge-failed") {
				t.Errorf("badge %q is not failed", s.Text())
			}
		})
		if d.Find("html").Length() != 1 || testIDs(d, "filters").Length() != 1 {
			t.Error("full page should have the layout and filters")
		}
	})

	t.Run("Fragment", func(t *testing.T) {
		resp, body := c.get(t, "/inventory/rocketmq?q=rocketmq-01", "HX-Request", "true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if strings.Contains(body, "<html") || !strings.HasPrefix(body, `<div id="inventory-results"`) {
			t.Errorf("fragment should be #inventory-results only:\n%.200s", body)
		}
		d := doc(t, body)
		if n := testIDs(d, "resource-row").Length(); n != 10 { // rocketmq-010 .. 019
			t.Errorf("rows = %d, want 10", n)
		}
		if d.Find(`#filter-hidden[hx-swap-oob]`).Length() != 1 {
			t.Error("no out-of-band filter-hidden")
		}
	})

	t.Run("HistoryRestoreGetsFullPage", func(t *testing.T) {
		_, body := c.get(t, "/inventory/rocketmq", "HX-Request", "true", "HX-History-Restore-Request", "true")
		if !strings.Contains(body, "<html") {
			t.Error("history restore must get the full page")
		}
	})
}

func TestInventoryBadParams(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	bad := []string{
		"page=abc", "page=0", "page=-1", "page=99999999999999999999", "per=7", "per=x", "sort=evil",
		"dir=up", "status=%3Cscript%3E", "account=nope", "project=nope", "account=acct&project=nope", "kind=app",
		"page=1&page=2", "q=" + strings.Repeat("x", 201), "account=%00",
	}
	for _, q := range bad {
		for _, hx := range []bool{false, true} {
			t.Run(q+" htmx="+strconv.FormatBool(hx), func(t *testing.T) {
				var h []string
				if hx {
					h = []string{"HX-Request", "true"}
				}
				resp, body := c.get(t, "/inventory/rocketmq?"+q, h...)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400\n%.300s", resp.StatusCode, body)
				}
				if hx && resp.Header.Get("HX-Retarget") != "#flash" {
					t.Error("htmx error not retargeted to #flash")
				}
				if !hx && testIDs(doc(t, body), "error-page").Length() != 1 {
					t.Error("no error page")
				}
			})
		}
	}
	for _, p := range []string{"/inventory/nosuch", "/inventory/rocketmq/acct/p1/nosuch", "/inventory/roma/acct/p1/nosuch/assets",
		"/inventory/roma/acct/p1/roma-id-000/assets/widget/x", "/inventory/rocketmq/acct/p1/rocketmq-id-000/assets"} {
		if resp, _ := c.get(t, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	// An out-of-range page shows the last page rather than failing.
	if resp, body := c.get(t, "/inventory/rocketmq?page=999"); resp.StatusCode != http.StatusOK ||
		testIDs(doc(t, body), "resource-row").Length() == 0 {
		t.Errorf("page past the end: %d", resp.StatusCode)
	}
}

func TestInventoryEscapesHostileNames(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	for _, p := range []string{"/inventory/rocketmq?q=script", "/inventory/rocketmq/acct/p2/rocketmq-id-003", "/inventory/rocketmq?q=" + url.QueryEscape(hostileName)} {
		for _, hx := range []string{"", "true"} {
			resp, body := c.get(t, p, "HX-Request", hx)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", p, resp.StatusCode)
			}
			if strings.Contains(body, "<script>alert") {
				t.Errorf("%s: hostile name not escaped", p)
			}
			if !strings.Contains(body, "&lt;script&gt;") {
				t.Errorf("%s: escaped name missing", p)
			}
		}
	}
}

func TestInventorySelection(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	alice, _ := ts.users.ByUsername(t.Context(), "alice")
	scope := inventory.ServiceScope(cloud.RocketMQ)

	// A checkbox change (htmx) posts the page's boxes; the answer is the bar.
	form := url.Values{
		"visible": {"acct/p1/rocketmq/instance//rocketmq-id-000", "acct/p2/rocketmq/instance//rocketmq-id-001"},
		"key":     {"acct/p1/rocketmq/instance//rocketmq-id-000"},
	}
	resp, body := c.post(t, "/inventory/rocketmq/select", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `<div id="selection-bar"`) {
		t.Fatalf("toggle: %d\n%.200s", resp.StatusCode, body)
	}
	if got := testIDs(doc(t, body), "selected-count").Text(); got != "1" {
		t.Errorf("count = %q, want 1", got)
	}

	// Select all matching a filter, across pages (no JS: 303 back to the list).
	resp, _ = c.post(
		t,
		"/inventory/rocketmq/select",
		url.Values{"op": {"all"}, "status": {"CREATEFAILED"}, "page": {"2"}},
	)
	if resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/inventory/rocketmq?page=2&status=CREATEFAILED" {
		t.Fatalf("select all: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	refs := ts.srv.Inventory.SelectedRefs(alice.ID, scope)
	if len(refs) != 31 { // 30 CREATEFAILED + rocketmq-id-000
		t.Errorf("selected %d, want 31", len(refs))
	}
	_, body = c.get(t, "/inventory/rocketmq")
	d := doc(t, body)
	if got := testIDs(d, "selected-count").Text(); got != "31" {
		t.Errorf("count on page = %q, want 31", got)
	}
	if testIDs(d, "plan-deletion").AttrOr("formaction", "") != "/changes/new" {
		t.Error("no Plan deletion button posting to /changes/new")
	}

	// Unticking a visible box removes it; keys not shown stay selected.
	c.post(
		t,
		"/inventory/rocketmq/select",
		url.Values{"visible": {"acct/p1/rocketmq/instance//rocketmq-id-000"}},
		"HX-Request",
		"true",
	)
	if n := len(ts.srv.Inventory.SelectedRefs(alice.ID, scope)); n != 30 {
		t.Errorf("after untick: %d, want 30", n)
	}

	// Clear (htmx) answers with the whole results fragment.
	resp, body = c.post(t, "/inventory/rocketmq/select", url.Values{"op": {"clear"}}, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `<div id="inventory-results"`) {
		t.Errorf("clear: %d", resp.StatusCode)
	}
	if n := len(ts.srv.Inventory.SelectedRefs(alice.ID, scope)); n != 0 {
		t.Errorf("after clear: %d", n)
	}
	if resp, _ := c.post(t, "/inventory/rocketmq/select", url.Values{"op": {"explode"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad op: %d", resp.StatusCode)
	}

	// Viewers see no checkboxes.
	v := ts.login(t, "vera")
	_, body = v.get(t, "/inventory/rocketmq")
	if testIDs(doc(t, body), "row-check").Length() != 0 {
		t.Error("viewer sees selection checkboxes")
	}
}

func TestROMAAssets(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	alice, _ := ts.users.ByUsername(t.Context(), "alice")
	_, body := c.get(t, "/inventory/roma")
	link := "/inventory/roma/acct/p1/roma-id-000/assets"
	if doc(t, body).Find(`[data-testid="assets-link"][href="`+link+`"]`).Length() != 1 {
		t.Fatalf("no assets link %s", link)
	}
	resp, body := c.get(t, link+"?kind=task")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := testIDs(doc(t, body), "resource-row").Length(); n != 10 {
		t.Errorf("tasks = %d, want 10", n)
	}
	c.post(t, link+"/select", url.Values{"op": {"all"}, "kind": {"app"}})
	inst := cloud.Ref{Account: "acct", Project: "p1", Service: cloud.ROMA, Kind: cloud.KindInstance, ID: "roma-id-000"}
	if n := len(ts.srv.Inventory.SelectedRefs(alice.ID, inventory.AssetsScope(inst))); n != 20 {
		t.Errorf("apps selected = %d, want 20", n)
	}
	if n := len(ts.srv.Inventory.SelectedRefs(alice.ID, inventory.ServiceScope(cloud.ROMA))); n != 0 {
		t.Errorf("instance scope touched: %d", n)
	}
	resp, body = c.get(t, link+"/app/roma-id-000-a01")
	if resp.StatusCode != http.StatusOK || testIDs(doc(t, body), "detail-name").Text() != "asset-01" {
		t.Errorf("asset detail: %d", resp.StatusCode)
	}
}

func TestInventoryRefresh(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "vera")
	c.get(t, "/inventory/rocketmq")
	c.get(t, "/inventory/rocketmq")
	before := ts.cloud.calls
	resp, _ := c.post(
		t,
		"/inventory/refresh",
		url.Values{"service": {"rocketmq"}, "back": {"/inventory/rocketmq?status=failed"}},
	)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inventory/rocketmq?status=failed" {
		t.Fatalf("refresh: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := c.get(t, "/inventory/rocketmq")
	if ts.cloud.calls == before {
		t.Error("refresh did not read the cloud again")
	}
	if testIDs(doc(t, body), "flash").Length() != 1 {
		t.Error("no flash after refresh")
	}
	if resp, _ := c.post(t, "/inventory/refresh", url.Values{"service": {"evil"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad service: %d", resp.StatusCode)
	}
	if resp, _ := c.post(t, "/inventory/refresh", url.Values{"back": {"https://evil.example/"}}); resp.Header.Get(
		"Location",
	) != "/inventory" {
		t.Errorf("open redirect: %q", resp.Header.Get("Location"))
	}
}

func TestInventoryCloudDown(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "vera")
	ts.srv.Inventory = inventory.New(downCloud{ts.cloud}, inventory.Options{})
	resp, body := c.get(t, "/inventory/rocketmq")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Could not read the cloud") {
		t.Errorf("status %d", resp.StatusCode)
	}
	resp, body = c.get(t, "/inventory")
	if resp.StatusCode != http.StatusOK || testIDs(doc(t, body), "read-error").Length() == 0 {
		t.Errorf("overview with the cloud down: %d", resp.StatusCode)
	}
}

// A missing permission is named on the page instead of an empty list or a
// generic failure.
func TestInventoryPermissionDenied(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "vera")
	ts.srv.Inventory = inventory.New(deniedCloud{ts.cloud}, inventory.Options{})
	resp, body := c.get(t, "/inventory/rocketmq")
	errs := testIDs(doc(t, body), "read-error")
	if resp.StatusCode != http.StatusOK || errs.Length() == 0 ||
		!strings.Contains(errs.Text(), "needs dms:instance:list in project") {
		t.Fatalf("status %d, read errors %q", resp.StatusCode, errs.Text())
	}
}

type deniedCloud struct{ *fakeCloud }

func (deniedCloud) ListInstances(_ context.Context, account, project string,
	svc cloud.Service) ([]cloud.Resource, error) {
	return nil, &cloud.Error{Class: cloud.ErrPermission, Account: account, Project: project, Service: svc,
		Operation: "dms.list", HTTPStatus: 403, Action: "dms:instance:list"}
}

type downCloud struct{ *fakeCloud }

func (downCloud) ListInstances(context.Context, string, string, cloud.Service) ([]cloud.Resource, error) {
	return nil, errors.New("connection refused")
}
