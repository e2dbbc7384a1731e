package cloud

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when the client "sleeps".
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// script serves canned answers in order and records the requests.
type script struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	reqs    []*http.Request
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r.Clone(context.Background()))
	var a func(http.ResponseWriter, *http.Request)
	if len(s.answers) > 0 {
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if a == nil {
		http.Error(w, "no more answers", http.StatusTeapot)
		return
	}
	a(w, r)
}

func (s *script) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func answer(status int, body string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("X-Request-Id", "rid-1")
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

const (
	emptyDMSList = `{"instances":[],"instance_num":0}`
	throttled    = `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached","request_id":"r"}`
	serverError  = `{"error_code":"DMS.00500000","error_msg":"Internal server error","request_id":"r"}`
)

func fakeClient(t *testing.T, h http.Handler, clock *fakeClock, mod func(*Account)) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := Account{Name: "acct", Projects: []string{"p1"}, AK: "AKFAKE", SK: testSK, RateLimit: 1000, Burst: 100,
		Endpoints: Endpoints{DMS: srv.URL, ROMA: srv.URL, CloudDC: srv.URL}, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&a)
	}
	c, err := New(Config{Accounts: []Account{a}}, Options{Sleep: clock.Sleep, Now: clock.Now,
		Rand: func() float64 { return 0.5 }, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter, *http.Request){
		answer(
			429,
			throttled,
			"Retry-After",
			"2",
		), answer(429, throttled, "Retry-After", "3"), answer(200, emptyDMSList)}}
	clock := newFakeClock()
	c := fakeClient(t, s, clock, nil)
	if _, err := c.ListInstances(context.Background(), "acct", "p1", RocketMQ); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Sleeps(), []time.Duration{2 * time.Second, 3 * time.Second}; !equalDurations(got, want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	if c.Retries() != 2 {
		t.Errorf("retries %d", c.Retries())
	}
}

func TestRetryBackoffWithoutRetryAfter(t *testing.T) {
	s := &script{}
	for range MaxAttempts {
		s.answers = append(s.answers, answer(429, throttled))
	}
	clock := newFakeClock()
	c := fakeClient(t, s, clock, nil)
	_, err := c.ListInstances(context.Background(), "acct", "p1", RocketMQ)
	if !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v", err)
	}
	// Full jitter with r = 0.5: half of 1, 2, 4, 8, 16 s.
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if got := clock.Sleeps(); !equalDurations(got, want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	if n := len(s.requests()); n != MaxAttempts {
		t.Errorf("%d requests, want %d", n, MaxAttempts)
	}
}

func TestRetryReadOn5xx(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter, *http.Request){
		answer(500, serverError), answer(502, "<html>bad gateway</html>"), answer(200, emptyDMSList)}}
	c := fakeClient(t, s, newFakeClock(), nil)
	if _, err := c.ListInstances(context.Background(), "acct", "p1", RabbitMQ); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestNoRetryOnPermanent(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter, *http.Request){
		answer(
			401,
			`{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r"}`,
		)}}
	c := fakeClient(t, s, newFakeClock(), nil)
	_, err := c.ListInstances(context.Background(), "acct", "p1", CloudDC)
	var ce *Error
	if !errors.Is(err, ErrConfig) || !errors.As(err, &ce) || ce.HTTPStatus != 401 || ce.Code != "APIGW.0301" ||
		ce.RequestID != "rid-1" {
		t.Fatalf("err = %#v", err)
	}
	if len(s.requests()) != 1 {
		t.Error("a 401 was retried")
	}
	assertNoSecret(t, err.Error())
}

