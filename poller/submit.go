package poller

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/store"
)

// submit sends every queued batch that may go now: DMS and CloudDC batches
// with bounded concurrency, and at most one ROMA asset job per identity
// (account) at a time, waiting while one of ours is still in flight.
func (p *Poller) submit(ctx context.Context) error {
	queued, err := loadOps(ctx, p.db, changes.OpQueued)
	if err != nil || len(queued) == 0 {
		return err
	}
	active, err := loadOps(ctx, p.db, changes.OpSubmitted, changes.OpInProgress)
	if err != nil {
		return err
	}
	romaBusy := map[string]bool{}
	for _, op := range active {
		if op.Ref.Service == cloud.ROMA {
			romaBusy[op.Ref.Account] = true
		}
	}
	var batches [][]Op
	for _, b := range groupBatches(queued) {
		if b[0].Ref.Service == cloud.ROMA {
			if romaBusy[b[0].Ref.Account] {
				continue
			}
			romaBusy[b[0].Ref.Account] = true
		}
		batches = append(batches, b)
	}
	return p.parallel(len(batches), func(i int) error { return p.send(ctx, batches[i]) })
}

// parallel runs fn(0..n-1) with at most Concurrency in flight and returns
// the first error.
func (p *Poller) parallel(n int, fn func(i int) error) error {
	sem := make(chan struct{}, p.o.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil && !errors.Is(err, errMoved) {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// groupBatches splits ops (sorted by change, batch) into the planned calls.
func groupBatches(ops []Op) [][]Op {
	var out [][]Op
	for i, op := range ops {
		if i == 0 || op.ChangeID != ops[i-1].ChangeID || op.Batch != ops[i-1].Batch {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], op)
	}
	return out
}

// send marks one batch submitted (with its cloud_call event), makes the
// call, then records each resource's outcome. If the call's outcome is
// unknown (crash, timeout, 5xx) the rows stay submitted for a re-read.
func (p *Poller) send(ctx context.Context, ops []Op) error {
	now := p.o.Now()
	first := ops[0]
	ids := make([]string, len(ops))
	for i, op := range ops {
		ids[i] = op.Ref.ID
	}
	err := store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		if err := markSubmitted(ctx, tx, ops, now, now.Add(Interval(0, p.o, p.o.Rand())), now.Add(p.o.Timeout)); err != nil {
			return err
		}
		return p.record(ctx, tx, audit.Event{Action: audit.ActionCloudCall, ChangeID: first.ChangeID,
			Service: string(first.Ref.Service), Project: first.Ref.Project, ResourceID: first.Ref.Parent,
			Outcome: "submitted"}, map[string]any{"batch": first.Batch, "action": first.Action, "ids": ids, "force_delete": first.Force,
			"attempt": first.Attempts + 1})
	})
	if err != nil {
		return fmt.Errorf("submit batch %d of change %d: %w", first.Batch, first.ChangeID, err)
	}
	for i := range ops {
		ops[i].State, ops[i].Attempts, ops[i].SubmittedAt = changes.OpSubmitted, ops[i].Attempts+1, now
		ops[i].NextPollAt = now.Add(Interval(0, p.o, p.o.Rand()))
	}
	if first.Backup && first.Ref.Service == cloud.ROMA && !first.Restore() {
		// A resend after an unknown outcome is covered by the archive its
		// first attempt stored: the assets may already be gone, and a second
		// export would fail and misreport a delete the cloud applied.
		done, err := backedUp(ctx, p.db, first.ChangeID, first.Batch)
		if err != nil {
			return err
		}
		if !done {
			err = p.backup(ctx, ops)
		}
		if err == nil {
			// The settle time counts from the delete call, not from the
			// start of the export that preceded it.
			err = restartSettle(ctx, p.db, ops, p.o.Now())
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // the rows stay submitted; the re-read re-queues them
			}
			return p.recordNoBackup(ctx, ops, err)
		}
	}
	cctx, trail := cloud.WithTrail(ctx)
	outcomes, jobID, callErr := p.call(cctx, ops, ids)
	if ctx.Err() != nil {
		return nil // outcome unknown; the rows stay submitted and are re-read
	}
	for i := range ops {
		addCalls(&ops[i], trail.Calls())
	}
	return p.recordSent(ctx, ops, outcomes, jobID, callErr)
}

