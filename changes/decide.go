package changes

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// Approve records the actor's approval of the plan revision they saw
// (planHash); the change becomes approved once enough approvals are in.
func (s *Service) Approve(ctx context.Context, a Actor, id int64, planHash, comment string) (Change, error) {
	if err := textError("comment", comment); err != nil {
		return Change{}, err
	}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChange(ctx, tx, id)
		if err != nil {
			return err
		}
		pol, err := s.policyIn(ctx, tx, c.Plan)
		if err != nil {
			return err
		}
		if err := CanApprove(a, c, pol); err != nil {
			return err
		}
		if planHash != c.PlanHash {
			return fmt.Errorf("%w: the plan changed since you saw it", ErrConflict)
		}
		now := s.now().UTC()
		d := Decision{
			Actor:    a.Name,
			Kind:     DecisionApprove,
			Comment:  strings.TrimSpace(comment),
			PlanHash: c.PlanHash,
			Revision: c.Revision,
			At:       now,
		}
		if err := insertDecision(ctx, tx, id, d); err != nil {
			return err
		}
		got := c.Approvals() + 1
		details := map[string]any{
			"plan_hash": c.PlanHash,
			"comment":   d.Comment,
			"approvals": got,
			"required":  c.ApprovalsRequired,
		}
		if got < c.ApprovalsRequired {
			// Still pending: the conditional update proves it still is.
			if err := move(ctx, tx, id, StatePending, StatePending, now, update{}); err != nil {
				return err
			}
			return s.record(ctx, tx, a, audit.ActionApproved, c, "approval_recorded", details)
		}
		if err := move(ctx, tx, id, StatePending, StateApproved, now,
			update{ApprovedAt: &now, ExpiresAt: new(now.Add(pol.TTL))}); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, audit.ActionApproved, c, string(StateApproved), details); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindApproved, c, StateApproved, a, d.Comment)
	})
	if err != nil {
		return Change{}, fmt.Errorf("approve change %d: %w", id, err)
	}
	s.notified()
	return s.Get(ctx, id)
}

// Reject rejects a pending change with a comment; it is final.
func (s *Service) Reject(ctx context.Context, a Actor, id int64, comment string) (Change, error) {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return Change{}, &ValidationError{Fields: map[string]string{"comment": "say why"}}
	}
	if err := textError("comment", comment); err != nil {
		return Change{}, err
	}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChange(ctx, tx, id)
		if err != nil {
			return err
		}
		pol, err := s.policyIn(ctx, tx, c.Plan)
		if err != nil {
			return err
		}
		if err := CanReject(a, c, pol); err != nil {
			return err
		}
		now := s.now().UTC()
		if err := insertDecision(ctx, tx, id, Decision{Actor: a.Name, Kind: DecisionReject, Comment: comment, PlanHash: c.PlanHash, Revision: c.Revision, At: now}); err != nil {
			return err
		}
		if err := move(ctx, tx, id, StatePending, StateRejected, now, update{FinishedAt: &now}); err != nil {
			return err
		}
		details := map[string]any{"comment": comment}
		if err := s.record(ctx, tx, a, audit.ActionRejected, c, string(StateRejected), details); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindRejected, c, StateRejected, a, comment)
	})
	if err != nil {
		return Change{}, fmt.Errorf("reject change %d: %w", id, err)
	}
	s.notified()
	return s.Get(ctx, id)
}

// Cancel cancels a change before execution; it is final.
func (s *Service) Cancel(ctx context.Context, a Actor, id int64, comment string) (Change, error) {
	if err := textError("comment", comment); err != nil {
		return Change{}, err
	}
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := CanCancel(a, c); err != nil {
			return err
		}
		now := s.now().UTC()
		comment = strings.TrimSpace(comment)
		if err := insertDecision(ctx, tx, id, Decision{Actor: a.Name, Kind: DecisionCancel, Comment: comment, PlanHash: c.PlanHash, Revision: c.Revision, At: now}); err != nil {
			return err
		}
		if err := move(ctx, tx, id, c.State, StateCancelled, now, update{FinishedAt: &now}); err != nil {
			return err
		}
		return s.record(
			ctx,
			tx,
			a,
			audit.ActionCancelled,
			c,
			string(StateCancelled),
			map[string]any{"comment": comment, "from": c.State},
		)
	})
	if err != nil {
		return Change{}, fmt.Errorf("cancel change %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// ExpireDue moves every approved change whose approval lapsed to expired and
// returns how many it expired.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	ids, err := dueExpiry(ctx, s.db, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.expire(ctx, id)
		if err != nil && !isConflict(err) {
			return n, err
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}

func (s *Service) expire(ctx context.Context, id int64) error {
	defer s.notified()
	return store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChange(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if !Expired(c, now) {
			return fmt.Errorf("expire change %d: %w", id, ErrConflict)
		}
		if err := move(ctx, tx, id, StateApproved, StateExpired, now, update{FinishedAt: &now}); err != nil {
			return err
		}
		if err := s.record(ctx, tx, System, audit.ActionExpired, c, string(StateExpired),
			map[string]any{"expires_at": store.FormatTime(c.ExpiresAt)}); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindExpired, c, StateExpired, System, "")
	})
}

// RunExpiry expires lapsed approvals every interval until ctx ends; it
// returns nil on cancellation. cmd/web runs it beside the poller.
func (s *Service) RunExpiry(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("expire approvals", "err", err)
		} else if n > 0 {
			s.log.Info("approvals expired", "changes", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
