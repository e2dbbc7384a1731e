package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
)

// contentSecurityPolicy allows only same-origin scripts and styles: no
// inline script or style anywhere (htmx runs with includeIndicatorStyles off).
// img-src allows data: for Pico's embedded SVG icons.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// requestID gives every request a fresh ID (an incoming X-Request-Id is not
// trusted), sent back in X-Request-Id and attached to every log line.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
		return next(c)
	}
}

// requestIDOf returns the request's ID.
func requestIDOf(c echo.Context) string {
	id, _ := c.Request().Context().Value(keyRequestID).(string)
	return id
}

// log returns the logger for this request.
func (s *Server) log(c echo.Context) *slog.Logger {
	return s.Logger.With("request_id", requestIDOf(c))
}

// recoverPanic turns a handler panic into a 500 through the error handler.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// observe logs each request once and records its latency by route template.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // write the response now so the status below is final
		}
		d := time.Since(start)
		status := c.Response().Status
		routePath := c.Path()
		if routePath == "" { // unrouted: one label keeps the cardinality bounded
			routePath = "unmatched"
		}
		s.Metrics.ObserveRequest(c.Request().Method, routePath, strconv.Itoa(status), d)
		level := slog.LevelInfo
		if routePath == "/healthz" || routePath == "/readyz" || routePath == "/metrics" || routePath == "/static/*" {
			level = slog.LevelDebug
		}
		s.log(c).Log(c.Request().Context(), level, "request",
			"method", c.Request().Method, "path", c.Request().URL.Path, "route", routePath,
			"status", status, "duration_ms", float64(d.Microseconds())/1000,
			"user", usernameOf(c), "ip", c.RealIP())
		return nil
	}
}

// securityHeaders sets the CSP and the usual hardening headers on every response.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("X-Robots-Tag", "noindex, nofollow")
		if s.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

// noStore keeps console pages out of shared and browser caches.
func (s *Server) noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// requireRole lets the request through only for a signed-in user holding
// one of roles, or an admin (mayOpen). Signed-out navigation goes to /login.
func (s *Server) requireRole(roles ...auth.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := currentUser(c)
			if u == nil {
				return s.redirectToLogin(c)
			}
			if !mayOpen(u, roles) {
				return echo.NewHTTPError(http.StatusForbidden, "Your role does not allow this.")
			}
			return next(c)
		}
	}
}

func (s *Server) redirectToLogin(c echo.Context) error {
	r := c.Request()
	if r.Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", "/login")
		return c.NoContent(http.StatusUnauthorized)
	}
	if r.Method != http.MethodGet {
		return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
	}
	return c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(r.URL.RequestURI()))
}
