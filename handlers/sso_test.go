package handlers

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/decom/decom/auth"
)

// lateSSO lets the test server start before its OIDC client exists (the
// redirect URL needs the server's address).
type lateSSO struct{ *auth.OIDC }

const testRoleMap = "platform-requesters=requester,platform-approvers=approver,sec-audit=auditor,decom-admins=admin"

// ssoServer is the console with single sign-on against mockoidc, a real
// OpenID provider on loopback.
type ssoServer struct {
	*testServer
	op *mockoidc.MockOIDC
}

func newSSOServer(t testing.TB, opts ...func(*Deps)) *ssoServer {
	t.Helper()
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Shutdown() })
	late := &lateSSO{}
	ts := newTestServer(t, append([]func(*Deps){func(d *Deps) { d.SSO, d.SSOName = late, "Corp SSO" }}, opts...)...)
	rm, err := auth.ParseRoleMap(testRoleMap)
	if err != nil {
		t.Fatal(err)
	}
	cfg := op.Config()
	late.OIDC = auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: ts.URL + "/auth/oidc/callback", RoleMap: rm})
	if err := late.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &ssoServer{testServer: ts, op: op}
}

func ssoUser(name string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + name, PreferredUsername: name, Email: name + "@example.com",
		EmailVerified: true, Groups: groups}
}

// ssoStep is one sign-in taken apart: the provider URL the console sent
// the browser to, and the callback the provider sent it back to.
type ssoStep struct {
	authorize *url.URL
	callback  string // path and query on the console
}

// begin starts a sign-in as user; tamper may change the authorize URL.
func (ts *ssoServer) begin(t testing.TB, c *client, user *mockoidc.MockUser, tamper func(q url.Values)) ssoStep {
	t.Helper()
	ts.op.QueueUser(user)
	resp, _ := c.get(t, "/auth/oidc/login?next=/approvals")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login start: %d", resp.StatusCode)
	}
	au, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("nonce") == "" {
		t.Fatalf("authorize URL lacks PKCE, state or nonce: %s", au)
	}
	if tamper != nil {
		tamper(q)
		au.RawQuery = q.Encode()
	}
	// The provider signs the user in at once and redirects back.
	presp, err := c.http.Get(au.String())
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	back, err := url.Parse(presp.Header.Get("Location"))
	if err != nil || presp.StatusCode != http.StatusFound {
		t.Fatalf("provider: %d %q", presp.StatusCode, presp.Header.Get("Location"))
	}
	return ssoStep{authorize: au, callback: back.RequestURI()}
}

// ssoSignIn signs in through the provider and returns the callback's answer.
func (ts *ssoServer) ssoSignIn(t testing.TB, c *client, user *mockoidc.MockUser) (*http.Response, string) {
	t.Helper()
	st := ts.begin(t, c, user, nil)
	return c.get(t, st.callback)
}

