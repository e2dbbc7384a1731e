package cloudsim

import (
	"net/http"
	"time"
)

// The realism knobs (cloudsim-control.md): answers lost after the cloud
// acted (applied_error_rate), and reads that lag writes (read_lag_ms).

// writeOps are the write calls: the ones applied_error_rate may answer with
// a lost answer, and after which read_lag_ms applies.
var writeOps = map[string]bool{
	rtDMSDelete.op: true, rtDMSBatch.op: true, rtDMSRestore.op: true, rtROMADelete.op: true,
	rtROMADeleteApp.op: true, rtROMADeleteTask.op: true, rtCDCDelete.op: true, rtCDCBatch.op: true,
}

// lag is one resource's read lag: until until, reads show before, the
// resource's state from before the write that started the lag.
type lag[T any] struct {
	until  time.Time
	before T
}

// note starts or extends the lag for a write at now. A write inside a lag
// keeps the older state: reads have not caught up with either write.
func (l *lag[T]) note(now time.Time, d time.Duration, before T) {
	if d <= 0 {
		return
	}
	if !l.active(now) {
		l.before = before
	}
	l.until = now.Add(d)
}

func (l *lag[T]) active(now time.Time) bool { return now.Before(l.until) }

// shadow is the read lag of a ROMA asset: a deleted asset stays listed
// until its lag ends.
type shadow struct {
	lagUntil time.Time
	gone     bool
}

func (s *shadow) shows(now time.Time) bool { return !s.gone || now.Before(s.lagUntil) }

// written notes a write of an asset at now.
func (s *shadow) written(now time.Time, lagMS int) {
	if lagMS > 0 {
		s.lagUntil = now.Add(ms(lagMS))
	}
}

// noteWrite starts or extends the read lag of a write of d at now: reads
// see a copy of d as it was before the first write of the lag.
func (d *dmsInst) noteWrite(now time.Time, lag time.Duration) {
	if lag <= 0 {
		return
	}
	if !d.lagging(now) {
		snap := *d
		snap.lagSnap = nil
		d.lagSnap = &snap
	}
	d.lagUntil = now.Add(lag)
}

func (d *dmsInst) lagging(now time.Time) bool { return now.Before(d.lagUntil) }

// view is what a read at now sees: the copy from before the last write
// while its read lag lasts, else d itself.
func (d *dmsInst) view(now time.Time) *dmsInst {
	if d.lagging(now) && d.lagSnap != nil {
		return d.lagSnap
	}
	return d
}

// seen is the status and place a read at now shows (see view).
func (d *dmsInst) seen(now time.Time) (string, dmsPlace) { return d.view(now).current(now) }

// seen is the state a read at now shows (see dmsInst.seen).
func (c *cdcInst) seen(now time.Time, retention time.Duration) (cdcView, bool) {
	if c.lag.active(now) {
		return c.lag.before, false
	}
	return c.current(now, retention)
}

// lostAnswer draws whether the answer of an applied write is lost and, if
// so, returns the 500 or 504 to send instead; s.mu held.
func (s *Sim) lostAnswer(op string, rep reply, f Faults) (reply, bool) {
	if !writeOps[op] || rep.status >= 400 || f.AppliedErrorRate <= 0 || s.lostRng.Float64() >= f.AppliedErrorRate {
		return reply{}, false
	}
	if s.lostRng.IntN(2) == 0 {
		return reply{status: http.StatusInternalServerError,
			body: rawBody{"text/plain; charset=utf-8", []byte("Internal Server Error\n")}}, true
	}
	return reply{status: http.StatusGatewayTimeout, body: rawBody{"text/html", []byte(
		"<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>\n",
	)}}, true
}

// countDeleteRequest notes one delete request naming id that the service
// took up, whatever its answer; s.mu held.
func (s *Sim) countDeleteRequest(id string) {
	s.stats.DeleteRequestsByID[id]++
}
