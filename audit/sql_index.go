package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/decom/decom/store"
)

// indexBatch caps the events one indexer transaction copies, so a long
// backlog never holds the write lock for long.
const indexBatch = 5000

// Index brings the review structures (audit_index, audit_fts, audit_daily)
// up to the last committed event and returns how many events it indexed.
// Append leaves them behind so a durable append writes one table; Query,
// Each and DailyDestructive call Index first, so their results are exact,
// and an Indexer keeps the backlog small in the background.
func (l *Log) Index(ctx context.Context) (int64, error) {
	var total int64
	for {
		behind, err := l.behind(ctx)
		if err != nil || behind <= 0 {
			return total, err
		}
		var n int64
		if err := store.InTx(ctx, l.db, func(tx *sql.Tx) error { n, err = indexTail(ctx, tx); return err }); err != nil {
			return total, fmt.Errorf("index audit events: %w", err)
		}
		if n == 0 { // another indexer got there first
			return total, nil
		}
		total += n
	}
}

// behind is the number of events not yet indexed, read outside a
// transaction: two rowid lookups, cheap enough for every query.
func (l *Log) behind(ctx context.Context) (int64, error) {
	var n int64
	err := l.db.QueryRowContext(ctx, `SELECT (SELECT ifnull(max(seq), 0) FROM audit_events)
		- (SELECT ifnull(max(seq), 0) FROM audit_index)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("index audit events: %w", err)
	}
	return n, nil
}

// indexTail indexes up to indexBatch events after the indexer's position,
// inside tx, which serialises it with appends and other indexers.
func indexTail(ctx context.Context, tx *sql.Tx) (int64, error) {
	var pos, head int64
	err := tx.QueryRowContext(ctx, `SELECT (SELECT ifnull(max(seq), 0) FROM audit_index),
		(SELECT ifnull(max(seq), 0) FROM audit_events)`).Scan(&pos, &head)
	if err != nil || head <= pos {
		return 0, err
	}
	head = min(head, pos+indexBatch)
	for _, q := range []string{
		`INSERT INTO audit_index (seq, time, actor, action, service, resource_id, change_id, outcome)
			SELECT seq, time, actor, action, service, resource_id, change_id, outcome
			FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq`,
		`INSERT INTO audit_fts (docid, resource_name, details)
			SELECT seq, resource_name, details FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq`,
		`INSERT INTO audit_daily (day, action, outcome, n)
			SELECT substr(time, 1, 10), action, outcome, count(*) FROM audit_events WHERE seq > ? AND seq <= ?
			GROUP BY 1, 2, 3
			ON CONFLICT (action, day, outcome) DO UPDATE SET n = n + excluded.n`,
	} {
		if _, err := tx.ExecContext(ctx, q, pos, head); err != nil {
			return 0, err
		}
	}
	return head - pos, nil
}

// Indexer runs Log.Index in the background, so review queries rarely find
// more than a few events to index first.
type Indexer struct {
	Log      *Log
	Interval time.Duration // how often to index new events; 0 means one second
}

// Run indexes every Interval until ctx ends.
func (x *Indexer) Run(ctx context.Context) error {
	interval := x.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := x.Log.Index(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("audit indexer: %w", err)
		}
	}
}
