package changes

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/store"
)

const ruleColumns = `id, kind, pattern, note, created_by, created_at`

// listRules reads the stored protection rules, oldest first.
func listRules(ctx context.Context, q querier) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM protection_rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list protection rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var kind, at string
		if err := rows.Scan(&r.ID, &kind, &r.Pattern, &r.Note, &r.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("scan protection rule: %w", err)
		}
		r.Kind, r.CreatedAt = RuleKind(kind), store.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// matchKey is one rule's meaning: kind and pattern in lower case, as
// matching compares them. Two rules with one meaning are refused.
func matchKey(r Rule) string { return string(r.Kind) + "\x00" + strings.ToLower(r.Pattern) }

func insertRule(ctx context.Context, tx *sql.Tx, r Rule, now time.Time) (int64, error) {
	res, err := tx.ExecContext(
		ctx,
		`INSERT INTO protection_rules (kind, pattern, note, match_key, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		string(r.Kind),
		r.Pattern,
		r.Note,
		matchKey(r),
		r.CreatedBy,
		store.FormatTime(now),
	)
	if err != nil {
		return 0, fmt.Errorf("insert protection rule: %w", store.Translate(err))
	}
	return res.LastInsertId()
}

func getRule(ctx context.Context, q querier, id int64) (Rule, error) {
	var r Rule
	var kind, at string
	err := q.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM protection_rules WHERE id = ?`, id).
		Scan(&r.ID, &kind, &r.Pattern, &r.Note, &r.CreatedBy, &at)
	if err == sql.ErrNoRows {
		return Rule{}, fmt.Errorf("protection rule %d: %w", id, ErrRuleNotFound)
	}
	if err != nil {
		return Rule{}, fmt.Errorf("read protection rule %d: %w", id, err)
	}
	r.Kind, r.CreatedAt = RuleKind(kind), store.ParseTime(at)
	return r, nil
}

func deleteRule(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM protection_rules WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete protection rule %d: %w", id, err)
	}
	return nil
}
