package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

func TestMigrateTwice(t *testing.T) {
	db, _ := openTestDB(t)
	if err := store.Migrate(context.Background(), db, migrations.FS); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = '0002_audit.sql'`).Scan(&n); err != nil ||
		n != 1 {
		t.Fatalf("0002 recorded %d times, err %v", n, err)
	}
}

func TestAppend(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		evs := appendSample(t, l, db, 3)
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d: seq %d", i, e.Seq)
			}
			if want := t0.Add(time.Duration(i+1) * time.Second); !e.Time.Equal(want) || e.Time.Location() != time.UTC {
				t.Errorf("event %d: time %v, want %v UTC", i, e.Time, want)
			}
			if computeHash(&e) != e.Hash {
				t.Errorf("event %d: hash does not verify", i)
			}
		}
		if evs[0].PrevHash != GenesisHash || evs[1].PrevHash != evs[0].Hash || evs[2].PrevHash != evs[1].Hash {
			t.Error("events are not chained")
		}
		var stored string
		if err := db.QueryRow(`SELECT time FROM audit_events WHERE seq = 1`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if want := "2026-01-02T03:04:06.000000000Z"; stored != want {
			t.Errorf("stored time %q, want %q", stored, want)
		}
	})
	t.Run("TimeInUTC", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		cet := time.FixedZone("CET", 3600)
		e := mustAppend(t, l, db, Event{Action: ActionSignIn, Time: time.Date(2026, 5, 1, 10, 0, 0, 5, cet)})
		if got := e.Time.Format(TimeLayout); got != "2026-05-01T09:00:00.000000005Z" {
			t.Errorf("time %s", got)
		}
	})
	t.Run("ValidationError", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		for _, e := range []Event{
			{Action: ActionSignIn, Details: json.RawMessage(`{"a":`)},
			{Action: ActionSignIn, Details: json.RawMessage(`[1,2]`)},
			{Action: ActionSignIn, Details: json.RawMessage(`{} {}`)},
			{Details: json.RawMessage(`{}`)},
		} {
			err := store.InTx(context.Background(), db, func(tx *sql.Tx) error {
				_, err := l.Append(context.Background(), tx, e)
				return err
			})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%s: got %v, want *ValidationError", e.Details, err)
			}
		}
	})
}

func TestRedaction(t *testing.T) {
	l, db, _ := newTestLog(t)
	in := `{"password":"hunter2","request":{"headers":{"X-Auth-Token":"tok","Cookie":"c","Accept":"json"},
		"body":"{\"auth\":{\"sk\":\"SECRET\"},\"name\":\"vm\"}","list":[{"secret_access_key":"x","ok":1}]},
		"sk":"s","desk":"kept","n":1.50,"html":"<script>alert(1)</script>"}`
	e := mustAppend(t, l, db, Event{Action: ActionCloudCall, Details: json.RawMessage(in)})
	got := string(e.Details)
	for _, secret := range []string{"hunter2", `"tok"`, `"c"`, "SECRET", `"x"`, `"s"`} {
		if strings.Contains(got, secret) {
			t.Errorf("details still hold %s: %s", secret, got)
		}
	}
	for _, kept := range []string{`"desk":"kept"`, `"n":1.50`, `"Accept":"json"`, `"<script>alert(1)</script>"`, `\"name\":\"vm\"`} {
		if !strings.Contains(got, kept) {
			t.Errorf("details lost %s: %s", kept, got)
		}
	}
	var stored string
	if err := db.QueryRow(`SELECT details FROM audit_events WHERE seq = 1`).Scan(&stored); err != nil || stored != got {
		t.Errorf("stored %q, returned %q (err %v)", stored, got, err)
	}
}

func TestAppendOnly(t *testing.T) {
	l, db, _ := newTestLog(t)
	appendSample(t, l, db, 2)
	key, err := LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Checkpoint(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = 2`,
		`DELETE FROM audit_events`,
		`UPDATE audit_checkpoints SET hash = 'x'`,
		`DELETE FROM audit_checkpoints`,
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want append-only refusal", q, err)
		}
	}
	if _, err := l.Verify(context.Background(), key.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("verify after refused writes: %v", err)
	}
}

func TestRolledBackTxLeavesNoEvent(t *testing.T) {
	l, db, _ := newTestLog(t)
	appendSample(t, l, db, 1)
	boom := errors.New("state change failed")
	err := store.InTx(context.Background(), db, func(tx *sql.Tx) error {
		if _, err := l.Append(context.Background(), tx, Event{Action: ActionApproved, ChangeID: 7}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d events after rollback (err %v), want 1", n, err)
	}
	if e := mustAppend(t, l, db, Event{Action: ActionApproved}); e.Seq != 2 {
		t.Errorf("next seq %d, want 2", e.Seq)
	}
	if _, err := l.Verify(context.Background(), nil); err != nil {
		t.Error(err)
	}
}

func TestConcurrentAppendsChain(t *testing.T) {
	l, db, _ := newTestLog(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				err := store.InTx(context.Background(), db, func(tx *sql.Tx) error {
					_, err := l.Append(
						context.Background(),
						tx,
						Event{Action: ActionCloudCall, Actor: strconv.Itoa(g*100 + i)},
					)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || rep.Events != 100 {
		t.Fatalf("%d events, err %v", rep.Events, err)
	}
}
