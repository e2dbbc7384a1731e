package handlers

import (
	"errors"
	"net/http"
	"strings"

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
	return s.render(c, http.StatusOK, views.LoginPage(m, views.Login{Next: next}))
}

func (s *Server) handleLogin(c echo.Context) error {
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
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			msg = "Wrong username or password."
		case errors.Is(err, auth.ErrThrottled):
			msg = "Too many failed sign-ins. Wait 15 minutes and try again."
		}
		vm := views.Login{Username: f.Username, Next: safeNext(f.Next), Error: msg}
		return s.render(c, status, views.LoginPage(s.meta(c, "Sign in", ""), vm))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	s.log(c).Info("signed in", "user", u.Username)
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

func (s *Server) handleLogout(c echo.Context) error {
	u := currentUser(c)
	err := s.Users.SignOut(c.Request().Context(), auth.Origin{Actor: u.Username, ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()})
	if err != nil {
		return err
	}
	s.endSession(c, session(c))
	return redirectAfterPost(c, "/login?bye=1")
}

// safeNext keeps post-login redirects on this site: a local absolute path,
// never "//host" or a scheme.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/inventory"
	}
	return next
}
