package changes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// Execute starts an approved change. It re-reads the live state of every
// planned resource first (outside any transaction); if anything differs the
// change goes back to pending with a re-built plan and the differences, and
// Execute returns an error wrapping ErrDiffers. Otherwise the change becomes
// executing with one queued operation row per resource, which the poller
// submits and follows.
func (s *Service) Execute(ctx context.Context, a Actor, id int64, confirm string) (Change, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if Expired(c, s.now()) {
		if err := s.expire(ctx, id); err != nil && !isConflict(err) {
			return Change{}, err
		}
		return Change{}, fmt.Errorf("execute %s: %w", c.Name(), ErrExpired)
	}
	pol, err := s.policyFor(ctx, c.Plan)
	if err != nil {
		return Change{}, err
	}
	if err := CanExecute(a, c, pol, s.now()); err != nil {
		return Change{}, err
	}
	if err := CheckConfirmation(c, confirm); err != nil {
		return Change{}, err
	}
	live, err := s.live(ctx, c.Plan)
	if err != nil {
		return Change{}, fmt.Errorf("execute %s: re-read live state: %w", c.Name(), err)
	}
	if diffs := Revalidate(c.Plan, live); len(diffs) > 0 {
		return s.sendBack(ctx, a, c, pol, diffs, Replan(c.Plan, live))
	}
	err = store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now().UTC()
		// The hash guard makes sure what runs is what was approved.
		if err := move(ctx, tx, id, StateApproved, StateExecuting, now,
			update{ExecutedAt: &now, ExecutedBy: &a.Name, DifferencesJSON: new("[]")}); err != nil {
			return err
		}
		if err := checkHash(ctx, tx, id, c.PlanHash); err != nil {
			return err
		}
		if err := checkUnexpired(ctx, tx, id, now); err != nil {
			return err
		}
		if err := insertOperations(ctx, tx, id, c.Plan, now); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, audit.ActionExecutionStarted, c, string(StateExecuting), map[string]any{
			"plan_hash": c.PlanHash, "resources": len(c.Plan.Items), "batches": len(c.Plan.Batches)}); err != nil {
			return err
		}
		return s.announce(ctx, tx, notify.KindStarted, c, StateExecuting, a, "")
	})
	if errors.Is(err, ErrExpired) {
		if err := s.expire(ctx, id); err != nil && !isConflict(err) {
			return Change{}, err
		}
	}
	if err != nil {
		return Change{}, fmt.Errorf("execute %s: %w", c.Name(), err)
	}
	s.wake()
	s.notified()
	return s.Get(ctx, id)
}

func checkHash(ctx context.Context, tx *sql.Tx, id int64, hash string) error {
	var got string
	if err := tx.QueryRowContext(ctx, `SELECT plan_hash FROM changes WHERE id = ?`, id).Scan(&got); err != nil {
		return fmt.Errorf("read plan hash: %w", err)
	}
	if got != hash {
		return fmt.Errorf("%w: plan hash changed", ErrConflict)
	}
	return nil
}

// checkUnexpired refuses a change whose approval lapsed at now: the live
// re-read before execution takes time.
func checkUnexpired(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	var expires string
	if err := tx.QueryRowContext(ctx, `SELECT expires_at FROM changes WHERE id = ?`, id).Scan(&expires); err != nil {
		return fmt.Errorf("read expiry: %w", err)
	}
	if at := store.ParseTime(expires); !at.IsZero() && !now.Before(at) {
		return ErrExpired
	}
	return nil
}

// live re-reads every planned resource, the protection rules and, for a
// sweep, the failed set.
func (s *Service) live(ctx context.Context, p Plan) (Live, error) {
	switch p.Kind {
	case KindRestore:
		return s.liveBin(ctx, p)
	case KindImport:
		return s.liveImport(ctx, p)
	}
	refs := make([]cloud.Ref, len(p.Items))
	for i, it := range p.Items {
		refs[i] = it.Ref
	}
	var l Live
	var err error
	if l.Rules, err = s.ProtectionRules(ctx); err != nil {
		return Live{}, err
	}
	if l.Resources, err = s.readMany(ctx, refs); err != nil {
		return Live{}, err
	}
	if err := s.rereadDMSTags(ctx, l.Resources); err != nil {
		return Live{}, err
	}
	if p.Sweep != nil {
		if l.Failed, err = s.failedSet(ctx, *p.Sweep); err != nil {
			return Live{}, err
		}
	}
	if len(p.Bins) > 0 {
		var res []cloud.Resource
		for _, b := range p.Bins {
			res = append(
				res,
				cloud.Resource{Ref: cloud.Ref{Account: b.Account, Project: b.Project, Service: cloud.RocketMQ}},
			)
		}
		if l.Bins, err = s.bins(ctx, res); err != nil {
			return Live{}, err
		}
	}
	return l, nil
}

