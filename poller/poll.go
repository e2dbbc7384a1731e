package poller

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/store"
)

type groupKey struct{ account, project string }

type jobKey struct{ account, project, instance, job string }

// poll reads the status of every due operation: one ROMA job read per job,
// then one batched ReadMany per account and project, with at most one read
// per resource per tick.
func (p *Poller) poll(ctx context.Context) error {
	active, err := loadOps(ctx, p.db, changes.OpSubmitted, changes.OpInProgress)
	if err != nil || len(active) == 0 {
		return err
	}
	now := p.o.Now()
	jobs := map[jobKey][]Op{}
	var jobOrder []jobKey
	var rest []Op
	for _, op := range active {
		if op.Ref.Service == cloud.ROMA && op.State == changes.OpInProgress && op.JobID != "" {
			k := jobKey{op.Ref.Account, op.Ref.Project, op.Ref.Parent, op.JobID}
			if _, ok := jobs[k]; !ok {
				jobOrder = append(jobOrder, k)
			}
			jobs[k] = append(jobs[k], op)
			continue
		}
		rest = append(rest, op)
	}
	reasons := map[int64]string{}
	var mu sync.Mutex
	err = p.parallel(len(jobOrder), func(i int) error {
		k := jobOrder[i]
		ops, why, err := p.pollJob(ctx, k, jobs[k], now)
		mu.Lock()
		defer mu.Unlock()
		for _, op := range ops {
			op.NextPollAt = now // ended jobs are re-listed in this tick
			rest = append(rest, op)
			reasons[op.ID] = why[op.Name]
		}
		return err
	})
	if err != nil {
		return err
	}
	groups, order := p.dueGroups(rest, now)
	return p.parallel(len(order), func(i int) error {
		return p.reread(ctx, groups[order[i]], reasons, now)
	})
}

// dueGroups groups ops by account and project and keeps the groups where
// at least one op is due. A kept group is read whole: its listing costs the
// same whichever of its ops are due (DMS pages the project, CloudDC lists
// 100 IDs a call), and reading all keeps the group in step, so one listing
// serves every resource at once. Still one read per resource per tick.
func (p *Poller) dueGroups(ops []Op, now time.Time) (map[groupKey][]Op, []groupKey) {
	all := map[groupKey][]Op{}
	due := map[groupKey]bool{}
	var order []groupKey
	for _, op := range ops {
		k := groupKey{op.Ref.Account, op.Ref.Project}
		if _, ok := all[k]; !ok {
			order = append(order, k)
		}
		all[k] = append(all[k], op)
		if !op.NextPollAt.After(now) {
			due[k] = true
		}
	}
	var keep []groupKey
	for _, k := range order {
		if due[k] {
			keep = append(keep, k)
		}
	}
	return all, keep
}

// pollJob reads one ROMA job if any of its ops is due. While it runs, its ops
// are rescheduled; once it ended they are returned for a re-list, with the
// job's failure reasons by resource name.
func (p *Poller) pollJob(ctx context.Context, k jobKey, ops []Op, now time.Time) ([]Op, map[string]string, error) {
	due := false
	for _, op := range ops {
		due = due || !op.NextPollAt.After(now)
	}
	if !due {
		return nil, nil, nil
	}
	jctx, trail := cloud.WithTrail(ctx)
	job, err := p.cloud.ROMAJob(jctx, k.account, k.project, k.instance, k.job)
	for i := range ops {
		addCalls(&ops[i], trail.Calls())
	}
	if errors.Is(err, cloud.ErrNotFound) && !cloud.Settled(ops[0].SubmittedAt, now, p.cloud.SettleTime(k.account)) {
		return nil, nil, p.reschedule(ctx, ops, nil, now) // a new job may not be readable yet
	}
	if errors.Is(err, cloud.ErrNotFound) {
		return ops, nil, nil // finished jobs are purged after an hour: the re-list decides
	}
	if err == nil && job.Status != cloud.JobRunning {
		why := map[string]string{}
		for _, r := range job.Reasons {
			why[r.ResourceName] = r.Code + ": " + r.Message
		}
		return ops, why, nil
	}
	if err == nil && now.After(ops[0].Deadline) {
		return ops, nil, nil // judged against the deadline
	}
	return nil, nil, p.reschedule(ctx, ops, err, now)
}

// reschedule pushes ops to their next poll, noting a read error if any; an
// op past its deadline whose status cannot be read is timed out.
func (p *Poller) reschedule(ctx context.Context, ops []Op, readErr error, now time.Time) error {
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		for _, op := range ops {
			from := op.State
			op.Polls++
			wait := Interval(now.Sub(op.SubmittedAt), p.o, p.o.Rand())
			if readErr != nil {
				op.LastError = "status read failed: " + readErr.Error()
				var ce *cloud.Error
				if errors.As(readErr, &ce) && ce.RetryAfter > wait {
					wait = ce.RetryAfter
				}
			}
			op.NextPollAt = now.Add(wait)
			if readErr != nil && !op.Deadline.IsZero() && now.After(op.Deadline) {
				// Reads that keep failing must not keep the change open forever.
				op.State = changes.OpTimedOut
				op.LastError = fmt.Sprintf("not confirmed deleted after %s: %s", p.o.Timeout, op.LastError)
			}
			if err := p.settle(ctx, tx, op, from, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// reread lists the live state of one group's ops with one ReadMany and
// judges each.
func (p *Poller) reread(ctx context.Context, ops []Op, reasons map[int64]string, now time.Time) error {
	refs := make([]cloud.Ref, len(ops))
	for i, op := range ops {
		refs[i] = op.Ref
	}
	rctx, trail := cloud.WithTrail(ctx)
	live, err := p.cloud.ReadMany(rctx, refs)
	reads := lastReads(trail.Calls()) // a paged listing makes many; only the latest are kept
	for i := range ops {
		addCalls(&ops[i], reads)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return p.reschedule(ctx, ops, err, now)
	}
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		for _, op := range ops {
			r, found := live[op.Ref.Key()]
			v := Judge(op, r, found, now, p.cloud.SettleTime(op.Ref.Account), p.o)
			from := op.State
			op.State, op.LastStatus, op.Polls = v.State, v.Status, op.Polls+1
			if v.Err != "" || v.State == changes.OpDone || v.State == changes.OpInProgress {
				op.LastError = v.Err
			}
			if why := reasons[op.ID]; why != "" && v.State == changes.OpFailed {
				op.LastError = why
			}
			op.NextPollAt = now.Add(Interval(now.Sub(op.SubmittedAt), p.o, p.o.Rand()))
			if err := p.settle(ctx, tx, op, from, now); err != nil {
				return err
			}
		}
		return nil
	})
}
