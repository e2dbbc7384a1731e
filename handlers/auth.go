package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/views"
)

// LoginForm is the parsed sign-in form.
type LoginForm struct {
	Username string `form:"username"`
	Password string `form:"password"`
	Next     string `form:"next"`
}

// handleHome sends signed-in users to the inventory and others to sign in.
func (s *Server) handleHome(c echo.Context) error {
	if currentUser(c) == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/inventory")
}

func (s *Server) handleLoginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	m := s.meta(c, "Sign in", "")
	if c.QueryParam("bye") != "" {
		m.Flashes = append(m.Flashes, views.Flash{Kind: "info", Message: "You have signed out."})
	}
	return s.render(c, http.StatusOK, views.LoginPage(m, s.loginForm(c, views.Login{Next: next})))
}

// loginForm adds the sign-in choices to vm: the SSO button (and whether the
// provider answers) and the password form unless it is off.
func (s *Server) loginForm(c echo.Context, vm views.Login) views.Login {
	vm.PasswordLogin = !s.NoPasswordLogin
	if s.SSO != nil {
		vm.SSOName = s.SSOName
		vm.SSOURL = "/auth/oidc/login?next=" + urlQueryEscape(vm.Next)
		if err := s.SSO.Ready(); err != nil && vm.Error == "" {
			vm.SSONotice = "Single sign-on is unavailable: the identity provider could not be reached."
		}
	}
	return vm
}

func (s *Server) handleLogin(c echo.Context) error {
	if s.NoPasswordLogin {
		return echo.NewHTTPError(http.StatusForbidden, "Password sign-in is turned off. Use "+s.SSOName+".")
	}
	var f LoginForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Malformed form.")
	}
	f.Username = strings.TrimSpace(strings.ToLower(f.Username))
	u, err := s.Users.SignIn(c.Request().Context(), auth.Attempt{
		Username: f.Username, Password: f.Password, ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent(),
	})
	if err != nil {
		status, msg := statusOf(err)
		if status >= 500 {
			return err
		}
		var te *auth.ThrottledError
		var ve *auth.ValidationError
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			msg = "Wrong username or password."
		case errors.As(err, &te):
			secs := int(math.Ceil(te.Wait.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			msg = fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", secs)
		case errors.As(err, &ve):
			f.Username = "" // never echo an impossible username back
		}
		vm := s.loginForm(c, views.Login{Username: f.Username, Next: safeNext(f.Next), Error: msg})
		return s.render(c, status, views.LoginPage(s.meta(c, "Sign in", ""), vm))
	}
	if err := s.startSession(c, u, auth.MethodPassword); err != nil {
		return err
	}
	s.log(c).Info("signed in", "user", u.Username)
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (s *Server) handleLogout(c echo.Context) error {
	if err := s.Users.EndSession(c.Request().Context(), s.origin(c), sessionToken(c)); err != nil {
		return err
	}
	s.clearSession(c, session(c))
	return redirectAfterPost(c, "/login?bye=1")
}

// safeNext keeps post-login redirects on this host: a path starting with a
// single "/", with no control or space characters and no backslashes (browsers
// drop TABs and newlines and read "\\" as "/", so "/\t/evil.example" would
// leave), no scheme or host, resolving to this host, and whose decoded path
// does not start with "//" either. Anything else goes to the inventory.
func safeNext(next string) string {
	const home = "/inventory"
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") || unsafeInPath(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	base := &url.URL{Scheme: "https", Host: "decom.invalid", Path: "/"}
	if base.ResolveReference(u).Host != base.Host {
		return home
	}
	p, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.HasPrefix(p, "//") || unsafeInPath(p) {
		return home
	}
	return next
}

func unsafeInPath(s string) bool {
	for _, r := range s {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return true
		}
	}
	return false
}
