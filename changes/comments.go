package changes

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// MaxText bounds every free text a person writes on a change: reasons,
// decision comments and the discussion (characters, not bytes).
const MaxText = 4000

// checkText adds field's message to f when s is longer than MaxText.
func checkText(f map[string]string, field, s string) {
	if n := utf8.RuneCountInString(s); n > MaxText {
		f[field] = fmt.Sprintf("at most %d characters (this one has %d)", MaxText, n)
	}
}

// textError is checkText for a single field, as an error.
func textError(field, s string) error {
	f := map[string]string{}
	checkText(f, field, s)
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// Comment is one message of a change's discussion.
type Comment struct {
	ID    int64
	Actor string
	Body  string
	At    time.Time
}

// CanComment reports whether the actor may join the discussion of c under
// pol: its requester, anyone who may approve it, auditors and admins.
func CanComment(a Actor, c Change, pol Policy) error {
	if a.Name != "" && (a.Name == c.Requester || pol.MayApprove(a) || a.Roles.Has(auth.RoleAuditor) ||
		a.Roles.Has(auth.RoleAdmin)) {
		return nil
	}
	return fmt.Errorf("comment on %s: %w: the requester, approvers, auditors and admins discuss a change",
		c.Name(), ErrForbidden)
}

// AddComment posts a comment on change id. It is audited with its text (so
// the audit search finds it) and announced, in one transaction.
func (s *Service) AddComment(ctx context.Context, a Actor, id int64, body string) (Comment, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return Comment{}, &ValidationError{Fields: map[string]string{"comment": "write something"}}
	}
	if err := textError("comment", body); err != nil {
		return Comment{}, err
	}
	cm := Comment{Actor: a.Name, Body: body, At: s.now().UTC()}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChangeRow(ctx, tx, id)
		if err != nil {
			return err
		}
		pol, err := s.policyIn(ctx, tx, c.Plan)
		if err != nil {
			return err
		}
		if err := CanComment(a, c, pol); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO change_comments (change_id, actor, body, at) VALUES (?, ?, ?, ?)`,
			id, cm.Actor, cm.Body, store.FormatTime(cm.At))
		if err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		cm.ID, _ = res.LastInsertId()
		details := map[string]any{"comment_id": cm.ID, "text": body}
		if err := s.record(ctx, tx, a, audit.ActionCommented, c, "posted", details); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindComment, c, c.State, a, body)
	})
	if err != nil {
		return Comment{}, fmt.Errorf("comment on change %d: %w", id, err)
	}
	s.notified()
	return cm, nil
}

// Comments lists the discussion of change id, oldest first.
func (s *Service) Comments(ctx context.Context, id int64) ([]Comment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, actor, body, at FROM change_comments
		WHERE change_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list comments of change %d: %w", id, err)
	}
	defer rows.Close()
	var out []Comment
	for rows.Next() {
		var c Comment
		var at string
		if err := rows.Scan(&c.ID, &c.Actor, &c.Body, &at); err != nil {
			return nil, fmt.Errorf("scan comment: %w", err)
		}
		c.At = store.ParseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
