package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// fakeCloud is an in-memory inventory.Cloud: account "acct" with projects
// p1 and p2.
type fakeCloud struct {
	mu        sync.Mutex
	instances map[cloud.Service][]cloud.Resource
	assets    map[string][]cloud.Resource // by ROMA instance ID
	calls     int
}

const hostileName = `<script>alert("pwned")</script>`

func newFakeCloud(perService int) *fakeCloud {
	f := &fakeCloud{instances: map[cloud.Service][]cloud.Resource{}, assets: map[string][]cloud.Resource{}}
	statuses := []struct {
		raw   string
		class cloud.StatusClass
	}{{"RUNNING", cloud.ClassActive}, {"CREATEFAILED", cloud.ClassFailed}, {"CREATING", cloud.ClassTransitional}, {"ERROR", cloud.ClassFailed}}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, svc := range cloud.Services {
		for i := range perService {
			st := statuses[i%len(statuses)]
			name := fmt.Sprintf("%s-%03d", svc, i)
			if i == 3 {
				name = hostileName
			}
			r := cloud.Resource{
				Ref: cloud.Ref{
					Account: "acct",
					Project: []string{"p1", "p2"}[i%2],
					Service: svc,
					Kind:    cloud.KindInstance,
					ID:      fmt.Sprintf("%s-id-%03d", svc, i),
				},
				Name: name, Status: st.raw, Class: st.class, Region: "cn-east-3", CreatedAt: base.Add(time.Duration(i) * time.Hour),
				Details: map[string]string{"Engine": "5.x"},
			}
			f.instances[svc] = append(f.instances[svc], r)
		}
	}
	for _, inst := range f.instances[cloud.ROMA] {
		for j := range 30 {
			kind := cloud.KindApp
			if j%3 == 0 {
				kind = cloud.KindTask
			}
			f.assets[inst.ID] = append(f.assets[inst.ID], cloud.Resource{
				Ref: cloud.Ref{
					Account: inst.Account,
					Project: inst.Project,
					Service: cloud.ROMA,
					Kind:    kind,
					ID:      fmt.Sprintf("%s-a%02d", inst.ID, j),
					Parent:  inst.ID,
				},
				Name: fmt.Sprintf("asset-%02d", j), Status: "1", Class: cloud.ClassActive,
			})
		}
	}
	return f
}

func (f *fakeCloud) Accounts() []cloud.AccountInfo {
	return []cloud.AccountInfo{{Name: "acct", Region: "cn-east-3", Projects: []string{"p1", "p2"}, Simulated: true}}
}

func (f *fakeCloud) ListInstances(
	ctx context.Context,
	account, project string,
	svc cloud.Service,
) ([]cloud.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var out []cloud.Resource
	for _, r := range f.instances[svc] {
		if r.Account == account && r.Project == project {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeCloud) ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]cloud.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.assets[instanceID], nil
}

// testUsers: one per role.
var testUsers = map[string]auth.Role{
	"vera": auth.RoleViewer, "alice": auth.RoleRequester, "bob": auth.RoleApprover,
	"dave": auth.RoleAuditor, "admin": auth.RoleAdmin,
}

const testPassword = "correct horse battery"

type testServer struct {
	*httptest.Server
	srv   *Server
	db    *sql.DB
	users *auth.Service
	cloud *fakeCloud
	now   *fakeClock
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestServer runs the real Echo stack over a fresh SQLite file, the five
// test users and a fake cloud.
func newTestServer(t testing.TB, opts ...func(*Deps)) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	users := auth.New(db, auth.Options{Now: clock.Now, Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	for name, role := range testUsers {
		if _, err := users.Create(ctx, auth.Origin{Actor: "test"}, name, testPassword, []auth.Role{role}); err != nil {
			t.Fatal(err)
		}
	}
	fc := newFakeCloud(120)
	d := Deps{
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Users:       users,
		Inventory:   inventory.New(fc, inventory.Options{Now: clock.Now}),
		Changes:     changes.New(db, fc, changes.Options{Now: clock.Now, Eligible: users.CountHolding}),
		Audit:       audit.New(db, audit.Options{Now: clock.Now}),
		Notify:      notify.New(db, notify.Options{Now: clock.Now}),
		Recycle:     &fakeBins{},
		SessionKeys: auth.SessionKeys{Hash: make([]byte, 32), Block: make([]byte, 32)},
		Simulated:   true,
		Now:         clock.Now,
	}
	for _, o := range opts {
		o(&d)
	}
	srv, err := newServer(d)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.echo())
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, srv: srv, db: db, users: users, cloud: fc, now: clock}
}

// client is a browser stand-in: cookies, no redirects followed, and the
// CSRF token of the last page.
type client struct {
	ts   *testServer
	http *http.Client
	csrf string
}

func (ts *testServer) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfMetaRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)"`)

// do sends a request; headers are name, value pairs.
func (c *client) do(t testing.TB, method, path string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := csrfMetaRE.FindSubmatch(b); m != nil && len(m[1]) > 0 {
		c.csrf = string(m[1])
	}
	return resp, string(b)
}

func (c *client) get(t testing.TB, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	return c.do(t, http.MethodGet, path, nil, headers...)
}

// post sends a form with the client's CSRF token.
func (c *client) post(t testing.TB, path string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c.csrf != "" && form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.do(t, http.MethodPost, path, form, headers...)
}

// login signs in as user and returns the client, holding a fresh CSRF token.
func (ts *testServer) login(t testing.TB, user string) *client {
	t.Helper()
	c := ts.client()
	c.get(t, "/login")
	resp, body := c.post(t, "/login", url.Values{"username": {user}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d\n%s", user, resp.StatusCode, body)
	}
	c.csrf = ""
	c.get(t, "/login") // signed in: redirects, but sets a new CSRF cookie
	if resp, _ := c.get(t, "/inventory"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after login %s: /inventory status %d", user, resp.StatusCode)
	}
	return c
}

func doc(t testing.TB, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testIDs(d *goquery.Document, id string) *goquery.Selection {
	return d.Find(fmt.Sprintf(`[data-testid=%q]`, id))
}
