package poller

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/store"
)

const opColumns = `o.id, o.change_id, o.seq, o.batch, o.account, o.project, o.service, o.kind, o.parent,
	o.resource_id, o.name, o.planned_status, o.force_delete, o.state, o.attempts, o.polls, o.last_error,
	o.last_status, o.job_id, o.submitted_at, o.next_poll_at, o.deadline, o.request_ids, o.action, o.backup,
	o.archive`

// loadOps reads the operations in the given states of executing changes,
// in change, batch and plan order.
func loadOps(ctx context.Context, db *sql.DB, states ...changes.OpState) ([]Op, error) {
	marks := strings.Repeat("?, ", len(states))
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = s
	}
	rows, err := db.QueryContext(ctx, `SELECT `+opColumns+` FROM change_operations o
		JOIN changes c ON c.id = o.change_id
		WHERE c.state = ? AND o.state IN (`+marks[:len(marks)-2]+`)
		ORDER BY o.change_id, o.batch, o.seq`, append([]any{changes.StateExecuting}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("load operations: %w", err)
	}
	defer rows.Close()
	var out []Op
	for rows.Next() {
		var op Op
		var submitted, next, deadline, trail string
		if err := rows.Scan(&op.ID, &op.ChangeID, &op.Seq, &op.Batch, &op.Ref.Account, &op.Ref.Project,
			&op.Ref.Service, &op.Ref.Kind, &op.Ref.Parent, &op.Ref.ID, &op.Name, &op.PlannedStatus, &op.Force,
			&op.State, &op.Attempts, &op.Polls, &op.LastError, &op.LastStatus, &op.JobID, &submitted,
			&next, &deadline, &trail, &op.Action, &op.Backup, &op.Archive); err != nil {
			return nil, fmt.Errorf("scan operation: %w", err)
		}
		op.Trail = parseTrail(trail)
		op.SubmittedAt, op.NextPollAt, op.Deadline = store.ParseTime(
			submitted,
		), store.ParseTime(
			next,
		), store.ParseTime(
			deadline,
		)
		out = append(out, op)
	}
	return out, rows.Err()
}

// markSubmitted moves queued rows to submitted before the call is sent, so a
// crash during the call leaves rows that are re-read rather than re-sent.
func markSubmitted(ctx context.Context, tx *sql.Tx, ops []Op, now, next, deadline time.Time) error {
	for _, op := range ops {
		res, err := tx.ExecContext(
			ctx,
			`UPDATE change_operations SET state = ?,
			attempts = attempts + 1, submitted_at = ?, next_poll_at = ?,
			deadline = CASE WHEN deadline = '' THEN ? ELSE deadline END, updated_at = ?
			WHERE id = ? AND state = ? AND attempts = ?`,
			changes.OpSubmitted,
			store.FormatTime(
				now,
			),
			store.FormatTime(next),
			store.FormatTime(deadline),
			store.FormatTime(now),
			op.ID,
			changes.OpQueued,
			op.Attempts,
		)
		if err != nil {
			return fmt.Errorf("mark operation %d submitted: %w", op.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("mark operation %d submitted: %w", op.ID, errMoved)
		}
	}
	return nil
}

// saveOp writes an operation's new state, guarded by the state and the
// attempt it was read in: a row re-queued and re-submitted meanwhile (by
// another poller on the same file) is back in the same state, and a verdict
// on the older attempt must not overwrite it.
func saveOp(ctx context.Context, tx *sql.Tx, op Op, from changes.OpState, now time.Time) error {
	if op.State != from && !changes.CanMoveOp(from, op.State) {
		return fmt.Errorf("operation %d: %s -> %s is not an operation move", op.ID, from, op.State)
	}
	finished := ""
	if op.State.Terminal() {
		finished = store.FormatTime(now)
	}
	res, err := tx.ExecContext(ctx, `UPDATE change_operations SET state = ?, polls = ?, last_error = ?,
		last_status = ?, job_id = ?, submitted_at = ?, next_poll_at = ?, finished_at = ?, updated_at = ?, request_ids = ?
		WHERE id = ? AND state = ? AND attempts = ?`,
		op.State, op.Polls, op.LastError, op.LastStatus, op.JobID, store.FormatTime(op.SubmittedAt),
		store.FormatTime(op.NextPollAt), finished, store.FormatTime(now), trailJSON(op), op.ID, from, op.Attempts)
	if err != nil {
		return fmt.Errorf("save operation %d: %w", op.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("save operation %d: %w", op.ID, errMoved)
	}
	return nil
}

// finishedChanges lists executing changes with no unfinished operation and
// their counts of done and not-done operations.
func finishedChanges(ctx context.Context, db *sql.DB) (map[int64][2]int, error) {
	// LEFT JOIN: a change whose re-built plan came out empty (everything was
	// gone) has no operations and is finished as well.
	rows, err := db.QueryContext(ctx, `SELECT c.id,
		COALESCE(SUM(CASE WHEN o.state = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN o.state IN (?, ?) THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN o.state IN (?, ?, ?) THEN 1 ELSE 0 END), 0)
		FROM changes c LEFT JOIN change_operations o ON o.change_id = c.id
		WHERE c.state = ? GROUP BY c.id`, changes.OpDone, changes.OpFailed, changes.OpTimedOut,
		changes.OpQueued, changes.OpSubmitted, changes.OpInProgress, changes.StateExecuting)
	if err != nil {
		return nil, fmt.Errorf("count operations: %w", err)
	}
	defer rows.Close()
	out := map[int64][2]int{}
	for rows.Next() {
		var id int64
		var done, failed, open int
		if err := rows.Scan(&id, &done, &failed, &open); err != nil {
			return nil, fmt.Errorf("scan counts: %w", err)
		}
		if open == 0 {
			out[id] = [2]int{done, failed}
		}
	}
	return out, rows.Err()
}

func finishChange(ctx context.Context, tx *sql.Tx, id int64, state changes.State, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE changes SET state = ?, finished_at = ?, updated_at = ?
		WHERE id = ? AND state = ?`, state, store.FormatTime(now), store.FormatTime(now), id, changes.StateExecuting)
	if err != nil {
		return fmt.Errorf("finish change %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("finish change %d: %w", id, errMoved)
	}
	return nil
}

// nextDue is the earliest next_poll_at of unfinished operations; ok is false
// when nothing is in flight, and queued reports work waiting to be sent.
func nextDue(ctx context.Context, db *sql.DB) (next time.Time, ok, queued bool, err error) {
	var s sql.NullString
	var q int
	err = db.QueryRowContext(ctx, `SELECT
		(SELECT MIN(o.next_poll_at) FROM change_operations o JOIN changes c ON c.id = o.change_id
		 WHERE c.state = ? AND o.state IN (?, ?)),
		(SELECT COUNT(*) FROM change_operations o JOIN changes c ON c.id = o.change_id
		 WHERE c.state = ? AND o.state = ?)`, changes.StateExecuting, changes.OpSubmitted, changes.OpInProgress,
		changes.StateExecuting, changes.OpQueued).Scan(&s, &q)
	if err != nil {
		return time.Time{}, false, false, fmt.Errorf("next due operation: %w", err)
	}
	if s.Valid {
		return store.ParseTime(s.String), true, q > 0, nil
	}
	return time.Time{}, false, q > 0, nil
}
