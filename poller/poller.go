package poller

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/store"
)

// Cloud is what the poller needs from the cloud layer; *cloud.Client
// satisfies it.
type Cloud interface {
	ReadMany(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error)
	DeleteDMS(
		ctx context.Context,
		account, project string,
		svc cloud.Service,
		ids []string,
		force bool,
	) ([]cloud.Outcome, error)
	DeleteCloudDCBatch(ctx context.Context, account, project string, ids []string) ([]cloud.Outcome, error)
	SubmitROMADelete(ctx context.Context, account, project, instanceID string, apps, tasks []string) (string, error)
	ROMAJob(ctx context.Context, account, project, instanceID, jobID string) (cloud.Job, error)
	SettleTime(account string) time.Duration
}

// Restorer restores DMS instances from the recycle bin; *cloud.Client
// satisfies it. Restore operations fail without it.
type Restorer interface {
	RestoreDMS(ctx context.Context, account, project string, svc cloud.Service, ids []string) ([]cloud.Outcome, error)
}

// errMoved means a row was changed by someone else since it was read.
var errMoved = errors.New("operation moved concurrently")

// Poller submits and follows the operations of executing changes.
type Poller struct {
	db    *sql.DB
	cloud Cloud
	o     Options
	log   *slog.Logger
	wake  chan struct{}
}

// New returns a Poller; zero fields of o take DefaultOptions.
func New(db *sql.DB, c Cloud, o Options) *Poller {
	d := DefaultOptions()
	if o.MinInterval <= 0 {
		o.MinInterval = d.MinInterval
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = d.MaxInterval
	}
	if o.Stretch <= 0 {
		o.Stretch = d.Stretch
	}
	if o.Jitter <= 0 || o.Jitter >= 1 {
		o.Jitter = d.Jitter
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.IdleTick <= 0 {
		o.IdleTick = d.IdleTick
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BackupDir == "" {
		o.BackupDir = filepath.Join(os.TempDir(), "decom-backups")
	}
	if o.Notified == nil {
		o.Notified = func() {}
	}
	return &Poller{db: db, cloud: c, o: o, log: o.Logger, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for work now (changes.Options.Wake).
func (p *Poller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run submits and polls until ctx ends; it returns nil on cancellation.
// Everything it knows is in SQLite, so a new Run after a crash carries on.
func (p *Poller) Run(ctx context.Context) error {
	for {
		wait, err := p.Tick(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.log.Error("poller tick", "err", err)
			wait = p.o.IdleTick
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Tick does one round: send due batches, read due statuses, finish changes
// whose operations are all terminal. It returns how long to wait for the
// next round.
func (p *Poller) Tick(ctx context.Context) (time.Duration, error) {
	if err := p.submit(ctx); err != nil {
		return 0, err
	}
	if err := p.poll(ctx); err != nil {
		return 0, err
	}
	if err := p.finish(ctx); err != nil {
		return 0, err
	}
	next, ok, queued, err := nextDue(ctx, p.db)
	if err != nil {
		return 0, err
	}
	wait := p.o.IdleTick
	if ok {
		wait = min(wait, max(next.Sub(p.o.Now()), 10*time.Millisecond))
	}
	if queued {
		// ROMA batches wait for the identity's running job: look again soon.
		wait = min(wait, p.o.MinInterval/2)
	}
	return wait, nil
}

func (p *Poller) finish(ctx context.Context) error {
	done, err := finishedChanges(ctx, p.db)
	if err != nil {
		return err
	}
	for id, n := range done {
		state := changes.FinalState(n[0], n[1])
		err := store.InTx(ctx, p.db, func(tx *sql.Tx) error {
			now := p.o.Now()
			if err := finishChange(ctx, tx, id, state, now); err != nil {
				return err
			}
			if err := p.record(ctx, tx, audit.Event{Action: audit.ActionChangeFinished, ChangeID: id, Outcome: string(state)},
				map[string]int{"done": n[0], "failed": n[1]}); err != nil {
				return err
			}
			return changes.AnnounceFinished(ctx, tx, id, state, now)
		})
		if err == nil {
			p.o.Notified()
		}
		if err != nil && !errors.Is(err, errMoved) {
			return fmt.Errorf("finish change %d: %w", id, err)
		}
	}
	return nil
}

// record appends an audit event by the system actor inside tx.
func (p *Poller) record(ctx context.Context, tx *sql.Tx, e audit.Event, details any) error {
	e.Time, e.Actor = p.o.Now().UTC(), changes.System.Name
	return audit.Record(ctx, tx, e, details)
}

// outcomeEvent is the audit event of one operation reaching a terminal state.
// settle saves op (moved from state from) and, once it is terminal, writes
// its resource outcome in the same transaction.
func (p *Poller) settle(ctx context.Context, tx *sql.Tx, op Op, from changes.OpState, now time.Time) error {
	if err := saveOp(ctx, tx, op, from, now); err != nil {
		return err
	}
	if op.State.Terminal() {
		return p.outcome(ctx, tx, op)
	}
	return nil
}

func (p *Poller) outcome(ctx context.Context, tx *sql.Tx, op Op) error {
	return p.record(ctx, tx, audit.Event{Action: audit.ActionResourceOutcome, ChangeID: op.ChangeID,
		Service: string(op.Ref.Service), Project: op.Ref.Project, ResourceID: op.Ref.ID, ResourceName: op.Name,
		Outcome: string(op.State)}, map[string]any{"error": op.LastError, "attempts": op.Attempts,
		"polls": op.Polls, "last_status": op.LastStatus, "job_id": op.JobID,
		"request_ids": requestIDs(op, true), "status_request_ids": requestIDs(op, false)})
}
