package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

// ErrNameTaken: a provider's user has the username of a local user; the
// local account (a break-glass admin, say) is never taken over.
var ErrNameTaken = errors.New("another user already has this username")

// maxAuditGroups bounds how many groups one audit event records.
const maxAuditGroups = 100

// SignInOIDC signs in a user the provider vouched for. The first sign-in
// creates the user; every sign-in sets the roles the groups grant now (a
// change is an audit event and ends the user's other sessions); no role at
// all is ErrNoRole (and takes away the roles a known user had). A disabled user is ErrInvalidCredentials. The sign-in,
// with groups and roles, is an audit event in the same transaction.
func (s *Service) SignInOIDC(ctx context.Context, o Origin, id Identity) (User, error) {
	o.Actor, o.UserAgent = id.Username, clip(o.UserAgent, maxUserAgent)
	groups := auditGroups(id.Groups)
	fail := func(reason string, cause error) (User, error) {
		err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
			return s.appendEvent(ctx, tx, o, audit.ActionSignInFailure, audit.OutcomeDenied,
				map[string]any{"method": MethodOIDC, "reason": reason, "subject": id.Subject, "groups": groups})
		})
		return User{}, errors.Join(cause, err)
	}
	if len(id.Roles) == 0 {
		// A known user who left every mapped group loses every role, and
		// with them every session, now rather than at their sessions' end.
		err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
			u, err := userBySubject(ctx, tx, id.Subject)
			if errors.Is(err, ErrNotFound) || err == nil && len(u.Roles) == 0 {
				return nil
			}
			if err != nil {
				return err
			}
			return s.setRoles(ctx, tx, o, u, nil, "roles from groups", groups)
		})
		if err != nil {
			return User{}, fmt.Errorf("sign in %s through SSO: %w", id.Username, err)
		}
		return fail("no role for the groups", ErrNoRole)
	}
	var u User
	var taken, disabled bool
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		u, err = userBySubject(ctx, tx, id.Subject)
		switch {
		case errors.Is(err, ErrNotFound):
			u, err = s.createOIDCUser(ctx, tx, o, id, groups)
			if errors.Is(err, ErrConflict) {
				taken = true
				return err
			}
		case err == nil && u.Disabled:
			disabled = true
			return ErrInvalidCredentials
		case err == nil && !slices.Equal(u.Roles, id.Roles):
			err = s.setRoles(ctx, tx, o, u, id.Roles, "roles from groups", groups)
			u.Roles = id.Roles
		}
		if err != nil {
			return err
		}
		return s.appendEvent(ctx, tx, o, audit.ActionSignIn, audit.OutcomeSuccess,
			map[string]any{"method": MethodOIDC, "groups": groups, "roles": id.Roles.String()})
	})
	switch {
	case taken:
		return fail("username of a local user", ErrNameTaken)
	case disabled:
		return fail("disabled", ErrInvalidCredentials)
	case err != nil:
		return User{}, fmt.Errorf("sign in %s through SSO: %w", id.Username, err)
	}
	return u, nil
}

func (s *Service) createOIDCUser(ctx context.Context, tx *sql.Tx, o Origin, id Identity,
	groups []string) (User, error) {
	now := s.cfg.Now().UTC()
	u := User{Username: id.Username, Roles: id.Roles, CreatedAt: now, UpdatedAt: now}
	res, err := tx.ExecContext(ctx, `INSERT INTO users
		(username, password_hash, roles, disabled, created_at, updated_at, oidc_subject) VALUES (?, '', ?, 0, ?, ?, ?)`,
		u.Username, u.Roles.String(), store.FormatTime(now), store.FormatTime(now), id.Subject)
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", ownError(err))
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return User{}, err
	}
	return u, s.appendEvent(ctx, tx, o, audit.ActionUserChanged, audit.OutcomeSuccess, map[string]any{
		"user": u.Username, "change": "created", "source": MethodOIDC, "roles": u.Roles.String(), "groups": groups})
}

// SetRoles replaces a user's roles; a change ends all their sessions, in the
// same transaction as the change and its audit event.
func (s *Service) SetRoles(ctx context.Context, o Origin, username string, roles Roles) error {
	if len(roles) == 0 {
		return &ValidationError{Field: "roles", Message: "give at least one role"}
	}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
		if err != nil {
			return err
		}
		if slices.Equal(u.Roles, roles) {
			return nil
		}
		return s.setRoles(ctx, tx, o, u, roles, "roles", nil)
	})
	if err != nil {
		return fmt.Errorf("set roles of %s: %w", username, err)
	}
	return nil
}

// setRoles writes the roles, the user_changed event (old and new roles, and
// the groups when they are the cause) and revokes the user's sessions.
func (s *Service) setRoles(ctx context.Context, tx *sql.Tx, o Origin, u User, roles Roles, change string,
	groups []string) error {
	// Sessions first: the users trigger would delete them unrecorded.
	if _, err := s.revokeUserSessions(ctx, tx, o, u.Username, "roles changed", false); err != nil {
		return err
	}
	if err := updateUser(ctx, tx, u.Username, `roles = ?`, roles.String(), s.cfg.Now()); err != nil {
		return err
	}
	details := map[string]any{"user": u.Username, "change": change, "from": u.Roles.String(), "to": roles.String()}
	if groups != nil {
		details["groups"] = groups
	}
	return s.appendEvent(ctx, tx, o, audit.ActionUserChanged, audit.OutcomeSuccess, details)
}

func userBySubject(ctx context.Context, tx *sql.Tx, subject string) (User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE oidc_subject = ?`, subject))
}

// auditGroups is what an event records of a user's groups: at most
// maxAuditGroups, each at most 256 bytes, never nil.
func auditGroups(groups []string) []string {
	out := make([]string, 0, min(len(groups), maxAuditGroups))
	for _, g := range groups[:min(len(groups), maxAuditGroups)] {
		out = append(out, clip(g, 256))
	}
	return out
}
