package auth

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/decom/decom/store"
)

// MaxUsernameBytes is the longest username a sign-in attempt may carry;
// longer ones are refused before anything is stored or logged.
const MaxUsernameBytes = 128

// ThrottledError says a sign-in was refused without checking the password,
// and for how long the same attempt will be. It matches ErrThrottled.
type ThrottledError struct{ Wait time.Duration }

// Error says how long to wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %s", e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// ValidateAttempt refuses what no account can have: a username over
// MaxUsernameBytes, not UTF-8 or with control or space characters, or a
// password longer than any accepted one. It runs before anything is stored.
func ValidateAttempt(a Attempt) error {
	if err := validateSignInName(a.Username); err != nil {
		return err
	}
	if len(a.Password) > 1024 {
		return &ValidationError{Field: "password", Message: "a password has at most 1024 characters"}
	}
	return nil
}

// validateSignInName is the rule every name that signs in follows, from the
// form or from a provider: 1 to MaxUsernameBytes bytes of UTF-8, no control
// or space characters.
func validateSignInName(name string) error {
	if name == "" || len(name) > MaxUsernameBytes || !utf8.ValidString(name) {
		return &ValidationError{
			Field:   "username",
			Message: fmt.Sprintf("give a username of 1 to %d bytes", MaxUsernameBytes),
		}
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return &ValidationError{Field: "username", Message: "a username has no control or space characters"}
		}
	}
	return nil
}

// Throttle is the sign-in delay rule: Free failures within Window cost
// nothing; each further one doubles the wait after the last failure, from
// Base up to Max. It is counted per (username, source) and, with its own
// Free, per source alone; a refused attempt is not a failure, so waiting it
// out always works, and failures from one source never delay another.
type Throttle struct {
	Window         time.Duration // failures older than this are forgotten (default 1h)
	FreePerAccount int           // per (username, source) (default 3)
	FreePerSource  int           // per source, over all usernames (default 10)
	Base, Max      time.Duration // first and longest wait (default 1s, 15m)
}

func (t Throttle) withDefaults() Throttle {
	if t.Window == 0 {
		t.Window = time.Hour
	}
	if t.FreePerAccount == 0 {
		t.FreePerAccount = 3
	}
	if t.FreePerSource == 0 {
		t.FreePerSource = 10
	}
	if t.Base == 0 {
		t.Base = time.Second
	}
	if t.Max == 0 {
		t.Max = 15 * time.Minute
	}
	return t
}

// Delay returns how long after the last of n failures the next attempt
// must wait, given free failures allowed.
func (t Throttle) Delay(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := t.Base
	for i := free; i < n && d < t.Max; i++ {
		d *= 2
	}
	return min(d, t.Max)
}

// Wait returns how long an attempt must still wait, from the failure counts
// and last failure times of its (username, source) and its source.
func (t Throttle) Wait(now time.Time, account, source failures) time.Duration {
	wait := max(account.last.Add(t.Delay(account.n, t.FreePerAccount)).Sub(now),
		source.last.Add(t.Delay(source.n, t.FreePerSource)).Sub(now))
	return max(wait, 0)
}

// failures is a count of recent failed sign-ins and the time of the last.
type failures struct {
	n    int
	last time.Time
}

// recentFailures counts the failures since the window's start for
// (username, ip) and for ip.
func (s *Service) recentFailures(ctx context.Context, username, ip string,
	since time.Time) (account, source failures, err error) {
	var aLast, sLast string
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM login_failures WHERE username = ? AND client_ip = ? AND at >= ?),
		(SELECT coalesce(max(at), '') FROM login_failures WHERE username = ? AND client_ip = ? AND at >= ?),
		(SELECT count(*) FROM login_failures WHERE client_ip = ? AND at >= ?),
		(SELECT coalesce(max(at), '') FROM login_failures WHERE client_ip = ? AND at >= ?)`,
		username, ip, store.FormatTime(since), username, ip, store.FormatTime(since),
		ip, store.FormatTime(since), ip, store.FormatTime(since)).Scan(&account.n, &aLast, &source.n, &sLast)
	if err != nil {
		return failures{}, failures{}, fmt.Errorf("count failures: %w", err)
	}
	account.last, source.last = store.ParseTime(aLast), store.ParseTime(sLast)
	return account, source, nil
}

// keyedMutex serializes work per key (here: sign-in attempts per source), so
// concurrent attempts from one source cannot all pass the throttle check
// before any of their failures is recorded. Other sources never wait.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*countedMutex
}

type countedMutex struct {
	sync.Mutex
	waiters int
}

// lock takes key's lock and returns its release.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*countedMutex{}
	}
	m := k.locks[key]
	if m == nil {
		m = &countedMutex{}
		k.locks[key] = m
	}
	m.waiters++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		if m.waiters--; m.waiters == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
