package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/store"
)

// benchFleet is how many RocketMQ instances the benchmark puts in the
// simulator: all in one service, the worst case for one list page.
const benchFleet = 10000

// newBenchEcho fills cloudsim with benchFleet instances, reads them once
// through the real SDK client, and returns the console's Echo plus a signed-in
// cookie for alice (and the server, for benchmarks of its parts).
func newBenchEcho(b *testing.B) (*echo.Echo, []*http.Cookie, *Server) {
	b.Helper()
	sim := cloudsim.New(cloudsim.Options{Fleet: "empty", Seed: 1, Faults: cloudsim.DefaultFaults()})
	hs := httptest.NewServer(sim)
	b.Cleanup(hs.Close)
	statuses := []string{"RUNNING", "RUNNING", "RUNNING", "CREATEFAILED", "ERROR", "CREATING", "FROZEN"}
	for i := range benchFleet {
		body, _ := json.Marshal(map[string]string{"service": "rocketmq", "kind": "instance",
			"project_id": cloudsim.DemoProjects[i%2], "name": fmt.Sprintf("team%02d-mq-%05d", i%40, i), "status": statuses[i%len(statuses)]})
		resp, err := http.Post(hs.URL+"/_sim/resources", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("create resource %d: %v %v", i, err, resp.Status)
		}
		resp.Body.Close()
	}
	client, err := cloud.New(cloud.Config{Accounts: []cloud.Account{{
		Name: "demo", Region: "cn-east-3", Projects: cloudsim.DemoProjects,
		Endpoints: cloud.Endpoints{DMS: hs.URL, ROMA: hs.URL, CloudDC: hs.URL},
		AK:        cloudsim.DemoAK, SK: cloudsim.DemoSK, Simulated: true, RateLimit: 10000, Burst: 1000,
	}}}, cloud.Options{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := store.Migrate(b.Context(), db, migrations.FS); err != nil {
		b.Fatal(err)
	}
	users := auth.New(db, auth.Options{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	if _, err := users.Create(b.Context(), auth.Origin{Actor: "bench"}, "alice", testPassword, []auth.Role{auth.RoleRequester}); err != nil {
		b.Fatal(err)
	}
	inv := inventory.New(client, inventory.Options{TTL: time.Hour})
	snap, err := inv.Service(b.Context(), cloud.RocketMQ)
	if err != nil || len(snap.Items) != benchFleet {
		b.Fatalf("read fleet: %v (%d items)", err, len(snap.Items))
	}
	// 20 protection rules, none matching: every row tries them all.
	chg := changes.New(db, client, changes.Options{})
	root := changes.Actor{Name: "bench", Roles: auth.Roles{auth.RoleAdmin}}
	rules := []changes.Rule{
		{Kind: changes.RuleService, Pattern: "clouddc"},
		{Kind: changes.RuleService, Pattern: "roma"},
		{Kind: changes.RuleService, Pattern: "rabbitmq"},
		{Kind: changes.RuleTag, Pattern: "decom-keep"},
	}
	for i := range 4 {
		rules = append(rules, changes.Rule{Kind: changes.RuleTag, Pattern: fmt.Sprintf("keep%d=yes", i)},
			changes.Rule{Kind: changes.RuleName, Pattern: fmt.Sprintf("prod-%d-*", i)},
			changes.Rule{Kind: changes.RuleEnterpriseProject, Pattern: fmt.Sprintf("ep-%d", i)},
			changes.Rule{Kind: changes.RuleProject, Pattern: fmt.Sprintf("project-%d", i)})
	}
	for _, r := range rules {
		if _, err := chg.AddProtectionRule(b.Context(), root, r); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := newServer(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Users: users, Inventory: inv,
		Changes: chg, Audit: audit.New(db, audit.Options{}), SessionKeys: auth.SessionKeys{Hash: make([]byte, 32), Block: make([]byte, 32)}, Simulated: true})
	if err != nil {
		b.Fatal(err)
	}
	e := srv.echo()
	// Sign in through the real handlers and keep the cookies.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	csrf := rec.Result().Cookies()
	m := csrfMetaRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"username": {"alice"}, "password": {testPassword}, "_csrf": {m[1]}}
	req := httptest.NewRequest(http.MethodPost, "/login", bytes.NewBufferString(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range csrf {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("login: %d", rec.Code)
	}
	return e, rec.Result().Cookies(), srv
}

// benchPage is the filtered page: failed instances whose name contains
// "mq-", sorted by creation time, 50 rows (of ~2,860 matches).
const benchPage = "/inventory/rocketmq?status=failed&q=mq-&sort=created&dir=desc&page=3"

// BenchmarkInventoryPage renders the filtered 50-row page server-side (full
// page and htmx fragment) and reports p50/p95/p99 in ms.
func BenchmarkInventoryPage(b *testing.B) {
	e, cookies, srv := newBenchEcho(b)
	b.Run("session-share", func(b *testing.B) { benchSessionShare(b, e, cookies, srv) })
	for _, mode := range []string{"full", "fragment"} {
		b.Run(mode, func(b *testing.B) {
			durs := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, benchPage, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				if mode == "fragment" {
					req.Header.Set("HX-Request", "true")
				}
				rec := httptest.NewRecorder()
				start := time.Now()
				e.ServeHTTP(rec, req)
				durs = append(durs, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			reportPercentiles(b, durs)
		})
	}
}

// benchSessionShare alternates a full page and loadSession alone with the
// same cookie, so both meet the same machine load, and reports the session
// lookup's share of the page's server time (the budget: 5%).
func benchSessionShare(b *testing.B, e *echo.Echo, cookies []*http.Cookie, srv *Server) {
	var page, lookup time.Duration
	h := srv.loadSession(func(c echo.Context) error {
		if currentUser(c) == nil {
			return echo.ErrUnauthorized
		}
		return nil
	})
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, benchPage, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.ServeHTTP(rec, req)
		page += time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		req = httptest.NewRequest(http.MethodGet, benchPage, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		start = time.Now()
		if err := h(e.NewContext(req, httptest.NewRecorder())); err != nil {
			b.Fatal(err)
		}
		lookup += time.Since(start)
	}
	b.ReportMetric(float64(lookup)/float64(page)*100, "session-%")
	b.ReportMetric(float64(lookup.Microseconds())/float64(b.N), "session-us")
	b.ReportMetric(float64(page.Microseconds())/float64(b.N), "page-us")
}

// BenchmarkHelloWorld is a bare Echo handler on the same machine, the
// yardstick for the page above.
func BenchmarkHelloWorld(b *testing.B) {
	e := echo.New()
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "Hello, World!") })
	durs := make([]time.Duration, 0, b.N)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		e.ServeHTTP(rec, req)
		durs = append(durs, time.Since(start))
	}
	reportPercentiles(b, durs)
}

func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	at := func(p float64) float64 {
		return float64(durs[min(len(durs)-1, int(p*float64(len(durs))))]) / 1e6
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkSessionLookup is the per-request cost of a signed-in session:
// "cookie" decodes the session cookie (HMAC, AES, JSON), "table" reads the
// sessions row joined with its user and checks the timeouts (last seen is
// written at most once a minute, so not here), "middleware" is both as
// loadSession runs them. Compare with BenchmarkInventoryPage: the issue's
// budget is 5% of its server time.
func BenchmarkSessionLookup(b *testing.B) {
	ts := newTestServer(b)
	c := ts.login(b, "alice")
	u, _ := url.Parse(ts.URL)
	cookie := &http.Cookie{Name: sessionName, Value: cookieValue(c, u, sessionName)}
	e := ts.srv.echo()
	values := map[any]any{}
	if err := ts.srv.sessions.Codecs[0].Decode(sessionName, cookie.Value, &values); err != nil {
		b.Fatal(err)
	}
	token := values[sessToken].(string)
	b.Run("cookie", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/inventory", nil)
			req.AddCookie(cookie)
			if _, err := ts.srv.sessions.New(req, sessionName); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := ts.users.Session(b.Context(), token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("middleware", func(b *testing.B) {
		var who string
		h := ts.srv.loadSession(func(c echo.Context) error { who = usernameOf(c); return nil })
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/inventory", nil)
			req.AddCookie(cookie)
			if err := h(e.NewContext(req, httptest.NewRecorder())); err != nil || who != "alice" {
				b.Fatalf("lookup: %v, user %q", err, who)
			}
		}
	})
}