func TestSSO(t *testing.T) {
	ts := newSSOServer(t)

	t.Run("LoginPage", func(t *testing.T) {
		_, body := ts.client().get(t, "/login")
		d := doc(t, body)
		if got := strings.TrimSpace(testIDs(d, "sso-sign-in").Text()); got != "Sign in with Corp SSO" {
			t.Errorf("SSO button %q", got)
		}
		if testIDs(d, "login-form").Length() != 1 {
			t.Error("password form hidden while password sign-in is on")
		}
	})

	t.Run("OK", func(t *testing.T) {
		c := ts.client()
		resp, body := ts.ssoSignIn(t, c, ssoUser("erin", "platform-approvers", "unrelated"))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/approvals" {
			t.Fatalf("callback: %d %q\n%.500s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == flowCookie && ck.MaxAge >= 0 {
				t.Error("flow cookie not consumed at the callback")
			}
		}
		if resp, _ := c.get(t, "/approvals"); resp.StatusCode != http.StatusOK {
			t.Fatalf("/approvals: %d", resp.StatusCode)
		}
		u, err := ts.users.ByUsername(context.Background(), "erin")
		if err != nil || len(u.Roles) != 1 || u.Roles[0] != auth.RoleApprover {
			t.Errorf("user = %+v, %v; want an approver", u, err)
		}
		var details string
		ts.db.QueryRow(`SELECT details FROM audit_events WHERE action = 'sign_in' AND actor = 'erin'`).Scan(&details)
		if !strings.Contains(details, `"method":"oidc"`) || !strings.Contains(details, `"platform-approvers"`) ||
			!strings.Contains(details, `"roles":"approver"`) {
			t.Errorf("sign-in event details = %s", details)
		}
		var method string
		ts.db.QueryRow(`SELECT method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'erin'`).
			Scan(&method)
		if method != auth.MethodOIDC {
			t.Errorf("session method %q", method)
		}
	})

	t.Run("FlowCookie", func(t *testing.T) {
		c := ts.client()
		resp, _ := c.get(t, "/auth/oidc/login")
		var fc *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == flowCookie {
				fc = ck
			}
		}
		if fc == nil || !fc.HttpOnly || fc.SameSite != http.SameSiteLaxMode || fc.MaxAge != 600 {
			t.Errorf("flow cookie = %+v, want HttpOnly, SameSite=Lax, 10 minutes", fc)
		}
		if strings.Contains(resp.Header.Get("Location"), "code_verifier") {
			t.Error("the PKCE verifier left the server")
		}
	})

	refused := func(t *testing.T, c *client, resp *http.Response, body string, status int) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("status %d, want %d\n%.300s", resp.StatusCode, status, body)
		}
		if testIDs(doc(t, body), "login-error").Length() != 1 {
			t.Error("no message on the page")
		}
		if signedIn(t, c) {
			t.Error("signed in")
		}
	}

	t.Run("WrongState", func(t *testing.T) {
		c := ts.client()
		st := ts.begin(t, c, ssoUser("erin", "platform-approvers"), nil)
		cb, _ := url.Parse(st.callback)
		q := cb.Query()
		q.Set("state", "forged-"+q.Get("state"))
		cb.RawQuery = q.Encode()
		resp, body := c.get(t, cb.RequestURI())
		refused(t, c, resp, body, http.StatusBadRequest)
	})

	t.Run("NoFlowCookie", func(t *testing.T) {
		c := ts.client()
		st := ts.begin(t, c, ssoUser("erin", "platform-approvers"), nil)
		other := ts.client() // the callback lands in a browser that never started it
		resp, body := other.get(t, st.callback)
		refused(t, other, resp, body, http.StatusBadRequest)
	})

	t.Run("ReplayedCode", func(t *testing.T) {
		c := ts.client()
		st := ts.begin(t, c, ssoUser("erin", "platform-approvers"), nil)
		u, _ := url.Parse(ts.URL + "/auth/oidc/")
		saved := c.http.Jar.Cookies(u) // the flow cookie, as an attacker would copy it
		if resp, _ := c.get(t, st.callback); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		r := ts.client()
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(u, saved)
		r.http.Jar = jar
		resp, body := r.get(t, st.callback)
		refused(t, r, resp, body, http.StatusUnauthorized)
	})

	t.Run("BadNonce", func(t *testing.T) {
		c := ts.client()
		st := ts.begin(
			t,
			c,
			ssoUser("erin", "platform-approvers"),
			func(q url.Values) { q.Set("nonce", "attacker-nonce") },
		)
		resp, body := c.get(t, st.callback)
		refused(t, c, resp, body, http.StatusUnauthorized)
	})

	t.Run("WrongVerifier", func(t *testing.T) {
		c := ts.client()
		st := ts.begin(t, c, ssoUser("erin", "platform-approvers"), func(q url.Values) {
			q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") // someone else's verifier
		})
		resp, body := c.get(t, st.callback)
		refused(t, c, resp, body, http.StatusUnauthorized)
	})

	t.Run("ExpiredToken", func(t *testing.T) {
		ts.op.FastForward(-time.Hour) // the provider's clock: tokens expire 50 minutes ago
		defer ts.op.FastForward(time.Hour)
		c := ts.client()
		resp, body := ts.ssoSignIn(t, c, ssoUser("erin", "platform-approvers"))
		refused(t, c, resp, body, http.StatusUnauthorized)
	})

	t.Run("UnmappedGroup", func(t *testing.T) {
		c := ts.client()
		resp, body := ts.ssoSignIn(t, c, ssoUser("mallory", "marketing", "everyone"))
		refused(t, c, resp, body, http.StatusForbidden)
		if !strings.Contains(body, "none of your groups grants a role") || !strings.Contains(body, "marketing") {
			t.Errorf("page does not say why:\n%.2000s", body)
		}
		if _, err := ts.users.ByUsername(context.Background(), "mallory"); err == nil {
			t.Error("user created without a role")
		}
	})

	t.Run("RoleRemovedAtProvider", func(t *testing.T) {
		first := ts.client()
		ts.ssoSignIn(t, first, ssoUser("frank", "platform-approvers", "platform-requesters"))
		if resp, _ := first.get(t, "/approvals"); resp.StatusCode != http.StatusOK {
			t.Fatalf("approver: /approvals %d", resp.StatusCode)
		}
		// Removed from platform-approvers at the provider; signs in again.
		second := ts.client()
		if resp, _ := ts.ssoSignIn(t, second, ssoUser("frank", "platform-requesters")); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second sign-in: %d", resp.StatusCode)
		}
		if resp, _ := second.get(t, "/approvals"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("after losing the group: /approvals %d, want 403", resp.StatusCode)
		}
		if signedIn(t, first) {
			t.Error("the session with the old roles survived the role change")
		}
		var details string
		ts.db.QueryRow(`SELECT details FROM audit_events WHERE action = 'user_changed' AND details LIKE '%roles from groups%'
			AND details LIKE '%frank%'`).
			Scan(&details)
		if !strings.Contains(details, `"from":"requester,approver"`) || !strings.Contains(details, `"to":"requester"`) {
			t.Errorf("role change event = %q", details)
		}
		// Removed from every mapped group: refused, and the roles are gone.
		third := ts.client()
		resp, body := ts.ssoSignIn(t, third, ssoUser("frank", "alumni"))
		refused(t, third, resp, body, http.StatusForbidden)
		if signedIn(t, second) {
			t.Error("a session survived losing every group")
		}
	})

	t.Run("LocalNameNotTakenOver", func(t *testing.T) {
		c := ts.client()
		resp, body := ts.ssoSignIn(t, c, ssoUser("admin", "decom-admins"))
		refused(t, c, resp, body, http.StatusConflict)
	})
}

