package handlers

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/auth"
)

// replay returns a fresh client holding only a copy of c's session cookie, as
// an attacker who saved it would.
func (ts *testServer) replay(t *testing.T, c *client) *client {
	t.Helper()
	u, _ := url.Parse(ts.URL)
	r := ts.client()
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionName, Value: cookieValue(c, u, sessionName)}})
	r.http.Jar = jar
	return r
}

func signedIn(t *testing.T, c *client) bool {
	t.Helper()
	resp, _ := c.get(t, "/inventory")
	return resp.StatusCode == http.StatusOK
}

// TestSessionRevocation: a cookie saved before sign-out, a password change or
// disabling is signed out; signing out one of two sessions leaves the other.
func TestSessionRevocation(t *testing.T) {
	ctx := context.Background()
	o := auth.Origin{Actor: "test"}
	tests := []struct {
		name   string
		revoke func(t *testing.T, ts *testServer, c *client)
	}{
		{"SignOut", func(t *testing.T, ts *testServer, c *client) { c.post(t, "/logout", nil) }},
		{"PasswordChange", func(t *testing.T, ts *testServer, c *client) {
			if err := ts.users.SetPassword(ctx, o, "alice", "another-long-password"); err != nil {
				t.Fatal(err)
			}
		}},
		{"Disable", func(t *testing.T, ts *testServer, c *client) {
			if err := ts.users.Disable(ctx, o, "alice"); err != nil {
				t.Fatal(err)
			}
		}},
		{"RoleChange", func(t *testing.T, ts *testServer, c *client) {
			if err := ts.users.SetRoles(ctx, o, "alice", []auth.Role{auth.RoleViewer}); err != nil {
				t.Fatal(err)
			}
		}},
		{"SignOutEverywhere", func(t *testing.T, ts *testServer, c *client) {
			if resp, _ := c.post(t, "/account/sessions/revoke", nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign out everywhere: %d", resp.StatusCode)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			c := ts.login(t, "alice")
			saved := ts.replay(t, c)
			if !signedIn(t, saved) {
				t.Fatal("a copy of a live cookie should work before the revocation")
			}
			tt.revoke(t, ts, c)
			if signedIn(t, saved) {
				t.Error("saved cookie still signed in after the revocation")
			}
			if signedIn(t, c) {
				t.Error("the browser itself still signed in")
			}
			if tt.name != "SignOut" && countEvents(t, ts, "session_revoked") != 1 {
				t.Error("no session_revoked event")
			}
		})
	}

	t.Run("TwoSessionsSignOutOne", func(t *testing.T) {
		ts := newTestServer(t)
		a, b := ts.login(t, "alice"), ts.login(t, "alice")
		a.post(t, "/logout", nil)
		if signedIn(t, a) || !signedIn(t, b) {
			t.Errorf("after signing out one: first %v, second %v; want false, true", signedIn(t, a), signedIn(t, b))
		}
	})
	t.Run("SignOutEverywhereEndsBoth", func(t *testing.T) {
		ts := newTestServer(t)
		a, b := ts.login(t, "alice"), ts.login(t, "alice")
		bob := ts.login(t, "bob")
		a.post(t, "/account/sessions/revoke", nil)
		if signedIn(t, a) || signedIn(t, b) || !signedIn(t, bob) {
			t.Error("sign out everywhere should end alice's two sessions and leave bob's")
		}
		if n := countEvents(t, ts, "session_revoked"); n != 1 {
			t.Errorf("session_revoked events = %d, want 1", n)
		}
	})
}

func countEvents(t *testing.T, ts *testServer, action string) int {
	t.Helper()
	var n int
	if err := ts.db.QueryRow(`SELECT count(*) FROM audit_events WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSessionCookieHoldsOnlyToken: the cookie carries a random token and the
// table its SHA-256, never the token itself.
func TestSessionCookieHoldsOnlyToken(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	u, _ := url.Parse(ts.URL)
	values := map[any]any{}
	if err := ts.srv.sessions.Codecs[0].Decode(sessionName, cookieValue(c, u, sessionName), &values); err != nil {
		t.Fatal(err)
	}
	token, _ := values[sessToken].(string)
	if len(values) != 1 || len(token) != 43 {
		t.Fatalf("cookie values = %v, want only a 43-character token", values)
	}
	sum := sha256.Sum256([]byte(token))
	var n, plain int
	ts.db.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = ?`, sum[:]).Scan(&n)
	ts.db.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = ? OR CAST(token_hash AS TEXT) = ?`,
		[]byte(token), token).Scan(&plain)
	if n != 1 || plain != 0 {
		t.Errorf("rows by hash = %d (want 1), by plain token = %d (want 0)", n, plain)
	}
}

// TestLastSeenWrites: last seen moves at most once a minute, and an idle
// session ends server-side.
func TestLastSeenWrites(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	seen := func() string {
		var s string
		if err := ts.db.QueryRow(`SELECT last_seen_at FROM sessions`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := seen()
	ts.now.Add(30 * time.Second)
	c.get(t, "/login")
	if seen() != first {
		t.Error("last seen written within a minute")
	}
	ts.now.Add(31 * time.Second)
	c.get(t, "/login")
	if seen() == first {
		t.Error("last seen not written after a minute")
	}
}

// TestAdminSessions: an admin sees every live session and revokes one.
func TestAdminSessions(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.login(t, "alice")
	admin := ts.login(t, "admin")
	_, body := admin.get(t, "/admin/sessions")
	d := doc(t, body)
	if n := testIDs(d, "session-row").Length(); n != 2 {
		t.Fatalf("session rows = %d, want 2", n)
	}
	list, err := ts.users.ListSessions(context.Background(), "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("alice's sessions: %v %v", list, err)
	}
	path := "/admin/sessions/" + itoa(list[0].ID) + "/revoke"
	if resp, _ := alice.post(t, path, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice revoking: %d, want 403", resp.StatusCode)
	}
	if resp, _ := admin.post(t, path, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if signedIn(t, alice) || !signedIn(t, admin) {
		t.Error("revoking alice's session should sign her out and leave the admin in")
	}
	if n := countEvents(t, ts, "session_revoked"); n != 1 {
		t.Errorf("session_revoked events = %d, want 1", n)
	}
	var actor, details string
	ts.db.QueryRow(`SELECT actor, details FROM audit_events WHERE action = 'session_revoked'`).Scan(&actor, &details)
	if actor != "admin" || !strings.Contains(details, `"user":"alice"`) || !strings.Contains(details, `"ended":1`) {
		t.Errorf("event by %q: %s", actor, details)
	}
	if resp, _ := admin.post(t, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoking again: %d, want 404", resp.StatusCode)
	}
	_, body = admin.get(t, "/account")
	if !strings.Contains(body, "this browser") {
		t.Error("account page should mark the current session")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