// sendBack returns an approved change to pending with the re-built plan and
// the differences; approvals of the old plan no longer count.
func (s *Service) sendBack(
	ctx context.Context,
	a Actor,
	c Change,
	pol Policy,
	diffs []Difference,
	plan Plan,
) (Change, error) {
	diffJSON, err := json.Marshal(diffs)
	if err != nil {
		return Change{}, fmt.Errorf("encode differences: %w", err)
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return Change{}, fmt.Errorf("encode plan: %w", err)
	}
	err = store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now().UTC()
		// Only the revision that was re-read goes back; a newer one (sent back
		// and approved again meanwhile) stays decided.
		if err := checkHash(ctx, tx, c.ID, c.PlanHash); err != nil {
			return err
		}
		if err := move(ctx, tx, c.ID, StateApproved, StatePending, now, update{
			Plan: &revisedPlan{JSON: string(planJSON), Hash: plan.Hash(), Revision: c.Revision + 1,
				Resources: len(plan.Items), ApprovalsRequired: pol.Required(plan)},
			DifferencesJSON: new(string(diffJSON)), ApprovedAt: &time.Time{}, ExpiresAt: &time.Time{}, SubmittedAt: &now}); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, audit.ActionRevalidationFailed, c, string(StatePending), map[string]any{
			"old_plan_hash": c.PlanHash, "new_plan_hash": plan.Hash(), "differences": diffs}); err != nil {
			return err
		}
		sent := c
		sent.Plan = plan
		return s.announce(ctx, tx, notify.KindSentBack, sent, StatePending, a,
			fmt.Sprintf("%d difference(s) between the plan and the live state", len(diffs)))
	})
	if err != nil {
		return Change{}, fmt.Errorf("execute %s: %w", c.Name(), err)
	}
	c, err = s.Get(ctx, c.ID)
	if err != nil {
		return Change{}, err
	}
	s.notified()
	return c, fmt.Errorf("execute %s: %w (%d differences)", c.Name(), ErrDiffers, len(diffs))
}

// RetryFailed plans the failed and timed-out resources of a finished change
// as a new pending change, in one call.
func (s *Service) RetryFailed(ctx context.Context, a Actor, id int64) (Change, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if err := CanRetry(a, c); err != nil {
		return Change{}, err
	}
	var refs []cloud.Ref
	for _, op := range c.Operations {
		if op.State == OpFailed || op.State == OpTimedOut {
			refs = append(refs, op.Item.Ref)
		}
	}
	if len(refs) == 0 {
		return Change{}, fmt.Errorf("retry %s: %w: nothing failed", c.Name(), ErrInvalidState)
	}
	n, err := s.Plan(ctx, a, PlanRequest{Refs: refs, Reason: fmt.Sprintf("Retry of %s: %s", c.Name(), c.Reason),
		Ticket: c.Ticket, Force: c.Force, NoBackup: c.Plan.NoBackup, RetryOf: id})
	var ve *ValidationError
	if errors.As(err, &ve) {
		return Change{}, fmt.Errorf("retry %s: %w", c.Name(), err)
	}
	return n, err
}

// Progress counts a change's operations by state.
type Progress struct {
	Total, Queued, Submitted, InProgress, Done, Failed, TimedOut int
}

// Finished is the number of operations in a terminal state.
func (p Progress) Finished() int { return p.Done + p.Failed + p.TimedOut }

// Percent is the finished share, 0..100.
func (p Progress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return p.Finished() * 100 / p.Total
}

// Progress counts the change's operations by state.
func (c Change) Progress() Progress {
	p := Progress{Total: len(c.Operations)}
	for _, op := range c.Operations {
		switch op.State {
		case OpQueued:
			p.Queued++
		case OpSubmitted:
			p.Submitted++
		case OpInProgress:
			p.InProgress++
		case OpDone:
			p.Done++
		case OpFailed:
			p.Failed++
		case OpTimedOut:
			p.TimedOut++
		}
	}
	return p
}
