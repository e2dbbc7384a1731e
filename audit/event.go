// Package audit is decom's append-only, hash-chained audit log: events are
// appended inside the caller's transaction, queried, exported and verified.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
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
	ActionAuditExport        Action = "audit_export"
)

// Event is one audit record. Seq, PrevHash and Hash are set by Append.
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

// Append writes e inside tx, chaining it to the previous event. PLACEHOLDER:
// the audit helper replaces this with the real implementation.
func Append(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	return e, nil
}
