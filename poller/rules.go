// Package poller carries executing change requests to the end: it submits
// each change's queued operations exactly as planned (DMS batches, one ROMA
// asset job at a time per identity, CloudDC batches with bounded
// concurrency), then follows every resource with adaptive, jittered, batched
// status reads until it is done, failed or timed out, and finishes the
// change. All state lives in the change_operations rows, so Run resumes
// after a restart: an operation whose submission outcome is unknown is
// re-read, never blindly re-deleted.
package poller

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
)

// Options tune polling. Zero values take the defaults in DefaultOptions.
type Options struct {
	MinInterval time.Duration // first poll after submission
	MaxInterval time.Duration // cap of the growing interval
	Stretch     float64       // next poll after this fraction of the time since submission
	Jitter      float64       // +/- fraction applied to every interval
	Timeout     time.Duration // per resource, from first submission
	MaxAttempts int           // submissions per resource
	Concurrency int           // cloud calls in flight per phase
	IdleTick    time.Duration // sleep when nothing is due
	Now         func() time.Time
	Rand        func() float64 // [0,1), for jitter
	Logger      *slog.Logger   // default slog.Default()
	// BackupDir is where ROMA asset archives are stored before their
	// delete, each named <sha256>.zip; default <os temp dir>/decom-backups
	// (the console sets <data>/backups).
	BackupDir string
	Notified  func() // called after a commit that enqueued notifications (notify.Service.Wake)
}

// DefaultOptions are the production settings.
func DefaultOptions() Options {
	return Options{MinInterval: 500 * time.Millisecond, MaxInterval: 30 * time.Second, Stretch: 0.2,
		Jitter: 0.1, Timeout: 30 * time.Minute, MaxAttempts: 3,
		Concurrency: 4, IdleTick: 2 * time.Second}
}

// Interval is the wait before the next poll of a resource submitted age ago:
// fast at first, then a fixed fraction (Stretch) of its age, so a delete that
// takes T is noticed by about T*(1+Stretch) with about log(T/Min)/log(1+Stretch)
// polls; capped at MaxInterval and jittered by r in [0,1).
func Interval(age time.Duration, o Options, r float64) time.Duration {
	d := math.Max(float64(o.MinInterval), float64(age)*o.Stretch)
	d = math.Min(d, float64(o.MaxInterval))
	d *= 1 - o.Jitter + 2*o.Jitter*r
	return time.Duration(d)
}

// Op is one operation row.
type Op struct {
	ID            int64
	ChangeID      int64
	Seq, Batch    int
	Ref           cloud.Ref
	Name          string
	PlannedStatus string
	Force         bool
	State         changes.OpState
	Attempts      int
	Polls         int
	LastError     string
	LastStatus    string
	JobID         string
	SubmittedAt   time.Time // when the last submission's call ended (sent, while in flight or after a crash)
	NextPollAt    time.Time
	Deadline      time.Time
	Action        string // "delete" or "restore" (changes.PlanKind.Action)
	Backup        bool   // ROMA: export the asset to an archive before the delete job
	Archive       string // import: SHA-256 of the stored archive
	// Trail holds the cloud's request IDs of the calls made for this
	// operation (trail.go).
	Trail []cloud.TrailCall
}

// Import reports whether the operation re-imports a ROMA asset from a
// stored archive.
func (op Op) Import() bool { return op.Action == changes.KindImport.Action() }

// Restore reports whether the operation restores its resource from the
// recycle bin rather than deleting it.
func (op Op) Restore() bool { return op.Action == changes.KindRestore.Action() }

// Verdict is what a status read means for one operation.
type Verdict struct {
	State  changes.OpState
	Status string // live status seen ("" when gone)
	Err    string
}

// Judge decides an operation's state from one live read taken at now
// (found=false: the resource no longer exists) with cloud.Confirm, the one
// rule for unconfirmed deletes, and the account's settle time: gone or
// terminated = done; deleting = in progress; anything else is believed
// only once settle has passed since the call ended (SubmittedAt), as the
// cloud's reads may lag. Then an accepted delete not under way, or a
// resource that changed, is failed; a submission with unknown outcome
// whose resource is unchanged and deletable goes back to queued while
// attempts remain (contract §5).
func Judge(op Op, r cloud.Resource, found bool, now time.Time, settle time.Duration, o Options) Verdict {
	if op.Restore() {
		return judgeRestore(op, r, found, now, settle, o)
	}
	if now.After(op.Deadline) && !op.Deadline.IsZero() {
		if !found || r.Class == cloud.ClassGone {
			return Verdict{State: changes.OpDone}
		}
		return Verdict{
			State:  changes.OpTimedOut,
			Status: r.Status,
			Err:    fmt.Sprintf("not deleted after %s (status %s)", o.Timeout, r.Status),
		}
	}
	sent := cloud.Sent{Ended: op.SubmittedAt, Accepted: op.State == changes.OpInProgress, Planned: op.PlannedStatus}
	c, why := cloud.Confirm(sent, r, found, now, settle)
	switch {
	case c == cloud.Gone:
		return Verdict{State: changes.OpDone, Status: r.Status}
	case c == cloud.Deleting:
		return Verdict{State: changes.OpInProgress, Status: r.Status}
	case c == cloud.Unsettled:
		return Verdict{State: op.State, Status: r.Status}
	case c == cloud.NotDeleted:
		return Verdict{State: changes.OpFailed, Status: r.Status, Err: why}
	case op.Attempts >= o.MaxAttempts:
		return Verdict{
			State:  changes.OpFailed,
			Status: r.Status,
			Err:    fmt.Sprintf("delete not confirmed after %d attempts", op.Attempts),
		}
	default:
		return Verdict{
			State:  changes.OpQueued,
			Status: r.Status,
			Err:    "delete not confirmed; resource unchanged, re-sending",
		}
	}
}

// judgeRestore decides a restore from one live read: the instance back and
// STARTING (or in another transitional status) is in progress; running
// again is done; back in an error status is failed. Absent means still in
// the bin: after an accepted restore that is a failure once settle has
// passed; after a submission with unknown outcome the restore is sent
// again while attempts remain (a re-sent restore of a live instance counts
// as accepted, cloud.RestoreDMS). Absence is believed once settle (the
// account's settle time) has passed since the call ended.
func judgeRestore(op Op, r cloud.Resource, found bool, now time.Time, settle time.Duration, o Options) Verdict {
	back := found && r.Class != cloud.ClassGone
	running := back && r.Class == cloud.ClassActive
	switch {
	case running:
		return Verdict{State: changes.OpDone, Status: r.Status}
	case back && r.Class == cloud.ClassFailed:
		return Verdict{State: changes.OpFailed, Status: r.Status, Err: "restored, but the instance is " + r.Status}
	case !op.Deadline.IsZero() && now.After(op.Deadline):
		return Verdict{
			State:  changes.OpTimedOut,
			Status: r.Status,
			Err:    fmt.Sprintf("not running again after %s (status %q)", o.Timeout, r.Status),
		}
	case back:
		return Verdict{State: changes.OpInProgress, Status: r.Status}
	case now.Sub(op.SubmittedAt) < settle:
		return Verdict{State: op.State}
	case op.State == changes.OpInProgress:
		return Verdict{State: changes.OpFailed, Err: "restore accepted, but the instance did not come back"}
	case op.Attempts >= o.MaxAttempts:
		return Verdict{
			State: changes.OpFailed,
			Err:   fmt.Sprintf("restore not confirmed after %d attempts", op.Attempts),
		}
	default:
		return Verdict{State: changes.OpQueued, Err: "restore not confirmed; instance still in the bin, re-sending"}
	}
}
