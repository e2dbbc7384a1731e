package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/auth"
)

func TestLogin(t *testing.T) {
	ts := newTestServer(t)

	t.Run("OK", func(t *testing.T) {
		c := ts.client()
		c.get(t, "/login")
		resp, _ := c.post(
			t,
			"/login",
			url.Values{"username": {"alice"}, "password": {testPassword}, "next": {"/inventory/roma"}},
		)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inventory/roma" {
			t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionName {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
			t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, not Secure without TLS", sess)
		}
		_, body := c.get(t, "/inventory")
		if got := testIDs(doc(t, body), "whoami").Text(); got != "alice" {
			t.Errorf("whoami = %q", got)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		c := ts.client()
		c.get(t, "/login")
		resp, body := c.post(t, "/login", url.Values{"username": {"bob"}, "password": {"nope-nope-nope"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
		d := doc(t, body)
		if v, _ := d.Find("#username").Attr("value"); v != "bob" {
			t.Errorf("username not kept: %q", v)
		}
		if testIDs(d, "login-error").Length() != 1 {
			t.Error("no error shown")
		}
	})

	t.Run("OpenRedirect", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			c := ts.client()
			c.get(t, "/login")
			resp, _ := c.post(t, "/login", url.Values{"username": {"dave"}, "password": {testPassword}, "next": {next}})
			if loc := resp.Header.Get("Location"); loc != "/inventory" {
				t.Errorf("next %q: Location %q", next, loc)
			}
		}
	})

	t.Run("Throttled", func(t *testing.T) {
		c := ts.client()
		c.get(t, "/login")
		for range 5 {
			c.post(t, "/login", url.Values{"username": {"carol-x"}, "password": {"wrong-password"}})
		}
		resp, _ := c.post(t, "/login", url.Values{"username": {"carol-x"}, "password": {"wrong-password"}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("6th attempt: %d, want 429", resp.StatusCode)
		}
	})

	t.Run("Disabled", func(t *testing.T) {
		c := ts.login(t, "bob")
		if err := ts.users.Disable(context.Background(), auth.Origin{Actor: "test"}, "bob"); err != nil {
			t.Fatal(err)
		}
		if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("disabled user's session: %d, want 303 to sign-in", resp.StatusCode)
		}
		c = ts.client()
		c.get(t, "/login")
		if resp, _ := c.post(t, "/login", url.Values{"username": {"bob"}, "password": {testPassword}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("disabled login: %d", resp.StatusCode)
		}
	})
}

func TestSessionTimeouts(t *testing.T) {
	t.Run("Idle", func(t *testing.T) {
		ts := newTestServer(t)
		c := ts.login(t, "alice")
		ts.now.Add(29 * time.Minute)
		if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusOK {
			t.Fatalf("within idle timeout: %d", resp.StatusCode)
		}
		ts.now.Add(29 * time.Minute) // the request above refreshed the idle clock
		if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusOK {
			t.Fatalf("activity should extend the session: %d", resp.StatusCode)
		}
		ts.now.Add(31 * time.Minute)
		if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after idle timeout: %d, want 303", resp.StatusCode)
		}
	})
	t.Run("Absolute", func(t *testing.T) {
		ts := newTestServer(t)
		c := ts.login(t, "alice")
		for range 30 { // 12.5 h of activity every 25 min
			ts.now.Add(25 * time.Minute)
			c.get(t, "/login") // keeps the session alive without reading the cloud
		}
		if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after absolute timeout: %d, want 303", resp.StatusCode)
		}
	})
}

func TestLogout(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	resp, _ := c.post(t, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func TestNewSessionAtLogin(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "alice")
	u, _ := url.Parse(ts.URL)
	before := cookieValue(c, u, sessionName)
	c.get(t, "/login")
	c.post(t, "/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	if after := cookieValue(c, u, sessionName); after == before || after == "" {
		t.Error("session cookie not replaced at login")
	}
}

func cookieValue(c *client, u *url.URL, name string) string {
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestAdminPage(t *testing.T) {
	ts := newTestServer(t)
	_, body := ts.login(t, "admin").get(t, "/admin")
	if n := testIDs(doc(t, body), "user-row").Length(); n != len(testUsers) {
		t.Errorf("user rows = %d, want %d", n, len(testUsers))
	}
}
