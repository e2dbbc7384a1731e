package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// simEnv is cloudsim on a real loopback HTTP server.
type simEnv struct {
	t   testing.TB
	srv *httptest.Server
}

var simProject = cloudsim.DemoProjects[0]

func newSim(t testing.TB, fleet string, mod func(*cloudsim.Faults)) *simEnv {
	t.Helper()
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS, f.CloudDCDeleteDelayMS, f.ROMAAssetMS = 200, 200, 5
	if mod != nil {
		mod(&f)
	}
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: fleet, Seed: 1, Faults: f})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &simEnv{t: t, srv: srv}
}

func (e *simEnv) control(method, path string, body any, out any) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatal(err)
		}
	}
}

type spec struct {
	Service      string `json:"service"`
	Kind         string `json:"kind"`
	ProjectID    string `json:"project_id"`
	Name         string `json:"name,omitempty"`
	Status       string `json:"status,omitempty"`
	InstanceID   string `json:"instance_id,omitempty"`
	ChargingMode *int32 `json:"charging_mode,omitempty"`
	Tags         []Tag  `json:"tags,omitempty"`
	EP           string `json:"enterprise_project_id,omitempty"`
}

func (e *simEnv) create(s spec) string {
	e.t.Helper()
	if s.Kind == "" {
		s.Kind = "instance"
	}
	if s.ProjectID == "" {
		s.ProjectID = simProject
	}
	var out struct {
		ID string `json:"id"`
	}
	e.control("POST", "/_sim/resources", s, &out)
	return out.ID
}

// createN creates n resources concurrently (the control API is one per call).
func (e *simEnv) createN(n int, s spec) []string {
	e.t.Helper()
	out := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sp := s
			if sp.Name == "" {
				sp.Name = fmt.Sprintf("%s-%s-%05d", sp.Service, sp.Kind, i)
			} else {
				sp.Name = fmt.Sprintf("%s-%05d", sp.Name, i)
			}
			out[i] = e.create(sp)
		}()
	}
	wg.Wait()
	return out
}

func (e *simEnv) faults(knobs map[string]any) { e.control("PUT", "/_sim/faults", knobs, nil) }

type simStats struct {
	Total      int                       `json:"total"`
	ByOp       map[string]int            `json:"by_operation"`
	ByStatus   map[string]int            `json:"by_status"`
	ByOpStatus map[string]map[string]int `json:"by_operation_status"`
}

func (e *simEnv) stats() simStats {
	var s simStats
	e.control("GET", "/_sim/stats", nil, &s)
	return s
}

// statsSince returns the calls per operation made since before.
func (e *simEnv) callsSince(before simStats) map[string]int {
	now := e.stats()
	out := map[string]int{}
	for op, n := range now.ByOp {
		if d := n - before.ByOp[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

type authMode string

const (
	authAKSK  authMode = "aksk"
	authToken authMode = "token"
)

func (e *simEnv) account(mode authMode) Account {
	a := Account{Name: "sim-" + string(mode), Region: "cn-east-3", Projects: cloudsim.DemoProjects, Simulated: true,
		Endpoints: Endpoints{DMS: e.srv.URL, ROMA: e.srv.URL, CloudDC: e.srv.URL}, RateLimit: 10000, Burst: 1000,
		Timeout: 10 * time.Second}
	if mode == authToken {
		a.Token = cloudsim.DemoToken
	} else {
		a.AK, a.SK = cloudsim.DemoAK, cloudsim.DemoSK
	}
	return a
}

// client returns a client whose retry waits are shortened tenfold.
// Fields of o left zero take the test defaults.
func (e *simEnv) client(mode authMode, o Options) (*Client, string) {
	e.t.Helper()
	a := e.account(mode)
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Sleep == nil {
		o.Sleep = scaledSleep(10)
	}
	c, err := New(Config{Accounts: []Account{a}}, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, a.Name
}

// scaledSleep really waits d/div, so retry paths run against the real
// simulator without taking seconds.
func scaledSleep(div int) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error { return realSleep(ctx, d/time.Duration(div)) }
}

func pages(n, size int) int { return max(1, (n+size-1)/size) }

// waitFor polls cond until true or the deadline.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
