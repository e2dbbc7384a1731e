package changes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/store"
)

// ErrRuleNotFound: no protection rule has that ID.
var ErrRuleNotFound = errors.New("protection rule not found")

// ProtectionRules reads the stored protection rules, oldest first. The
// built-in rule (BuiltinRule) is not stored; Protected always applies it.
func (s *Service) ProtectionRules(ctx context.Context) ([]Rule, error) {
	return listRules(ctx, s.db)
}

// AddProtectionRule stores a new rule (normalized), with its audit event in
// the same transaction. Admins only; a rule with the same meaning (kind and
// pattern, ignoring case) is refused as a validation error.
func (s *Service) AddProtectionRule(ctx context.Context, a Actor, r Rule) (Rule, error) {
	if !a.Roles.Has(auth.RoleAdmin) {
		return Rule{}, fmt.Errorf("add protection rule: %w: admin role needed", ErrForbidden)
	}
	r = r.Normalize()
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	r.CreatedBy, r.CreatedAt = a.Name, s.now().UTC()
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		id, err := insertRule(ctx, tx, r, r.CreatedAt)
		if err != nil {
			return err
		}
		r.ID = id
		return s.record(ctx, tx, a, audit.ActionProtectionChanged, Change{}, "added", ruleDetails(r))
	})
	if errors.Is(err, store.ErrConflict) {
		return Rule{}, &ValidationError{Fields: map[string]string{"pattern": "this rule exists already"}}
	}
	if err != nil {
		return Rule{}, fmt.Errorf("add protection rule: %w", err)
	}
	return r, nil
}

// RemoveProtectionRule deletes a stored rule, with its audit event in the
// same transaction. Admins only. The built-in rule cannot be removed.
func (s *Service) RemoveProtectionRule(ctx context.Context, a Actor, id int64) error {
	if !a.Roles.Has(auth.RoleAdmin) {
		return fmt.Errorf("remove protection rule: %w: admin role needed", ErrForbidden)
	}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		r, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := deleteRule(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.ActionProtectionChanged, Change{}, "removed", ruleDetails(r))
	})
	if err != nil {
		return fmt.Errorf("remove protection rule %d: %w", id, err)
	}
	return nil
}

func ruleDetails(r Rule) map[string]any {
	return map[string]any{"rule_id": r.ID, "kind": r.Kind, "pattern": r.Pattern, "note": r.Note}
}
