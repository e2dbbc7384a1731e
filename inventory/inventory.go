// Package inventory is the console's read model of the cloud: a short-lived
// server-side cache of every instance and ROMA asset, with filtering,
// sorting and paging done in memory, per-service and per-project counts, and
// each user's selection of resources for a change request.
package inventory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/decom/decom/cloud"
)

// Cloud is the part of the cloud layer the inventory reads; *cloud.Client
// satisfies it.
type Cloud interface {
	Accounts() []cloud.AccountInfo
	ListInstances(ctx context.Context, account, project string, svc cloud.Service) ([]cloud.Resource, error)
	ListROMAAssets(ctx context.Context, account, project, instanceID string) ([]cloud.Resource, error)
}

// ReadError: every read behind a view failed, so there is nothing to show.
type ReadError struct{ Errs []string }

// Error lists the failed reads.
func (e *ReadError) Error() string {
	return fmt.Sprintf("cloud read failed: %v", e.Errs)
}

// Options tunes an Inventory; zero fields take the defaults.
type Options struct {
	TTL time.Duration // how long a read is served as fresh (default 30s)
	// MaxStale: a read older than TTL but younger than MaxStale is still
	// served at once (with its real age on the page) while one background
	// read replaces it; older reads block for a new one. Default 10×TTL.
	MaxStale    time.Duration
	Concurrency int // parallel list calls (default 4)
	Now         func() time.Time
}

// Inventory caches cloud reads and keeps selections. Safe for concurrent use.
type Inventory struct {
	cloud Cloud
	cfg   Options

	mu    sync.Mutex
	cache map[string]*entry // "svc:<service>" or "assets:<instance key>"
	sel   selections
}

type entry struct {
	load       sync.Mutex // one load at a time per view; others wait and share it
	snap       atomic.Pointer[Snapshot]
	refreshing atomic.Bool
	failedAt   atomic.Int64 // UnixNano of the last failed background read
}

// New returns an Inventory reading through c.
func New(c Cloud, cfg Options) *Inventory {
	if cfg.TTL == 0 {
		cfg.TTL = 30 * time.Second
	}
	if cfg.MaxStale == 0 {
		cfg.MaxStale = 10 * cfg.TTL
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Inventory{cloud: c, cfg: cfg, cache: map[string]*entry{}, sel: selections{m: map[selKey]*selection{}}}
}

// Accounts lists the configured accounts.
func (inv *Inventory) Accounts() []cloud.AccountInfo { return inv.cloud.Accounts() }

// Service returns the cached instances of svc across every account and
// project, reading them again when older than the TTL.
func (inv *Inventory) Service(ctx context.Context, svc cloud.Service) (*Snapshot, error) {
	return inv.get(ctx, "svc:"+string(svc), func(ctx context.Context) (*Snapshot, error) {
		return inv.loadService(ctx, svc)
	})
}

// Assets returns the cached apps and tasks of one ROMA instance.
func (inv *Inventory) Assets(ctx context.Context, instance cloud.Ref) (*Snapshot, error) {
	return inv.get(ctx, "assets:"+instance.Key(), func(ctx context.Context) (*Snapshot, error) {
		rs, err := inv.cloud.ListROMAAssets(ctx, instance.Account, instance.Project, instance.ID)
		if err != nil {
			msg := instance.Account + "/" + instance.Project + ": " + cloud.Explain(err)
			if cloud.Definitive(err) {
				return newSnapshot(nil, inv.cfg.Now(), []string{msg}), nil
			}
			return nil, &ReadError{Errs: []string{msg}}
		}
		return newSnapshot(rs, inv.cfg.Now(), nil), nil
	})
}

// Refresh drops cached reads: of one ROMA instance's assets (instanceKey,
// its Ref.Key(), non-empty), of one service, or everything (both empty).
func (inv *Inventory) Refresh(svc cloud.Service, instanceKey string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	switch {
	case instanceKey != "":
		delete(inv.cache, "assets:"+instanceKey)
	case svc != "":
		delete(inv.cache, "svc:"+string(svc))
	default:
		clear(inv.cache)
	}
}

func (inv *Inventory) get(
	ctx context.Context,
	key string,
	load func(context.Context) (*Snapshot, error),
) (*Snapshot, error) {
	inv.mu.Lock()
	e, ok := inv.cache[key]
	if !ok {
		e = &entry{}
		inv.cache[key] = e
	}
	inv.mu.Unlock()

	now := inv.cfg.Now()
	if s := e.snap.Load(); s != nil {
		age := now.Sub(s.ReadAt)
		if age < inv.cfg.TTL {
			return s, nil
		}
		if age < inv.cfg.MaxStale {
			inv.refreshInBackground(e, load, now)
			return s, nil
		}
	}
	e.load.Lock()
	defer e.load.Unlock()
	if s := e.snap.Load(); s != nil && inv.cfg.Now().Sub(s.ReadAt) < inv.cfg.TTL {
		return s, nil // read by whoever held the lock before us
	}
	// Detached from the request: if this visitor leaves, the read still
	// finishes for the others waiting on it.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	defer cancel()
	s, err := load(lctx)
	if err != nil {
		return nil, err
	}
	e.snap.Store(s)
	return s, nil
}

// backgroundTimeout bounds a background read (it has no request to end it).
const backgroundTimeout = 2 * time.Minute

// refreshInBackground starts one background read of e, unless one is running
// or the last one failed less than a TTL ago (a down cloud is not hammered).
func (inv *Inventory) refreshInBackground(e *entry, load func(context.Context) (*Snapshot, error), now time.Time) {
	if now.Sub(time.Unix(0, e.failedAt.Load())) < inv.cfg.TTL || !e.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
		defer cancel()
		e.load.Lock()
		defer e.load.Unlock()
		s, err := load(ctx)
		if err != nil {
			e.failedAt.Store(inv.cfg.Now().UnixNano())
			return
		}
		e.snap.Store(s)
	}()
}

// loadService lists svc in every account and project in parallel. Projects
// that fail are reported in Snapshot.Errors; only when all fail, and not all
// with a definitive answer (cloud.Definitive), is it an error.
func (inv *Inventory) loadService(ctx context.Context, svc cloud.Service) (*Snapshot, error) {
	type job struct{ account, project string }
	var jobs []job
	for _, a := range inv.cloud.Accounts() {
		for _, p := range a.Projects {
			jobs = append(jobs, job{a.Name, p})
		}
	}
	results := make([][]cloud.Resource, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, inv.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = inv.cloud.ListInstances(ctx, j.account, j.project, svc)
		}()
	}
	wg.Wait()
	var all []cloud.Resource
	var failed []string
	definitive := 0
	for i, err := range errs {
		if err != nil {
			failed = append(failed, jobs[i].account+"/"+jobs[i].project+": "+cloud.Explain(err))
			if cloud.Definitive(err) {
				definitive++
			}
			continue
		}
		all = append(all, results[i]...)
	}
	// A missing permission or a service the region lacks is shown on the
	// page, not hidden behind "could not read the cloud".
	if len(jobs) > 0 && len(failed) == len(jobs) && definitive < len(failed) {
		return nil, &ReadError{Errs: failed}
	}
	return newSnapshot(all, inv.cfg.Now(), failed), nil
}
