package notify_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decom/decom/notify"
)

func TestAllowed(t *testing.T) {
	allow, err := notify.ParseAllow("10.1.0.0/16, 192.168.5.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ip   string
		want bool
	}{
		{"93.184.216.34", true}, {"2606:4700::1111", true},
		{"127.0.0.1", false}, {"::1", false}, {"169.254.169.254", false}, {"fe80::1", false},
		{"10.0.0.1", false}, {"172.16.3.4", false}, {"192.168.1.1", false}, {"100.100.100.200", false},
		{"0.0.0.0", false}, {"224.0.0.1", false}, {"fd00:ec2::254", false}, {"::ffff:127.0.0.1", false},
		{"10.1.2.3", true}, {"192.168.5.7", true}, {"192.168.5.8", false},
	} {
		if got := notify.Allowed(netip.MustParseAddr(tt.ip), allow); got != tt.want {
			t.Errorf("Allowed(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	if _, err := notify.ParseAllow("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

// TestRefusals: the delivery client refuses loopback, metadata and private
// addresses (checked at dial time, also for names that resolve to them) and
// redirects, unless allowlisted; nothing is sent, the attempt records why,
// and neither the log nor the recorded error shows the URL's secrets.
func TestRefusals(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	var redirected atomic.Int32
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Add(1)
		http.Redirect(w, r, srv.URL+"/landed", http.StatusFound)
	}))
	defer redirect.Close()

	for _, tt := range []struct {
		name  string
		url   string
		allow []netip.Prefix
		ok    bool
	}{
		{"Loopback", "http://user:hunter2@127.0.0.1:" + port + "/hook/tok-SECRET", nil, false},
		{"LocalhostName", "http://localhost:" + port + "/hook/tok-SECRET", nil, false},
		{"Metadata", "http://169.254.169.254/latest/meta-data/tok-SECRET", nil, false},
		{"Private", "http://10.0.0.1/hook/tok-SECRET?key=tok-SECRET", nil, false},
		{"Redirect", redirect.URL + "/hook/tok-SECRET", loopback, false},
		{"LoopbackAllowlisted", "http://user:hunter2@127.0.0.1:" + port + "/hook/tok-SECRET", loopback, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			var logs bytes.Buffer
			hits.Store(0)
			svc := notify.New(db, notify.Options{Client: notify.NewClient(tt.allow, 2*time.Second),
				Logger: bufLogger(&logs), MaxAttempts: 1})
			if _, err := svc.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: notify.FormatSlack,
				URL: tt.url}); err != nil {
				t.Fatal(err)
			}
			enqueue(t, db, sampleEvent(1))
			if _, err := svc.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			ds, err := svc.Deliveries(ctx, notify.DeliveryFilter{})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries %v, %v", ds, err)
			}
			d := ds[0]
			if tt.ok {
				if d.State != notify.StateDelivered || hits.Load() != 1 {
					t.Fatalf("allowlisted: state %s, error %q, hits %d", d.State, d.LastError, hits.Load())
				}
				return
			}
			if d.State != notify.StateFailed || !strings.Contains(d.LastError, "refused") {
				t.Errorf("state %s, error %q: want a refusal", d.State, d.LastError)
			}
			if hits.Load() != 0 {
				t.Errorf("the target was called %d times", hits.Load())
			}
			if tt.name == "Redirect" && redirected.Load() != 1 {
				t.Errorf("redirecting server called %d times", redirected.Load())
			}
			atts, _ := svc.Attempts(ctx, d.ID)
			for _, text := range []string{logs.String(), d.LastError, d.RedactedURL, attemptsText(atts)} {
				if strings.Contains(text, "tok-SECRET") || strings.Contains(text, "hunter2") {
					t.Errorf("secret leaked: %s", text)
				}
			}
		})
	}
}

func attemptsText(as []notify.Attempt) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString(a.Error + "\n")
	}
	return b.String()
}

// TestTimeout: a receiver that never answers is cut off at the timeout.
func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	c := notify.NewClient(loopback, 200*time.Millisecond)
	start := time.Now()
	_, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("not a timeout: %v", err)
	}
}
