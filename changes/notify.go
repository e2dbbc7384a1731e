package changes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/decom/decom/notify"
)

// announce writes the notification of a change event into the outbox inside
// tx, beside the state change and its audit event: all three commit
// together. text is a comment or a decision's comment.
func (s *Service) announce(ctx context.Context, tx *sql.Tx, kind notify.Kind, c Change, state State, a Actor,
	text string) error {
	_, err := notify.Enqueue(ctx, tx, eventOf(kind, c, state, a, text, s.now()))
	return err
}

func eventOf(kind notify.Kind, c Change, state State, a Actor, text string, now time.Time) notify.Event {
	return notify.Event{ID: notify.NewID(), Kind: kind, At: now.UTC(), ChangeID: c.ID, ChangeName: c.Name(),
		State: string(state), Actor: a.Name, Requester: c.Requester, Reason: c.Reason,
		Resources: len(c.Plan.Items), Projects: c.Plan.Projects(), Text: text}
}

// AnnounceFinished writes the notification of an executing change reaching
// its final state (execution_finished, or execution_failed when any resource
// failed) inside the poller's transaction.
func AnnounceFinished(ctx context.Context, tx *sql.Tx, id int64, final State, now time.Time) error {
	c, err := getChangeRow(ctx, tx, id)
	if err != nil {
		return err
	}
	kind := notify.KindFinished
	if final != StateSucceeded {
		kind = notify.KindFailed
	}
	_, err = notify.Enqueue(ctx, tx, eventOf(kind, c, final, System, "", now))
	return err
}

// getChangeRow reads a change without its decisions and operations.
func getChangeRow(ctx context.Context, q querier, id int64) (Change, error) {
	c, err := scanChange(q.QueryRowContext(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Change{}, fmt.Errorf("change %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Change{}, fmt.Errorf("get change %d: %w", id, err)
	}
	return c, nil
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
