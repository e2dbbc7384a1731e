package changes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/decom/decom/auth"
)

// transitions lists every allowed lifecycle move; anything else is refused.
var transitions = map[State][]State{
	StatePending:   {StateApproved, StateRejected, StateCancelled},
	StateApproved:  {StateExecuting, StateCancelled, StateExpired, StatePending},
	StateExecuting: {StateSucceeded, StatePartiallyFailed, StateFailed},
}

// CanMove reports whether the lifecycle allows from -> to. Final states
// allow nothing: a decided request stays decided.
func CanMove(from, to State) bool {
	return slices.Contains(transitions[from], to)
}

// opTransitions lists every allowed operation move.
var opTransitions = map[OpState][]OpState{
	OpQueued:     {OpSubmitted},
	OpSubmitted:  {OpInProgress, OpDone, OpFailed, OpTimedOut, OpQueued},
	OpInProgress: {OpDone, OpFailed, OpTimedOut},
}

// CanMoveOp reports whether an operation may go from -> to. Submitted ->
// queued is the one way back: a re-read proved the delete never happened.
func CanMoveOp(from, to OpState) bool { return slices.Contains(opTransitions[from], to) }

// FinalState names an executing change's final state from its operations'
// outcomes (done and failed-or-timed-out counts).
func FinalState(done, failed int) State {
	switch {
	case failed == 0:
		return StateSucceeded
	case done == 0:
		return StateFailed
	default:
		return StatePartiallyFailed
	}
}

// CanPlan reports whether the actor may create change requests.
func CanPlan(a Actor) error {
	if a.Roles.Has(auth.RoleRequester) || a.Roles.Has(auth.RoleAdmin) {
		return nil
	}
	return fmt.Errorf("plan changes: %w: requester role needed", ErrForbidden)
}

// CanApprove reports whether the actor may approve the change under pol:
// pending, not the requester, holding an approver role, not yet approved
// by the same actor for this plan revision.
func CanApprove(a Actor, c Change, pol Policy) error {
	if err := canDecide(a, c, pol, "approve"); err != nil {
		return err
	}
	for _, d := range c.Decisions {
		if d.Kind == DecisionApprove && d.Actor == a.Name && d.Current(c) {
			return fmt.Errorf("approve %s: %w: already approved by %s", c.Name(), ErrConflict, a.Name)
		}
	}
	return nil
}

// CanReject reports whether the actor may reject the change: same people as
// approval.
func CanReject(a Actor, c Change, pol Policy) error {
	return canDecide(a, c, pol, "reject")
}

func canDecide(a Actor, c Change, pol Policy, verb string) error {
	if c.State != StatePending {
		return fmt.Errorf("%s %s (%s): %w", verb, c.Name(), c.State, ErrInvalidState)
	}
	if a.Name == c.Requester {
		return fmt.Errorf("%s %s: %w: the requester may not decide their own request", verb, c.Name(), ErrForbidden)
	}
	if !pol.MayApprove(a) {
		return fmt.Errorf(
			"%s %s: %w: role %s needed",
			verb,
			c.Name(),
			ErrForbidden,
			strings.ReplaceAll(pol.ApproverRoles.String(), ",", " or "),
		)
	}
	return nil
}

// CanCancel reports whether the actor may cancel: the requester (or an
// admin) before execution.
func CanCancel(a Actor, c Change) error {
	if a.Name != c.Requester && !a.Roles.Has(auth.RoleAdmin) {
		return fmt.Errorf("cancel %s: %w: only the requester cancels", c.Name(), ErrForbidden)
	}
	return moveErr(c, StateCancelled)
}

// CanExecute reports whether the actor may execute the change now: approved,
// not expired, and the requester or an approver.
func CanExecute(a Actor, c Change, pol Policy, now time.Time) error {
	if a.Name != c.Requester && !pol.MayApprove(a) {
		return fmt.Errorf("execute %s: %w: the requester or an approver executes", c.Name(), ErrForbidden)
	}
	if err := moveErr(c, StateExecuting); err != nil {
		return err
	}
	if Expired(c, now) {
		return fmt.Errorf("execute %s: %w", c.Name(), ErrExpired)
	}
	return nil
}

// Expired reports whether an approved change's approval has lapsed.
func Expired(c Change, now time.Time) bool {
	return c.State == StateApproved && !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// CheckConfirmation accepts, when the plan needs confirmation, the change's
// name (case-insensitive) or its resource count.
func CheckConfirmation(c Change, typed string) error {
	if !c.Plan.NeedsConfirmation() {
		return nil
	}
	t := strings.TrimSpace(typed)
	if strings.EqualFold(t, c.Name()) || t == strconv.Itoa(len(c.Plan.Items)) {
		return nil
	}
	return fmt.Errorf("execute %s: %w: type %s or %d", c.Name(), ErrConfirmation, c.Name(), len(c.Plan.Items))
}

// CanRetry reports whether failed resources of c may be planned again.
func CanRetry(a Actor, c Change) error {
	if err := CanPlan(a); err != nil {
		return err
	}
	if c.State != StatePartiallyFailed && c.State != StateFailed {
		return fmt.Errorf("retry %s (%s): %w", c.Name(), c.State, ErrInvalidState)
	}
	return nil
}

func moveErr(c Change, to State) error {
	if !CanMove(c.State, to) {
		return fmt.Errorf("%s %s -> %s: %w", c.Name(), c.State, to, ErrInvalidState)
	}
	return nil
}

// Actions says which actions an actor may take on a change right now. It is
// built from the Can* rules under the change's effective policy, so the
// console offers exactly what the server would accept.
type Actions struct {
	Approve, Reject, Cancel, Execute, Retry bool
	Comment                                 bool
}

// AllowedActions evaluates every Can* rule for a on c under pol at now.
func AllowedActions(a Actor, c Change, pol Policy, now time.Time) Actions {
	return Actions{
		Approve: CanApprove(a, c, pol) == nil,
		Reject:  CanReject(a, c, pol) == nil,
		Cancel:  CanCancel(a, c) == nil,
		Execute: CanExecute(a, c, pol, now) == nil,
		Retry:   CanRetry(a, c) == nil,
		Comment: CanComment(a, c, pol) == nil,
	}
}
