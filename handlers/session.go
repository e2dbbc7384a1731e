package handlers

import (
	"crypto/rand"
	"encoding/hex"
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

// Session values. Times are Unix seconds.
const (
	sessUserID  = "uid"
	sessID      = "sid"
	sessCreated = "created"
	sessSeen    = "seen"
	sessFlash   = "flash"
)

// seenGranularity: the idle clock is refreshed (and the cookie rewritten) at
// most this often, not on every request.
const seenGranularity = time.Minute

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
	return cs
}

// loadSession reads the session cookie, enforces the idle and absolute
// timeouts, and loads the user fresh from the store, so a disabled user or
// changed roles take effect at once.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionName)
		if err != nil {
			// A cookie from old keys or tampered with: start afresh.
			sess, _ = s.sessions.New(c.Request(), sessionName)
			sess.Values = map[any]any{}
		}
		c.Set(keySessionName, sess)
		uid, _ := sess.Values[sessUserID].(int64)
		if uid == 0 {
			return next(c)
		}
		now := s.Now()
		created, _ := sess.Values[sessCreated].(int64)
		seen, _ := sess.Values[sessSeen].(int64)
		if now.Sub(time.Unix(created, 0)) > s.AbsoluteTimeout || now.Sub(time.Unix(seen, 0)) > s.IdleTimeout {
			s.endSession(c, sess)
			return next(c)
		}
		u, err := s.Users.ByID(c.Request().Context(), uid)
		if errors.Is(err, auth.ErrNotFound) || err == nil && u.Disabled {
			s.endSession(c, sess)
			return next(c)
		}
		if err != nil {
			return err
		}
		c.Set(keyUserName, &u)
		if now.Sub(time.Unix(seen, 0)) >= seenGranularity {
			sess.Values[sessSeen] = now.Unix()
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// Echo context keys (strings, as echo.Context.Set requires).
const (
	keySessionName = "decom.session"
	keyUserName    = "decom.user"
)

func (s *Server) endSession(c echo.Context, sess *sessions.Session) {
	sess.Values = map[any]any{}
	sess.Options.MaxAge = -1
	sess.Save(c.Request(), c.Response())
	sess.Options.MaxAge = s.sessions.Options.MaxAge
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

// startSession replaces whatever session the browser had with a new one for
// u (a new session ID, new timestamps), and drops the CSRF cookie so the next
// page issues a new token.
func (s *Server) startSession(c echo.Context, u auth.User) error {
	sess := session(c)
	if sess == nil {
		sess, _ = s.sessions.New(c.Request(), sessionName)
	}
	b := make([]byte, 16)
	rand.Read(b)
	now := s.Now().Unix()
	sess.Values = map[any]any{sessUserID: u.ID, sessID: hex.EncodeToString(b), sessCreated: now, sessSeen: now}
	sess.Options.MaxAge = s.sessions.Options.MaxAge
	c.SetCookie(&http.Cookie{Name: "_csrf", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	return sess.Save(c.Request(), c.Response())
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
