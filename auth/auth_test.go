package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func newService(t *testing.T, now func() time.Time) *Service {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for range 2 { // migrating twice is a no-op
		if err := store.Migrate(ctx, db, migrations.FS); err != nil {
			t.Fatal(err)
		}
	}
	return New(db, Options{Params: cheap, Now: now})
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("s3cret-password", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q", h)
	}
	if !CheckPassword(h, "s3cret-password") || CheckPassword(h, "s3cret-passwore") {
		t.Error("CheckPassword wrong")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", h[:len(h)-4] + "!!!!"} {
		if CheckPassword(bad, "s3cret-password") {
			t.Errorf("accepted malformed hash %q", bad)
		}
	}
	if h2, _ := HashPassword("s3cret-password", DefaultParams); h2 == h {
		t.Error("same salt twice")
	}
}

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Role
		err      bool
	}{
		{"one", "requester", []Role{RoleRequester}, false},
		{"several with spaces and repeats", "approver, auditor,approver", []Role{RoleApprover, RoleAuditor}, false},
		{"unknown", "root", nil, true},
		{"empty", " , ", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoles(tt.in)
			if (err != nil) != tt.err || strings.Join(roleStrings(got), ",") != strings.Join(roleStrings(tt.want), ",") {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
}

func roleStrings(rs []Role) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r))
	}
	return out
}

func TestRolesHas(t *testing.T) {
	// Membership only: admin's extra powers are written where they apply.
	if (Roles{RoleAdmin}).Has(RoleAuditor) {
		t.Error("admin must not imply auditor")
	}
	if !(Roles{RoleViewer, RoleAuditor}).Has(RoleAuditor) {
		t.Error("auditor is in the set")
	}
	if (Roles{RoleViewer}).Has(RoleRequester) {
		t.Error("viewer is not a requester")
	}
}

func TestService(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newService(t, func() time.Time { return now })
	o := Origin{Actor: "test"}

	t.Run("Create", func(t *testing.T) {
		u, err := s.Create(ctx, o, "alice", "long-enough-pw", []Role{RoleRequester})
		if err != nil || u.ID == 0 {
			t.Fatalf("create: %v", err)
		}
		if _, err := s.Create(ctx, o, "alice", "long-enough-pw", []Role{RoleRequester}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate: %v, want ErrConflict", err)
		}
		var ve *ValidationError
		if _, err := s.Create(ctx, o, "Bad Name", "long-enough-pw", []Role{RoleViewer}); !errors.As(err, &ve) {
			t.Errorf("bad name: %v", err)
		}
		if _, err := s.Create(ctx, o, "bob", "short", []Role{RoleViewer}); !errors.As(err, &ve) {
			t.Errorf("short password: %v", err)
		}
	})
	t.Run("SignIn", func(t *testing.T) {
		u, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.1"})
		if err != nil || u.Username != "alice" || !u.Roles.Has(RoleRequester) {
			t.Fatalf("sign in: %+v %v", u, err)
		}
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.0.0.1"}); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := s.SignIn(ctx, Attempt{Username: "nobody", Password: "x", ClientIP: "10.0.0.1"}); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("unknown user: %v", err)
		}
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		for range 5 {
			s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.0.0.2"})
		}
		// Throttled even with the right password, until the window passes.
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.2"}); !errors.Is(err, ErrThrottled) {
			t.Fatalf("got %v, want ErrThrottled", err)
		}
		now = now.Add(16 * time.Minute)
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.2"}); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})
	t.Run("SetPasswordAndDisable", func(t *testing.T) {
		if err := s.SetPassword(ctx, o, "alice", "another-long-pw"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "another-long-pw"}); err != nil {
			t.Errorf("new password: %v", err)
		}
		if err := s.Disable(ctx, o, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "another-long-pw"}); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("disabled: %v", err)
		}
		if err := s.Disable(ctx, o, "ghost"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing user: %v, want ErrNotFound", err)
		}
	})
}

func TestSessionKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "session.key")
	k1, err := LoadOrCreateSessionKey(p)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateSessionKey(p)
	if err != nil || string(k1.Hash) != string(k2.Hash) || string(k1.Block) != string(k2.Block) || len(k1.Block) != 32 {
		t.Errorf("key not kept: %v", err)
	}
	if _, err := ParseSessionKey("abc"); err == nil {
		t.Error("short key accepted")
	}
	cur, old := strings.Repeat("ab", 64), strings.Repeat("cd", 64)
	ks, err := ParseSessionKeys(cur + "," + old)
	if err != nil || len(ks.Previous) != 1 || len(ks.Pairs()) != 4 || ks.Previous[0].Hash[0] != 0xcd {
		t.Errorf("rotation keys: %+v %v", ks, err)
	}
}
