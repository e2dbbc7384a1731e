package cloudsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Credential is one identity the simulator accepts: an AK/SK pair (AK and SK
// set) or an IAM token (Token set). User scopes the ROMA one-job-per-user
// rule; Projects are the project IDs the identity may call. Temporary AK/SK
// credentials also have a SecurityToken, which every request must carry in
// X-Security-Token, and an Expires time (wall clock) after which they answer
// 401.
type Credential struct {
	AK, SK, Token, User string
	Projects            []string
	SecurityToken       string
	Expires             time.Time
}

// Options configure a new Sim.
type Options struct {
	// Credentials the simulator accepts; nil means DemoCredentials().
	Credentials []Credential
	// Fleet is "" or "empty" for no resources, "demo" for the demo fleet.
	Fleet string
	// Seed makes the demo fleet, generated IDs and fault decisions deterministic.
	Seed int64
	// Faults are the initial knobs. The zero value is not DefaultFaults().
	Faults Faults
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RecyclePolicies seeds DMS recycle policies by project; other projects
	// start with DefaultRecyclePolicy. A reset restores these.
	RecyclePolicies map[string]RecyclePolicy
}

// Sim is the simulated Huawei Cloud: an http.Handler serving the DMS
// (RocketMQ, RabbitMQ), ROMA Connect and CloudDC APIs and the /_sim/ control
// API on one mux. It is safe for concurrent use.
type Sim struct {
	now      func() time.Time
	seed     int64
	credMu   sync.RWMutex // guards byAK and byToken
	byAK     map[string]*Credential
	byToken  map[string]*Credential
	projects []string // fleet projects, in credential order
	reqSeq   atomic.Uint64
	reqSalt  uint64

	mu     sync.Mutex // guards everything below
	faults Faults
	rng    *rand.Rand
	// lostRng decides lost answers (applied_error_rate) on a stream of its own, so that
	// the n-th write's fate depends only on the seed and n.
	lostRng *rand.Rand
	st      *state
	buckets map[string]*bucket
	stats   stats
	deny    map[string]map[string]bool // AK ("" = every identity) -> denied actions

	// recycleSeed are the initial recycle policies (Options.RecyclePolicies).
	recycleSeed map[string]RecyclePolicy
}

// New returns a simulator built from opts.
func New(opts Options) *Sim {
	s := &Sim{
		now:     opts.Now,
		seed:    opts.Seed,
		byAK:    map[string]*Credential{},
		byToken: map[string]*Credential{},
		faults:  opts.Faults,
		deny:    map[string]map[string]bool{},
		reqSalt: uint64(time.Now().UnixNano()),

		recycleSeed: maps.Clone(opts.RecyclePolicies),
	}
	if s.now == nil {
		s.now = time.Now
	}
	creds := opts.Credentials
	if creds == nil {
		creds = DemoCredentials()
	}
	seen := map[string]bool{}
	for i := range creds {
		c := creds[i]
		c.Projects = append([]string(nil), c.Projects...)
		if c.AK != "" {
			s.byAK[c.AK] = &c
		}
		if c.Token != "" {
			s.byToken[c.Token] = &c
		}
		for _, p := range c.Projects {
			if !seen[p] {
				seen[p] = true
				s.projects = append(s.projects, p)
			}
		}
	}
	if len(s.projects) == 0 {
		s.projects = append([]string(nil), DemoProjects...)
	}
	s.resetLocked(opts.Fleet)
	return s
}

// AddCredential makes the simulator accept one more identity from now on,
// for example temporary credentials a test issues while decom runs. Its
// projects must be among the simulator's projects to see the fleet.
func (s *Sim) AddCredential(c Credential) {
	c.Projects = append([]string(nil), c.Projects...)
	s.credMu.Lock()
	defer s.credMu.Unlock()
	if c.AK != "" {
		s.byAK[c.AK] = &c
	}
	if c.Token != "" {
		s.byToken[c.Token] = &c
	}
}

func (s *Sim) credByAK(ak string) *Credential {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.byAK[ak]
}

func (s *Sim) credByToken(tok string) *Credential {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.byToken[tok]
}

// Close stops background work. The simulator computes lifecycle state from
// timestamps when it is read, so there is none; Close exists for callers that
// treat every server alike.
func (s *Sim) Close() {}

// resetLocked clears all state and rebuilds the fleet; s.mu held or s unshared.
func (s *Sim) resetLocked(fleet string) {
	s.rng = rand.New(rand.NewPCG(uint64(s.seed), uint64(s.seed)^0x9e3779b97f4a7c15))
	s.lostRng = rand.New(rand.NewPCG(uint64(s.seed)^0x5851f42d4c957f2d, uint64(s.seed)))
	s.st = newState()
	s.buckets = map[string]*bucket{}
	s.stats = newStats()
	if fleet == "demo" {
		buildDemoFleet(s.st, s.projects, s.seed, s.now())
	}
}

// call is one cloud request being served.
type call struct {
	r       *http.Request
	project string
	args    []string // path IDs after the project, in path order
	body    []byte
	cred    *Credential
	now     time.Time
	faults  Faults
}

// reply is what a handler answers; body nil means no body.
type reply struct {
	status int
	body   any
	header map[string]string
}

func jsonReply(status int, body any) reply { return reply{status: status, body: body} }

func emptyReply(status int) reply { return reply{status: status} }

// ServeHTTP serves the cloud API and, under /_sim/, the control API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	if isControl(r.URL.Path) {
		s.serveControl(w, r)
		return
	}
	rt, project, args, ok := matchRoute(r)
	if !ok {
		s.record("unknown", http.StatusNotFound)
		writeReply(
			w,
			reqID,
			errReply(
				svcGateway,
				http.StatusNotFound,
				"APIGW.0101",
				"The API does not exist or has not been published in the environment",
			),
		)
		return
	}
	rep := s.serveCloud(r, rt, project, args)
	// Counted before the answer leaves, so a client that reads the stats
	// right after its call sees it.
	s.record(rt.op, rep.status)
	s.recordDeleteCall(rt.op, project, reqID, rep.status)
	writeReply(w, reqID, rep)
}

