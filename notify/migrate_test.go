package notify_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// TestMigratePolicyWebhooks: migration 0011 turns the policies' webhook
// URLs into signed JSON channels of the same scope.
func TestMigratePolicyWebhooks(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "decom.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := fstest.MapFS{}
	names, _ := fs.Glob(migrations.FS, "*.sql")
	for _, n := range names {
		if n < "0011" {
			b, _ := fs.ReadFile(migrations.FS, n)
			before[n] = &fstest.MapFile{Data: b}
		}
	}
	if err := store.Migrate(ctx, db, before); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO change_policies (project, approvals_required, force_approvals_required,
		approver_roles, ttl_seconds, webhook_url, updated_by, updated_at) VALUES
		('', 1, 2, 'approver', 3600, 'https://hooks.example/global', 'root', '2026-01-01T00:00:00Z'),
		('p1', 1, 2, 'approver', 3600, 'https://hooks.example/p1', 'root', '2026-01-01T00:00:00Z'),
		('p2', 1, 2, 'approver', 3600, '', 'root', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	list, err := notify.New(db, notify.Options{}).Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Project != "" || list[1].Project != "p1" || list[1].URL != "https://hooks.example/p1" {
		t.Fatalf("channels %+v", list)
	}
	for _, c := range list {
		if c.Format != notify.FormatJSON || len(c.Secret) != 64 || strings.Trim(c.Secret, "0123456789abcdef") != "" ||
			c.Validate() != nil {
			t.Errorf("migrated channel %+v", c)
		}
	}
	if list[0].Secret == list[1].Secret {
		t.Error("migrated channels share a secret")
	}
}
