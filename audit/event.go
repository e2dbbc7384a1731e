// Package audit is decom's append-only, hash-chained audit log: events are
// appended inside the caller's transaction, queried, exported and verified.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Action names what an event records.
type Action string

// Every action decom records.
const (
	ActionSignIn             Action = "sign_in"
	ActionSignInFailure      Action = "sign_in_failure"
	ActionSignOut            Action = "sign_out"
	ActionPlanCreated        Action = "plan_created"
	ActionApproved           Action = "approved"
	ActionRejected           Action = "rejected"
	ActionCancelled          Action = "cancelled"
	ActionExpired            Action = "expired"
	ActionExecutionStarted   Action = "execution_started"
	ActionRevalidationFailed Action = "revalidation_failed"
	ActionCloudCall          Action = "cloud_call"
	ActionResourceOutcome    Action = "resource_outcome"
	ActionChangeFinished     Action = "change_finished"
	ActionUserChanged        Action = "user_changed"
	ActionPolicyChanged      Action = "policy_changed"
	ActionProtectionChanged  Action = "protection_changed"
	ActionAuditExport        Action = "audit_export"
	ActionSessionRevoked     Action = "session_revoked" // sessions ended by someone or something other than sign-out
	// ActionRecyclePolicyChanged: an admin changed a DMS project's recycle policy in the cloud.
	ActionRecyclePolicyChanged Action = "recycle_policy_changed"
	// ActionBackupStored: ROMA assets were exported and their archive stored before their delete.
	ActionBackupStored   Action = "backup_stored"
	ActionCommented      Action = "commented"
	ActionChannelChanged Action = "notify_channel_changed"
)

// Actions lists every Action, for filter menus and validation.
var Actions = []Action{
	ActionSignIn, ActionSignInFailure, ActionSignOut, ActionPlanCreated, ActionApproved,
	ActionRejected, ActionCancelled, ActionExpired, ActionExecutionStarted,
	ActionRevalidationFailed, ActionCloudCall, ActionResourceOutcome, ActionChangeFinished,
	ActionUserChanged, ActionPolicyChanged, ActionAuditExport, ActionSessionRevoked, ActionCommented,
	ActionChannelChanged, ActionProtectionChanged, ActionRecyclePolicyChanged, ActionBackupStored,
}

// DestructiveActions are the actions counted by DailyDestructive: one
// resource_outcome event per resource a change tried to delete.
var DestructiveActions = []Action{ActionResourceOutcome}

// Outcomes callers should use in Event.Outcome (free text is allowed).
const (
	OutcomeSuccess = "success" // the action did what it was asked
	OutcomeFailure = "failure" // it was attempted and failed
	OutcomeDenied  = "denied"  // it was refused (policy, role, bad credentials)
	OutcomePending = "pending" // accepted, result not known yet (async cloud job)
)

// TimeLayout is the one encoding of Event.Time in the database, in exports and
// in the hash: UTC with exactly nine fractional digits, so text order is time
// order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// GenesisHash is PrevHash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one audit record. Seq, PrevHash and Hash are set by Append; Time
// too when zero.
type Event struct {
	Seq          int64           `json:"seq"`
	Time         time.Time       `json:"time"`
	Actor        string          `json:"actor"`
	ClientIP     string          `json:"client_ip"`
	UserAgent    string          `json:"user_agent"`
	Action       Action          `json:"action"`
	ChangeID     int64           `json:"change_id"` // 0 when the event belongs to no change
	Service      string          `json:"service"`
	Project      string          `json:"project"`
	ResourceID   string          `json:"resource_id"`
	ResourceName string          `json:"resource_name"`
	Outcome      string          `json:"outcome"`
	Details      json.RawMessage `json:"details"` // JSON object, secrets redacted by Append
	PrevHash     string          `json:"prev_hash"`
	Hash         string          `json:"hash"`
}

// ErrTampered is matched (errors.Is) by every *TamperError.
var ErrTampered = errors.New("audit log tampered")

// TamperError names the first event at which verification failed.
type TamperError struct {
	Seq    int64  // first bad event (or the checkpoint's event)
	Reason string // what was found, for humans
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit log tampered at event %d: %s", e.Seq, e.Reason)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// ValidationError reports an event or filter that cannot be accepted.
type ValidationError struct{ Field, Problem string }

func (e *ValidationError) Error() string { return e.Field + ": " + e.Problem }