func (s *Sim) serveCloud(r *http.Request, rt route, project string, args []string) reply {
	limit := int64(4 << 20)
	if rt.op == rtROMAImport.op {
		limit = maxImportBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return rt.svc.badRequest("cannot read request body")
	}
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	if f.LatencyMS > 0 && !sleepCtx(r.Context(), time.Duration(f.LatencyMS)*time.Millisecond) {
		return errReply(rt.svc, http.StatusServiceUnavailable, rt.svc.code500(), "request cancelled")
	}
	c := &call{r: r, project: project, args: args, body: body, faults: f}
	cred, rep, ok := s.authenticate(c, f)
	if !ok {
		return rep
	}
	c.cred = cred
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.now()
	if rep, ok := s.throttle(c); !ok {
		return rep
	}
	if rep, ok := s.denied(c, rt); ok {
		return rep
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		return errReply(
			rt.svc,
			http.StatusInternalServerError,
			rt.svc.code500(),
			"Internal server error (injected fault)",
		)
	}
	rep = rt.handle(s, c)
	if lost, ok := s.lostAnswer(rt.op, rep, f); ok {
		return lost
	}
	return rep
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Sim) newRequestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("%016x%016x", s.reqSalt, n*0x9e3779b97f4a7c15)
}

// writeReply writes rep, adding request_id to error bodies.
func writeReply(w http.ResponseWriter, reqID string, rep reply) {
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	if raw, ok := rep.body.(rawBody); ok {
		w.Header().Set("Content-Type", raw.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(raw.data)))
		w.WriteHeader(rep.status)
		_, _ = w.Write(raw.data)
		return
	}
	if e, ok := rep.body.(*apiError); ok {
		e.RequestID = reqID
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.body); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(rep.status)
	_, _ = w.Write(buf.Bytes())
}
