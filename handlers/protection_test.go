package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/decom/decom/cloud"
)

// modify changes one instance of the fake cloud and drops the cached reads.
func (ts *testServer) modify(t *testing.T, svc cloud.Service, id string, fn func(*cloud.Resource)) {
	t.Helper()
	ts.cloud.mu.Lock()
	found := false
	for i := range ts.cloud.instances[svc] {
		if r := &ts.cloud.instances[svc][i]; r.ID == id {
			fn(r)
			found = true
		}
	}
	ts.cloud.mu.Unlock()
	if !found {
		t.Fatalf("no %s instance %s", svc, id)
	}
	ts.srv.Inventory.Refresh("", "")
}

// row finds the inventory row of one resource ID.
func row(d *goquery.Document, id string) *goquery.Selection {
	return d.Find(`[data-testid="resource-row"][data-key$="/` + id + `"]`)
}

func TestProtectionAdmin(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin")
	resp, body := admin.get(t, "/admin/protection")
	d := doc(t, body)
	if resp.StatusCode != http.StatusOK || testIDs(d, "protection-rule").Length() != 1 ||
		testIDs(d, "rule-pattern").Text() != "decom:protect" || testIDs(d, "remove-rule").Length() != 0 {
		t.Fatalf("page with the built-in rule only: %d\n%.500s", resp.StatusCode, body)
	}
	_, body = admin.get(t, "/admin")
	if testIDs(doc(t, body), "admin-protection").AttrOr("href", "") != "/admin/protection" {
		t.Error("no link from the admin page")
	}

	t.Run("Invalid", func(t *testing.T) {
		resp, body := admin.post(
			t,
			"/admin/protection",
			url.Values{"kind": {"name"}, "pattern": {"prod-[a"}, "note": {"keep me"}},
		)
		d := doc(t, body)
		if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(d, "field-error").Length() == 0 ||
			testIDs(
				d,
				"rule-pattern-input",
			).AttrOr("value", "") !=
				"prod-[a" || testIDs(d, "rule-note").AttrOr("value", "") != "keep me" {
			t.Errorf("invalid rule: %d, input kept? %.300s", resp.StatusCode, body)
		}
		if resp, _ := admin.post(t, "/admin/protection", url.Values{"kind": {"colour"}, "pattern": {"red"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("unknown kind: %d", resp.StatusCode)
		}
	})
	t.Run("CSRF", func(t *testing.T) {
		resp, _ := admin.do(
			t,
			http.MethodPost,
			"/admin/protection",
			url.Values{"kind": {"service"}, "pattern": {"roma"}},
		)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("NotAdmin", func(t *testing.T) {
		for _, u := range []string{"alice", "bob", "dave", "vera"} {
			c := ts.login(t, u)
			if resp, _ := c.post(t, "/admin/protection", url.Values{"kind": {"service"}, "pattern": {"roma"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s adds a rule: %d", u, resp.StatusCode)
			}
		}
	})
	t.Run("AddAndRemove", func(t *testing.T) {
		resp, _ := admin.post(
			t,
			"/admin/protection",
			url.Values{"kind": {"name"}, "pattern": {"rocketmq-00*"}, "note": {"pilot brokers"}},
		)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/protection" {
			t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, body := admin.get(t, "/admin/protection")
		d := doc(t, body)
		if testIDs(d, "protection-rule").Length() != 2 ||
			!strings.Contains(testIDs(d, "flash").Text(), "Rule 1 added") {
			t.Fatalf("after add:\n%.800s", body)
		}
		// The inventory shows the shield and the rule on the matching rows.
		_, body = ts.login(t, "alice").get(t, "/inventory/rocketmq?q=rocketmq-00&per=25")
		d = doc(t, body)
		r := row(d, "rocketmq-id-000")
		if r.Find(`[data-testid="shield"]`).Length() == 0 ||
			r.Find(`[data-testid="block-reason"]`).Text() != "protected by rule 1: name rocketmq-00* (pilot brokers)" {
			t.Errorf("protected row:\n%s", must(r.Html()))
		}
		if r.Find(`[data-testid="row-check"]`).Length() != 0 ||
			r.Find(`[data-testid="row-check-blocked"]`).Length() != 1 {
			t.Error("a protected row can be ticked")
		}
		if resp, _ := admin.post(t, "/admin/protection/1/delete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", resp.StatusCode)
		}
		if resp, _ := admin.post(t, "/admin/protection/1/delete", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("remove again: %d, want 404", resp.StatusCode)
		}
		var n int
		if err := ts.db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'protection_changed' AND actor = 'admin'`).Scan(&n); err != nil ||
			n != 2 {
			t.Errorf("%d protection_changed events (%v), want 2", n, err)
		}
	})
}

func must(s string, _ error) string { return s }

// TestInventoryProtectionAndDeletability: the shield and its rule, a running
// server's reason, tags and enterprise projects on rows and detail pages;
// blocked resources cannot be selected, even by a forged post, and the plan
// page lists what it leaves out.
func TestInventoryProtectionAndDeletability(t *testing.T) {
	ts := newTestServer(t)
	ts.modify(t, cloud.RocketMQ, "rocketmq-id-000", func(r *cloud.Resource) {
		r.Tags = []cloud.Tag{{Key: "decom:protect", Value: "yes"}, {Key: "team", Value: "payments"}}
		r.EnterpriseProject = "ep-finance"
	})
	ts.modify(
		t,
		cloud.RocketMQ,
		"rocketmq-id-004",
		func(r *cloud.Resource) { r.Tags = []cloud.Tag{{Key: "team", Value: "search"}} },
	)
	ts.modify(t, cloud.CloudDC, "clouddc-id-000", func(r *cloud.Resource) { r.Status = "running" })
	alice := ts.login(t, "alice")

	_, body := alice.get(t, "/inventory/rocketmq?project=p1&per=25")
	d := doc(t, body)
	prot := row(d, "rocketmq-id-000")
	if prot.Find(`[data-testid="shield"]`).Length() == 0 ||
		prot.Find(`[data-testid="block-reason"]`).Text() != "protected by the built-in tag decom:protect" ||
		prot.Find(`[data-testid="row-check"]`).Length() != 0 {
		t.Errorf("protected row:\n%s", must(prot.Html()))
	}
	var tags []string
	prot.Find(`[data-testid="tag"]`).Each(func(_ int, s *goquery.Selection) { tags = append(tags, s.Text()) })
	if strings.Join(tags, ",") != "decom:protect=yes,team=payments" ||
		prot.Find(`[data-testid="row-ep"] code`).Text() != "ep-finance" {
		t.Errorf("tags %v, ep %q", tags, prot.Find(`[data-testid="row-ep"]`).Text())
	}
	if creating := row(d, "rocketmq-id-002"); creating.Find(`[data-testid="not-deletable"]`).Length() != 1 ||
		creating.Find(`[data-testid="block-reason"]`).
			Text() !=
			"CREATING: an operation is in progress; wait until it ends" {
		t.Errorf("creating row:\n%s", must(creating.Html()))
	}
	if ok := row(d, "rocketmq-id-004"); ok.Find(`[data-testid="row-check"]`).Length() != 1 ||
		ok.Find(`[data-testid="shield"], [data-testid="not-deletable"]`).Length() != 0 {
		t.Errorf("plain row:\n%s", must(ok.Html()))
	}

	if testIDs(d, "select-skips").Length() != 1 {
		t.Error("the selection bar does not say that blocked resources are skipped")
	}

	_, body = alice.get(t, "/inventory/clouddc?project=p1&per=25")
	if r := row(doc(t, body), "clouddc-id-000"); r.Find(`[data-testid="block-reason"]`).
		Text() !=
		"running: stop it first" {
		t.Errorf("running server row:\n%s", must(r.Html()))
	}

	_, body = alice.get(t, "/inventory/rocketmq/acct/p1/rocketmq-id-000")
	d = doc(t, body)
	fields := testIDs(d, "detail-fields").Text()
	for _, want := range []string{"ep-finance", "protected by the built-in tag decom:protect"} {
		if !strings.Contains(fields, want) {
			t.Errorf("detail fields lack %q: %s", want, fields)
		}
	}
	if testIDs(d, "shield").Length() == 0 || testIDs(d, "tag").Length() != 2 {
		t.Error("detail page: no shield or tags")
	}
	_, body = alice.get(t, "/inventory/clouddc/acct/p1/clouddc-id-000")
	if !strings.Contains(testIDs(doc(t, body), "detail-fields").Text(), "no: running: stop it first") {
		t.Error("detail page does not say why the server cannot be deleted")
	}

	// Selecting: the page, "all matching" and a forged post all skip blocked rows.
	form := url.Values{"scope": {"rocketmq"}, "project": {"p1"}, "per": {"25"},
		"visible": {"acct/p1/rocketmq/instance//rocketmq-id-000", "acct/p1/rocketmq/instance//rocketmq-id-002",
			"acct/p1/rocketmq/instance//rocketmq-id-004"},
		"key": {"acct/p1/rocketmq/instance//rocketmq-id-000", "acct/p1/rocketmq/instance//rocketmq-id-002",
			"acct/p1/rocketmq/instance//rocketmq-id-004"}}
	if resp, _ := alice.post(t, "/inventory/rocketmq/select", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("select: %d", resp.StatusCode)
	}
	if sel := ts.srv.Inventory.Selected(userID(t, ts, "alice"), "rocketmq"); len(sel) != 1 ||
		sel[0].ID != "rocketmq-id-004" {
		t.Errorf("selected %v, want only rocketmq-id-004", ids(sel))
	}
	if resp, _ := alice.post(t, "/inventory/rocketmq/select", url.Values{"op": {"all"}, "project": {"p1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("select all: %d", resp.StatusCode)
	}
	sel := ts.srv.Inventory.Selected(userID(t, ts, "alice"), "rocketmq")
	for _, r := range sel {
		if r.ID == "rocketmq-id-000" || r.Status == "CREATING" {
			t.Errorf("select all took blocked %s (%s)", r.ID, r.Status)
		}
	}
	if len(sel) != 29 { // p1 has 60: 30 RUNNING, 30 CREATING; one RUNNING is protected
		t.Errorf("select all: %d selected, want 29", len(sel))
	}

	// A resource protected after it was selected: the plan page says which and why.
	ts.modify(t, cloud.RocketMQ, "rocketmq-id-004", func(r *cloud.Resource) {
		r.Tags = append(r.Tags, cloud.Tag{Key: "Decom:Protect"})
	})
	_, body = alice.post(t, "/changes/new", url.Values{"scope": {"rocketmq"}})
	d = doc(t, body)
	ex := testIDs(d, "excluded-row")
	if ex.Length() != 1 || ex.AttrOr("data-id", "") != "rocketmq-id-004" ||
		ex.Find(`[data-testid="block-reason"]`).Text() != "protected by the built-in tag decom:protect" {
		t.Errorf("plan page left-out list:\n%.1500s", testIDs(d, "plan-form").Text())
	}
	// Created, the change leaves it out and says so on its page.
	resp, _ := alice.post(t, "/changes", url.Values{"scope": {"rocketmq"}, "reason": {"retire p1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body = alice.get(t, resp.Header.Get("Location"))
	d = doc(t, body)
	if testIDs(d, "excluded-row").AttrOr("data-id", "") != "rocketmq-id-004" ||
		testIDs(d, "excluded").Find(`[data-testid="shield"]`).Length() == 0 {
		t.Errorf("change page does not show what was left out:\n%.500s", testIDs(d, "excluded").Text())
	}
}

func userID(t *testing.T, ts *testServer, name string) int64 {
	t.Helper()
	var id int64
	if err := ts.db.QueryRow(`SELECT id FROM users WHERE username = ?`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func ids(rs []cloud.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestInventoryTagAndEPFilters(t *testing.T) {
	ts := newTestServer(t)
	ts.modify(t, cloud.RabbitMQ, "rabbitmq-id-001", func(r *cloud.Resource) {
		r.Tags, r.EnterpriseProject = []cloud.Tag{{Key: "env", Value: "prod"}}, "ep-a"
	})
	ts.modify(t, cloud.RabbitMQ, "rabbitmq-id-002", func(r *cloud.Resource) {
		r.Tags, r.EnterpriseProject = []cloud.Tag{{Key: "env", Value: "dev"}}, "ep-a"
	})
	ts.modify(t, cloud.RabbitMQ, "rabbitmq-id-003", func(r *cloud.Resource) { r.EnterpriseProject = "ep-b" })
	c := ts.login(t, "vera")
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"tag=env", []string{"rabbitmq-id-001", "rabbitmq-id-002"}},
		{"tag=ENV%3Dprod", []string{"rabbitmq-id-001"}},
		{"ep=ep-a", []string{"rabbitmq-id-001", "rabbitmq-id-002"}},
		{"ep=ep-b&tag=env", nil},
		{"tag=env&ep=ep-a&status=failed", []string{"rabbitmq-id-001"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := c.get(t, "/inventory/rabbitmq?"+tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			d := doc(t, body)
			var got []string
			testIDs(d, "resource-row").Each(func(_ int, s *goquery.Selection) {
				k := s.AttrOr("data-key", "")
				got = append(got, k[strings.LastIndex(k, "/")+1:])
			})
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			// The filter form keeps the values; the selection form carries them.
			q, _ := url.ParseQuery(tt.query)
			if tag := q.Get("tag"); tag != "" && !strings.EqualFold(testIDs(d, "filter-tag").AttrOr("value", ""), tag) {
				t.Errorf("tag field %q", testIDs(d, "filter-tag").AttrOr("value", ""))
			}
			if ep := q.Get("ep"); ep != "" && d.Find(`#select-form input[name="ep"]`).AttrOr("value", "") != ep {
				t.Error("the selection form does not carry ep")
			}
		})
	}
	_, body := c.get(t, "/inventory/rabbitmq")
	var eps []string
	testIDs(
		doc(t, body),
		"filter-ep",
	).Find("option").
		Each(func(_ int, s *goquery.Selection) { eps = append(eps, s.AttrOr("value", "")) })
	if strings.Join(eps, ",") != ",ep-a,ep-b" {
		t.Errorf("enterprise project choices %v", eps)
	}
	for _, q := range []string{"tag=%3Dx", "tag=" + strings.Repeat("k", 129), "ep=%3Cscript%3E", "tag=a&tag=b", "ep=a%20b"} {
		for _, hx := range []string{"false", "true"} {
			if resp, _ := c.get(t, "/inventory/rabbitmq?"+q, "HX-Request", hx); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s (htmx %s): %d, want 400", q, hx, resp.StatusCode)
			}
		}
	}
}

// TestInventoryEscapesHostileTags: tags, enterprise projects and rule notes
// come from the cloud and from admins; templ escapes them.
func TestInventoryEscapesHostileTags(t *testing.T) {
	ts := newTestServer(t)
	ts.modify(t, cloud.RocketMQ, "rocketmq-id-000", func(r *cloud.Resource) {
		r.Tags, r.EnterpriseProject = []cloud.Tag{{Key: hostileName, Value: hostileName}}, hostileName
	})
	admin := ts.login(t, "admin")
	if resp, _ := admin.post(t, "/admin/protection", url.Values{"kind": {"service"}, "pattern": {"rocketmq"}, "note": {hostileName}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d", resp.StatusCode)
	}
	for _, path := range []string{"/inventory/rocketmq?q=rocketmq-000", "/inventory/rocketmq/acct/p1/rocketmq-id-000", "/admin/protection"} {
		_, body := admin.get(t, path)
		if strings.Contains(body, hostileName) || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: hostile text not escaped", path)
		}
	}
}
