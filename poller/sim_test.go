package poller_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/poller"
	"github.com/decom/decom/store"
)

// simEnv is cloudsim on httptest, the real cloud client over the SDK, and a
// migrated SQLite file.
type simEnv struct {
	t      testing.TB
	srv    *httptest.Server
	client *cloud.Client
	dbPath string
	db     *sql.DB
	svc    *changes.Service
}

const account = "sim"

var project = cloudsim.DemoProjects[0]

var (
	alice = changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester}}
	bob   = changes.Actor{Name: "bob", Roles: auth.Roles{auth.RoleApprover}}
	carol = changes.Actor{Name: "carol", Roles: auth.Roles{auth.RoleApprover}}
)

func newSimEnv(t testing.TB, faults cloudsim.Faults, rate float64) *simEnv {
	t.Helper()
	return newSimEnvSettle(t, faults, rate, testSettle)
}

// newSimEnvSettle is newSimEnv with the account's settle time.
func newSimEnvSettle(t testing.TB, faults cloudsim.Faults, rate float64, settle time.Duration) *simEnv {
	t.Helper()
	sim := cloudsim.New(
		cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "empty", Seed: 1, Faults: faults},
	)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := cloud.New(cloud.Config{Accounts: []cloud.Account{{Name: account, Projects: cloudsim.DemoProjects,
		Endpoints: cloud.Endpoints{DMS: srv.URL, ROMA: srv.URL, CloudDC: srv.URL},
		AK:        cloudsim.DemoAK, SK: cloudsim.DemoSK, Simulated: true, RateLimit: rate, Burst: int(rate),
		SettleTime: settle}}},
		cloud.Options{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{t: t, srv: srv, client: client, dbPath: filepath.Join(t.TempDir(), "decom.db")}
	e.reopen()
	if err := store.Migrate(context.Background(), e.db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	return e
}

// reopen opens the database file again, as a restarted server would.
func (e *simEnv) reopen() {
	if e.db != nil {
		e.db.Close()
	}
	db, err := store.Open(e.dbPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.svc = changes.New(db, e.client, changes.Options{})
}

func (e *simEnv) control(method, path string, body, out any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *simEnv) create(svc, kind, status, parent string, n int) []string {
	ids := make([]string, n)
	for i := range n {
		var got struct{ ID string }
		e.control(
			http.MethodPost,
			"/_sim/resources",
			map[string]any{"service": svc, "kind": kind, "project_id": project,
				"name": fmt.Sprintf("%s-%s-%d", svc, kind, i), "status": status, "instance_id": parent},
			&got,
		)
		ids[i] = got.ID
	}
	return ids
}

func (e *simEnv) setFaults(f cloudsim.Faults) { e.control(http.MethodPut, "/_sim/faults", f, nil) }

type simStats struct {
	Total    int            `json:"total"`
	ByOp     map[string]int `json:"by_operation"`
	ByStatus map[string]int `json:"by_status"`
	Deletes  []struct {
		Service, Kind, ID string
	} `json:"deletes"`
	DeleteRequestsByID map[string]int `json:"delete_requests_by_id"`
}

func (e *simEnv) stats() simStats {
	var s simStats
	e.control(http.MethodGet, "/_sim/stats", nil, &s)
	return s
}

type simResource struct {
	Service, Kind, ID, Status, Parent string
	InRecycleBin                      bool `json:"in_recycle_bin"` // deleted into the bin
}

func (e *simEnv) resources() map[string]simResource {
	var out struct{ Resources []simResource }
	e.control(http.MethodGet, "/_sim/resources", nil, &out)
	m := map[string]simResource{}
	for _, r := range out.Resources {
		m[r.ID] = r
	}
	return m
}

func refs(svc cloud.Service, kind cloud.Kind, parent string, ids []string) []cloud.Ref {
	out := make([]cloud.Ref, len(ids))
	for i, id := range ids {
		out[i] = cloud.Ref{Account: account, Project: project, Service: svc, Kind: kind, ID: id, Parent: parent}
	}
	return out
}

// approved plans refs (or a sweep) as alice and has bob (and carol) approve.
func (e *simEnv) approved(req changes.PlanRequest) changes.Change {
	e.t.Helper()
	ctx := context.Background()
	req.Reason = "decommission"
	c, err := e.svc.Plan(ctx, alice, req)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	for _, a := range []changes.Actor{bob, carol}[:c.ApprovalsRequired] {
		if c, err = e.svc.Approve(ctx, a, c.ID, c.PlanHash, "ok"); err != nil {
			e.t.Fatalf("approve: %v", err)
		}
	}
	return c
}

func (e *simEnv) execute(c changes.Change) {
	e.t.Helper()
	if _, err := e.svc.Execute(context.Background(), alice, c.ID, fmt.Sprint(len(c.Plan.Items))); err != nil {
		e.t.Fatalf("execute: %v", err)
	}
}

// runUntilFinished runs a poller until every change in ids is final.
func (e *simEnv) runUntilFinished(o poller.Options, limit time.Duration, ids ...int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	p := poller.New(e.db, e.client, o)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for {
		all := true
		for _, id := range ids {
			c, err := e.svc.Get(context.Background(), id)
			if err != nil {
				e.t.Fatal(err)
			}
			all = all && c.State.Final()
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("changes %v not finished within %s", ids, limit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testSettle is the test account's settle time; the simulator's reads do
// not lag unless a test sets read_lag_ms.
const testSettle = 2 * time.Second

var t0ctx = context.Background()

func testOptions() poller.Options {
	return poller.Options{MinInterval: 100 * time.Millisecond, MaxInterval: time.Second,
		Timeout: time.Minute, IdleTick: 200 * time.Millisecond}
}
