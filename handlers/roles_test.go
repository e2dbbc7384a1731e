package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/decom/decom/auth"
)

// samplePath fills a route's parameters with values that exist in the fake
// cloud, so an allowed request reaches the handler.
func samplePath(p string) string {
	svc := "rocketmq"
	if strings.HasPrefix(p, "/inventory/roma/") {
		svc = "roma"
	}
	vals := map[string]string{":service": svc, ":account": "acct", ":project": "p1", ":id": svc + "-id-000",
		":kind": "app", ":asset": "roma-id-000-a01"}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			v, ok := vals[s]
			if !ok {
				v = "1"
			}
			parts[i] = v
		}
	}
	return strings.Join(parts, "/")
}

// TestRoleMatrix tries every role against every route of routes(): a role
// outside the route's set gets 403, one inside never 401/403/5xx, and a
// signed-out visitor is sent to sign in.
func TestRoleMatrix(t *testing.T) {
	ts := newTestServer(t)
	routes := ts.srv.routes()
	// Sign-out and revocations may end the session: run them last.
	ends := func(r route) bool { return r.Path == "/logout" || strings.HasSuffix(r.Path, "/revoke") }
	slices.SortStableFunc(routes, func(a, b route) int { return boolInt(ends(a)) - boolInt(ends(b)) })
	for user, role := range testUsers {
		c := ts.login(t, user)
		for _, r := range routes {
			if r.Public {
				continue
			}
			t.Run(user+" "+r.Method+" "+r.Path, func(t *testing.T) {
				if ends(r) { // each in a session of its own
					c = ts.login(t, user)
				}
				resp, body := c.do(t, r.Method, samplePath(r.Path), formFor(r.Method, c.csrf))
				// An independent oracle of the route gate: the route's roles, or admin.
				allowed := role == auth.RoleAdmin || slices.Contains(r.Roles, role)
				switch {
				case !allowed && resp.StatusCode != http.StatusForbidden:
					t.Errorf("role %s: status %d, want 403", role, resp.StatusCode)
				case allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode >= 500):
					t.Errorf("role %s: status %d, want access\n%.500s", role, resp.StatusCode, body)
				}
			})
		}
	}
	t.Run("signed out", func(t *testing.T) {
		c := ts.client()
		c.get(t, "/login")
		for _, r := range routes {
			if r.Public {
				continue
			}
			resp, _ := c.do(t, r.Method, samplePath(r.Path), formFor(r.Method, c.csrf))
			if r.Method == http.MethodGet {
				if resp.StatusCode != http.StatusSeeOther ||
					!strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
					t.Errorf("GET %s: %d %q, want 303 to /login", r.Path, resp.StatusCode, resp.Header.Get("Location"))
				}
			} else if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s: %d, want 401", r.Method, r.Path, resp.StatusCode)
			}
			resp, _ = c.do(t, r.Method, samplePath(r.Path), formFor(r.Method, c.csrf), "HX-Request", "true")
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") != "/login" {
				t.Errorf(
					"htmx %s %s: %d HX-Redirect %q, want 401 to /login",
					r.Method,
					r.Path,
					resp.StatusCode,
					resp.Header.Get("HX-Redirect"),
				)
			}
		}
	})
}

func formFor(method, csrf string) url.Values {
	if method == http.MethodGet || method == http.MethodHead {
		return nil
	}
	return url.Values{"_csrf": {csrf}}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRoutesDeclareAccess: every route is Public or names roles (chain
// panics otherwise, so New itself is the check).
func TestRoutesDeclareAccess(t *testing.T) {
	ts := newTestServer(t)
	for _, r := range ts.srv.routes() {
		if !r.Public && len(r.Roles) == 0 {
			t.Errorf("%s %s: no roles and not public", r.Method, r.Path)
		}
	}
}
