// Package changes is decom's change-request domain: planning an exact list of
// deletions, team approval under a policy, re-validation and the start of
// execution. Pure rules (lifecycle, approval, policy, plan building, hashing,
// re-validation) live beside their types and do no I/O; Service methods are
// rule + SQL + audit.Append in one transaction. The poller package carries
// execution on from the operation rows Execute writes.
package changes

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/cloud"
)

// State is a change request's lifecycle state.
type State string

// Lifecycle states: pending -> approved -> executing ->
// succeeded | partially_failed | failed, with pending -> rejected,
// pending|approved -> cancelled, approved -> expired and
// approved -> pending when re-validation finds differences.
const (
	StatePending         State = "pending"
	StateApproved        State = "approved"
	StateRejected        State = "rejected"
	StateCancelled       State = "cancelled"
	StateExpired         State = "expired"
	StateExecuting       State = "executing"
	StateSucceeded       State = "succeeded"
	StatePartiallyFailed State = "partially_failed"
	StateFailed          State = "failed"
)

// States lists every state in lifecycle order, for filters.
var States = []State{StatePending, StateApproved, StateExecuting, StateSucceeded,
	StatePartiallyFailed, StateFailed, StateRejected, StateCancelled, StateExpired}

// Final reports whether nothing can change the state any more.
func (s State) Final() bool {
	switch s {
	case StateRejected, StateCancelled, StateExpired, StateSucceeded, StatePartiallyFailed, StateFailed:
		return true
	}
	return false
}

// Finished reports whether the change ran to an end (succeeded, partially
// failed or failed), as opposed to being decided without running.
func (s State) Finished() bool {
	return s == StateSucceeded || s == StatePartiallyFailed || s == StateFailed
}

// Class is the badge class of a change state, in the inventory's status
// vocabulary so one colour means one thing on every page.
func (s State) Class() cloud.StatusClass {
	switch s {
	case StateSucceeded:
		return cloud.ClassActive
	case StateExecuting:
		return cloud.ClassDeleting
	case StatePartiallyFailed, StateFailed, StateRejected:
		return cloud.ClassFailed
	case StateCancelled, StateExpired:
		return cloud.ClassGone
	}
	return cloud.ClassTransitional
}

// OpState is one operation row's state, the one definition shared by
// changes (which writes queued rows and reads progress) and the poller
// (which moves them; CanMoveOp is the rule it follows).
type OpState string

// Operation states: queued -> submitted -> in_progress -> done | failed | timed_out.
const (
	OpQueued     OpState = "queued"
	OpSubmitted  OpState = "submitted"
	OpInProgress OpState = "in_progress"
	OpDone       OpState = "done"
	OpFailed     OpState = "failed"
	OpTimedOut   OpState = "timed_out"
)

// Terminal reports whether the operation is finished.
func (s OpState) Terminal() bool { return s == OpDone || s == OpFailed || s == OpTimedOut }

// Label is the state as the console shows it. A submitted delete's outcome
// is not known until a read of the cloud confirms it (the poller's settle
// rule, docs/changes.md).
func (s OpState) Label() string {
	if s == OpSubmitted {
		return "sent; confirming with the cloud"
	}
	return string(s)
}

// Class is the badge class of an operation state ("" = not started yet).
func (s OpState) Class() cloud.StatusClass {
	switch s {
	case OpDone:
		return cloud.ClassActive
	case OpSubmitted, OpInProgress:
		return cloud.ClassDeleting
	case OpFailed, OpTimedOut:
		return cloud.ClassFailed
	}
	return cloud.ClassTransitional
}

// Actor is whoever acts on a change: the signed-in user (handlers convert
// auth.User) or "system" for sweeps.
type Actor struct {
	Name      string
	Roles     auth.Roles
	ClientIP  string
	UserAgent string
}

// System is the actor of background transitions (expiry, re-validation).
var System = Actor{Name: "system"}

// Change is one change request.
type Change struct {
	ID                int64
	State             State
	Requester         string
	Reason            string
	Ticket            string
	Force             bool
	Plan              Plan
	PlanHash          string
	Revision          int
	ApprovalsRequired int
	Differences       []Difference // live-state differences found at the last execution attempt
	RetryOf           int64
	Projects          []string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	SubmittedAt       time.Time
	ApprovedAt        time.Time
	ExpiresAt         time.Time
	ExecutedAt        time.Time
	ExecutedBy        string
	FinishedAt        time.Time
	Decisions         []Decision  // approvals, rejections, cancellations, newest last
	Operations        []Operation // one per planned resource once executing
}

// Name is the change's human name, also accepted as typed confirmation.
func (c Change) Name() string { return fmt.Sprintf("CR-%d", c.ID) }

// Approvals counts the approvals of the current plan revision.
func (c Change) Approvals() int {
	n := 0
	for _, d := range c.Decisions {
		if d.Kind == DecisionApprove && d.Current(c) {
			n++
		}
	}
	return n
}

// DecisionKind is what a decision did.
type DecisionKind string

// Decision kinds.
const (
	DecisionApprove DecisionKind = "approve"
	DecisionReject  DecisionKind = "reject"
	DecisionCancel  DecisionKind = "cancel"
)

// Decision is one approval, rejection or cancellation, bound to the plan
// hash the actor saw and the revision it belonged to.
type Decision struct {
	Actor    string
	Kind     DecisionKind
	Comment  string
	PlanHash string
	Revision int
	At       time.Time
}

// Current reports whether d was made on c's current plan revision. The hash
// alone is not enough: re-validation can bring an earlier plan back.
func (d Decision) Current(c Change) bool {
	return d.PlanHash == c.PlanHash && d.Revision == c.Revision
}

// Operation is one planned resource's execution row.
type Operation struct {
	Seq        int
	Batch      int
	Item       Item
	State      OpState
	Attempts   int
	LastError  string
	JobID      string
	LastStatus string
	Polls      int
	Submitted  time.Time
	Finished   time.Time
	// Trail is the cloud's request IDs of the delete calls and latest status
	// reads made for this resource (the poller records them).
	Trail []cloud.TrailCall
}

// RequestIDs lists the cloud's request IDs of the destructive calls made for
// the operation (destructive true), or of its recorded status reads.
func (o Operation) RequestIDs(destructive bool) []string {
	var out []string
	for _, c := range o.Trail {
		if c.Destructive == destructive {
			out = append(out, c.RequestID)
		}
	}
	return out
}

// ChangeFilter selects changes for the lists.
type ChangeFilter struct {
	State     State  // "" = any
	Requester string // "" = any
	Project   string // "" = any
	Service   string // "" = any
	Limit     int    // 0 = 100
}

// Domain errors. Handlers map them to HTTP statuses.
var (
	ErrNotFound     = errors.New("change not found")
	ErrForbidden    = errors.New("not allowed")
	ErrConflict     = errors.New("change was modified concurrently")
	ErrInvalidState = errors.New("not allowed in the change's current state")
	ErrExpired      = errors.New("approval expired")
	ErrConfirmation = errors.New("confirmation does not match")
	ErrDiffers      = errors.New("live state differs from the plan; the change is back for approval")
)

// ValidationError lists what is wrong with a form's input, by field.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the fields in name order, so the message never changes with
// map iteration.
func (e *ValidationError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// FieldErrors is the message by field, as every validation error offers it.
func (e *ValidationError) FieldErrors() map[string]string { return e.Fields }
