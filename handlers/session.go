package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/views"
)

const sessionName = "decom_session"

// Session cookie values. The cookie (encrypted and authenticated by
// gorilla/sessions) holds only the random session token, or for a signed-out
// browser the nonce its CSRF token is bound to, plus flash messages.
const (
	sessToken = "sid"
	sessAnon  = "anon"
	sessFlash = "flash"
)

func newCookieStore(d Deps) *sessions.CookieStore {
	cs := sessions.NewCookieStore(d.SessionKeys.Pairs()...)
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(d.AbsoluteTimeout / time.Second),
		HttpOnly: true,
		Secure:   d.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	cs.MaxAge(cs.Options.MaxAge) // also bounds the signed timestamp inside the cookie
	useJSON(cs)
	return cs
}

// loadSession reads the session cookie and looks its token up in the
// sessions table (auth enforces the idle and absolute timeouts and loads the
// user fresh, so revocation, disabling and role changes take effect at the
// next request). A token that names no live session clears the cookie.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil {
			// A cookie from old keys or tampered with: start afresh.
			sess, _ = s.sessions.New(c.Request(), sessionName)
			sess.Values = map[any]any{}
		}
		c.Set(keySessionName, sess)
		token, _ := sess.Values[sessToken].(string)
		if token == "" {
			return next(c)
		}
		se, u, err := s.Users.Session(c.Request().Context(), token)
		if errors.Is(err, auth.ErrNoSession) {
			s.clearSession(c, sess)
			return next(c)
		}
		if err != nil {
			return err
		}
		c.Set(keyUserName, &u)
		c.Set(keySessionInfo, &se)
		return next(c)
	}
}

// Echo context keys (strings, as echo.Context.Set requires).
const (
	keySessionName = "decom.session"
	keyUserName    = "decom.user"
	keySessionInfo = "decom.session-row"
)

// clearSession empties the browser's cookie (the server-side row, if any, is
// the caller's business).
func (s *Server) clearSession(c echo.Context, sess *sessions.Session) {
	sess.Values = map[any]any{}
	sess.Options.MaxAge = -1
	sess.Save(c.Request(), c.Response())
	sess.Options.MaxAge = s.sessions.Options.MaxAge
}

// sessionToken returns the signed-in browser's session token, or "".
func sessionToken(c echo.Context) string {
	if sess := session(c); sess != nil && currentUser(c) != nil {
		t, _ := sess.Values[sessToken].(string)
		return t
	}
	return ""
}

// currentSession returns the signed-in browser's session row, or nil.
func currentSession(c echo.Context) *auth.Session {
	se, _ := c.Get(keySessionInfo).(*auth.Session)
	return se
}

// currentUser returns the signed-in user, or nil.
func currentUser(c echo.Context) *auth.User {
	u, _ := c.Get(keyUserName).(*auth.User)
	return u
}

func usernameOf(c echo.Context) string {
	if u := currentUser(c); u != nil {
		return u.Username
	}
	return ""
}

func session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(keySessionName).(*sessions.Session)
	return sess
}

// startSession creates a server-side session for u and replaces whatever
// the browser had with its token. A session the browser held before is ended,
// so a cookie copied before sign-in does not outlive it.
func (s *Server) startSession(c echo.Context, u auth.User, method string) error {
	sess := session(c)
	if sess == nil {
		sess, _ = s.sessions.New(c.Request(), sessionName)
	}
	if old := sessionToken(c); old != "" {
		if err := s.Users.EndSession(c.Request().Context(), s.origin(c), old); err != nil {
			return err
		}
	}
	token, err := s.Users.StartSession(c.Request().Context(), u, auth.SessionMeta{
		Method: method, ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()})
	if err != nil {
		return err
	}
	sess.Values = map[any]any{sessToken: token}
	sess.Options.MaxAge = s.sessions.Options.MaxAge
	return sess.Save(c.Request(), c.Response())
}

// origin is the audit log's who and where for this request.
func (s *Server) origin(c echo.Context) auth.Origin {
	return auth.Origin{Actor: usernameOf(c), ClientIP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// setFlash queues a message for the next page the user sees and saves the
// session (call it before writing any body).
func setFlash(c echo.Context, kind, msg string) error {
	sess := session(c)
	if sess == nil {
		return errors.New("setFlash: no session on this route")
	}
	sess.AddFlash(kind+"\x00"+msg, sessFlash)
	return sess.Save(c.Request(), c.Response())
}

// takeFlashes removes and returns queued messages.
func takeFlashes(c echo.Context) []views.Flash {
	sess := session(c)
	if sess == nil {
		return nil
	}
	raw := sess.Flashes(sessFlash)
	if len(raw) == 0 {
		return nil
	}
	sess.Save(c.Request(), c.Response())
	out := make([]views.Flash, 0, len(raw))
	for _, r := range raw {
		str, _ := r.(string)
		for i := 0; i < len(str); i++ {
			if str[i] == 0 {
				out = append(out, views.Flash{Kind: str[:i], Message: str[i+1:]})
				break
			}
		}
	}
	return out
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
