package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/decom/decom/store"
)

// Report summarises a successful Verify.
type Report struct {
	Events         int64  // events checked
	HeadSeq        int64  // last event
	HeadHash       string // its hash
	Checkpoints    int    // signed checkpoints checked
	LastCheckpoint int64  // seq of the newest checkpoint, 0 if none
	Unchecked      int    // checkpoints present but not checked: no public key given
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Verify recomputes the whole chain and checks every checkpoint against pub
// (nil: checkpoints are counted as Unchecked). It returns a *TamperError
// naming the first bad event if any event was edited, deleted, reordered or
// inserted, if a checkpoint's signature is bad, or if the log ends before a
// checkpoint (a truncated tail).
func (l *Log) Verify(ctx context.Context, pub ed25519.PublicKey) (Report, error) {
	// Checkpoints first: they are written after the events they cover, so the
	// later snapshot that reads the events holds every event they name.
	cps, err := l.Checkpoints(ctx)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	want := make(map[int64]string, len(cps))
	for _, c := range cps {
		if pub == nil {
			rep.Unchecked++
			continue
		}
		if !c.Valid(pub) {
			return rep, &TamperError{
				Seq:    c.Seq,
				Reason: "checkpoint signature invalid or by another key (checkpoint forged or edited)",
			}
		}
		want[c.Seq] = c.Hash
		rep.Checkpoints++
		rep.LastCheckpoint = c.Seq
	}
	head, hash, n, err := walk(ctx, l.db, 0, GenesisHash, want)
	rep.Events, rep.HeadSeq, rep.HeadHash = n, head, hash
	if err != nil {
		return rep, err
	}
	if rep.LastCheckpoint > head {
		return rep, &TamperError{Seq: head + 1, Reason: fmt.Sprintf(
			"a checkpoint is signed for event %d but the log ends at event %d (tail truncated)",
			rep.LastCheckpoint,
			head,
		)}
	}
	return rep, nil
}

// walk checks events after seq from, chained to fromHash, against their
// hashes and the checkpoint hashes in want. It returns the last event's seq
// and hash and how many events it read.
func walk(
	ctx context.Context,
	q querier,
	from int64,
	fromHash string,
	want map[int64]string,
) (int64, string, int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM audit_events e WHERE seq > ? ORDER BY seq`, from)
	if err != nil {
		return 0, "", 0, fmt.Errorf("verify audit log: %w", err)
	}
	defer rows.Close()
	var raw [15]sql.RawBytes // RawBytes: no copy per column
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var f storedFields
	next, prev, n := from+1, fromHash, int64(0)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, "", n, fmt.Errorf("verify audit log: %w", err)
		}
		seq, err := strconv.ParseInt(string(raw[0]), 10, 64)
		if err != nil || seq != next {
			return next - 1, prev, n, &TamperError{Seq: next, Reason: fmt.Sprintf(
				"expected event %d, found event %s (events deleted or renumbered)", next, raw[0])}
		}
		if string(raw[13]) != prev {
			return next - 1, prev, n, &TamperError{Seq: seq,
				Reason: "prev_hash is not the hash of the event before it (events reordered, inserted or deleted)"}
		}
		for i := range f {
			f[i] = raw[i]
		}
		h := hashStored(&f)
		if h != string(raw[14]) {
			return next - 1, prev, n, &TamperError{
				Seq:    seq,
				Reason: "hash does not match the event's contents (event edited)",
			}
		}
		if w, ok := want[seq]; ok && w != h {
			return next - 1, prev, n, &TamperError{Seq: seq,
				Reason: "hash differs from the signed checkpoint (chain rewritten)"}
		}
		next, prev, n = next+1, h, n+1
	}
	if err := rows.Err(); err != nil {
		return 0, "", n, fmt.Errorf("verify audit log: %w", err)
	}
	return next - 1, prev, n, nil
}

// Checkpoints returns every stored checkpoint, oldest first.
func (l *Log) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT seq, time, hash, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var t string
		if err := rows.Scan(&c.Seq, &t, &c.Hash, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("read audit checkpoints: %w", err)
		}
		if c.Time, err = time.Parse(TimeLayout, t); err != nil {
			return nil, &TamperError{Seq: c.Seq, Reason: "checkpoint time is malformed"}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit checkpoints: %w", err)
	}
	return out, nil
}

// Checkpoint signs the current head if it is past the last checkpoint, after
// verifying the events since that checkpoint (so it never signs a tampered
// chain). It reports whether a checkpoint was written.
func (l *Log) Checkpoint(ctx context.Context, key ed25519.PrivateKey) (Checkpoint, bool, error) {
	var cp Checkpoint
	made := false
	err := store.InTx(ctx, l.db, func(tx *sql.Tx) error {
		last, lastHash := int64(0), GenesisHash
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
			Scan(&last, &lastHash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read last checkpoint: %w", err)
		}
		head, hash, _, err := walk(ctx, tx, last, lastHash, nil)
		if err != nil || head == last {
			return err
		}
		cp = signCheckpoint(key, head, l.now(), hash)
		_, err = tx.ExecContext(
			ctx,
			`INSERT INTO audit_checkpoints (seq, time, hash, key_id, signature) VALUES (?, ?, ?, ?, ?)`,
			cp.Seq,
			cp.Time.Format(TimeLayout),
			cp.Hash,
			cp.KeyID,
			cp.Signature,
		)
		made = err == nil
		return err
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("audit checkpoint: %w", err)
	}
	return cp, made, nil
}

// Checkpointer signs a checkpoint every Every events, and at least every
// Interval while events keep arriving. cmd/web runs it beside the server.
type Checkpointer struct {
	Log      *Log
	Key      ed25519.PrivateKey
	Every    int64         // events per checkpoint; 0 means 1000
	Interval time.Duration // longest time an event stays unsigned; 0 means one hour
	Poll     time.Duration // how often to look at the head; 0 means 10s
}

// Run checkpoints until ctx ends, then signs a last one and returns nil.
func (c *Checkpointer) Run(ctx context.Context) error {
	every, interval, poll := c.Every, c.Interval, c.Poll
	if every <= 0 {
		every = 1000
	}
	if interval <= 0 {
		interval = time.Hour
	}
	if poll <= 0 {
		poll = 10 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	signed := c.Log.now()
	for {
		select {
		case <-ctx.Done():
			_, _, err := c.Log.Checkpoint(context.WithoutCancel(ctx), c.Key)
			return err
		case <-t.C:
		}
		var head, last int64
		err := c.Log.db.QueryRowContext(ctx, `SELECT (SELECT ifnull(max(seq), 0) FROM audit_events),
			(SELECT ifnull(max(seq), 0) FROM audit_checkpoints)`).Scan(&head, &last)
		if err != nil {
			return fmt.Errorf("audit checkpointer: %w", err)
		}
		if head-last >= every || (head > last && c.Log.now().Sub(signed) >= interval) {
			if _, _, err := c.Log.Checkpoint(ctx, c.Key); err != nil {
				return err
			}
			signed = c.Log.now()
		}
	}
}
