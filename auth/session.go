package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

// ErrNoSession: the token names no live session (never issued, signed out,
// revoked, or past its idle or absolute timeout).
var ErrNoSession = errors.New("no such session")

// Session methods, recorded on each session.
const (
	MethodPassword = "password"
	MethodOIDC     = "oidc"
)

// Session is one signed-in browser. The token that names it lives only in the
// browser's cookie; the table keeps its SHA-256.
type Session struct {
	ID        int64
	UserID    int64
	Username  string
	Method    string // MethodPassword or MethodOIDC
	Created   time.Time
	LastSeen  time.Time
	ClientIP  string
	UserAgent string
}

// SessionMeta says where a new session comes from.
type SessionMeta struct {
	Method    string
	ClientIP  string
	UserAgent string
}

// Expired reports whether a session is past its idle or absolute timeout at now.
func (c Options) Expired(created, lastSeen, now time.Time) bool {
	return now.Sub(created) > c.AbsoluteTimeout || now.Sub(lastSeen) > c.IdleTimeout
}

// hashToken is the one way a token is turned into its stored form.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// maxUserAgent bounds what a client's User-Agent header can store.
const maxUserAgent = 256

// StartSession creates a session for u and returns its token (43 characters,
// 256 random bits), to be put in the browser's cookie and nowhere else. It
// also drops sessions past their timeouts, so the table stays small. A user
// disabled since their sign-in is ErrInvalidCredentials.
func (s *Service) StartSession(ctx context.Context, u User, m SessionMeta) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if m.Method == "" {
		m.Method = MethodPassword
	}
	now := s.cfg.Now().UTC()
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`,
			store.FormatTime(now.Add(-s.cfg.IdleTimeout)), store.FormatTime(now.Add(-s.cfg.AbsoluteTimeout))); err != nil {
			return fmt.Errorf("prune sessions: %w", err)
		}
		// Username and roles come from the users row in this transaction,
		// never from the caller's copy, which may be a moment old.
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, username, roles, created_at,
			last_seen_at, client_ip, user_agent, method)
			SELECT ?, id, username, roles, ?, ?, ?, ?, ? FROM users WHERE id = ? AND disabled = 0`,
			hashToken(token), store.FormatTime(now), store.FormatTime(now), clip(m.ClientIP, 64),
			clip(m.UserAgent, maxUserAgent), m.Method, u.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(ErrInvalidCredentials, err) // disabled or deleted since the sign-in
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("start session for %s: %w", u.Username, err)
	}
	return token, nil
}

// Session returns the live session named by token and its user (ID,
// username and roles: any change to those, to the password or to the
// disabled state ends the user's sessions, so they are current). A session
// past a timeout is deleted and reported as ErrNoSession. Last seen is
// written at most once per Config.SeenGranularity, so most requests cost
// one indexed read.
func (s *Service) Session(ctx context.Context, token string) (Session, User, error) {
	if token == "" {
		return Session{}, User{}, ErrNoSession
	}
	// One point read: the row carries the username and roles, which a change
	// would have deleted it for. Not cancellable: go-sqlite3 starts a
	// goroutine per query to watch a cancellable context, which costs more
	// than the read.
	var se Session
	var created, seen, roles string
	err := s.db.QueryRowContext(context.WithoutCancel(ctx), `SELECT id, user_id, username, roles, method, created_at,
		last_seen_at, client_ip, user_agent FROM sessions WHERE token_hash = ?`, hashToken(token)).Scan(&se.ID,
		&se.UserID, &se.Username, &roles, &se.Method, &created, &seen, &se.ClientIP, &se.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, ErrNoSession
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("session: %w", err)
	}
	u := User{ID: se.UserID, Username: se.Username, Roles: parseRoleList(roles)}
	se.Created, se.LastSeen = store.ParseTime(created), store.ParseTime(seen)
	now := s.cfg.Now().UTC()
	if s.cfg.Expired(se.Created, se.LastSeen, now) {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, se.ID); err != nil {
			return Session{}, User{}, fmt.Errorf("end expired session: %w", err)
		}
		return Session{}, User{}, ErrNoSession
	}
	if now.Sub(se.LastSeen) >= s.cfg.SeenGranularity {
		// Guarded by the old value: of two concurrent requests, one writes.
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at = ?`,
			store.FormatTime(now), se.ID, seen); err != nil {
			return Session{}, User{}, fmt.Errorf("session last seen: %w", err)
		}
		se.LastSeen = now
	}
	return se, u, nil
}

// EndSession signs out the session named by token (a DELETE) and records the
// sign-out. Ending a session that is already gone is not an error.
func (s *Service) EndSession(ctx context.Context, o Origin, token string) error {
	return store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return s.appendEvent(ctx, tx, o, audit.ActionSignOut, audit.OutcomeSuccess, nil)
	})
}

// RevokeUserSessions ends every session of username ("sign out everywhere",
// or an admin's revocation) and records it; it returns how many ended.
func (s *Service) RevokeUserSessions(ctx context.Context, o Origin, username, reason string) (int64, error) {
	var n int64
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		n, err = s.revokeUserSessions(ctx, tx, o, username, reason, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", username, err)
	}
	return n, nil
}

// revokeUserSessions deletes username's sessions inside tx and appends a
// session_revoked event when any ended (always when always is set).
func (s *Service) revokeUserSessions(ctx context.Context, tx *sql.Tx, o Origin, username, reason string,
	always bool) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)`,
		username)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n == 0 && !always {
		return 0, nil
	}
	return n, s.appendEvent(ctx, tx, o, audit.ActionSessionRevoked, audit.OutcomeSuccess,
		map[string]any{"user": username, "ended": n, "reason": reason})
}

// RevokeSession ends one session by its ID (the admin page) and records it.
func (s *Service) RevokeSession(ctx context.Context, o Origin, id int64) error {
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var username string
		err := tx.QueryRowContext(ctx, `SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = ?`, id).Scan(&username)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoSession
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return err
		}
		return s.appendEvent(ctx, tx, o, audit.ActionSessionRevoked, audit.OutcomeSuccess,
			map[string]any{"user": username, "revoked_id": id, "ended": 1, "reason": "revoked by an admin"})
	})
	if err != nil {
		return fmt.Errorf("revoke session %d: %w", id, err)
	}
	return nil
}

// ListSessions returns the live sessions, most recently seen first; with a
// username, only that user's.
func (s *Service) ListSessions(ctx context.Context, username string) ([]Session, error) {
	now := s.cfg.Now().UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.user_id, u.username, s.method, s.created_at, s.last_seen_at,
		s.client_ip, s.user_agent FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.last_seen_at >= ? AND s.created_at >= ? AND (? = '' OR u.username = ?) AND u.disabled = 0
		ORDER BY s.last_seen_at DESC, s.id DESC`,
		store.FormatTime(now.Add(-s.cfg.IdleTimeout)), store.FormatTime(now.Add(-s.cfg.AbsoluteTimeout)),
		username, username)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var se Session
		var created, seen string
		if err := rows.Scan(&se.ID, &se.UserID, &se.Username, &se.Method, &created, &seen, &se.ClientIP,
			&se.UserAgent); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		se.Created, se.LastSeen = store.ParseTime(created), store.ParseTime(seen)
		out = append(out, se)
	}
	return out, rows.Err()
}

// clip cuts s to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
