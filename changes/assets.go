package changes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/decom/decom/cloud"
)

// KindImport re-imports ROMA assets from the archives stored before their
// delete ("Restore assets").
const KindImport PlanKind = "import"

// ArchivedStatus is the planned status of an asset to import: in a stored
// archive, with no asset of its name in the instance.
const ArchivedStatus = "ARCHIVED"

// BackupAsset is one asset in a stored archive.
type BackupAsset struct {
	ID   string     `json:"id"`
	Kind cloud.Kind `json:"kind"`
	Name string     `json:"name"`
}

// Backup is one ROMA archive stored before a delete job of a change.
type Backup struct {
	ChangeID  int64
	Batch     int
	Account   string
	Project   string
	Instance  string
	SHA256    string // the file <backup dir>/<SHA256>.zip
	ArchiveID string
	Assets    []BackupAsset
	CreatedAt string
}

// InsertBackup records a stored archive inside tx (the poller, in the
// transaction of its audit event).
func InsertBackup(ctx context.Context, tx *sql.Tx, b Backup) error {
	assets, err := json.Marshal(b.Assets)
	if err != nil {
		return fmt.Errorf("encode backup assets: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO roma_backups (change_id, batch, account, project, instance, sha256,
		archive_id, assets_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ChangeID, b.Batch, b.Account,
		b.Project, b.Instance, b.SHA256, b.ArchiveID, string(assets), b.CreatedAt)
	if err != nil {
		return fmt.Errorf("record backup: %w", err)
	}
	return nil
}

// Backups lists the archives stored for a change, oldest first.
func (s *Service) Backups(ctx context.Context, id int64) ([]Backup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT change_id, batch, account, project, instance, sha256, archive_id,
		assets_json, created_at FROM roma_backups WHERE change_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list backups of change %d: %w", id, err)
	}
	defer rows.Close()
	var out []Backup
	for rows.Next() {
		var b Backup
		var assets string
		if err := rows.Scan(&b.ChangeID, &b.Batch, &b.Account, &b.Project, &b.Instance, &b.SHA256, &b.ArchiveID,
			&assets, &b.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan backup: %w", err)
		}
		if err := json.Unmarshal([]byte(assets), &b.Assets); err != nil {
			return nil, fmt.Errorf("decode backup assets: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// CanRestoreAssets reports whether the actor may plan the re-import of a
// change's backed-up ROMA assets: a planner, on a delete change that ran to
// an end and stored at least one archive.
func CanRestoreAssets(a Actor, c Change, backups int) error {
	if err := CanPlan(a); err != nil {
		return err
	}
	if c.Plan.Kind != KindDelete || !c.State.Finished() {
		return fmt.Errorf("restore assets of %s (%s): %w", c.Name(), c.State, ErrInvalidState)
	}
	if backups == 0 {
		return fmt.Errorf("restore assets of %s: %w: no backup was stored", c.Name(), ErrInvalidState)
	}
	return nil
}

// AssetLister lists a ROMA instance's assets; *cloud.Client satisfies it.
type AssetLister interface {
	ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]cloud.Resource, error)
}

// RestoreAssets plans, as a new pending change, the import of every archive
// stored before the deletes of change id. Assets whose name exists again
// are left out (an import adds new assets only).
func (s *Service) RestoreAssets(ctx context.Context, a Actor, id int64) (Change, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Change{}, err
	}
	backups, err := s.Backups(ctx, id)
	if err != nil {
		return Change{}, err
	}
	if err := CanRestoreAssets(a, c, len(backups)); err != nil {
		return Change{}, err
	}
	var items []Item
	arch := map[string]string{}
	for _, b := range backups {
		for _, as := range b.Assets {
			ref := cloud.Ref{Account: b.Account, Project: b.Project, Service: cloud.ROMA, Kind: as.Kind,
				Parent: b.Instance, ID: as.ID}
			items = append(items, Item{Ref: ref, Name: as.Name, Status: ArchivedStatus, Class: cloud.ClassDeleting,
				SeenAt: s.now().UTC()})
			arch[ref.Key()] = b.SHA256
		}
	}
	plan := buildImportPlan(items, arch, fmt.Sprintf("Restore assets of %s: %s", c.Name(), c.Reason), c.Ticket)
	live, err := s.liveImport(ctx, plan)
	if err != nil {
		return Change{}, err
	}
	plan = replanImport(plan, live)
	if len(plan.Items) == 0 {
		return Change{}, &ValidationError{Fields: map[string]string{"resources": "every asset exists again"}}
	}
	return s.create(ctx, a, plan, 0)
}

// buildImportPlan makes one import call per archive, items in key order.
func buildImportPlan(items []Item, arch map[string]string, reason, ticket string) Plan {
	sort.Slice(items, func(i, j int) bool { return items[i].Key() < items[j].Key() })
	p := Plan{Version: PlanVersion, Kind: KindImport, Items: items, Reason: reason, Ticket: ticket}
	index := map[string]int{}
	for _, it := range items {
		sha := arch[it.Key()]
		i, ok := index[sha]
		if !ok {
			i = len(p.Batches)
			index[sha] = i
			p.Batches = append(p.Batches, Batch{Seq: i + 1, Account: it.Account, Project: it.Project,
				Service: cloud.ROMA, Parent: it.Parent, Archive: sha,
				Call: fmt.Sprintf("POST /v2/%s/instances/%s/assets/import", it.Project, it.Parent)})
		}
		p.Batches[i].IDs = append(p.Batches[i].IDs, it.ID)
	}
	p.Warnings = []Warning{{Code: "import", Message: "Each archive is imported whole as new assets: an asset " +
		"whose name exists again fails by itself; the others come back under their names (with new IDs)."}}
	return p
}

// liveImport lists the instances of an import plan: an item whose name is
// absent is still ARCHIVED; one whose name exists is live.
func (s *Service) liveImport(ctx context.Context, p Plan) (Live, error) {
	al, ok := s.cloud.(AssetLister)
	if !ok {
		return Live{}, errors.New("the cloud layer cannot list ROMA assets")
	}
	names := map[string]map[string]string{} // instance key -> name -> status
	out := map[string]cloud.Resource{}
	for _, it := range p.Items {
		k := it.Account + "/" + it.Project + "/" + it.Parent
		if _, ok := names[k]; !ok {
			assets, err := al.ListROMAAssets(ctx, it.Account, it.Project, it.Parent)
			if err != nil {
				return Live{}, fmt.Errorf("list the assets of ROMA instance %s: %w", it.Parent, err)
			}
			names[k] = map[string]string{}
			for _, a := range assets {
				names[k][string(a.Kind)+"/"+a.Name] = a.Status
			}
		}
		r := cloud.Resource{Ref: it.Ref, Name: it.Name, Status: ArchivedStatus, Class: cloud.ClassDeleting,
			ReadAt: s.now().UTC()}
		if _, exists := names[k][string(it.Kind)+"/"+it.Name]; exists {
			r.Status, r.Class = "EXISTS", cloud.ClassActive
		}
		out[it.Key()] = r
	}
	return Live{Resources: out}, nil
}

// replanImport keeps the assets still archived, in the same archives.
func replanImport(p Plan, live Live) Plan {
	arch := map[string]string{}
	for _, b := range p.Batches {
		for _, id := range b.IDs {
			arch[cloud.Ref{Account: b.Account, Project: b.Project, Service: cloud.ROMA, Parent: b.Parent, ID: id}.Key()] = b.Archive
		}
	}
	var items []Item
	keyed := map[string]string{}
	for _, it := range p.Items {
		if r, ok := live.Resources[it.Key()]; ok && r.Status == ArchivedStatus {
			items = append(items, it)
			k := it.Ref
			k.Kind = ""
			keyed[it.Key()] = arch[k.Key()]
		}
	}
	return buildImportPlan(items, keyed, p.Reason, p.Ticket)
}
