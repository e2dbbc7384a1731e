package handlers

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/inventory/roma?status=failed", "/inventory/roma?status=failed"},
		{"/changes/12#top", "/changes/12#top"},
		{"", "/inventory"},
		{"inventory", "/inventory"},
		{"//evil.example/", "/inventory"},
		{"https://evil.example/", "/inventory"},
		{"/\\evil.example", "/inventory"},
		{"/\t/evil.example", "/inventory"}, // "/%09/evil.example" once decoded
		{"/\n/evil.example", "/inventory"},
		{"/ /evil.example", "/inventory"},
		{"/\u00a0/evil.example", "/inventory"},
		{"/%2F/evil.example", "/inventory"},
		{"/%5Cevil.example", "/inventory"},
		{"/%09/evil.example", "/inventory"},
		{"/x\x00", "/inventory"},
		{"/" + strings.Repeat("a", 3000), "/inventory"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLoginNextTab: the TAB trick from the issue, through the real form.
func TestLoginNextTab(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	_, body := c.get(t, "/login?next=/%09/evil.example")
	if v, _ := doc(t, body).Find(`input[name="next"]`).Attr("value"); v != "/inventory" {
		t.Errorf("next kept as %q", v)
	}
	resp, _ := c.post(
		t,
		"/login",
		url.Values{"username": {"alice"}, "password": {testPassword}, "next": {"/\t/evil.example"}},
	)
	if loc := resp.Header.Get("Location"); loc != "/inventory" {
		t.Errorf("Location %q", loc)
	}
}

func trustLoopback(d *Deps) {
	_, n, _ := net.ParseCIDR("127.0.0.1/32")
	d.TrustedProxies = []*net.IPNet{n}
}

// dbBytes is the database's size on disk, WAL included.
func dbBytes(t *testing.T, ts *testServer) int64 {
	t.Helper()
	var file string
	if err := ts.db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range []string{file, file + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestLoginFlood: 1,000 failed sign-ins with 200 KB usernames, then 1,000
// wrong passwords for alice, all from one source, grow the database by less
// than 1 MB, and alice still signs in from another source.
func TestLoginFlood(t *testing.T) {
	ts := newTestServer(t, trustLoopback)
	if _, err := ts.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	before := dbBytes(t, ts)
	attacker := ts.client()
	attacker.get(t, "/login", "X-Forwarded-For", "203.0.113.66")
	big := strings.Repeat("a", 200<<10)
	for i := range 1000 {
		resp, _ := attacker.post(t, "/login", url.Values{"username": {big}, "password": {"guess"}},
			"X-Forwarded-For", "203.0.113.66")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: status %d, want 422", i, resp.StatusCode)
		}
	}
	throttled := 0
	for range 1000 {
		resp, _ := attacker.post(t, "/login", url.Values{"username": {"alice"}, "password": {"wrong-password"}},
			"X-Forwarded-For", "203.0.113.66")
		if resp.StatusCode == http.StatusTooManyRequests {
			throttled++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if throttled < 990 {
		t.Errorf("throttled %d of 1000 wrong passwords", throttled)
	}
	if grew := dbBytes(t, ts) - before; grew >= 1<<20 {
		t.Errorf("database grew by %d bytes, want < 1 MB", grew)
	} else {
		t.Logf("database grew by %d bytes", grew)
	}
	real := ts.client()
	real.get(t, "/login", "X-Forwarded-For", "198.51.100.7")
	resp, _ := real.post(t, "/login", url.Values{"username": {"alice"}, "password": {testPassword}},
		"X-Forwarded-For", "198.51.100.7")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("real user from another source: %d, want 303", resp.StatusCode)
	}
	var ip string
	ts.db.QueryRow(`SELECT client_ip FROM sessions ORDER BY id DESC LIMIT 1`).Scan(&ip)
	if ip != "198.51.100.7" {
		t.Errorf("session source = %q, want the X-Forwarded-For address behind a trusted proxy", ip)
	}
}

// TestUntrustedForwardedFor: without --trusted-proxies the source is the TCP
// peer, whatever X-Forwarded-For says, so a flood cannot pose as many sources.
func TestUntrustedForwardedFor(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	c.get(t, "/login")
	for i := range 4 {
		c.post(t, "/login", url.Values{"username": {"alice"}, "password": {"wrong-password"}},
			"X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
	}
	resp, _ := c.post(t, "/login", url.Values{"username": {"alice"}, "password": {testPassword}},
		"X-Forwarded-For", "198.51.100.7")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429: X-Forwarded-For must be ignored", resp.StatusCode)
	}
}

// TestCSRFHardening: the token is read from the body or header only, is bound
// to the session, and cross-site Origin / Sec-Fetch-Site are refused.
func TestCSRFHardening(t *testing.T) {
	ts := newTestServer(t)
	alice, bob := ts.login(t, "alice"), ts.login(t, "bob")
	refresh := "/inventory/refresh"
	tests := []struct {
		name    string
		c       *client
		path    string
		form    url.Values
		headers []string
		want    int
	}{
		{"body token", alice, refresh, url.Values{"_csrf": {alice.csrf}}, nil, http.StatusSeeOther},
		{
			"query token only",
			alice,
			refresh + "?_csrf=" + url.QueryEscape(alice.csrf),
			url.Values{},
			nil,
			http.StatusForbidden,
		},
		{"another session's token", alice, refresh, url.Values{"_csrf": {bob.csrf}}, nil, http.StatusForbidden},
		{
			"cross-site Origin",
			alice,
			refresh,
			url.Values{"_csrf": {alice.csrf}},
			[]string{"Origin", "https://evil.example"},
			http.StatusForbidden,
		},
		{
			"null Origin",
			alice,
			refresh,
			url.Values{"_csrf": {alice.csrf}},
			[]string{"Origin", "null"},
			http.StatusForbidden,
		},
		{
			"same-site fetch",
			alice,
			refresh,
			url.Values{"_csrf": {alice.csrf}},
			[]string{"Sec-Fetch-Site", "same-site"},
			http.StatusForbidden,
		},
		{
			"same Origin",
			alice,
			refresh,
			url.Values{"_csrf": {alice.csrf}},
			[]string{"Origin", ts.URL, "Sec-Fetch-Site", "same-origin"},
			http.StatusSeeOther,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := tt.c.do(t, http.MethodPost, tt.path, tt.form, tt.headers...)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("token changes at sign-in", func(t *testing.T) {
		c := ts.client()
		c.get(t, "/login")
		before := c.csrf
		c.post(t, "/login", url.Values{"username": {"dave"}, "password": {testPassword}})
		c.get(t, "/inventory")
		if c.csrf == before || c.csrf == "" {
			t.Error("the signed-out token still works after sign-in")
		}
		if resp, _ := c.do(t, http.MethodPost, refresh, url.Values{"_csrf": {before}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("pre-sign-in token: %d, want 403", resp.StatusCode)
		}
	})
}