// call makes the one API call of a batch.
func (p *Poller) call(ctx context.Context, ops []Op, ids []string) (map[string]cloud.Outcome, string, error) {
	first := ops[0]
	r := first.Ref
	var outs []cloud.Outcome
	var err error
	switch {
	case first.Restore():
		rs, ok := p.cloud.(Restorer)
		if !ok {
			return nil, "", &cloud.Error{Class: cloud.ErrConfig, Account: r.Account, Service: r.Service,
				Operation: "dms.restore", Message: "the cloud layer cannot restore"}
		}
		outs, err = rs.RestoreDMS(ctx, r.Account, r.Project, r.Service, ids)
	case first.Import():
		im, ok := p.cloud.(Importer)
		if !ok {
			return nil, "", &cloud.Error{Class: cloud.ErrConfig, Account: r.Account, Service: r.Service,
				Operation: "roma.assets.import", Message: "the cloud layer cannot import"}
		}
		job, err := im.SubmitROMAImport(ctx, r.Account, r.Project, r.Parent,
			filepath.Join(p.o.BackupDir, first.Archive+".zip"))
		return nil, job, err
	case r.Service == cloud.ROMA:
		var apps, tasks []string
		for _, op := range ops {
			if op.Ref.Kind == cloud.KindTask {
				tasks = append(tasks, op.Ref.ID)
			} else {
				apps = append(apps, op.Ref.ID)
			}
		}
		job, err := p.cloud.SubmitROMADelete(ctx, r.Account, r.Project, r.Parent, apps, tasks)
		return nil, job, err
	case r.Service == cloud.CloudDC:
		outs, err = p.cloud.DeleteCloudDCBatch(ctx, r.Account, r.Project, ids)
	default:
		outs, err = p.cloud.DeleteDMS(ctx, r.Account, r.Project, r.Service, ids, first.Force)
	}
	m := map[string]cloud.Outcome{}
	for _, o := range outs {
		m[o.Ref.ID] = o
	}
	return m, "", err
}

// refused reports whether an error is the cloud's definite "no" rather than
// an unknown outcome. Not found is neither: after a delete it means done, so
// the re-read decides.
func refused(err error) bool {
	return errors.Is(err, cloud.ErrPermanent) || errors.Is(err, cloud.ErrPermission) || errors.Is(err, cloud.ErrConfig)
}

// notSent reports whether the cloud turned the call away before acting on
// it (throttled, or ROMA busy with another job), so it may simply go again.
func notSent(err error) bool {
	return errors.Is(err, cloud.ErrThrottled) || errors.Is(err, cloud.ErrBusy)
}

// recordSent stores each resource's submission outcome. The call ended
// now: the cloud cannot have acted later, so the settle time of any
// re-read counts from here (SubmittedAt).
func (p *Poller) recordSent(
	ctx context.Context,
	ops []Op,
	outs map[string]cloud.Outcome,
	jobID string,
	callErr error,
) error {
	now := p.o.Now()
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		if err := p.callResult(ctx, tx, ops[0], len(ops), outs, jobID, callErr); err != nil {
			return err
		}
		for _, op := range ops {
			op.SubmittedAt = now
			o, ok := outs[op.Ref.ID]
			switch {
			case jobID != "":
				op.State, op.JobID, op.LastError = changes.OpInProgress, jobID, ""
			case ok && o.Accepted:
				op.State, op.LastError = changes.OpInProgress, ""
			case ok && op.Attempts == 1:
				op.State, op.LastError = changes.OpFailed, "refused: "+o.Err
			case ok:
				// A re-send may be refused because the first attempt worked: re-read decides.
				op.LastError = "refused on re-send: " + o.Err
			case callErr != nil && refused(callErr) && op.Attempts == 1:
				op.State, op.LastError = changes.OpFailed, callErr.Error()
			case callErr != nil && notSent(callErr) && op.Attempts < p.o.MaxAttempts:
				op.State, op.LastError = changes.OpQueued, "not accepted, will re-send: "+callErr.Error()
			case callErr != nil:
				op.LastError = "outcome unknown, confirming after the settle time: " + callErr.Error()
			default:
				op.LastError = "outcome unknown: no result for this resource"
			}
			if err := p.settle(ctx, tx, op, changes.OpSubmitted, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// callResult records what one batch call answered, as a cloud_call event.
func (p *Poller) callResult(
	ctx context.Context,
	tx *sql.Tx,
	first Op,
	n int,
	outs map[string]cloud.Outcome,
	jobID string,
	callErr error,
) error {
	accepted, refusedN := 0, 0
	for _, o := range outs {
		if o.Accepted {
			accepted++
		} else {
			refusedN++
		}
	}
	outcome := "answered"
	details := map[string]any{"batch": first.Batch, "resources": n, "accepted": accepted, "refused": refusedN,
		"job_id": jobID, "request_ids": requestIDs(first, true)}
	if callErr != nil {
		outcome, details["error"] = "error", callErr.Error()
	}
	return p.record(ctx, tx, audit.Event{Action: audit.ActionCloudCall, ChangeID: first.ChangeID,
		Service: string(
			first.Ref.Service,
		), Project: first.Ref.Project, ResourceID: first.Ref.Parent, Outcome: outcome}, details)
}
