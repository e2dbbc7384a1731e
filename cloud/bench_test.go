package cloud

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// BenchmarkRateLimited runs calls from 4 goroutines against cloudsim with a
// rate limit of R req/s per credential and the client configured for the
// same R. It reports the achieved rate as a fraction of R and the share of
// calls answered 429; it fails below 90 % of R or at 1 % 429s or more.
//
//	go test -run '^$' -bench RateLimited -benchtime 400x ./cloud/
func BenchmarkRateLimited(b *testing.B) {
	benchRate(b, 100, 100, 0, true)
}

// BenchmarkRateOverdriven is the same with the client configured for twice
// the real limit: the figure shows what 429 handling (Retry-After 1 s, a
// pause shared by every caller of the endpoint) costs. Informative only.
func BenchmarkRateOverdriven(b *testing.B) {
	benchRate(b, 50, 100, 1, false)
}

func benchRate(b *testing.B, R, clientRate float64, retryAfter int, assert bool) {
	env := newSim(b, "empty", func(f *cloudsim.Faults) { f.RateLimit, f.RetryAfter = R, retryAfter })
	a := env.account(authAKSK)
	a.RateLimit, a.Burst = clientRate, 1
	c, err := New(Config{Accounts: []Account{a}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second) // let the simulator's bucket fill, as after any idle time
	before := env.stats()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := c.ListInstances(ctxBG, a.Name, simProject, CloudDC); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	after := env.stats()
	total := after.Total - before.Total
	throttled := after.ByStatus["429"] - before.ByStatus["429"]
	achieved := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(achieved, "calls/s")
	b.ReportMetric(100*achieved/R, "%ofR")
	b.ReportMetric(100*float64(throttled)/float64(max(total, 1)), "%429")
	if assert && b.N >= 2*int(R) {
		if achieved < 0.9*R {
			b.Errorf("achieved %.1f calls/s, below 90%% of %v", achieved, R)
		}
		if float64(throttled) >= 0.01*float64(total) {
			b.Errorf("%d of %d calls answered 429", throttled, total)
		}
	}
}
