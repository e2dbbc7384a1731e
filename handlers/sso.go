package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/views"
)

// SSO is single sign-on through an OpenID Connect provider; *auth.OIDC
// satisfies it.
type SSO interface {
	Ready() error
	Begin() (auth.OIDCFlow, string, error)
	Finish(ctx context.Context, code string, f auth.OIDCFlow) (auth.Identity, error)
}

// The sign-in flow cookie: state, nonce and PKCE verifier, encrypted and
// authenticated like the session cookie, HttpOnly, SameSite=Lax (Strict would
// not be sent when the provider redirects back), gone after 10 minutes or at
// the callback, whichever comes first.
const (
	flowCookie = "decom_oidc"
	flowMaxAge = 10 * time.Minute
)

func newFlowStore(d Deps) *sessions.CookieStore {
	cs := sessions.NewCookieStore(d.SessionKeys.Pairs()...)
	cs.Options = &sessions.Options{Path: "/auth/oidc/", MaxAge: int(flowMaxAge / time.Second), HttpOnly: true,
		Secure: d.SecureCookies, SameSite: http.SameSiteLaxMode}
	cs.MaxAge(cs.Options.MaxAge)
	useJSON(cs)
	return cs
}

// handleSSOLogin starts a sign-in at the provider.
func (s *Server) handleSSOLogin(c echo.Context) error {
	if s.SSO == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured.")
	}
	f, to, err := s.SSO.Begin()
	if err != nil {
		return s.ssoRefused(c, http.StatusServiceUnavailable, err, "")
	}
	fs, _ := s.flows.New(c.Request(), flowCookie)
	fs.Values = map[any]any{"state": f.State, "nonce": f.Nonce, "verifier": f.Verifier,
		"next": safeNext(c.QueryParam("next"))}
	if err := fs.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, to)
}

// handleSSOCallback finishes a sign-in: the state must match the flow
// cookie's (which is consumed), the code is exchanged with the PKCE
// verifier, and the ID token verified, nonce included.
func (s *Server) handleSSOCallback(c echo.Context) error {
	if s.SSO == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not configured.")
	}
	fs, err := s.flows.Get(c.Request(), flowCookie)
	state, _ := fs.Values["state"].(string)
	f := auth.OIDCFlow{State: state}
	f.Nonce, _ = fs.Values["nonce"].(string)
	f.Verifier, _ = fs.Values["verifier"].(string)
	next, _ := fs.Values["next"].(string)
	fs.Options.MaxAge = -1 // one use
	if err := fs.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	if err != nil || state == "" {
		return s.ssoRefused(c, http.StatusBadRequest, errors.New("no sign-in in progress"),
			"This sign-in expired or was started in another browser. Start again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return s.ssoRefused(c, http.StatusUnauthorized, errors.New("provider: "+clipText(e, 100)),
			"The identity provider refused the sign-in ("+clipText(e, 100)+").")
	}
	if subtle.ConstantTimeCompare([]byte(c.QueryParam("state")), []byte(state)) != 1 {
		return s.ssoRefused(c, http.StatusBadRequest, errors.New("state does not match"),
			"This sign-in does not match the one this browser started. Start again.")
	}
	id, err := s.SSO.Finish(c.Request().Context(), c.QueryParam("code"), f)
	if err != nil {
		return s.ssoRefused(c, http.StatusUnauthorized, err, "")
	}
	u, err := s.Users.SignInOIDC(c.Request().Context(), s.origin(c), id)
	if err != nil {
		return s.ssoUserRefused(c, id, err)
	}
	if err := s.startSession(c, u, auth.MethodOIDC); err != nil {
		return err
	}
	s.log(c).Info("signed in", "user", u.Username, "method", auth.MethodOIDC)
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// ssoUserRefused explains why a verified identity may not sign in.
func (s *Server) ssoUserRefused(c echo.Context, id auth.Identity, err error) error {
	switch {
	case errors.Is(err, auth.ErrNoRole):
		groups := "none"
		if len(id.Groups) > 0 {
			groups = clipText(strings.Join(id.Groups[:min(len(id.Groups), 20)], ", "), 500)
		}
		return s.ssoRefused(c, http.StatusForbidden, err, "You signed in as "+id.Username+
			", but none of your groups grants a role in decom (your groups: "+groups+
			"). Ask an administrator to add you to a group that maps to a role.")
	case errors.Is(err, auth.ErrNameTaken):
		return s.ssoRefused(c, http.StatusConflict, err, "The username "+id.Username+
			" belongs to another decom user, who is not linked to this sign-in. Ask an administrator.")
	case errors.Is(err, auth.ErrInvalidCredentials):
		return s.ssoRefused(c, http.StatusForbidden, err, "Your decom user is disabled.")
	}
	return err
}

// ssoRefused shows the sign-in page with msg (or a generic message) and
// logs the cause, which may name provider details users need not see.
func (s *Server) ssoRefused(c echo.Context, status int, cause error, msg string) error {
	s.log(c).Warn("single sign-on refused", "err", cause, "ip", c.RealIP())
	if msg == "" {
		msg = "Single sign-on failed. Try again; if it keeps failing, the log has the details."
		if errors.Is(cause, auth.ErrSSOUnavailable) {
			msg = "Single sign-on is unavailable: the identity provider could not be reached."
		}
	}
	vm := s.loginForm(c, views.Login{Next: "/inventory", Error: msg})
	return s.render(c, status, views.LoginPage(s.meta(c, "Sign in", ""), vm))
}

func clipText(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "")
}
