package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/handlers"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/metrics"
	"github.com/decom/decom/migrations"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/poller"
	"github.com/decom/decom/store"
)

// runServe runs the console until ctx ends, then shuts down gracefully.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseServeConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	log.Info("starting", cfg.logAttrs()...)

	db, err := openDB(ctx, cfg.Data)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	// Every request to the cloud, from any package, is counted by service,
	// operation and outcome.
	countCalls := cloud.Options{Observe: m.ObserveCloudCall}
	cc, err := startCloud(ctx, cfg, getenv, log, countCalls)
	if err != nil {
		return err
	}
	defer cc.close()
	if cc.simURL != "" {
		fmt.Fprintf(stdout, "cloud simulator: %s/ (control API under /_sim/)\n", cc.simURL)
	}

	users := auth.New(db, auth.Options{IdleTimeout: cfg.IdleTimeout, AbsoluteTimeout: cfg.SessionLifetime})
	if err := ensureUsers(ctx, users, cc.simulated, cfg.DemoPassword, stdout); err != nil {
		return err
	}
	keys, err := sessionKeys(cfg)
	if err != nil {
		return err
	}

	deps, workers, err := buildDeps(cfg, db, cc, users, keys, m, reg, log)
	if err != nil {
		return err
	}
	if sso, w := startSSO(ctx, cfg, log, stdout); sso != nil {
		deps.SSO, deps.SSOName = sso, cfg.OIDC.Name
		if w != nil {
			workers = append(workers, *w)
		}
	}
	deps.NoPasswordLogin = !cfg.PasswordLogin
	if cfg.PublicURL != "" {
		deps.PublicURL, _ = url.Parse(cfg.PublicURL) // checked by Validate
	}
	stopWorkers := startWorkers(ctx, workers, log)
	defer stopWorkers() // before the deferred cloud and database closes
	e, err := handlers.New(deps)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, cfg, e, log, stdout)
}

// worker is a long-running loop of the console (poller, expiry, audit
// checkpoints and indexing); it returns when ctx ends.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// startWorkers runs every worker until ctx ends or the returned stop is
// called; stop waits for them, so they finish before the database closes.
func startWorkers(ctx context.Context, workers []worker, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil && ctx.Err() == nil {
				log.Error("background worker stopped", "worker", w.name, "err", err)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// buildDeps wires the console's dependencies and the background workers that
// serve them. Add new services here.
func buildDeps(cfg serveConfig, db *sql.DB, cc consoleCloud, users *auth.Service, keys auth.SessionKeys,
	m *metrics.Metrics, reg *prometheus.Registry, log *slog.Logger) (handlers.Deps, []worker, error) {
	inv := inventory.New(cc.client, inventory.Options{TTL: max(cfg.CacheTTL, time.Nanosecond)})
	auditLog := audit.New(db, audit.Options{Now: time.Now})
	signingKey, err := audit.LoadOrCreateKey(cfg.Data)
	if err != nil {
		return handlers.Deps{}, nil, err
	}
	notes := notify.New(
		db,
		notify.Options{PublicURL: cfg.linkBase(), Client: notify.NewClient(cfg.NotifyAllow, 10*time.Second),
			Logger: log},
	)
	poll := poller.New(db, cc.client, poller.Options{Logger: log, Notified: notes.Wake,
		BackupDir: filepath.Join(cfg.Data, "backups")})
	chg := changes.New(db, cc.client, changes.Options{Wake: poll.Wake, Notified: notes.Wake, Logger: log,
		Eligible: users.CountHolding})
	workers := []worker{
		{"poller", poll.Run},         // resumes executing changes after a restart
		{"notifications", notes.Run}, // delivers the outbox; rows left by a crash are sent again
		{"approval expiry", func(ctx context.Context) error { return chg.RunExpiry(ctx, time.Minute) }},
		{"audit checkpoints", (&audit.Checkpointer{Log: auditLog, Key: signingKey}).Run},
		{"audit indexer", (&audit.Indexer{Log: auditLog}).Run}, // review indexes, off the append path
	}
	return handlers.Deps{
		Logger: log, Users: users, Inventory: inv,
		Changes: chg, Audit: auditLog, Notify: notes, Recycle: cc.client,
		SessionKeys: keys, SecureCookies: cfg.SecureCookies,
		IdleTimeout: cfg.IdleTimeout, AbsoluteTimeout: cfg.SessionLifetime, TrustedProxies: cfg.trustedNets,
		Metrics: m, Gatherer: reg,
		Ready:     func(ctx context.Context) error { return db.PingContext(ctx) },
		Simulated: cc.simulated, SimURL: cc.simURL,
	}, workers, nil
}

func newLogger(cfg serveConfig) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openDB opens (creating) data/decom.db and applies the migrations.
func openDB(ctx context.Context, dataDir string) (*sql.DB, error) {
	db, err := store.Open(filepath.Join(dataDir, "decom.db"))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, db, migrations.FS); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func sessionKeys(cfg serveConfig) (auth.SessionKeys, error) {
	if cfg.SessionKey != "" {
		return auth.ParseSessionKeys(cfg.SessionKey)
	}
	return auth.LoadOrCreateSessionKey(filepath.Join(cfg.Data, "session.key"))
}

// serveHTTP listens, prints where, and serves until ctx ends; then it stops
// accepting, lets requests in flight finish (up to 15 s) and returns.
func serveHTTP(ctx context.Context, cfg serveConfig, h http.Handler, log *slog.Logger, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "decom console: %s://%s/\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
