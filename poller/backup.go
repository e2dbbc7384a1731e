package poller

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/store"
)

// Backuper exports ROMA assets and downloads the archive; *cloud.Client
// satisfies it. A batch that must be backed up fails without it.
type Backuper interface {
	BackupROMA(ctx context.Context, account, project, instanceID string, apps, tasks []string) (cloud.Backup, error)
}

// errBackup wraps why a batch's assets could not be backed up.
type errBackup struct{ err error }

func (e errBackup) Error() string { return "backup failed: " + e.err.Error() }
func (e errBackup) Unwrap() error { return e.err }

// backup runs steps 1-3 of the backup-before-delete sequence for one ROMA
// batch (export, wait, download once), stores the archive durably in
// BackupDir as <sha256>.zip and records it (SHA-256, archive, instance,
// assets) in the audit log. Only after it returned nil may the delete job
// be submitted.
func (p *Poller) backup(ctx context.Context, ops []Op) error {
	first := ops[0]
	r := first.Ref
	b, ok := p.cloud.(Backuper)
	if !ok {
		return errBackup{fmt.Errorf("the cloud layer cannot export ROMA assets")}
	}
	var apps, tasks, ids, names []string
	for _, op := range ops {
		ids, names = append(ids, op.Ref.ID), append(names, op.Name)
		if op.Ref.Kind == cloud.KindTask {
			tasks = append(tasks, op.Ref.ID)
		} else {
			apps = append(apps, op.Ref.ID)
		}
	}
	bk, err := b.BackupROMA(ctx, r.Account, r.Project, r.Parent, apps, tasks)
	if err != nil {
		return errBackup{err}
	}
	path, err := storeArchive(p.o.BackupDir, bk)
	if err != nil {
		return errBackup{err}
	}
	var assets []changes.BackupAsset
	for _, op := range ops {
		assets = append(assets, changes.BackupAsset{ID: op.Ref.ID, Kind: op.Ref.Kind, Name: op.Name})
	}
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		if err := changes.InsertBackup(ctx, tx, changes.Backup{ChangeID: first.ChangeID, Batch: first.Batch,
			Account: r.Account, Project: r.Project, Instance: r.Parent, SHA256: bk.SHA256, ArchiveID: bk.ArchiveID,
			Assets: assets, CreatedAt: store.FormatTime(p.o.Now())}); err != nil {
			return err
		}
		return p.record(ctx, tx, audit.Event{Action: audit.ActionBackupStored, ChangeID: first.ChangeID,
			Service: string(r.Service), Project: r.Project, ResourceID: r.Parent, Outcome: "stored"},
			map[string]any{"sha256": bk.SHA256, "archive_id": bk.ArchiveID, "job_id": bk.JobID, "bytes": len(bk.Data),
				"file": filepath.Base(path), "account": r.Account, "instance": r.Parent, "batch": first.Batch,
				"ids": ids, "names": names})
	})
}

