// Package notify announces change-request events to the chat and webhook
// channels admins configure: an outbox table written in the caller's
// transaction (Enqueue), message formats (generic signed JSON, Slack, Teams,
// Feishu/Lark, DingTalk, WeCom), and a delivery Worker that calls out only
// through a guarded HTTP client (no private addresses unless allowlisted, no
// redirects, timeouts). Delivery is at-least-once; every message carries the
// event ID for receivers to deduplicate.
package notify

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Kind names an announced event.
type Kind string

// The announced events.
const (
	KindPending  Kind = "pending_approval"
	KindApproved Kind = "approved"
	KindRejected Kind = "rejected"
	KindSentBack Kind = "sent_back"
	KindStarted  Kind = "execution_started"
	KindFinished Kind = "execution_finished"
	KindFailed   Kind = "execution_failed"
	KindExpired  Kind = "expired"
	KindComment  Kind = "comment"
	// KindBreakGlass: a requester approved their own change under
	// break-glass (issue 12 item 5 announces it with this kind).
	KindBreakGlass Kind = "break_glass_approved"
)

// Kinds lists every Kind.
var Kinds = []Kind{KindPending, KindApproved, KindRejected, KindSentBack, KindStarted, KindFinished,
	KindFailed, KindExpired, KindComment, KindBreakGlass}

// Title is the human headline of a kind.
func (k Kind) Title() string {
	switch k {
	case KindPending:
		return "awaits approval"
	case KindApproved:
		return "was approved"
	case KindRejected:
		return "was rejected"
	case KindSentBack:
		return "was sent back for approval: the live state differs from the plan"
	case KindStarted:
		return "started executing"
	case KindFinished:
		return "finished"
	case KindFailed:
		return "failed"
	case KindExpired:
		return "expired before execution"
	case KindComment:
		return "has a new comment"
	case KindBreakGlass:
		return "was approved by its requester under BREAK-GLASS"
	}
	return string(k)
}

// Event is one announcement: what happened to which change, by whom. It is
// the "event" object of the generic JSON message (docs/notifications.md).
type Event struct {
	ID         string    `json:"id"` // same for every channel of one event: deduplicate on it
	Kind       Kind      `json:"kind"`
	At         time.Time `json:"at"`
	ChangeID   int64     `json:"change_id"`
	ChangeName string    `json:"change_name"`
	State      string    `json:"state"`
	Actor      string    `json:"actor"`
	Requester  string    `json:"requester"`
	Reason     string    `json:"reason"`
	Resources  int       `json:"resources"`
	Projects   []string  `json:"projects"`
	Text       string    `json:"text,omitempty"` // the comment, or the decision's comment
}

// NewID returns a random event ID ("evt_" and 32 hex digits).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}