func TestDeleteNotRetriedBlindly(t *testing.T) {
	show := func(status string) func(http.ResponseWriter, *http.Request) {
		return answer(
			200,
			`{"instance_id":"i1","name":"n","status":"`+status+`","engine":"reliability","created_at":"1700000000000"}`,
		)
	}
	t.Run("re-read shows DELETING", func(t *testing.T) {
		s := &script{answers: []func(http.ResponseWriter, *http.Request){answer(500, serverError), show("DELETING")}}
		c := fakeClient(t, s, newFakeClock(), nil)
		if err := c.DeleteDMSInstance(context.Background(), Ref{Account: "acct", Project: "p1", Service: RocketMQ, ID: "i1"}); err != nil {
			t.Fatal(err)
		}
		assertMethods(t, s, "DELETE", "GET")
	})
	t.Run("re-read shows unchanged, resent", func(t *testing.T) {
		s := &script{
			answers: []func(http.ResponseWriter, *http.Request){
				answer(503, serverError),
				show("RUNNING"),
				answer(204, ""),
			},
		}
		c := fakeClient(t, s, newFakeClock(), nil)
		if err := c.DeleteDMSInstance(context.Background(), Ref{Account: "acct", Project: "p1", Service: RocketMQ, ID: "i1"}); err != nil {
			t.Fatal(err)
		}
		assertMethods(t, s, "DELETE", "GET", "DELETE")
	})
	t.Run("gone", func(t *testing.T) {
		s := &script{answers: []func(http.ResponseWriter, *http.Request){answer(500, serverError),
			answer(404, `{"error_code":"DMS.00404022","error_msg":"not found","request_id":"r"}`)}}
		c := fakeClient(t, s, newFakeClock(), nil)
		if err := c.DeleteDMSInstance(context.Background(), Ref{Account: "acct", Project: "p1", Service: RabbitMQ, ID: "i1"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("throttled delete is retried", func(t *testing.T) {
		s := &script{answers: []func(http.ResponseWriter, *http.Request){answer(429, throttled), answer(204, "")}}
		c := fakeClient(t, s, newFakeClock(), nil)
		if err := c.DeleteCloudDC(context.Background(), Ref{Account: "acct", Project: "p1", Service: CloudDC, ID: "i1"}); err != nil {
			t.Fatal(err)
		}
		assertMethods(t, s, "DELETE", "DELETE")
	})
}

func assertMethods(t *testing.T, s *script, want ...string) {
	t.Helper()
	var got []string
	for _, r := range s.requests() {
		got = append(got, r.Method)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("requests %v, want %v", got, want)
	}
}

func TestContextDeadlineReachesSocket(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := fakeClient(t, h, newFakeClock(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListInstances(ctx, "acct", "p1", ROMA)
	if !errors.Is(err, ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after a 150ms deadline", d)
	}
}

func TestWireAuth(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	var paths []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/"):
			answer(200, `{"instances":[],"count":0}`)(w, r)
		case r.URL.Query().Get("engine") != "":
			answer(200, emptyDMSList)(w, r)
		default:
			answer(200, `{"total":0,"size":0,"instances":[]}`)(w, r)
		}
	})
	for _, tc := range []struct {
		name  string
		mod   func(*Account)
		check func(t *testing.T, h http.Header)
	}{
		{"AK/SK", nil, func(t *testing.T, h http.Header) {
			if !strings.HasPrefix(h.Get("Authorization"), "SDK-HMAC-SHA256 Access=AKFAKE, SignedHeaders=") || h.Get("X-Sdk-Date") == "" {
				t.Errorf("no signature: %v", h)
			}
		}},
		{"AK/SK temporary", func(a *Account) { a.SecurityToken = testSTS }, func(t *testing.T, h http.Header) {
			if h.Get("X-Security-Token") != testSTS || !strings.Contains(h.Get("Authorization"), "x-security-token") {
				t.Errorf("no security token: %v", h)
			}
		}},
		{"token", func(a *Account) { a.AK, a.SK, a.Token = "", "", testToken }, func(t *testing.T, h http.Header) {
			if h.Get("X-Auth-Token") != testToken || h.Get("Authorization") != "" {
				t.Errorf("token headers wrong: %v", h)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen, paths = nil, nil
			mu.Unlock()
			c := fakeClient(t, h, newFakeClock(), tc.mod)
			for _, svc := range Services {
				if _, err := c.ListInstances(context.Background(), "acct", "p1", svc); err != nil {
					t.Fatalf("%s: %v", svc, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i, hd := range seen {
				tc.check(t, hd)
				if hd.Get("X-Project-Id") != "p1" || !strings.Contains(paths[i], "/p1/") {
					t.Errorf("project missing: %s %v", paths[i], hd)
				}
				for k := range hd {
					if strings.Contains(strings.ToLower(k), "decom") {
						t.Errorf("internal header %s leaked to the wire", k)
					}
				}
			}
			if len(seen) != 4 {
				t.Errorf("%d requests", len(seen))
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCallContextsReleased(t *testing.T) {
	s := &script{
		answers: []func(http.ResponseWriter, *http.Request){answer(500, serverError), answer(200, emptyDMSList)},
	}
	c := fakeClient(t, s, newFakeClock(), nil)
	if _, err := c.ListInstances(context.Background(), "acct", "p1", RocketMQ); err != nil {
		t.Fatal(err)
	}
	c.transport.mu.Lock()
	defer c.transport.mu.Unlock()
	if n := len(c.transport.calls); n != 0 {
		t.Errorf("%d call contexts still registered", n)
	}
}
