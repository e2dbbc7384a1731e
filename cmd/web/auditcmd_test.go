package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

// auditTestData makes a data directory holding a migrated decom.db with n events.
func auditTestData(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "decom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := store.Migrate(ctx, db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		err := store.InTx(ctx, db, func(tx *sql.Tx) error {
			_, err := audit.Append(ctx, tx, audit.Event{Actor: "=cmd()", Action: audit.ActionResourceOutcome,
				ResourceName: "<script>", Outcome: audit.OutcomeSuccess, Details: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, db
}

func runAuditCLI(dir string, args ...string) (string, error) {
	var out bytes.Buffer
	getenv := func(k string) string {
		if k == "DECOM_DATA" {
			return dir
		}
		return ""
	}
	err := run(context.Background(), append([]string{"audit"}, args...), getenv, &out)
	return out.String(), err
}

func TestAuditVerifyCommand(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir, _ := auditTestData(t, 5)
		out, err := runAuditCLI(dir, "verify", "--sign")
		if err != nil || !strings.Contains(out, "ok: 5 events") ||
			!strings.Contains(out, "signed checkpoint at event 5") {
			t.Fatalf("out %q, err %v", out, err)
		}
		if out, err := runAuditCLI(dir, "verify"); err != nil || !strings.Contains(out, "1 checkpoints verified") {
			t.Fatalf("out %q, err %v", out, err)
		}
	})
	tamper := map[string]string{
		"Edited":    `UPDATE audit_events SET actor = 'x' WHERE seq = 3`,
		"Deleted":   `DELETE FROM audit_events WHERE seq = 3`,
		"Truncated": `DELETE FROM audit_events WHERE seq >= 3`,
	}
	for name, q := range tamper {
		t.Run(name, func(t *testing.T) {
			dir, db := auditTestData(t, 5)
			if _, err := runAuditCLI(dir, "verify", "--sign"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`, q} {
				if _, err := db.Exec(s); err != nil {
					t.Fatal(err)
				}
			}
			_, err := runAuditCLI(dir, "verify")
			if !errors.Is(err, audit.ErrTampered) || !strings.Contains(err.Error(), "at event 3") {
				t.Fatalf("got %v, want tampering at event 3", err)
			}
			if code := auditExitCode(t, dir); code == 0 {
				t.Error("process exit status 0 for a tampered log")
			}
		})
	}
	t.Run("MissingDatabase", func(t *testing.T) {
		if _, err := runAuditCLI(t.TempDir(), "verify"); err == nil {
			t.Fatal("verify of a missing database succeeded")
		}
	})
}

// auditExitCode runs the real main in a child process and returns its exit status.
func auditExitCode(t *testing.T, dir string) int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditMainProcess$")
	cmd.Env = append(os.Environ(), "DECOM_AUDIT_MAIN=verify", "DECOM_DATA="+dir)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// TestAuditMainProcess is main() in a child process for auditExitCode.
func TestAuditMainProcess(t *testing.T) {
	if os.Getenv("DECOM_AUDIT_MAIN") == "" {
		t.Skip("helper process")
	}
	os.Args = []string{"web", "audit", os.Getenv("DECOM_AUDIT_MAIN")}
	main()
}

func TestAuditExportCommand(t *testing.T) {
	dir, db := auditTestData(t, 3)
	out, err := runAuditCLI(dir, "export", "--format", "csv", "--by", "tester")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out, "\n"); lines != 4 || !strings.Contains(out, "'=cmd()") ||
		!strings.Contains(out, "<script>") {
		t.Errorf("csv export:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "out.jsonl")
	if _, err := runAuditCLI(dir, "export", "--out", file, "--from", "2000-01-01", "--q", "script"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("jsonl export %q, err %v", b, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'audit_export' AND actor = 'tester'`).Scan(&n); err != nil ||
		n != 1 {
		t.Errorf("%d audit_export events by tester, err %v", n, err)
	}
	for _, bad := range [][]string{{"export", "--format", "xml"}, {"export", "--from", "yesterday"}, {"nope"}} {
		if _, err := runAuditCLI(dir, bad...); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
}
