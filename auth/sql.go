package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/decom/decom/store"
)

const userColumns = `id, username, password_hash, roles, disabled, created_at, updated_at`

// ByID loads a user; a missing one is ErrNotFound.
func (s *Service) ByID(ctx context.Context, id int64) (User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	u, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// ByUsername loads a user; a missing one is ErrNotFound.
func (s *Service) ByUsername(ctx context.Context, username string) (User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username)
	u, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

// List returns every user ordered by username.
func (s *Service) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountHolding returns how many enabled users hold at least one of roles
// (changes asks it so a policy never needs more approvers than exist).
func (s *Service) CountHolding(ctx context.Context, roles Roles) (int, error) {
	all, err := s.List(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range all {
		if !u.Disabled && slices.ContainsFunc(roles, u.Roles.Has) {
			n++
		}
	}
	return n, nil
}

// Count returns how many users exist.
func (s *Service) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (User, error) {
	var u User
	var roles, created, updated string
	if err := r.Scan(&u.ID, &u.Username, &u.passwordHash, &roles, &u.Disabled, &created, &updated); err != nil {
		return User{}, ownError(err)
	}
	u.Roles = parseRoleList(roles)
	u.CreatedAt = store.ParseTime(created)
	u.UpdatedAt = store.ParseTime(updated)
	return u, nil
}

// parseRoleList decodes the roles column (written by Roles.String).
func parseRoleList(s string) Roles {
	var out Roles
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, Role(f))
		}
	}
	return out
}

func insertUser(ctx context.Context, tx *sql.Tx, u User, hash string) (int64, error) {
	res, err := tx.ExecContext(
		ctx,
		`INSERT INTO users (username, password_hash, roles, disabled, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?)`,
		u.Username,
		hash,
		u.Roles.String(),
		store.FormatTime(u.CreatedAt),
		store.FormatTime(u.UpdatedAt),
	)
	if err != nil {
		return 0, fmt.Errorf("insert user: %w", ownError(err))
	}
	return res.LastInsertId()
}

// updateUser sets one column (set is a fixed "col = ?" from this package,
// never user input).
func updateUser(ctx context.Context, tx *sql.Tx, username, set string, arg any, now time.Time) error {
	res, err := tx.ExecContext(
		ctx,
		`UPDATE users SET `+set+`, updated_at = ? WHERE username = ?`,
		arg,
		store.FormatTime(now),
		username,
	)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	return nil
}

// ownError turns store's translated driver errors into this package's
// sentinels, so callers never need to import store.
func ownError(err error) error {
	err = store.Translate(err)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrConflict
	}
	return err
}
