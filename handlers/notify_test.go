package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestChangeComments: the thread on the change page, who may post, and a
// too-long comment kept with its message (422).
func TestChangeComments(t *testing.T) {
	ts := newTestServer(t)
	alice, page := planChange(t, ts, 1, false)
	bob := ts.login(t, "bob")
	bob.get(t, page)
	resp, _ := bob.post(t, page+"/comments", url.Values{"body": {"Why <now>? zebrafish"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approver comments: %d", resp.StatusCode)
	}
	_, body := alice.get(t, page)
	d := doc(t, body)
	if got := testIDs(d, "comment-body").Text(); got != "Why <now>? zebrafish" {
		t.Errorf("comment shown as %q", got)
	}
	if testIDs(d, "comment-actor").Text() != "bob" || testIDs(d, "comment-form").Length() != 1 {
		t.Errorf("thread: actor %q, form %d", testIDs(d, "comment-actor").Text(), testIDs(d, "comment-form").Length())
	}
	long := strings.Repeat("a", 4001)
	resp, body = alice.post(t, page+"/comments", url.Values{"body": {long}})
	d = doc(t, body)
	if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(d, "comment-text").Text() != long ||
		!strings.Contains(
			testIDs(d, "discussion").Find(`[data-testid="field-error"]`).Text(),
			"at most 4000 characters",
		) {
		t.Errorf("long comment: %d, message %q", resp.StatusCode, testIDs(d, "field-error").Text())
	}
	dave := ts.login(t, "dave") // auditor
	dave.get(t, page)
	if resp, _ := dave.post(t, page+"/comments", url.Values{"body": {"checked"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("auditor comments: %d", resp.StatusCode)
	}
	vera := ts.login(t, "vera") // viewer: no route
	if resp, _ := vera.post(t, page+"/comments", url.Values{"body": {"hi"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer comments: %d", resp.StatusCode)
	}
	// The audit log's full-text search finds the comment.
	_, body = dave.get(t, "/audit?q=zebrafish")
	rows := testIDs(doc(t, body), "audit-row")
	if rows.Length() != 1 || !strings.Contains(rows.Find(`[data-testid="details"]`).Text(), "zebrafish") {
		t.Errorf("audit search finds %d rows for the comment:\n%.400s", rows.Length(), rows.Text())
	}
}

// TestNotificationChannels: an admin adds a channel, sees it only redacted
// (never in the audit log in full either), a change's events show up as
// deliveries on its page and in the log, and the channel is removed.
func TestNotificationChannels(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.login(t, "admin")
	admin.get(t, "/admin/notifications")
	resp, body := admin.post(
		t,
		"/admin/notifications",
		url.Values{"format": {"json"}, "url": {"https://hooks.example/x"},
			"secret": {"short"}},
	)
	if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(doc(t, body), "field-error").Length() == 0 {
		t.Fatalf("channel without a proper secret: %d", resp.StatusCode)
	}
	secretURL := "https://bot:pa55word@hooks.example/services/T0/B0/tok-SECRET?key=tok-SECRET"
	resp, _ = admin.post(
		t,
		"/admin/notifications",
		url.Values{"project": {"p1"}, "format": {"slack"}, "url": {secretURL}},
	)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add channel: %d", resp.StatusCode)
	}
	_, body = admin.get(t, "/admin/notifications")
	d := doc(t, body)
	if got := testIDs(d, "channel-url").Text(); got != "https://hooks.example/services/***?key=***" {
		t.Errorf("channel shown as %q", got)
	}
	_, page := planChange(t, ts, 1, false)
	_, body = admin.get(t, page)
	d = doc(t, body)
	if testIDs(d, "delivery").Length() != 1 ||
		testIDs(d, "delivery-channel").Text() != "https://hooks.example/services/***?key=***" {
		t.Errorf(
			"change page deliveries: %d %q",
			testIDs(d, "delivery").Length(),
			testIDs(d, "delivery-channel").Text(),
		)
	}
	_, log := admin.get(t, "/admin/deliveries")
	if testIDs(doc(t, log), "delivery").Length() != 1 || !strings.Contains(log, "pending_approval") {
		t.Errorf("delivery log:\n%.500s", log)
	}
	var leaks int
	if err := ts.db.QueryRow(`SELECT count(*) FROM audit_events WHERE details LIKE '%tok-SECRET%' OR details LIKE '%pa55word%'`).
		Scan(&leaks); err != nil ||
		leaks != 0 {
		t.Errorf("audit events with the secret: %d (%v)", leaks, err)
	}
	for _, b := range []string{body, log} {
		if strings.Contains(b, "tok-SECRET") || strings.Contains(b, "pa55word") {
			t.Error("a page shows the URL's secret")
		}
	}
	admin.get(t, "/admin/notifications")
	if resp, _ := admin.post(t, "/admin/notifications/1/remove", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if resp, _ := admin.post(t, "/admin/notifications/1/remove", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("remove again: %d", resp.StatusCode)
	}
	_, body = admin.get(t, "/admin/notifications")
	if testIDs(doc(t, body), "channel-row").Length() != 0 {
		t.Error("removed channel still listed")
	}
}
