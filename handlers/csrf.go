package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// csrfField is the form field of plain forms; htmx sends X-CSRF-Token
// (static/app.js copies it from the csrf-token meta tag).
const csrfField = "_csrf"

// csrf guards every state-changing request, after loadSession:
//   - a cross-site request is refused outright: Sec-Fetch-Site other than
//     same-origin (or none, typed by the user), or an Origin that is not this
//     console's;
//   - the token must come from the X-CSRF-Token header or the form body
//     (never the URL query, which leaks through logs and Referer), and equal
//     the HMAC of the session it is bound to: the session token when signed
//     in, else a random nonce kept in the cookie. A new session is a new
//     token, and a token of another browser's session is worthless.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		want, err := s.csrfExpected(c)
		if err != nil {
			return err
		}
		c.Set(keyCSRF, want)
		r := c.Request()
		if isSafeMethod(r.Method) {
			return next(c)
		}
		if !s.sameOrigin(r) {
			return echo.NewHTTPError(http.StatusForbidden, "Cross-site request refused.")
		}
		got := r.Header.Get(echo.HeaderXCSRFToken)
		if got == "" {
			if err := r.ParseForm(); err == nil {
				got = r.PostForm.Get(csrfField)
			}
		}
		if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
			return echo.NewHTTPError(
				http.StatusForbidden,
				"Invalid or missing CSRF token. Reload the page and try again.",
			)
		}
		return next(c)
	}
}

const keyCSRF = "decom.csrf"

// csrfExpected returns the request's token: bound to the session token when
// signed in, else to the cookie's nonce (created and saved if missing).
func (s *Server) csrfExpected(c echo.Context) (string, error) {
	binding := "s:" + sessionToken(c)
	if currentUser(c) == nil {
		sess := session(c)
		nonce, _ := sess.Values[sessAnon].(string)
		if nonce == "" {
			b := make([]byte, 16)
			rand.Read(b)
			nonce = base64.RawURLEncoding.EncodeToString(b)
			sess.Values[sessAnon] = nonce
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return "", err
			}
		}
		binding = "a:" + nonce
	}
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// sameOrigin reports whether a state-changing request comes from this
// console's own pages, by Sec-Fetch-Site and Origin when the browser sends
// them (a request without either, from an old browser or a script, still
// needs the token).
func (s *Server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get(echo.HeaderSecFetchSite) {
	case "", "same-origin", "none":
	default: // cross-site, same-site (a sibling host is another origin)
		return false
	}
	o := r.Header.Get(echo.HeaderOrigin)
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false // includes "null"
	}
	pub := s.PublicURL
	if pub != nil && strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host) {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfToken returns the request's CSRF token for forms and the meta tag.
func csrfToken(c echo.Context) string {
	s, _ := c.Get(keyCSRF).(string)
	return s
}

// csrfKeyFrom derives the CSRF HMAC key from the cookie's authentication key,
// so tokens need no key of their own and change when that key rotates.
func csrfKeyFrom(hashKey []byte) []byte {
	m := hmac.New(sha256.New, hashKey)
	m.Write([]byte("decom csrf token v1"))
	return m.Sum(nil)
}
