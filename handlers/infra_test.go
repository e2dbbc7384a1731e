package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestOperations(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
		if resp, _ := c.get(t, path); resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	ts.login(t, "alice").get(t, "/inventory/rocketmq")
	_, body := c.get(t, "/metrics")
	for _, want := range []string{`decom_http_request_duration_seconds_bucket{code="200",method="GET",route="/inventory/:service"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	resp, body := ts.client().get(t, "/login")
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	// No inline scripts or styles anywhere in the page.
	if regexp.MustCompile(`<script[^>]*>[^<]+</script>|style=|<style`).MatchString(body) {
		t.Error("inline script or style in the page")
	}
}

func TestStatic(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	resp, _ := c.get(t, ts.srv.static.URL("htmx.min.js"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf(
			"hashed asset: %d %q %q",
			resp.StatusCode,
			resp.Header.Get("Cache-Control"),
			resp.Header.Get("Content-Type"),
		)
	}
	resp, _ = c.get(t, ts.srv.static.URL("pico.min.css"), "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Error("static file not gzip-compressed for a client that accepts it")
	}
	for _, p := range []string{"/static/htmx.min.js", "/static/app.000000000000.css", "/static/../go.mod"} {
		if resp, _ := c.get(t, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}
