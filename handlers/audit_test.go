package handlers

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

// seedAudit appends n events; event 3 has a hostile resource name and actor.
func seedAudit(t *testing.T, ts *testServer, n int) {
	t.Helper()
	l := audit.New(ts.db, audit.Options{Now: ts.now.Now})
	for i := 1; i <= n; i++ {
		e := audit.Event{Actor: "alice", ClientIP: "10.0.0.1", Action: audit.ActionResourceOutcome, ChangeID: 7,
			Service: "rocketmq", ResourceID: fmt.Sprintf("rid-%d", i%3), ResourceName: fmt.Sprintf("mq-%d", i),
			Outcome: audit.OutcomeSuccess, Details: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), Time: ts.now.Now()}
		if i == 3 {
			e.ResourceName, e.Actor, e.Outcome = hostileName, "=HYPERLINK(\"http://x\")", audit.OutcomeFailure
			e.Details = json.RawMessage(`{"note":"<img src=x onerror=alert(1)>","password":"hunter2"}`)
		}
		err := store.InTx(context.Background(), ts.db, func(tx *sql.Tx) error {
			_, err := l.Append(context.Background(), tx, e)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditRoles(t *testing.T) {
	ts := newTestServer(t)
	for user, want := range map[string]int{"vera": 403, "alice": 403, "bob": 403, "dave": 200, "admin": 200} {
		c := ts.login(t, user)
		for _, p := range []string{"/audit", "/audit/export.csv", "/audit/export.jsonl", "/audit/changes/7", "/audit/resource?id=x"} {
			if resp, _ := c.get(t, p); resp.StatusCode != want {
				t.Errorf("%s GET %s: status %d, want %d", user, p, resp.StatusCode, want)
			}
		}
	}
}

func TestAuditList(t *testing.T) {
	ts := newTestServer(t)
	seedAudit(t, ts, 60)
	c := ts.login(t, "dave")
	t.Run("FullPage", func(t *testing.T) {
		resp, body := c.get(t, "/audit?action=resource_outcome")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d\n%.500s", resp.StatusCode, body)
		}
		d := doc(t, body)
		if n := testIDs(d, "audit-row").Length(); n != audit.DefaultLimit {
			t.Errorf("rows %d, want %d", n, audit.DefaultLimit)
		}
		if testIDs(d, "audit-chart").Find("rect").Length() == 0 {
			t.Error("no chart bars")
		}
		_, hostile := c.get(t, "/audit?outcome=failure")
		if strings.Contains(hostile, hostileName) || strings.Contains(hostile, "<img src=x") ||
			strings.Contains(hostile, "hunter2") {
			t.Error("hostile input or a secret is in the page unescaped")
		}
		if got := testIDs(doc(t, hostile), "resource-link").Text(); got != hostileName {
			t.Errorf("hostile name shown as %q", got)
		}
		next, ok := testIDs(d, "next-page").Attr("href")
		if !ok {
			t.Fatal("no next page link")
		}
		_, body = c.get(t, next, "HX-Request", "true")
		if !strings.HasPrefix(body, `<div id="audit-results"`) {
			t.Fatalf("next page fragment:\n%.300s", body)
		}
		if n := testIDs(doc(t, body), "audit-row").Length(); n < 10 {
			t.Errorf("second page has %d rows", n)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for q, want := range map[string]int{
			"outcome=failure": 1, "q=hyperlink": 0, "q=onerror": 1, "resource_id=rid-1": 20, "change_id=8": 0,
			"actor=alice&from=2000-01-01&to=2100-01-01T00:00": 50, "service=rocketmq&q=mq-42": 1,
		} {
			_, body := c.get(t, "/audit?"+q, "HX-Request", "true")
			if n := testIDs(doc(t, body), "audit-row").Length(); n != want {
				t.Errorf("%s: %d rows, want %d", q, n, want)
			}
		}
	})
	t.Run("TimelineAndHistory", func(t *testing.T) {
		resp, body := c.get(t, "/audit/changes/7")
		if resp.StatusCode != http.StatusOK || testIDs(doc(t, body), "audit-row").Length() != 60 {
			t.Errorf("timeline: status %d", resp.StatusCode)
		}
		resp, body = c.get(t, "/audit/resource?service=rocketmq&id=rid-0")
		if resp.StatusCode != http.StatusOK || testIDs(doc(t, body), "audit-row").Length() != 20 {
			t.Errorf("history: status %d", resp.StatusCode)
		}
	})
}

func TestAuditBadParams(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "dave")
	bad := []string{
		"/audit?change_id=x", "/audit?change_id=-1", "/audit?change_id=99999999999999999999", "/audit?after=abc",
		"/audit?after=0", "/audit?from=yesterday", "/audit?to=2026-13-01", "/audit?from=2026-02-01&to=2026-01-01",
		"/audit?action=%3Cscript%3E", "/audit?actor=a&actor=b", "/audit?q=" + strings.Repeat("x", 300),
		"/audit?q=%2A%2A%2A", "/audit?actor=%00", "/audit?actor=%ff", "/audit/export.csv?change_id=x",
		"/audit/export.jsonl?from=x", "/audit/changes/abc", "/audit/changes/0", "/audit/changes/7?after=x",
		"/audit/resource", "/audit/resource?id=x&after=-3",
	}
	for _, p := range bad {
		for _, hx := range []bool{false, true} {
			t.Run(p+" htmx="+strconv.FormatBool(hx), func(t *testing.T) {
				var h []string
				if hx {
					h = []string{"HX-Request", "true"}
				}
				resp, body := c.get(t, p, h...)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400\n%.300s", resp.StatusCode, body)
				}
				if resp.Header.Get("Content-Disposition") != "" {
					t.Error("error response sent as an attachment")
				}
			})
		}
	}
}

func TestAuditExport(t *testing.T) {
	ts := newTestServer(t)
	seedAudit(t, ts, 5)
	c := ts.login(t, "dave")
	resp, body := c.get(t, "/audit/export.csv?change_id=7")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 6 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if got := recs[3][2]; got != `'=HYPERLINK("http://x")` {
		t.Errorf("actor cell %q is not defused", got)
	}
	resp, body = c.get(t, "/audit/export.jsonl")
	if resp.StatusCode != http.StatusOK || strings.Count(body, "\n") < 6 {
		t.Fatalf("jsonl: status %d\n%s", resp.StatusCode, body)
	}
	_, body = c.get(t, "/audit?action=audit_export", "HX-Request", "true")
	if n := testIDs(doc(t, body), "audit-row").Length(); n != 2 {
		t.Errorf("%d audit_export events, want 2", n)
	}
	if !strings.Contains(body, "dave") {
		t.Error("export events do not name the exporter")
	}
}