func TestSSOPasswordLoginOff(t *testing.T) {
	ts := newSSOServer(t, func(d *Deps) { d.NoPasswordLogin = true })
	c := ts.client()
	_, body := c.get(t, "/login")
	d := doc(t, body)
	if testIDs(d, "login-form").Length() != 0 || testIDs(d, "sso-sign-in").Length() != 1 {
		t.Error("password form shown or SSO button missing")
	}
	resp, _ := c.post(t, "/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden || signedIn(t, c) {
		t.Errorf("password sign-in: %d, want 403", resp.StatusCode)
	}
	if resp, _ := ts.ssoSignIn(t, c, ssoUser("erin", "sec-audit")); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("SSO sign-in: %d", resp.StatusCode)
	}
}

func TestSSOUnavailable(t *testing.T) {
	rm, _ := auth.ParseRoleMap(testRoleMap)
	down := auth.NewOIDC(
		auth.OIDCConfig{Issuer: "http://127.0.0.1:1/oidc", ClientID: "x", ClientSecret: "y", RoleMap: rm},
	)
	err := down.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("discovery error %v should name the issuer", err)
	}
	ts := newTestServer(t, func(d *Deps) { d.SSO = down })
	c := ts.client()
	_, body := c.get(t, "/login")
	d := doc(t, body)
	if testIDs(d, "sso-notice").Length() != 1 || testIDs(d, "login-form").Length() != 1 {
		t.Error("sign-in page should say SSO is unavailable and keep the password form")
	}
	if resp, _ := c.get(t, "/auth/oidc/login"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("start: %d, want 503", resp.StatusCode)
	}
}

// BenchmarkSSORoundTrip is one whole single sign-on against the loopback
// provider: start at the console, the provider's authorize redirect, the
// callback (code exchange, ID token verification, user and session writes)
// and its redirect; p50/p95/p99 in ms.
func BenchmarkSSORoundTrip(b *testing.B) {
	ts := newSSOServer(b)
	durs := make([]time.Duration, 0, b.N)
	for b.Loop() {
		c := ts.client()
		start := time.Now()
		resp, _ := ts.ssoSignIn(b, c, ssoUser("erin", "platform-approvers"))
		durs = append(durs, time.Since(start))
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	reportPercentiles(b, durs)
}
