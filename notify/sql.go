package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/decom/decom/store"
)

// Enqueue writes one outbox row per channel of the global scope and of the
// given projects, inside tx: the announcement exists exactly when the state
// change it announces commits. It returns how many rows it wrote.
func Enqueue(ctx context.Context, tx *sql.Tx, ev Event) (int, error) {
	if ev.ID == "" {
		ev.ID = NewID()
	}
	ev.At = ev.At.UTC()
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("encode event: %w", err)
	}
	args := []any{""}
	for _, p := range ev.Projects {
		args = append(args, p)
	}
	now := store.FormatTime(ev.At)
	res, err := tx.ExecContext(ctx, `INSERT INTO notify_outbox
		(event_id, channel_id, change_id, kind, event_json, next_at, created_at)
		SELECT ?, id, ?, ?, ?, ?, ? FROM notify_channels
		WHERE project IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY id`,
		append([]any{ev.ID, ev.ChangeID, string(ev.Kind), string(body), now, now}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s notification: %w", ev.Kind, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Delivery is one outbox row as shown on the change page and the log.
type Delivery struct {
	ID          int64
	EventID     string
	ChangeID    int64
	Kind        Kind
	ChannelID   int64
	Format      Format
	Project     string
	RedactedURL string // "" when the channel was removed
	State       string // pending, delivered, failed
	Attempts    int
	NextAt      time.Time
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
	Tries       []Attempt // every recorded attempt, oldest first; filled for one change's deliveries
}

// Delivery states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// DeliveryFilter selects deliveries: of one change (ChangeID > 0) or the
// newest Limit overall, optionally in one state.
type DeliveryFilter struct {
	ChangeID int64
	State    string
	Limit    int
}

func listDeliveries(ctx context.Context, db *sql.DB, f DeliveryFilter) ([]Delivery, error) {
	q := `SELECT o.id, o.event_id, o.change_id, o.kind, o.channel_id, COALESCE(c.format, ''), COALESCE(c.project, ''),
		COALESCE(c.url, ''), o.state, o.attempts, o.next_at, o.last_error, o.created_at, o.delivered_at
		FROM notify_outbox o LEFT JOIN notify_channels c ON c.id = o.channel_id WHERE 1 = 1`
	var args []any
	if f.ChangeID > 0 {
		q += ` AND o.change_id = ?`
		args = append(args, f.ChangeID)
	}
	if f.State != "" {
		q += ` AND o.state = ?`
		args = append(args, f.State)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q += ` ORDER BY o.id DESC LIMIT ?`
	rows, err := db.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var raw, next, created, delivered string
		if err := rows.Scan(&d.ID, &d.EventID, &d.ChangeID, &d.Kind, &d.ChannelID, &d.Format, &d.Project, &raw,
			&d.State, &d.Attempts, &next, &d.LastError, &created, &delivered); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		if raw != "" {
			d.RedactedURL = RedactURL(raw)
		}
		d.NextAt, d.CreatedAt = store.ParseTime(next), store.ParseTime(created)
		d.DeliveredAt = store.ParseTime(delivered)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil || f.ChangeID == 0 {
		return out, err
	}
	return withTries(ctx, db, f.ChangeID, out)
}

// withTries adds the recorded attempts to the deliveries of one change.
func withTries(ctx context.Context, db *sql.DB, changeID int64, ds []Delivery) ([]Delivery, error) {
	rows, err := db.QueryContext(ctx, `SELECT a.outbox_id, a.n, a.at, a.status, a.error, a.duration_ms
		FROM notify_attempts a JOIN notify_outbox o ON o.id = a.outbox_id
		WHERE o.change_id = ? ORDER BY a.outbox_id, a.n`, changeID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of change %d: %w", changeID, err)
	}
	defer rows.Close()
	byID := map[int64][]Attempt{}
	for rows.Next() {
		var id int64
		a, err := scanAttempt(rows, &id)
		if err != nil {
			return nil, err
		}
		byID[id] = append(byID[id], a)
	}
	for i := range ds {
		ds[i].Tries = byID[ds[i].ID]
	}
	return ds, rows.Err()
}

func scanAttempt(sc interface{ Scan(...any) error }, outboxID *int64) (Attempt, error) {
	var a Attempt
	var at string
	var ms int64
	if err := sc.Scan(outboxID, &a.N, &at, &a.Status, &a.Error, &ms); err != nil {
		return Attempt{}, fmt.Errorf("scan attempt: %w", err)
	}
	a.At, a.Duration = store.ParseTime(at), time.Duration(ms)*time.Millisecond
	return a, nil
}

// Attempt is one recorded delivery attempt.
type Attempt struct {
	N        int
	At       time.Time
	Status   int
	Error    string
	Duration time.Duration
}

func listAttempts(ctx context.Context, db *sql.DB, outboxID int64) ([]Attempt, error) {
	rows, err := db.QueryContext(ctx, `SELECT outbox_id, n, at, status, error, duration_ms FROM notify_attempts
		WHERE outbox_id = ? ORDER BY n`, outboxID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var id int64
		a, err := scanAttempt(rows, &id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const channelColumns = `id, project, format, url, secret, created_by, created_at`

func listChannels(ctx context.Context, db *sql.DB) ([]Channel, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+channelColumns+` FROM notify_channels ORDER BY project, id`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	var out []Channel
	for rows.Next() {
		var c Channel
		var at string
		if err := rows.Scan(&c.ID, &c.Project, &c.Format, &c.URL, &c.Secret, &c.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("scan channel: %w", err)
		}
		c.CreatedAt = store.ParseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getChannel(ctx context.Context, q querier, id int64) (Channel, error) {
	var c Channel
	var at string
	err := q.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM notify_channels WHERE id = ?`, id).
		Scan(&c.ID, &c.Project, &c.Format, &c.URL, &c.Secret, &c.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("get channel %d: %w", id, err)
	}
	c.CreatedAt = store.ParseTime(at)
	return c, nil
}

// due is an outbox row ready to send.
type due struct {
	ID       int64
	Attempts int
	Channel  int64
	Event    Event
}

func dueRows(ctx context.Context, db *sql.DB, now time.Time, limit int) ([]due, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, attempts, channel_id, event_json FROM notify_outbox
		WHERE state = ? AND next_at <= ? ORDER BY next_at, id LIMIT ?`, StatePending, store.FormatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("read due notifications: %w", err)
	}
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		var ev string
		if err := rows.Scan(&d.ID, &d.Attempts, &d.Channel, &ev); err != nil {
			return nil, fmt.Errorf("scan outbox row: %w", err)
		}
		if err := json.Unmarshal([]byte(ev), &d.Event); err != nil {
			return nil, fmt.Errorf("decode outbox row %d: %w", d.ID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// nextDue is the earliest next_at of pending rows; ok is false when none.
func nextDue(ctx context.Context, db *sql.DB) (time.Time, bool, error) {
	var s sql.NullString
	err := db.QueryRowContext(ctx, `SELECT MIN(next_at) FROM notify_outbox WHERE state = ?`, StatePending).Scan(&s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next notification: %w", err)
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	return store.ParseTime(s.String), true, nil
}

// recordAttempt stores attempt n of row id and the row's new state, guarded
// by the attempt count so a second worker's late write cannot regress it.
func recordAttempt(ctx context.Context, tx *sql.Tx, id int64, n int, a Attempt, state string, next time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO notify_attempts (outbox_id, n, at, status, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?)`, id, n, store.FormatTime(a.At), a.Status, a.Error,
		a.Duration.Milliseconds()); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	delivered := ""
	if state == StateDelivered {
		delivered = store.FormatTime(a.At)
	}
	res, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?,
		delivered_at = ? WHERE id = ? AND attempts = ? AND state = ?`,
		state, n, store.FormatTime(next), a.Error, delivered, id, n-1, StatePending)
	if err != nil {
		return fmt.Errorf("update outbox row %d: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		return fmt.Errorf("outbox row %d moved meanwhile", id)
	}
	return nil
}
