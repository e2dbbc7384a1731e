package changes_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/notify"
)

// BenchmarkNotifyLatency measures the time from a state change (a plan
// committed pending approval, with its outbox row) to the moment a loopback
// receiver (allowlisted) gets the signed JSON message, through the real
// delivery worker woken by the commit. It reports p50 and p95.
//
//	go test -run '^$' -bench NotifyLatency -benchtime 200x ./changes
func BenchmarkNotifyLatency(b *testing.B) {
	ctx := b.Context()
	e := newEnv(b)
	got := make(chan time.Time, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got <- time.Now()
	}))
	defer srv.Close()
	notes := notify.New(e.db, notify.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: notify.NewClient([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 5*time.Second)})
	if _, err := notes.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: notify.FormatJSON,
		URL: srv.URL + "/hook", Secret: "0123456789abcdef"}); err != nil {
		b.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = notes.Run(wctx); close(done) }()
	defer func() { stop(); <-done }()
	svc := changes.New(e.db, e.cloud, changes.Options{Notified: notes.Wake})
	r := e.resource("a", cloud.CloudDC, "stopped")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := svc.Plan(ctx, alice, changes.PlanRequest{Refs: []cloud.Ref{r.Ref}, Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-got:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("no delivery within 10 s")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
