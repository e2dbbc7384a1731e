// Package handlers is decom's web console: Echo routes, middleware
// (request IDs, logging, metrics, security headers, sessions, CSRF, roles),
// request parsing, and the choice between a full page and an htmx fragment.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
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

// Users is what the console needs from users and sessions; *auth.Service
// satisfies it.
type Users interface {
	SignIn(ctx context.Context, a auth.Attempt) (auth.User, error)
	List(ctx context.Context) ([]auth.User, error)

	StartSession(ctx context.Context, u auth.User, m auth.SessionMeta) (string, error)
	Session(ctx context.Context, token string) (auth.Session, auth.User, error)
	EndSession(ctx context.Context, o auth.Origin, token string) error
	RevokeUserSessions(ctx context.Context, o auth.Origin, username, reason string) (int64, error)
	RevokeSession(ctx context.Context, o auth.Origin, id int64) error
	ListSessions(ctx context.Context, username string) ([]auth.Session, error)
	SignInOIDC(ctx context.Context, o auth.Origin, id auth.Identity) (auth.User, error)
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
	PublicURL       *url.URL      // the console's external URL, if configured: its Origin is accepted
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is read
	// for the client's address; with none, the address is the TCP peer's.
	TrustedProxies  []*net.IPNet
	SSO             SSO    // single sign-on; nil: password sign-in only
	SSOName         string // the sign-in button's label (default "SSO")
	NoPasswordLogin bool   // hide and refuse the password form (SSO only)

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
	flows    *sessions.CookieStore // single sign-on flows in progress
	csrfKey  []byte
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
	if d.SSOName == "" {
		d.SSOName = "SSO"
	}
	if d.NoPasswordLogin && d.SSO == nil {
		return nil, errors.New("handlers: password sign-in off needs single sign-on")
	}
	files, err := static.Load()
	if err != nil {
		return nil, err
	}
	return &Server{
		Deps:     d,
		sessions: newCookieStore(d),
		flows:    newFlowStore(d),
		csrfKey:  csrfKeyFrom(d.SessionKeys.Hash),
		static:   files,
		assets:   assetURLs(files),
	}, nil
}

func (s *Server) echo() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ipExtractor(s.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	// Forms are small: the largest, a selection post, is ~50 kB.
	e.Use(s.requestID, s.recoverPanic, s.observe, s.securityHeaders, middleware.BodyLimit("1M"))
	for _, r := range s.routes() {
		e.Add(r.Method, r.Path, r.Handler, s.chain(r)...)
	}
	return e
}

// ipExtractor returns the client address rule: the TCP peer, unless it is one
// of the trusted proxies; then the right-most X-Forwarded-For entry that is
// not a trusted proxy. Loopback and private ranges are not trusted unless
// named (Echo would trust them by default).
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
