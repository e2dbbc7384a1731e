package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

// Options tunes a Service. Zero fields take the defaults.
type Options struct {
	Now    func() time.Time
	Params Params
	// Throttle is the failed sign-in delay rule (zero fields: defaults).
	Throttle Throttle
	// Sessions end after IdleTimeout without a request (default 30m) and
	// AbsoluteTimeout after sign-in (default 12h). Last seen is written at
	// most once per SeenGranularity (default 1m).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	SeenGranularity time.Duration
}

// Service manages users and sign-in over the users and login_failures tables.
type Service struct {
	db  *sql.DB
	cfg Options
	// dummyHash is checked when the username is unknown, so both paths
	// cost one argon2id computation and timing does not reveal usernames.
	dummyHash string
	sources   keyedMutex // one sign-in attempt at a time per source
}

// New returns a Service over db (already migrated).
func New(db *sql.DB, cfg Options) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	cfg.Throttle = cfg.Throttle.withDefaults()
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.SeenGranularity == 0 {
		cfg.SeenGranularity = time.Minute
	}
	h, err := HashPassword(GeneratePassword(), cfg.Params)
	if err != nil {
		panic(err)
	}
	return &Service{db: db, cfg: cfg, dummyHash: h}
}

// Attempt is one sign-in try.
type Attempt struct {
	Username  string
	Password  string
	ClientIP  string
	UserAgent string
}

// SignIn checks an attempt. An impossible username or password is a
// *ValidationError and stores nothing. While the Throttle says to wait, for
// the username from this source or for the source, it returns a
// *ThrottledError (matching ErrThrottled) without checking the password and
// stores nothing. A wrong username, wrong password or disabled user is
// ErrInvalidCredentials (one error for all, so the form does not reveal
// which), recorded as a failure. Every checked outcome is an audit event.
func (s *Service) SignIn(ctx context.Context, a Attempt) (User, error) {
	if err := ValidateAttempt(a); err != nil {
		return User{}, err
	}
	a.UserAgent = clip(a.UserAgent, maxUserAgent)
	defer s.sources.lock(a.ClientIP)()
	now := s.cfg.Now()
	account, source, err := s.recentFailures(ctx, a.Username, a.ClientIP, now.Add(-s.cfg.Throttle.Window))
	if err != nil {
		return User{}, err
	}
	if wait := s.cfg.Throttle.Wait(now, account, source); wait > 0 {
		return User{}, &ThrottledError{Wait: wait}
	}
	u, err := s.ByUsername(ctx, a.Username)
	if errors.Is(err, ErrNotFound) {
		CheckPassword(s.dummyHash, a.Password)
		return User{}, s.recordFailure(ctx, a, "unknown user", ErrInvalidCredentials)
	}
	if err != nil {
		return User{}, err
	}
	if !CheckPassword(u.passwordHash, a.Password) {
		return User{}, s.recordFailure(ctx, a, "wrong password", ErrInvalidCredentials)
	}
	if u.Disabled {
		return User{}, s.recordFailure(ctx, a, "disabled", ErrInvalidCredentials)
	}
	err = store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE username = ? AND client_ip = ?`,
			u.Username, a.ClientIP); err != nil {
			return fmt.Errorf("clear failures: %w", err)
		}
		return s.appendEvent(ctx, tx, Origin{Actor: u.Username, ClientIP: a.ClientIP, UserAgent: a.UserAgent},
			audit.ActionSignIn, "success", nil)
	})
	if err != nil {
		return User{}, fmt.Errorf("sign in %s: %w", u.Username, err)
	}
	return u, nil
}

// recordFailure stores a failed attempt and its audit event in one
// transaction and returns cause (or the storage error).
func (s *Service) recordFailure(ctx context.Context, a Attempt, reason string, cause error) error {
	now := s.cfg.Now()
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`,
			store.FormatTime(now.Add(-s.cfg.Throttle.Window))); err != nil {
			return fmt.Errorf("forget old failures: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (username, client_ip, at) VALUES (?, ?, ?)`,
			a.Username, a.ClientIP, store.FormatTime(now)); err != nil {
			return fmt.Errorf("record failure: %w", err)
		}
		return s.appendEvent(ctx, tx, Origin{Actor: a.Username, ClientIP: a.ClientIP, UserAgent: a.UserAgent},
			audit.ActionSignInFailure, "failure", map[string]any{"reason": reason})
	})
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	return cause
}

// Create adds a user.
func (s *Service) Create(ctx context.Context, o Origin, username, password string, roles Roles) (User, error) {
	if err := ValidateUsername(username); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	if len(roles) == 0 {
		return User{}, &ValidationError{Field: "roles", Message: "give at least one role"}
	}
	hash, err := HashPassword(password, s.cfg.Params)
	if err != nil {
		return User{}, err
	}
	now := s.cfg.Now().UTC()
	u := User{Username: username, Roles: roles, CreatedAt: now, UpdatedAt: now}
	err = store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		id, err := insertUser(ctx, tx, u, hash)
		if err != nil {
			return err
		}
		u.ID = id
		return s.appendEvent(ctx, tx, o, audit.ActionUserChanged, "success",
			map[string]any{"user": username, "change": "created", "roles": roles.String()})
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", username, err)
	}
	return u, nil
}

// SetPassword replaces a user's password and ends all their sessions.
func (s *Service) SetPassword(ctx context.Context, o Origin, username, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.cfg.Params)
	if err != nil {
		return err
	}
	return s.update(ctx, o, username, "password changed", `password_hash = ?`, hash)
}

// Disable stops a user from signing in and ends all their sessions.
func (s *Service) Disable(ctx context.Context, o Origin, username string) error {
	return s.update(ctx, o, username, "disabled", `disabled = ?`, 1)
}

func (s *Service) update(ctx context.Context, o Origin, username, change, set string, arg any) error {
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		// Sessions first: the users trigger would delete them unrecorded.
		if _, err := s.revokeUserSessions(ctx, tx, o, username, change, false); err != nil {
			return err
		}
		if err := updateUser(ctx, tx, username, set, arg, s.cfg.Now()); err != nil {
			return err
		}
		return s.appendEvent(ctx, tx, o, audit.ActionUserChanged, "success",
			map[string]any{"user": username, "change": change})
	})
	if err != nil {
		return fmt.Errorf("update user %s: %w", username, err)
	}
	return nil
}

func (s *Service) appendEvent(
	ctx context.Context,
	tx *sql.Tx,
	o Origin,
	action audit.Action,
	outcome string,
	details map[string]any,
) error {
	e := audit.Event{Time: s.cfg.Now().UTC(), Actor: o.Actor, ClientIP: o.ClientIP, UserAgent: o.UserAgent,
		Action: action, Outcome: outcome}
	if details == nil {
		return audit.Record(ctx, tx, e, nil)
	}
	return audit.Record(ctx, tx, e, details)
}
