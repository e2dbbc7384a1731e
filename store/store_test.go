package store_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

func openTemp(t *testing.T) *sql.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "sub", "decom.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateTwiceIsIdempotent(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := store.Migrate(ctx, db, migrations.FS); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	var applied int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	if applied != len(files) {
		t.Fatalf("applied %d migrations, want %d (one per file)", applied, len(files))
	}
}

func TestMigrateFailureRollsBackThatFile(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	bad := fstest.MapFS{
		"0001_ok.sql":  {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"0002_bad.sql": {Data: []byte(`CREATE TABLE b (y INTEGER); THIS IS NOT SQL;`)},
	}
	if err := store.Migrate(ctx, db, bad); err == nil {
		t.Fatal("Migrate with a broken file: got nil error")
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n)
	if n != 0 {
		t.Fatal("table b exists: the failed migration was not rolled back")
	}
	db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != 1 {
		t.Fatalf("recorded %d migrations, want 1", n)
	}
}

func TestPragmasOnEveryConnection(t *testing.T) {
	db := openTemp(t)
	db.SetMaxOpenConns(3)
	ctx := context.Background()
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var mode string
		var fk, sync int
		c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
		c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
		if mode != "wal" || fk != 1 || sync != 2 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d synchronous=%d, want wal 1 2(FULL)", i, mode, fk, sync)
		}
	}
}

func TestInTxAndTranslate(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t (k) VALUES (?)`, "a")
		return err
	}
	if err := store.InTx(ctx, db, insert); err != nil {
		t.Fatalf("first insert: %v", err)
	}
	if err := store.InTx(ctx, db, insert); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate insert: got %v, want ErrConflict", err)
	}
	err := store.InTx(ctx, db, func(tx *sql.Tx) error {
		var k string
		return tx.QueryRowContext(ctx, `SELECT k FROM t WHERE k = ?`, "zz").Scan(&k)
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing row: got %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	err = store.InTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (k) VALUES ('b')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM t WHERE k = 'b'`).Scan(&n)
	if n != 0 {
		t.Fatal("row from a failed transaction was committed")
	}
}
