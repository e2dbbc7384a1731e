package handlers

import (
	"net/http"
	"net/url"
	"testing"
)

// TestCSRF: every state-changing route refuses a missing or wrong token,
// from forms and from htmx, and cross-site requests outright.
func TestCSRF(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, "admin")
	for _, r := range ts.srv.routes() {
		if r.Bare || r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		path := samplePath(r.Path)
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			cases := []struct {
				name    string
				form    url.Values
				headers []string
			}{
				{"missing", url.Values{}, nil},
				{"wrong form token", url.Values{"_csrf": {"x" + c.csrf}}, nil},
				{"wrong htmx header", url.Values{}, []string{"HX-Request", "true", "X-CSRF-Token", "nope"}},
				{"cross-site with token", url.Values{"_csrf": {c.csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
			}
			for _, tc := range cases {
				resp, _ := c.do(t, r.Method, path, tc.form, tc.headers...)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", tc.name, resp.StatusCode)
				}
			}
		})
	}
	t.Run("htmx header accepted", func(t *testing.T) {
		resp, _ := c.do(
			t,
			http.MethodPost,
			"/inventory/refresh",
			url.Values{},
			"HX-Request",
			"true",
			"X-CSRF-Token",
			c.csrf,
		)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Location") == "" {
			t.Errorf("status %d HX-Location %q", resp.StatusCode, resp.Header.Get("HX-Location"))
		}
	})
	t.Run("same-origin without token still refused", func(t *testing.T) {
		resp, _ := c.do(t, http.MethodPost, "/inventory/refresh", url.Values{}, "Sec-Fetch-Site", "same-origin")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
}
