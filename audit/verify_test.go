package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// rehash recomputes hash and prev_hash of every event from seq from on, as an
// attacker who knows the algorithm (but not the signing key) would.
func rehash(t *testing.T, db *sql.DB, from int64) {
	t.Helper()
	l := New(db, Options{})
	var evs []Event
	err := l.Each(context.Background(), Filter{}, func(e Event) error { evs = append(evs, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	prev := GenesisHash
	for _, e := range evs {
		if e.Seq >= from {
			e.PrevHash = prev
			e.Hash = computeHash(&e)
			exec(t, db, `UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?`, e.PrevHash, e.Hash, e.Seq)
		}
		prev = e.Hash
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name       string
		checkpoint bool
		tamper     func(t *testing.T, db *sql.DB)
		wantSeq    int64
	}{
		{"OK", false, func(*testing.T, *sql.DB) {}, 0},
		{"OKWithCheckpoint", true, func(*testing.T, *sql.DB) {}, 0},
		{"EditByte", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_events SET details = replace(details, 'w4', 'w5') WHERE seq = 5`)
		}, 5},
		{"EditTime", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_events SET time = '2026-01-02T03:04:10.000000001Z' WHERE seq = 4`)
		}, 4},
		{"DeleteRow", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 6`)
		}, 6},
		{"DeleteFirst", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM audit_events WHERE seq = 1`)
		}, 1},
		{"SwapRows", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_events SET seq = 1000 WHERE seq = 3`)
			exec(t, db, `UPDATE audit_events SET seq = 3 WHERE seq = 4`)
			exec(t, db, `UPDATE audit_events SET seq = 4 WHERE seq = 1000`)
		}, 3},
		{"InsertRowInMiddle", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5`)
			exec(t, db, `UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000`)
			exec(t, db, `INSERT INTO audit_events SELECT 5, time, 'mallory', client_ip, user_agent, action, change_id,
				service, project, resource_id, resource_name, outcome, details, prev_hash, hash FROM audit_events WHERE seq = 4`)
		}, 5},
		{"AppendForgedRow", false, func(t *testing.T, db *sql.DB) {
			exec(t, db, `INSERT INTO audit_events SELECT 11, time, 'mallory', client_ip, user_agent, action, change_id,
				service, project, resource_id, resource_name, outcome, details, hash, hash FROM audit_events WHERE seq = 10`)
		}, 11},
		{"TruncateTail", true, func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM audit_events WHERE seq > 7`)
		}, 8},
		{"EditAndRehashWholeChain", true, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`)
			rehash(t, db, 2)
		}, 10},
		{"ForgedCheckpoint", true, func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_events WHERE seq = 9), seq = 9`)
		}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			l, db, dir := newTestLog(t)
			appendSample(t, l, db, 10)
			key, err := LoadOrCreateKey(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.checkpoint {
				if cp, made, err := l.Checkpoint(ctx, key); err != nil || !made || cp.Seq != 10 {
					t.Fatalf("checkpoint %+v %v %v", cp, made, err)
				}
			}
			dropTriggers(t, db)
			tt.tamper(t, db)
			pub := key.Public().(ed25519.PublicKey)
			rep, err := l.Verify(ctx, pub)
			var te *TamperError
			switch {
			case tt.wantSeq == 0 && err != nil:
				t.Fatalf("verify: %v", err)
			case tt.wantSeq == 0:
				if rep.Events != 10 || rep.HeadSeq != 10 {
					t.Errorf("report %+v", rep)
				}
			case !errors.As(err, &te) || !errors.Is(err, ErrTampered):
				t.Fatalf("verify: got %v, want *TamperError", err)
			case te.Seq != tt.wantSeq:
				t.Errorf("first bad event %d (%s), want %d", te.Seq, te.Reason, tt.wantSeq)
			}
		})
	}
}

func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	l, db, dir := newTestLog(t)
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, made, err := l.Checkpoint(ctx, key); err != nil || made {
		t.Fatalf("checkpoint of empty log: made %v, err %v", made, err)
	}
	appendSample(t, l, db, 3)
	if _, made, err := l.Checkpoint(ctx, key); err != nil || !made {
		t.Fatalf("made %v, err %v", made, err)
	}
	if _, made, err := l.Checkpoint(ctx, key); err != nil || made {
		t.Fatalf("second checkpoint without new events: made %v, err %v", made, err)
	}
	t.Run("KeyReloads", func(t *testing.T) {
		again, err := LoadOrCreateKey(dir)
		if err != nil || !again.Equal(key) {
			t.Fatalf("reloaded key differs (err %v)", err)
		}
		pub, err := LoadPublicKey(dir + "/" + PublicKeyFile)
		if err != nil || !pub.Equal(key.Public()) {
			t.Fatalf("public key file differs (err %v)", err)
		}
	})
	t.Run("RefusesToSignTamperedChain", func(t *testing.T) {
		appendSample(t, l, db, 2)
		dropTriggers(t, db)
		exec(t, db, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 5`)
		if _, _, err := l.Checkpoint(ctx, key); !errors.Is(err, ErrTampered) {
			t.Fatalf("got %v, want ErrTampered", err)
		}
	})
	t.Run("OtherKeyFails", func(t *testing.T) {
		other, _, _ := ed25519.GenerateKey(nil)
		if _, err := l.Verify(ctx, other); !errors.Is(err, ErrTampered) {
			t.Fatalf("got %v, want ErrTampered", err)
		}
	})
}

func TestCheckpointerRun(t *testing.T) {
	l, db, dir := newTestLog(t)
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Checkpointer{Log: l, Key: key, Every: 3, Poll: 5 * time.Millisecond}).Run(ctx)
	}()
	appendSample(t, l, db, 4)
	deadline := time.Now().Add(5 * time.Second)
	for {
		cps, err := l.Checkpoints(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after 4 events with Every 3")
		}
		time.Sleep(5 * time.Millisecond)
	}
	appendSample(t, l, db, 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), key.Public().(ed25519.PublicKey))
	if err != nil || rep.LastCheckpoint != 5 {
		t.Fatalf("after shutdown: last checkpoint %d, want 5 (err %v)", rep.LastCheckpoint, err)
	}
}
