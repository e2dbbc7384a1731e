package cloud

import (
	"fmt"
	"time"
)

// DefaultSettleTime is an account's settle time when its configuration
// gives none: how long after a delete call ended decom waits before it
// believes a read that shows the resource unchanged. It must cover the
// cloud's read lag (reads that show the state from before a write).
const DefaultSettleTime = 5 * time.Second

// Confirmation is what one read says about a delete that was sent.
type Confirmation string

// Confirmations. Only Resend allows the delete to go again.
const (
	// Gone: the resource no longer exists (or is terminated): deleted.
	Gone Confirmation = "gone"
	// Deleting: the cloud is deleting the resource: it accepted the delete.
	Deleting Confirmation = "deleting"
	// Unsettled: the read was taken within the settle time, when the cloud
	// may still show the state from before the delete. It proves nothing
	// but Gone or Deleting; read again later.
	Unsettled Confirmation = "unsettled"
	// Resend: settled, the answer was ambiguous, and the resource is
	// unchanged and deletable: the delete did not take effect and may be
	// sent again.
	Resend Confirmation = "resend"
	// NotDeleted: settled, and the resource is neither being deleted nor
	// fit to be deleted again as planned: the cloud says the delete failed,
	// an accepted delete did not complete, or the resource changed. It is
	// not sent again.
	NotDeleted Confirmation = "not_deleted"
)

// Sent describes a delete whose effect a read is to confirm.
type Sent struct {
	// Ended is when the call ended: its answer came, it failed, or (when
	// that is unknown, after a crash) it was sent. The cloud cannot have
	// acted after this.
	Ended time.Time
	// Accepted: the cloud answered that it accepted the delete. False when
	// the answer was ambiguous (5xx, timeout, connection cut) or lost.
	Accepted bool
	// Planned is the status the resource had when the delete was planned;
	// "" accepts any deletable status.
	Planned string
}

// Confirm is decom's one rule for a delete whose outcome a read must
// confirm, used by the cloud layer's single deletes and by the poller. A
// resource deleting or gone confirms the delete at once, however early the
// read. Anything else proves nothing until the settle time after the call
// ended has passed, since the cloud's reads may lag its writes. After
// that, the delete is sent again only if its answer was ambiguous and the
// resource is unchanged and deletable. why explains NotDeleted.
func Confirm(sent Sent, r Resource, found bool, readAt time.Time, settle time.Duration) (c Confirmation, why string) {
	switch {
	case !found || r.Class == ClassGone:
		return Gone, ""
	case r.Class == ClassDeleting:
		return Deleting, ""
	case !Settled(sent.Ended, readAt, settle):
		return Unsettled, ""
	case r.DeleteFailed():
		return NotDeleted, "the cloud reports the delete failed (" + r.Details["error"] + ")"
	case sent.Accepted:
		return NotDeleted, fmt.Sprintf("delete did not complete: status %s", r.Status)
	case sent.Planned != "" && r.Status != sent.Planned:
		return NotDeleted, fmt.Sprintf("status changed to %s; not re-sent", r.Status)
	case !r.Deletable():
		return NotDeleted, fmt.Sprintf("status %s does not allow delete; not re-sent", r.Status)
	}
	return Resend, ""
}

// Settled reports whether a read at readAt comes late enough after a write
// call that ended at ended to show the write (or its absence).
func Settled(ended, readAt time.Time, settle time.Duration) bool {
	return !readAt.Before(ended.Add(settle))
}

// SettleTime is the account's settle time (DefaultSettleTime if not
// configured; 0 for an unknown account, whose calls fail anyway).
func (c *Client) SettleTime(account string) time.Duration {
	return c.byName[account].SettleTime
}
