// Package handlers is decom's web console: Echo routes, middleware
// (request IDs, logging, metrics, security headers, sessions, CSRF, roles),
// request parsing, and the choice between a full page and an htmx fragment.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/metrics"
	"github.com/decom/decom/static"
	"github.com/decom/decom/views"
)

// Users is what the console needs from the user store; *auth.Service
// satisfies it.
type Users interface {
	ByID(ctx context.Context, id int64) (auth.User, error)
	SignIn(ctx context.Context, a auth.Attempt) (auth.User, error)
	SignOut(ctx context.Context, o auth.Origin) error
	List(ctx context.Context) ([]auth.User, error)
}

// Deps are the console's dependencies and settings, built by cmd/web. Add a
// field here for each new service a page needs (and wire it in cmd/web).
type Deps struct {
	Logger    *slog.Logger
	Users     Users
	Inventory *inventory.Inventory
	Changes   Changes    // change requests and their policies
	Audit     *audit.Log // audit log review and export
	Notify    Notify     // notification channels and deliveries

	// Recycle reads DMS recycle bins; nil answers 503 on their pages.
	Recycle RecycleBins

	SessionKeys     auth.SessionKeys
	SecureCookies   bool          // serving over TLS (directly or behind a proxy): Secure cookies and HSTS
	IdleTimeout     time.Duration // sign out after this long without a request (default 30m)
	AbsoluteTimeout time.Duration // sign out this long after sign-in whatever happens (default 12h)

	Metrics  *metrics.Metrics    // from metrics.New; nil creates one on a private registry
	Gatherer prometheus.Gatherer // served at /metrics; nil serves Metrics' registry
	Ready    func(ctx context.Context) error

	Simulated bool   // the cloud is cloudsim: every page shows a banner
	SimURL    string // cloudsim base URL for the banner ("" when not embedded)
	Now       func() time.Time
}

// Server holds the dependencies every handler method uses.
type Server struct {
	Deps
	sessions *sessions.CookieStore
	static   *static.Assets
	assets   views.Assets // the layout's URLs of static
}

// New builds the console's Echo instance with every route and middleware.
func New(d Deps) (*echo.Echo, error) {
	s, err := newServer(d)
	if err != nil {
		return nil, err
	}
	return s.echo(), nil
}

func newServer(d Deps) (*Server, error) {
	if d.Users == nil || d.Inventory == nil || d.Changes == nil || d.Audit == nil || d.Notify == nil {
		return nil, errors.New("handlers: Users, Inventory, Changes, Audit and Notify are required")
	}
	if len(d.SessionKeys.Hash) == 0 || len(d.SessionKeys.Block) == 0 {
		return nil, errors.New("handlers: session keys are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = 30 * time.Minute
	}
	if d.AbsoluteTimeout == 0 {
		d.AbsoluteTimeout = 12 * time.Hour
	}
	if d.Metrics == nil {
		reg := prometheus.NewRegistry()
		d.Metrics = metrics.New(reg)
		if d.Gatherer == nil {
			d.Gatherer = reg
		}
	}
	if d.Gatherer == nil {
		d.Gatherer = prometheus.DefaultGatherer
	}
	if d.Ready == nil {
		d.Ready = func(context.Context) error { return nil }
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	files, err := static.Load()
	if err != nil {
		return nil, err
	}
	return &Server{Deps: d, sessions: newCookieStore(d), static: files, assets: assetURLs(files)}, nil
}

func (s *Server) echo() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.handleError
	// Forms are small: the largest, a selection post, is ~50 kB.
	e.Use(s.requestID, s.recoverPanic, s.observe, s.securityHeaders, middleware.BodyLimit("1M"))
	for _, r := range s.routes() {
		e.Add(r.Method, r.Path, r.Handler, s.chain(r)...)
	}
	return e
}
