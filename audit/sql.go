package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Log is the audit log in one database: appends with an injected clock,
// queries, exports, verification and checkpoints.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// Options tunes a Log. Zero fields take the defaults.
type Options struct {
	Now func() time.Time // clock for events appended without a Time; default time.Now
}

// New returns the Log over db (migrated with migrations.FS).
func New(db *sql.DB, o Options) *Log {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Log{db: db, now: o.Now}
}

// Append writes e inside tx, chaining it to the previous event, with the
// Log's clock when e.Time is zero. See the package-level Append.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	return Append(ctx, tx, e)
}

// Record is the one way packages write an event: details (any JSON-encodable
// value, or nil for none) are encoded into e.Details, then e is appended
// inside tx.
func Record(ctx context.Context, tx *sql.Tx, e Event, details any) error {
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: encode details: %w", e.Action, err)
		}
		e.Details = b
	}
	if _, err := Append(ctx, tx, e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Append writes e inside tx, so the event exists exactly when the caller's
// state change commits. It sets Seq, PrevHash and Hash, sets Time to
// time.Now() when zero (use Log.Append for an injected clock), stores Time
// in UTC, and redacts secrets in Details. tx must be a write transaction
// (store.InTx), which serialises appends.
func Append(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if err := prepare(&e); err != nil {
		return Event{}, fmt.Errorf("append audit event: %w", err)
	}
	var last int64
	prev := GenesisHash
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Event{}, fmt.Errorf("append audit event: read chain head: %w", err)
	}
	e.Seq, e.PrevHash = last+1, prev
	e.Hash = computeHash(&e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (seq, time, actor, client_ip, user_agent,
		action, change_id, service, project, resource_id, resource_name, outcome, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time.Format(TimeLayout), e.Actor, e.ClientIP, e.UserAgent, string(e.Action), e.ChangeID,
		e.Service, e.Project, e.ResourceID, e.ResourceName, e.Outcome, string(e.Details), e.PrevHash, e.Hash)
	if err != nil {
		return Event{}, fmt.Errorf("append audit event %d: %w", e.Seq, err)
	}
	return e, nil
}

// prepare validates and normalises e before hashing: UTC time, valid UTF-8
// text, canonical redacted Details.
func prepare(e *Event) error {
	if e.Action == "" {
		return &ValidationError{Field: "action", Problem: "required"}
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Round(0)
	for _, s := range []*string{&e.Actor, &e.ClientIP, &e.UserAgent, &e.Service, &e.Project,
		&e.ResourceID, &e.ResourceName, &e.Outcome} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	e.Action = Action(strings.ToValidUTF8(string(e.Action), "\uFFFD"))
	d, err := canonicalDetails(e.Details)
	if err != nil {
		return err
	}
	e.Details = d
	return nil
}

// eventColumns is the column list every reader scans with scanEvent.
// Qualified by the alias e, which every query gives audit_events.
const eventColumns = `e.seq, e.time, e.actor, e.client_ip, e.user_agent, e.action, e.change_id, e.service,
	e.project, e.resource_id, e.resource_name, e.outcome, e.details, e.prev_hash, e.hash`

type scanner interface{ Scan(dest ...any) error }

func scanEvent(s scanner) (Event, error) {
	var e Event
	var t, action, details string
	err := s.Scan(&e.Seq, &t, &e.Actor, &e.ClientIP, &e.UserAgent, &action, &e.ChangeID, &e.Service,
		&e.Project, &e.ResourceID, &e.ResourceName, &e.Outcome, &details, &e.PrevHash, &e.Hash)
	if err != nil {
		return Event{}, err
	}
	e.Action, e.Details = Action(action), []byte(details)
	if e.Time, err = time.Parse(TimeLayout, t); err != nil {
		return Event{}, fmt.Errorf("event %d: bad time %q: %w", e.Seq, t, err)
	}
	return e, nil
}
