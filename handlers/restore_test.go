package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

// TestRecycleRestore plans a restore change request from the recycle-bin
// page and changes a recycle policy as admin, with the role checks on the
// server and bad input refused with its reason.
func TestRecycleRestore(t *testing.T) {
	ts := newTestServer(t)
	sim := newBinSim(t, ts.now.Now)
	ts.srv.Recycle = sim.client
	ts.srv.Changes = changes.New(ts.db, sim.client, changes.Options{Now: ts.now.Now})
	sim.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": "p1",
		"retention_days": 3, "default_use_recycle": true})
	first := sim.binned(cloud.RocketMQ, "p1", "orders-mq")
	sim.binned(cloud.RocketMQ, "p1", "billing-mq")
	key := cloud.Ref{Account: "acct", Project: "p1", Service: cloud.RocketMQ, Kind: cloud.KindInstance, ID: first}.Key()

	alice := ts.login(t, "alice")
	_, body := alice.get(t, "/recycle/rocketmq")
	d := doc(t, body)
	if n := testIDs(d, "restore-select").Length(); n != 2 || testIDs(d, "restore-form").Length() != 1 {
		t.Fatalf("requester sees %d restore checkboxes and %d forms", n, testIDs(d, "restore-form").Length())
	}
	if testIDs(d, "recycle-policy-form").Length() != 0 {
		t.Error("requester sees the recycle-policy form")
	}
	resp, body := alice.post(t, "/recycle/rocketmq/restore", url.Values{"ref": {key}})
	if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(doc(t, body), "error-reason").Length() != 1 {
		t.Errorf("restore without reason: %d", resp.StatusCode)
	}
	resp, body = alice.post(t, "/recycle/rocketmq/restore", url.Values{"reason": {"oops"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || testIDs(doc(t, body), "error-resources").Length() != 1 {
		t.Errorf("restore of nothing: %d", resp.StatusCode)
	}
	resp, _ = alice.post(t, "/recycle/rocketmq/restore", url.Values{"ref": {key}, "reason": {"deleted by mistake"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/changes/") {
		t.Fatalf("restore: %d to %q", resp.StatusCode, loc)
	}
	_, body = alice.get(t, loc)
	d = doc(t, body)
	if k := strings.TrimSpace(testIDs(d, "change-kind").Text()); !strings.Contains(k, "restore") {
		t.Errorf("change kind %q", k)
	}
	if a := strings.TrimSpace(testIDs(d, "approvals").Text()); a != "0 of 1" {
		t.Errorf("approvals %q, want 0 of 1", a)
	}

	bob := ts.login(t, "bob")
	bob.get(t, "/recycle/rocketmq")
	if resp, _ := bob.post(t, "/recycle/rocketmq/restore", url.Values{"ref": {key}, "reason": {"r"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("approver restore: %d, want 403", resp.StatusCode)
	}
	if resp, _ := bob.post(t, "/admin/recycle", url.Values{"project": {"acct/p1"}, "recycle": {"off"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("approver sets policy: %d, want 403", resp.StatusCode)
	}

	admin := ts.login(t, "admin")
	_, body = admin.get(t, "/recycle/rocketmq")
	if testIDs(doc(t, body), "recycle-policy-form").Length() != 1 {
		t.Fatal("admin does not see the recycle-policy form")
	}
	if resp, _ := admin.post(t, "/admin/recycle", url.Values{"project": {"acct/p1"}, "retention_days": {"9"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("retention 9: %d, want 422", resp.StatusCode)
	}
	resp, _ = admin.post(t, "/admin/recycle", url.Values{"project": {"acct/p1"}, "recycle": {"off"},
		"retention_days": {"2"}, "service": {"rocketmq"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/recycle/rocketmq" {
		t.Fatalf("set policy: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	pol, err := sim.client.RecyclePolicy(context.Background(), "acct", "p1")
	if err != nil || pol.DefaultUseRecycle || pol.RetentionDays != 2 {
		t.Errorf("policy now %+v (%v), want off for 2 days", pol, err)
	}
	var n int
	if err := ts.db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'recycle_policy_changed'
		AND actor = 'admin' AND outcome = 'saved'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d recycle_policy_changed events (%v), want 1", n, err)
	}
}

// TestRestoreAssetsButton: a finished change with a stored ROMA archive
// lists it and offers "Restore assets" to requesters only; the POST plans
// the import as a new change request.
func TestRestoreAssetsButton(t *testing.T) {
	ts := newTestServer(t)
	alice, loc := planChange(t, ts, 2, false)
	id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/changes/"), 10, 64)
	ctx := context.Background()
	tx, err := ts.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := changes.InsertBackup(ctx, tx, changes.Backup{ChangeID: id, Batch: 1, Account: "acct", Project: "p1",
		Instance: "roma-inst", SHA256: strings.Repeat("ab", 32), ArchiveID: "arch", CreatedAt: "2026-11-29",
		Assets: []changes.BackupAsset{{ID: "gone-app", Kind: cloud.KindApp, Name: "billing-sync"}}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_, body := alice.get(t, loc)
	if d := doc(t, body); testIDs(d, "backup").Length() != 1 || testIDs(d, "restore-assets").Length() != 0 {
		t.Fatal("pending change: backup not listed, or restore offered before the change ran")
	}
	if _, err := ts.db.Exec(`UPDATE changes SET state = 'succeeded' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	_, body = alice.get(t, loc)
	if testIDs(doc(t, body), "restore-assets").Length() != 1 {
		t.Fatal("no Restore assets on a finished change with a backup")
	}
	bob := ts.login(t, "bob")
	_, body = bob.get(t, loc)
	if testIDs(doc(t, body), "restore-assets").Length() != 0 {
		t.Error("approver offered Restore assets")
	}
	if resp, _ := bob.post(t, loc+"/restore-assets", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("approver restore assets: %d", resp.StatusCode)
	}
	resp, _ := alice.post(t, loc+"/restore-assets", nil)
	next := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || next == loc || !strings.HasPrefix(next, "/changes/") {
		t.Fatalf("restore assets: %d to %q", resp.StatusCode, next)
	}
	_, body = alice.get(t, next)
	if k := strings.TrimSpace(testIDs(doc(t, body), "change-kind").Text()); !strings.Contains(k, "ROMA assets") {
		t.Errorf("change kind %q", k)
	}
}
