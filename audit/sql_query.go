package audit

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Page is one page of a Query.
type Page struct {
	Events []Event
	Next   int64 // Filter.After for the next page; 0 on the last page
}

// Query returns one page of events matching f, using keyset pagination. It
// indexes any events appended since the last Index first, so the page is
// exact.
func (l *Log) Query(ctx context.Context, f Filter) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if _, err := l.Index(ctx); err != nil {
		return Page{}, fmt.Errorf("query audit events: %w", err)
	}
	q, args := f.selectSQL(limit + 1)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("query audit events: %w", err)
	}
	defer rows.Close()
	var p Page
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return Page{}, fmt.Errorf("query audit events: %w", err)
		}
		if len(p.Events) == limit {
			p.Next = p.Events[limit-1].Seq
			break
		}
		p.Events = append(p.Events, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("query audit events: %w", err)
	}
	return p, nil
}

// Each calls fn for every event matching f (Limit and Oldest are ignored:
// oldest first, no limit), streaming rows so memory stays constant.
func (l *Log) Each(ctx context.Context, f Filter, fn func(Event) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.Oldest, f.After = true, 0
	if _, err := l.Index(ctx); err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	q, args := f.selectSQL(0)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	return nil
}

// DayCount is the number of destructive events with one outcome on one day.
type DayCount struct {
	Day     string // YYYY-MM-DD, UTC
	Outcome string
	Count   int64
}

// DailyDestructive counts DestructiveActions per UTC day and outcome for the
// days from from's day up to (not including) to's day, ordered by day and
// outcome, for the review chart.
func (l *Log) DailyDestructive(ctx context.Context, from, to time.Time) ([]DayCount, error) {
	if !from.Before(to) {
		return nil, &ValidationError{Field: "to", Problem: "must be after from"}
	}
	if _, err := l.Index(ctx); err != nil {
		return nil, fmt.Errorf("count destructive actions: %w", err)
	}
	q := `SELECT day, outcome, sum(n) FROM audit_daily WHERE action IN (?` +
		strings.Repeat(", ?", len(DestructiveActions)-1) + `) AND day >= ? AND day < ?
		GROUP BY day, outcome ORDER BY day, outcome`
	var args []any
	for _, a := range DestructiveActions {
		args = append(args, string(a))
	}
	args = append(args, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("count destructive actions: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var d DayCount
		if err := rows.Scan(&d.Day, &d.Outcome, &d.Count); err != nil {
			return nil, fmt.Errorf("count destructive actions: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count destructive actions: %w", err)
	}
	return out, nil
}
