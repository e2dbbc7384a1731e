package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func newService(t testing.TB, now func() time.Time) *Service {
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
			if (err != nil) != tt.err ||
				strings.Join(roleStrings(got), ",") != strings.Join(roleStrings(tt.want), ",") {
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
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.0.0.1"}); !errors.Is(
			err,
			ErrInvalidCredentials,
		) {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := s.SignIn(ctx, Attempt{Username: "nobody", Password: "x", ClientIP: "10.0.0.1"}); !errors.Is(
			err,
			ErrInvalidCredentials,
		) {
			t.Errorf("unknown user: %v", err)
		}
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		for range 3 { // the free failures
			s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.0.0.2"})
		}
		// Throttled even with the right password, until the wait passes.
		_, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.2"})
		var te *ThrottledError
		if !errors.Is(err, ErrThrottled) || !errors.As(err, &te) || te.Wait != time.Second {
			t.Fatalf("got %v, want ErrThrottled for 1s", err)
		}
		// Another source is not delayed.
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.3"}); err != nil {
			t.Errorf("other source: %v", err)
		}
		now = now.Add(time.Second)
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.0.0.2"}); err != nil {
			t.Errorf("after the wait: %v", err)
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
		if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "another-long-pw"}); !errors.Is(
			err,
			ErrInvalidCredentials,
		) {
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

func TestThrottleDelay(t *testing.T) {
	th := Throttle{}.withDefaults()
	tests := []struct {
		n, free int
		want    time.Duration
	}{
		{0, 3, 0}, {2, 3, 0}, {3, 3, time.Second}, {4, 3, 2 * time.Second}, {6, 3, 8 * time.Second},
		{30, 3, 15 * time.Minute}, {1000, 3, 15 * time.Minute}, {10, 10, time.Second},
	}
	for _, tt := range tests {
		if got := th.Delay(tt.n, tt.free); got != tt.want {
			t.Errorf("Delay(%d, %d) = %v, want %v", tt.n, tt.free, got, tt.want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if w := th.Wait(now, failures{n: 4, last: now.Add(-time.Second)}, failures{n: 4, last: now}); w != time.Second {
		t.Errorf("Wait = %v, want 1s (account's 2s from a second ago)", w)
	}
	if w := th.Wait(now, failures{}, failures{n: 11, last: now.Add(-time.Minute)}); w != 0 {
		t.Errorf("Wait = %v, want 0 (source's 2s passed)", w)
	}
}

func TestValidateAttempt(t *testing.T) {
	tests := []struct {
		name string
		a    Attempt
		ok   bool
	}{
		{"plain", Attempt{Username: "alice", Password: "x"}, true},
		{"128 bytes", Attempt{Username: strings.Repeat("a", 128)}, true},
		{"129 bytes", Attempt{Username: strings.Repeat("a", 129)}, false},
		{"empty", Attempt{}, false},
		{"tab", Attempt{Username: "ali\tce"}, false},
		{"NUL", Attempt{Username: "ali\x00ce"}, false},
		{"DEL", Attempt{Username: "ali\x7fce"}, false},
		{"C1 control", Attempt{Username: "ali\u0085ce"}, false},
		{"not UTF-8", Attempt{Username: "ali\xffce"}, false},
		{"long password", Attempt{Username: "alice", Password: strings.Repeat("p", 1025)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *ValidationError
			err := ValidateAttempt(tt.a)
			if tt.ok != (err == nil) || (err != nil && !errors.As(err, &ve)) {
				t.Errorf("got %v, ok want %v", err, tt.ok)
			}
		})
	}
}

// TestSignInStoresNothingWhenRefused: impossible usernames and throttled
// attempts leave the tables as they were.
func TestSignInStoresNothingWhenRefused(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newService(t, func() time.Time { return now })
	if _, err := s.Create(ctx, Origin{Actor: "test"}, "alice", "long-enough-pw", []Role{RoleRequester}); err != nil {
		t.Fatal(err)
	}
	rows := func() (n int) {
		s.db.QueryRow(`SELECT (SELECT count(*) FROM login_failures) + (SELECT count(*) FROM audit_events)`).Scan(&n)
		return n
	}
	before := rows()
	big := strings.Repeat("x", 200<<10)
	for range 10 {
		if _, err := s.SignIn(ctx, Attempt{Username: big, Password: "pw", ClientIP: "10.9.9.9"}); err == nil {
			t.Fatal("accepted")
		}
	}
	if got := rows(); got != before {
		t.Errorf("rows grew by %d for impossible usernames", got-before)
	}
	for range 20 {
		s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.9.9.9"})
	}
	if got := rows(); got != before+2*3 { // 3 free failures: a row and an event each
		t.Errorf("rows grew by %d, want 6 (throttled attempts store nothing)", got-before)
	}
}

// TestSessionRowsFollowTheUser: the session row's username and roles are
// current because any change of roles, password or disabled state ends the
// user's sessions, through auth (recorded) or any other writer (the trigger).
func TestSessionRowsFollowTheUser(t *testing.T) {
	ctx := context.Background()
	s := newService(t, time.Now)
	o := Origin{Actor: "test"}
	u, err := s.Create(ctx, o, "alice", "long-enough-pw", Roles{RoleRequester})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.StartSession(ctx, u, SessionMeta{ClientIP: "10.0.0.1", UserAgent: strings.Repeat("x", 1000)})
	if err != nil {
		t.Fatal(err)
	}
	se, got, err := s.Session(ctx, tok)
	if err != nil || got.Username != "alice" || !got.Roles.Has(RoleRequester) || se.ClientIP != "10.0.0.1" ||
		len(se.UserAgent) != maxUserAgent || se.Method != MethodPassword {
		t.Fatalf("session %+v user %+v: %v", se, got, err)
	}
	if _, err := s.db.Exec(`UPDATE users SET roles = 'admin' WHERE username = 'alice'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Errorf("after a role change outside auth: %v, want ErrNoSession", err)
	}
	if err := s.Disable(ctx, o, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartSession(ctx, u, SessionMeta{}); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("session for a disabled user: %v", err)
	}
}

// TestSignInConcurrentFlood: attempts from one source are taken one at a
// time, so a burst cannot all pass the check before its failures count.
func TestSignInConcurrentFlood(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newService(t, func() time.Time { return now })
	if _, err := s.Create(ctx, Origin{Actor: "test"}, "alice", "long-enough-pw", Roles{RoleRequester}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() { s.SignIn(ctx, Attempt{Username: "alice", Password: "wrong", ClientIP: "10.6.6.6"}) })
	}
	wg.Wait()
	var n int
	s.db.QueryRow(`SELECT count(*) FROM login_failures`).Scan(&n)
	if n != 3 {
		t.Errorf("%d failures checked and recorded of a burst of 30, want 3 (the free ones)", n)
	}
	if _, err := s.SignIn(ctx, Attempt{Username: "alice", Password: "long-enough-pw", ClientIP: "10.7.7.7"}); err != nil {
		t.Errorf("another source: %v", err)
	}
	if len(s.sources.locks) != 0 {
		t.Errorf("%d source locks left", len(s.sources.locks))
	}
}
