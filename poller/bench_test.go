package poller_test

import (
	"testing"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/poller"
)

// Benchmark figures of issue 5: delete 1,000 instances with the simulator
// limited to 50 requests/s and a 5 s delete delay. Run with
//
//	go test ./poller -run '^$' -bench Delete1000 -benchtime 1x
//
// The lower bound is the minimum number of calls at 50/s plus the delete
// delay: 20 batch deletes, then one final status round (CloudDC: 10 lists of
// 100 IDs, since terminated instances stay listed; DMS: 1 list page, since
// deleted instances vanish from the list).
func BenchmarkDelete1000CloudDC(b *testing.B) {
	benchDelete(b, cloud.CloudDC, "stopped", 20+10, false)
}

func BenchmarkDelete1000DMS(b *testing.B) {
	benchDelete(b, cloud.RocketMQ, "RUNNING", 20+1, false)
}

// The same with the realism faults of issue 15: 30 % of the batch deletes
// applied but answered 500/504, reads lagging writes by 3 s, and the
// account's settle time (3.5 s) covering that lag. Compare wall-s with the
// runs above.
func BenchmarkDelete1000CloudDCRealistic(b *testing.B) {
	benchDelete(b, cloud.CloudDC, "stopped", 20+10, true)
}

func BenchmarkDelete1000DMSRealistic(b *testing.B) {
	benchDelete(b, cloud.RocketMQ, "RUNNING", 20+1, true)
}

const (
	benchN     = 1000
	benchRate  = 50.0
	benchDelay = 5 * time.Second
)

func benchDelete(b *testing.B, svc cloud.Service, status string, minCalls int, realistic bool) {
	for range b.N {
		b.StopTimer()
		e := newSimEnvSettle(b, cloudsim.DefaultFaults(), benchRate, realismSettle)
		ids := e.create(string(svc), "instance", status, "", benchN)
		faults := cloudsim.DefaultFaults()
		delay := int(benchDelay / time.Millisecond)
		faults.RateLimit, faults.DMSDeleteDelayMS, faults.CloudDCDeleteDelayMS = benchRate, delay, delay
		if realistic {
			faults.AppliedErrorRate, faults.ReadLagMS = realismFaults().AppliedErrorRate, realismFaults().ReadLagMS
		}
		e.setFaults(faults)
		c := e.approved(changes.PlanRequest{Refs: refs(svc, cloud.KindInstance, "", ids)})
		time.Sleep(time.Second) // let the simulator's token bucket refill after planning
		before := e.stats()
		b.StartTimer()

		start := time.Now()
		e.execute(c)
		afterExecute := e.stats()
		e.runUntilFinished(poller.Options{}, 2*time.Minute, c.ID)
		wall := time.Since(start)

		b.StopTimer()
		after := e.stats()
		e.checkOutcomes(c.ID)
		if got := e.state(c.ID); got != changes.StateSucceeded {
			b.Fatalf("change ended %s", got)
		}
		lower := time.Duration(float64(minCalls)/benchRate*float64(time.Second)) + benchDelay
		calls := after.Total - before.Total
		reval := afterExecute.Total - before.Total
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(lower.Seconds(), "lower-bound-s")
		b.ReportMetric(wall.Seconds()/lower.Seconds(), "x-lower-bound")
		b.ReportMetric(float64(calls)/benchN, "calls/resource")
		b.ReportMetric(float64(calls-reval)/benchN, "delete+poll-calls/resource")
		b.ReportMetric(float64(after.ByStatus["429"]-before.ByStatus["429"]), "429s")
		lost := after.ByStatus["500"] + after.ByStatus["504"] - before.ByStatus["500"] - before.ByStatus["504"]
		b.ReportMetric(float64(lost), "lost-answers")
		for id, n := range after.DeleteRequestsByID {
			if n != 1 {
				b.Errorf("%s named in %d delete requests, want 1", id, n)
			}
		}
		b.Logf("%s: wall %s, lower bound %s (%.2fx); %d calls (%d re-validation), %.3f calls/resource; by operation %v",
			svc, wall.Round(time.Millisecond), lower, wall.Seconds()/lower.Seconds(), calls, reval,
			float64(calls)/benchN, diffOps(after, before))
	}
}

func diffOps(after, before simStats) map[string]int {
	out := map[string]int{}
	for k, v := range after.ByOp {
		if d := v - before.ByOp[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
