package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

// testClock returns a clock that advances one second per call from t0.
func testClock(t0 time.Time) func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n) * time.Second)
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// openTestDB migrates a fresh database file in a temp dir.
func openTestDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "decom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

func newTestLog(t testing.TB) (*Log, *sql.DB, string) {
	db, dir := openTestDB(t)
	return New(db, Options{Now: testClock(t0)}), db, dir
}

// mustAppend appends e in its own transaction.
func mustAppend(t testing.TB, l *Log, db *sql.DB, e Event) Event {
	t.Helper()
	var got Event
	err := store.InTx(context.Background(), db, func(tx *sql.Tx) error {
		var err error
		got, err = l.Append(context.Background(), tx, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// appendSample appends n varied events: change i%3+1, actor alice/bob,
// resource_outcome for even i.
func appendSample(t testing.TB, l *Log, db *sql.DB, n int) []Event {
	t.Helper()
	var out []Event
	for i := 0; i < n; i++ {
		e := Event{Actor: []string{"alice", "bob"}[i%2], ClientIP: "10.0.0.1", UserAgent: "test",
			Action: ActionCloudCall, ChangeID: int64(i%3 + 1), Service: "ecs", Project: "p1",
			ResourceID: fmt.Sprintf("i-%03d", i%5), ResourceName: fmt.Sprintf("web-%d", i%5),
			Outcome: OutcomeSuccess, Details: json.RawMessage(fmt.Sprintf(`{"n":%d,"word":"w%d"}`, i, i))}
		if i%2 == 0 {
			e.Action = ActionResourceOutcome
		}
		if i%4 == 0 {
			e.Outcome = OutcomeFailure
		}
		out = append(out, mustAppend(t, l, db, e))
	}
	return out
}

// exec runs raw SQL as an attacker with file access would.
func exec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func dropTriggers(t testing.TB, db *sql.DB) {
	exec(t, db, `DROP TRIGGER audit_events_no_update`)
	exec(t, db, `DROP TRIGGER audit_events_no_delete`)
	exec(t, db, `DROP TRIGGER audit_checkpoints_no_update`)
	exec(t, db, `DROP TRIGGER audit_checkpoints_no_delete`)
}
