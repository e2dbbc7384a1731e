package poller_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// romaFleet creates a ROMA instance with apps and tasks and returns the
// instance and the refs of the assets.
func (e *simEnv) romaFleet(apps, tasks int) (string, []cloud.Ref, []string) {
	inst := e.create("roma", "instance", "RUNNING", "", 1)[0]
	a := e.create("roma", "app", "", inst, apps)
	tk := e.create("roma", "task", "", inst, tasks)
	sel := append(refs(cloud.ROMA, cloud.KindApp, inst, a), refs(cloud.ROMA, cloud.KindTask, inst, tk)...)
	var names []string
	for i := range apps {
		names = append(names, "roma-app-"+itoa(i))
	}
	for i := range tasks {
		names = append(names, "roma-task-"+itoa(i))
	}
	return inst, sel, names
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func (e *simEnv) assetNames(inst string) []string {
	e.t.Helper()
	assets, err := e.client.ListROMAAssets(context.Background(), account, project, inst)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range assets {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

// backupEvents reads the backup_stored events of a change.
func (e *simEnv) backupEvents(id int64) []map[string]any {
	e.t.Helper()
	rows, err := e.db.Query(`SELECT details FROM audit_events WHERE change_id = ? AND action = 'backup_stored'`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func undoFaults() cloudsim.Faults {
	f := cloudsim.DefaultFaults()
	f.ROMAAssetMS, f.ExportDelayMS, f.ImportDelayMS, f.LatencyMS = 2, 200, 200, 1
	return f
}

// TestROMABackupAndRestore deletes 30 ROMA assets in the default flow: the
// poller exports them, stores the archive named by its SHA-256 (recorded in
// the audit log), and only then deletes. Importing the stored archive brings
// every app and task back under its name.
func TestROMABackupAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	e.setFaults(undoFaults())
	inst, sel, names := e.romaFleet(20, 10)
	slices.Sort(names)
	if got := e.assetNames(inst); !slices.Equal(got, names) {
		t.Fatalf("fleet names %v", got)
	}
	c := e.approved(changes.PlanRequest{Refs: sel})
	if !c.Plan.BacksUp() || c.ApprovalsRequired != 1 {
		t.Fatalf("default ROMA plan: backs up %v, %d approvals", c.Plan.BacksUp(), c.ApprovalsRequired)
	}
	e.execute(c)
	o := testOptions()
	o.BackupDir = t.TempDir()
	e.runUntilFinished(o, 60*time.Second, c.ID)
	e.checkOutcomes(c.ID)
	if got := e.state(c.ID); got != changes.StateSucceeded {
		t.Fatalf("change ended %s", got)
	}
	if got := e.assetNames(inst); len(got) != 0 {
		t.Fatalf("assets left after the delete: %v", got)
	}
	if e.stats().ByOp["roma.delete_assets"] == 0 {
		t.Error("no delete job counted") // the export-failure test relies on this count
	}
	evs := e.backupEvents(c.ID)
	if len(evs) != 1 {
		t.Fatalf("%d backup_stored events, want 1 (30 assets, one job)", len(evs))
	}
	sum, _ := evs[0]["sha256"].(string)
	path := filepath.Join(o.BackupDir, sum+".zip")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("archive named by its SHA-256: %v", err)
	}
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
		t.Errorf("archive %s has SHA-256 %x", path, h)
	}
	if ids, _ := evs[0]["ids"].([]any); len(ids) != 30 {
		t.Errorf("backup event lists %d assets", len(ids))
	}
	// The export finished before the delete job started.
	var backupAt, deleteAt int64
	if err := e.db.QueryRow(`SELECT
		(SELECT min(seq) FROM audit_events WHERE change_id = ? AND action = 'backup_stored'),
		(SELECT min(seq) FROM audit_events WHERE change_id = ? AND action = 'cloud_call' AND outcome = 'answered')`,
		c.ID, c.ID).Scan(&backupAt, &deleteAt); err != nil || backupAt > deleteAt {
		t.Errorf("backup event %d after the delete answer %d (%v)", backupAt, deleteAt, err)
	}

	// "Restore assets": a new change request importing the stored archive.
	ctx := context.Background()
	if _, err := e.svc.RestoreAssets(ctx, bob, c.ID); !errors.Is(err, changes.ErrForbidden) {
		t.Errorf("restore assets by an approver: %v", err)
	}
	rc, err := e.svc.RestoreAssets(ctx, alice, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Plan.Kind != changes.KindImport || len(rc.Plan.Items) != 30 || len(rc.Plan.Batches) != 1 ||
		rc.Plan.Batches[0].Archive != sum || rc.ApprovalsRequired != 1 {
		t.Fatalf("restore plan: %s, %d items, %d batches", rc.Plan.Kind, len(rc.Plan.Items), len(rc.Plan.Batches))
	}
	if rc, err = e.svc.Approve(ctx, bob, rc.ID, rc.PlanHash, "ok"); err != nil {
		t.Fatal(err)
	}
	e.execute(rc)
	e.runUntilFinished(o, 60*time.Second, rc.ID)
	back, _ := e.svc.Get(ctx, rc.ID)
	if back.State != changes.StateSucceeded {
		for _, op := range back.Operations {
			t.Logf("%s %s %q", op.Item.Name, op.State, op.LastError)
		}
		t.Fatalf("restore assets ended %s %+v", back.State, back.Progress())
	}
	if got := e.assetNames(inst); !slices.Equal(got, names) {
		t.Errorf("after the import: %v, want %v", got, names)
	}
	if _, err := e.svc.RestoreAssets(ctx, alice, c.ID); err == nil {
		t.Error("a second restore of assets that all exist again was planned")
	}
	t.Logf("FIGURE undoable within the retention, default flow, roma with backup: 30/30 = 100%%")
}

// TestROMAExportFailureStopsDelete: when the export fails, the delete job
// is never submitted, every asset fails with the reason, and the assets
// are all still there.
func TestROMAExportFailureStopsDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	f := undoFaults()
	f.ExportFailureRate = 1
	e.setFaults(f)
	inst, sel, names := e.romaFleet(5, 3)
	c := e.approved(changes.PlanRequest{Refs: sel})
	e.execute(c)
	o := testOptions()
	o.BackupDir = t.TempDir()
	e.runUntilFinished(o, 30*time.Second, c.ID)
	got, _ := e.svc.Get(context.Background(), c.ID)
	if got.State != changes.StateFailed {
		t.Errorf("change ended %s, want failed", got.State)
	}
	for _, op := range got.Operations {
		if op.State != changes.OpFailed || !strings.Contains(op.LastError, "backup failed") ||
			!strings.Contains(op.LastError, "not started") {
			t.Errorf("%s: %s %q", op.Item.Name, op.State, op.LastError)
		}
	}
	if n := len(e.assetNames(inst)); n != len(names) {
		t.Errorf("%d of %d assets left", n, len(names))
	}
	if st := e.stats(); st.ByOp["roma.delete_assets"] != 0 || len(st.Deletes) != 0 {
		t.Errorf("delete started: %v, %d deletes", st.ByOp, len(st.Deletes))
	}
	if files, _ := os.ReadDir(o.BackupDir); len(files) != 0 {
		t.Errorf("%d files stored for a failed export", len(files))
	}
}

// TestROMANoBackup: a plan that says "no backup" needs one more approval,
// warns that the assets cannot be restored, and deletes without exporting.
func TestROMANoBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end against cloudsim")
	}
	e := newSimEnv(t, cloudsim.DefaultFaults(), 200)
	e.setFaults(undoFaults())
	inst, sel, _ := e.romaFleet(3, 2)
	c := e.approved(changes.PlanRequest{Refs: sel, NoBackup: true})
	if c.ApprovalsRequired != 2 || c.Plan.BacksUp() {
		t.Fatalf("no-backup plan: %d approvals, backs up %v", c.ApprovalsRequired, c.Plan.BacksUp())
	}
	if !slices.ContainsFunc(c.Plan.Warnings, func(w changes.Warning) bool { return w.Code == changes.WarnNoUndo }) {
		t.Errorf("no warning that the assets cannot be restored: %+v", c.Plan.Warnings)
	}
	e.execute(c)
	o := testOptions()
	o.BackupDir = t.TempDir()
	e.runUntilFinished(o, 30*time.Second, c.ID)
	if got := e.state(c.ID); got != changes.StateSucceeded || len(e.assetNames(inst)) != 0 {
		t.Errorf("change ended %s with %d assets left", got, len(e.assetNames(inst)))
	}
	if n := len(e.backupEvents(c.ID)); n != 0 {
		t.Errorf("%d backups for a no-backup plan", n)
	}
}