// storeArchive writes the archive to dir/<sha256>.zip through a synced
// temporary file and a rename, so a file by that name is always whole. An
// archive already stored under its hash is the same bytes.
func storeArchive(dir string, b cloud.Backup) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup directory: %w", err)
	}
	path := filepath.Join(dir, b.SHA256+".zip")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.CreateTemp(dir, ".archive-*")
	if err != nil {
		return "", fmt.Errorf("store archive: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if _, err := f.Write(b.Data); err != nil {
		f.Close()
		return "", fmt.Errorf("store archive: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("store archive: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("store archive: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("store archive: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	return path, nil
}

// recordNoBackup settles a batch whose backup failed: the delete was not
// started. Turned away (throttled, ROMA busy) it is queued again while
// attempts remain; otherwise each asset fails with the reason, which the
// change page shows.
func (p *Poller) recordNoBackup(ctx context.Context, ops []Op, why error) error {
	now := p.o.Now()
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		first := ops[0]
		if err := p.record(ctx, tx, audit.Event{Action: audit.ActionCloudCall, ChangeID: first.ChangeID,
			Service: string(first.Ref.Service), Project: first.Ref.Project, ResourceID: first.Ref.Parent,
			Outcome: "backup_failed"}, map[string]any{"batch": first.Batch, "resources": len(ops),
			"error": why.Error(), "delete_started": false}); err != nil {
			return err
		}
		for _, op := range ops {
			if notSent(why) && op.Attempts < p.o.MaxAttempts {
				op.State, op.LastError = changes.OpQueued, why.Error()+"; will try again"
			} else {
				op.State, op.LastError = changes.OpFailed, why.Error()+"; the delete was not started"
			}
			if err := p.settle(ctx, tx, op, changes.OpSubmitted, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Importer imports a stored ROMA archive; *cloud.Client satisfies it.
type Importer interface {
	SubmitROMAImport(ctx context.Context, account, project, instanceID, path string) (string, error)
	ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]cloud.Resource, error)
}

// rereadImports judges due import operations by listing their instances'
// assets by name (an import creates new IDs): the name back is done; after
// the job ended without it, failed with the job's reason; a submission
// with unknown outcome is sent again once the settle time has passed, while
// attempts remain (a second import of an existing name only fails by name).
func (p *Poller) rereadImports(ctx context.Context, ops []Op, reasons map[int64]string, now time.Time) error {
	var due []Op
	for _, op := range ops {
		if !op.NextPollAt.After(now) {
			due = append(due, op)
		}
	}
	if len(due) == 0 {
		return nil
	}
	im, ok := p.cloud.(Importer)
	if !ok {
		return p.reschedule(ctx, due, errors.New("the cloud layer cannot list ROMA assets"), now)
	}
	names := map[string]map[string]bool{}
	for _, op := range due {
		k := op.Ref.Account + "/" + op.Ref.Project + "/" + op.Ref.Parent
		if _, ok := names[k]; ok {
			continue
		}
		assets, err := im.ListROMAAssets(ctx, op.Ref.Account, op.Ref.Project, op.Ref.Parent)
		if err != nil {
			return p.reschedule(ctx, due, err, now)
		}
		names[k] = map[string]bool{}
		for _, a := range assets {
			names[k][string(a.Kind)+"/"+a.Name] = true
		}
	}
	return store.InTx(ctx, p.db, func(tx *sql.Tx) error {
		for _, op := range due {
			from := op.State
			back := names[op.Ref.Account+"/"+op.Ref.Project+"/"+op.Ref.Parent][string(op.Ref.Kind)+"/"+op.Name]
			switch {
			case back:
				op.State, op.LastStatus, op.LastError = changes.OpDone, "imported", ""
			case op.State == changes.OpInProgress:
				op.State, op.LastError = changes.OpFailed, "not imported"
				if why := reasons[op.ID]; why != "" {
					op.LastError = "not imported: " + why
				}
			case now.Sub(op.SubmittedAt) < p.cloud.SettleTime(op.Ref.Account):
			case op.Attempts >= p.o.MaxAttempts:
				op.State, op.LastError = changes.OpFailed, fmt.Sprintf(
					"import not confirmed after %d attempts",
					op.Attempts,
				)
			default:
				op.State, op.LastError = changes.OpQueued, "import not confirmed; asset absent, re-sending"
			}
			op.Polls++
			op.NextPollAt = now.Add(Interval(now.Sub(op.SubmittedAt), p.o, p.o.Rand()))
			if err := p.settle(ctx, tx, op, from, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// backedUp reports whether the archive of a change's ROMA batch is stored.
func backedUp(ctx context.Context, db *sql.DB, changeID int64, batch int) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM roma_backups WHERE change_id = ? AND batch = ?`,
		changeID, batch).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read backups of change %d batch %d: %w", changeID, batch, err)
	}
	return n > 0, nil
}

// restartSettle moves the submission time of ops (still submitted, in their
// current attempt) to now, just before their delete call is sent.
func restartSettle(ctx context.Context, db *sql.DB, ops []Op, now time.Time) error {
	for i := range ops {
		if _, err := db.ExecContext(ctx, `UPDATE change_operations SET submitted_at = ?
			WHERE id = ? AND state = ? AND attempts = ?`, store.FormatTime(now), ops[i].ID, changes.OpSubmitted,
			ops[i].Attempts); err != nil {
			return fmt.Errorf("operation %d: %w", ops[i].ID, err)
		}
		ops[i].SubmittedAt = now
	}
	return nil
}
