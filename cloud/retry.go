package cloud

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Retry policy (§1.5): exponential backoff with full jitter, base 1 s,
// factor 2, cap 30 s, at most 6 attempts in all; Retry-After wins when sent.
const (
	BackoffBase = time.Second
	BackoffCap  = 30 * time.Second
	MaxAttempts = 6
)

// BackoffDelay is the wait before retry number attempt (1 = the wait after
// the first failure) for a jitter fraction r in [0,1): full jitter, that is
// uniform in [0, min(cap, base·2^(attempt-1))).
func BackoffDelay(attempt int, r float64) time.Duration {
	ceil := BackoffBase
	for i := 1; i < attempt && ceil < BackoffCap; i++ {
		ceil *= 2
	}
	if ceil > BackoffCap {
		ceil = BackoffCap
	}
	return time.Duration(r * float64(ceil))
}

// retryWait chooses the wait after a failed attempt: Retry-After if the
// server sent one (capped), else BackoffDelay.
func retryWait(e *Error, attempt int, r float64) time.Duration {
	if e.RetryAfter > 0 {
		return min(e.RetryAfter, BackoffCap)
	}
	return BackoffDelay(attempt, r)
}

// endpoint is the shared client-side state of one account's service
// endpoint: its rate limiter and a pause that every caller honours after a
// 429, so one throttled call slows all of them down.
type endpoint struct {
	limiter *rate.Limiter
	mu      sync.Mutex
	until   time.Time
}

func (e *endpoint) pause(until time.Time) {
	e.mu.Lock()
	if until.After(e.until) {
		e.until = until
	}
	e.mu.Unlock()
}

func (e *endpoint) pausedUntil() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.until
}

// retryPolicy says which failures a call may retry by itself.
type retryPolicy int

const (
	// retryReads retries 429, 5xx, timeouts and network errors: safe for reads.
	retryReads retryPolicy = iota
	// retryThrottled retries only 429, which the gateway answers before the
	// service acts; destructive calls use it and re-read after anything else.
	retryThrottled
)

func (p retryPolicy) allows(e *Error) bool {
	if errors.Is(e, ErrThrottled) {
		return true
	}
	return p == retryReads && errors.Is(e, ErrTransient)
}

// call runs one cloud operation with rate limiting, a per-attempt deadline
// and retries. fn receives the headers to pass to the SDK invoker.
func (c *Client) call(
	ctx context.Context,
	s *session,
	op string,
	policy retryPolicy,
	fn func(h map[string]string) error,
) error {
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, s, op, fn)
		if err == nil {
			return nil
		}
		e := classify(s.svc, op, err)
		e.Account = s.account.Name
		e.Project = s.project
		if errors.Is(e, ErrPermission) && e.Action == "" {
			e.Action = missingAction(op, e.Message)
		}
		if ctx.Err() != nil || errors.Is(err, errLimiterDeadline) {
			e.Class = ErrTransient
			if ctx.Err() != nil {
				e.Err = ctx.Err()
			}
			return e
		}
		if attempt >= MaxAttempts || !policy.allows(e) {
			return e
		}
		wait := retryWait(e, attempt, c.rand())
		if errors.Is(e, ErrThrottled) {
			s.ep.pause(c.now().Add(wait))
		}
		c.countRetry()
		if err := c.sleep(ctx, wait); err != nil {
			return e
		}
	}
}

// attempt waits for the endpoint (pause, limiter) and sends one request.
func (c *Client) attempt(ctx context.Context, s *session, op string, fn func(h map[string]string) error) error {
	if until := s.ep.pausedUntil(); until.After(c.now()) {
		if err := c.sleep(ctx, until.Sub(c.now())); err != nil {
			return err
		}
	}
	if err := s.ep.limiter.Wait(ctx); err != nil {
		return errLimiterDeadline
	}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, opKey{}, op), s.account.Timeout)
	defer cancel()
	id, done := c.transport.register(actx)
	defer done()
	start := time.Now()
	err := fn(map[string]string{callHeader: id})
	if c.observe != nil {
		var classified error
		if err != nil {
			classified = classify(s.svc, op, err)
		}
		c.observe(s.svc, op, classified, time.Since(start))
	}
	return err
}

// errLimiterDeadline: the rate limiter cannot grant a request before the
// caller's deadline, so there is no point sending or retrying.
var errLimiterDeadline = fmt.Errorf("rate limit wait would exceed the deadline: %w", context.DeadlineExceeded)

// realSleep waits d or until ctx ends.
func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func defaultRand() float64 { return rand.Float64() }

// deleteOne sends a single-resource delete. Only throttling is retried as
// is. A refusal (400) is explained by one re-read: already deleting or gone
// counts as done. After an ambiguous answer (5xx, timeout, cut connection)
// the outcome is unknown: the resource is re-read once the account's settle
// time has passed since the call ended, and Confirm decides; the delete is
// resent only if the resource is unchanged and deletable. Already gone
// (404) is success.
func (c *Client) deleteOne(
	ctx context.Context,
	s *session,
	ref Ref,
	op string,
	send func(h map[string]string) error,
) error {
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, s, op, retryThrottled, send)
		ended := c.now()
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
		if !errors.Is(err, ErrTransient) && !errors.Is(err, ErrPermanent) {
			return err
		}
		if errors.Is(err, ErrTransient) {
			if serr := c.sleep(ctx, s.account.SettleTime); serr != nil {
				return err
			}
		}
		cur, rerr := c.Read(ctx, ref)
		found := rerr == nil
		if rerr != nil && !errors.Is(rerr, ErrNotFound) {
			return fmt.Errorf("%w (re-read after failed delete: %v)", err, rerr)
		}
		verdict, why := Confirm(Sent{Ended: ended}, cur, found, c.now(), s.account.SettleTime)
		switch {
		case verdict == Gone || verdict == Deleting:
			return nil
		case errors.Is(err, ErrPermanent) || verdict != Resend || attempt >= MaxAttempts:
			return fmt.Errorf("%w (status now %s%s)", err, cur.Status, prefixed("; ", why))
		}
	}
}

func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// deleteBatches sends a batch delete of ids in chunks of size through send,
// which returns the IDs the cloud accepted, and returns one outcome per ID
// in order. IDs not accepted are re-read to say why: already deleting or
// gone counts as accepted. A chunk whose answer is ambiguous (5xx, timeout,
// cut connection) is not re-read or resent here: the outcomes so far come
// back with that error (ErrTransient), and the caller, which knows when
// the call ended, re-reads those IDs after the account's SettleTime and
// judges them with Confirm (the poller does so, persistently).
func (c *Client) deleteBatches(ctx context.Context, s *session, ids []string, size int,
	send func(pending []string) (map[string]bool, error)) ([]Outcome, error) {
	out := make([]Outcome, 0, len(ids))
	for _, chunk := range Chunk(ids, size) {
		accepted, err := send(chunk)
		if err != nil {
			return out, err
		}
		result := map[string]Outcome{}
		for _, id := range chunk {
			result[id] = Outcome{Ref: s.ref(id), Accepted: accepted[id]}
		}
		out = append(out, c.explainRejected(ctx, s, chunk, result)...)
	}
	return out, nil
}
