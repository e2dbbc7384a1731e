package cloudsim

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Faults are the simulator's fault and timing knobs. The JSON names are those
// of PUT /_sim/faults.
type Faults struct {
	// LatencyMS is added to every cloud call.
	LatencyMS int `json:"latency_ms"`
	// ErrorRate is the fraction (0..1) of cloud calls answered 500 with the
	// service's code.
	ErrorRate float64 `json:"error_rate"`
	// RateLimit is requests per second per credential, 0 = off (token bucket,
	// burst = RateLimit). Over the limit: 429 APIGW.0308.
	RateLimit float64 `json:"rate_limit"`
	// RetryAfter is the Retry-After value (seconds) sent with 429; 0 = none.
	RetryAfter int `json:"retry_after"`
	// DMSDeleteDelayMS is how long a DMS instance stays DELETING.
	DMSDeleteDelayMS int `json:"dms_delete_delay_ms"`
	// CloudDCDeleteDelayMS is how long a CloudDC instance stays shutting-down.
	CloudDCDeleteDelayMS int `json:"clouddc_delete_delay_ms"`
	// ROMAAssetMS is the time a ROMA asset job spends per asset.
	ROMAAssetMS int `json:"roma_asset_ms"`
	// DeleteFailureRate is the fraction (0..1) of deletes that fail: a CloudDC
	// instance ends in error, a DMS batch entry is failed (a single DMS delete
	// falls back to its previous status), a ROMA asset gets a job reason.
	DeleteFailureRate float64 `json:"delete_failure_rate"`
	// TerminatedRetentionMS is how long a terminated CloudDC instance stays
	// visible before it answers 404.
	TerminatedRetentionMS int `json:"terminated_retention_ms"`
	// CloudDCAllowDeleteRunning lets CloudDC delete running instances.
	CloudDCAllowDeleteRunning bool `json:"clouddc_allow_delete_running"`
	// RefusePrepaidDelete refuses deleting DMS instances with charging_mode 0.
	RefusePrepaidDelete bool `json:"refuse_prepaid_delete"`
	// AppliedErrorRate is the fraction (0..1) of write calls (deletes, batch
	// deletes, asset jobs) the cloud applies and then answers 500 or 504 with
	// a body the SDK cannot use: the answer is lost, the effects are not.
	AppliedErrorRate float64 `json:"applied_error_rate"`
	// ReadLagMS is how long after a write reads of the written resources
	// (show, status, list rows, job status) return their state from before
	// the write.
	ReadLagMS int `json:"read_lag_ms"`
	// CheckSignatures verifies AK/SK signatures and X-Sdk-Date; when false
	// only the AK must be known.
	CheckSignatures bool `json:"check_signatures"`
	// UndoFaults are the recycle-bin and ROMA backup knobs.
	UndoFaults
}

// DefaultFaults returns the knobs of the sim command and the embedded
// simulator: no latency, errors or rate limit; deletes that finish after 3 s;
// 100 ms per ROMA asset; terminated CloudDC instances kept 10 minutes;
// signatures checked.
func DefaultFaults() Faults {
	return Faults{
		DMSDeleteDelayMS:      3000,
		CloudDCDeleteDelayMS:  3000,
		ROMAAssetMS:           100,
		TerminatedRetentionMS: 600000,
		CheckSignatures:       true,
		UndoFaults:            DefaultUndoFaults(),
	}
}

// Validate reports the first knob out of range.
func (f Faults) Validate() error {
	ints := []struct {
		name string
		v    int
	}{
		{"latency_ms", f.LatencyMS}, {"retry_after", f.RetryAfter},
		{"dms_delete_delay_ms", f.DMSDeleteDelayMS}, {"clouddc_delete_delay_ms", f.CloudDCDeleteDelayMS},
		{"roma_asset_ms", f.ROMAAssetMS}, {"terminated_retention_ms", f.TerminatedRetentionMS},
		{"read_lag_ms", f.ReadLagMS},
	}
	for _, k := range ints {
		if k.v < 0 {
			return fmt.Errorf("%s must be >= 0, got %d", k.name, k.v)
		}
	}
	if !(f.ErrorRate >= 0 && f.ErrorRate <= 1) {
		return errors.New("error_rate must be within 0..1")
	}
	if !(f.DeleteFailureRate >= 0 && f.DeleteFailureRate <= 1) {
		return errors.New("delete_failure_rate must be within 0..1")
	}
	if !(f.AppliedErrorRate >= 0 && f.AppliedErrorRate <= 1) {
		return errors.New("applied_error_rate must be within 0..1")
	}
	if !(f.RateLimit >= 0) || math.IsInf(f.RateLimit, 0) {
		return errors.New("rate_limit must be >= 0")
	}
	return f.UndoFaults.validate()
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// bucket is one credential's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// throttle takes a token from the caller's bucket; s.mu held.
func (s *Sim) throttle(c *call) (reply, bool) {
	rate := c.faults.RateLimit
	if rate <= 0 {
		return reply{}, true
	}
	burst := math.Max(rate, 1)
	key := c.cred.AK + "\x00" + c.cred.Token
	b := s.buckets[key]
	if b == nil {
		b = &bucket{tokens: burst, last: c.now}
		s.buckets[key] = b
	}
	if el := c.now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*rate)
		b.last = c.now
	}
	if b.tokens >= 1 {
		b.tokens--
		return reply{}, true
	}
	rep := errReply(svcGateway, http.StatusTooManyRequests, "APIGW.0308",
		fmt.Sprintf("The throttling threshold has been reached: policy user over ratelimit,limit:%s,time:1 second",
			strconv.FormatFloat(rate, 'f', -1, 64)))
	if c.faults.RetryAfter > 0 {
		rep.header = map[string]string{"Retry-After": strconv.Itoa(c.faults.RetryAfter)}
	}
	return rep, false
}

// failDelete draws one delete-failure decision; s.mu held.
func (s *Sim) failDelete(f Faults) bool {
	return f.DeleteFailureRate > 0 && s.rng.Float64() < f.DeleteFailureRate
}
