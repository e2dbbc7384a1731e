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
func (c *Client) call(ctx context.Context, s *session, op string, policy retryPolicy, fn func(h map[string]string) error) error {
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

// deleteOne sends a single-resource delete. Only throttling is retried as is;
// after a 5xx or timeout the resource is re-read first (§1.5): deleting or
// gone counts as done, and the delete is resent only if the resource is still
// there and deletable. Already gone (404) is success.
func (c *Client) deleteOne(ctx context.Context, s *session, ref Ref, op string, send func(h map[string]string) error) error {
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, s, op, retryThrottled, send)
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
		if !errors.Is(err, ErrTransient) && !errors.Is(err, ErrPermanent) {
			return err
		}
		cur, rerr := c.Read(ctx, ref)
		switch {
		case errors.Is(rerr, ErrNotFound):
			return nil
		case rerr != nil:
			return fmt.Errorf("%w (re-read after failed delete: %v)", err, rerr)
		case cur.Class == ClassDeleting || cur.Class == ClassGone:
			return nil
		case errors.Is(err, ErrPermanent) || !cur.Deletable() || cur.DeleteFailed() || attempt >= MaxAttempts:
			return fmt.Errorf("%w (status now %s)", err, cur.Status)
		}
		if serr := c.sleep(ctx, BackoffDelay(attempt, c.rand())); serr != nil {
			return err
		}
	}
}

// deleteBatches sends a batch delete of ids in chunks of size through send,
// which returns the IDs the cloud accepted. After a transient failure it
// re-reads the chunk (deleting or gone counts as accepted) and resends only
// the rest, never blindly. IDs not accepted are re-read to say why. One
// outcome per ID, in order.
func (c *Client) deleteBatches(ctx context.Context, s *session, ids []string, size int,
	send func(pending []string) (map[string]bool, error)) ([]Outcome, error) {
	out := make([]Outcome, 0, len(ids))
	for _, chunk := range Chunk(ids, size) {
		res, err := c.deleteBatch(ctx, s, chunk, send)
		if err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

func (c *Client) deleteBatch(ctx context.Context, s *session, ids []string,
	send func(pending []string) (map[string]bool, error)) ([]Outcome, error) {
	result := map[string]Outcome{}
	pending := ids
	for attempt := 1; len(pending) > 0; attempt++ {
		accepted, err := send(pending)
		if err == nil {
			for _, id := range pending {
				result[id] = Outcome{Ref: s.ref(id), Accepted: accepted[id]}
			}
			break
		}
		if !errors.Is(err, ErrTransient) || attempt >= MaxAttempts {
			return nil, err
		}
		next, rerr := c.rereadForRetry(ctx, s, pending, result)
		if rerr != nil {
			return nil, fmt.Errorf("%w (re-read after failed batch: %v)", err, rerr)
		}
		pending = next
		if serr := c.sleep(ctx, BackoffDelay(attempt, c.rand())); serr != nil {
			return nil, err
		}
	}
	return c.explainRejected(ctx, s, ids, result), nil
}
