package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/views"
)

// errorStatuses maps domain sentinels to HTTP statuses. Add yours here; the
// message of a 4xx error is shown to the user, a 5xx only as "Internal error".
var errorStatuses = []struct {
	err    error
	status int
}{
	{auth.ErrNotFound, http.StatusNotFound},
	{auth.ErrConflict, http.StatusConflict},
	{auth.ErrThrottled, http.StatusTooManyRequests},
	{auth.ErrNoSession, http.StatusNotFound},
	{auth.ErrInvalidCredentials, http.StatusUnauthorized},
	{changes.ErrNotFound, http.StatusNotFound},
	{changes.ErrRuleNotFound, http.StatusNotFound},
	{changes.ErrForbidden, http.StatusForbidden},
	{changes.ErrConflict, http.StatusConflict},
	{changes.ErrInvalidState, http.StatusConflict},
	{changes.ErrExpired, http.StatusConflict},
	{changes.ErrDiffers, http.StatusConflict},
	{changes.ErrConfirmation, http.StatusUnprocessableEntity},
	{context.Canceled, 499},
}

// invalidInput is the one shape of a validation error, whatever package
// returns it (auth.ValidationError, changes.ValidationError): bad input, by
// field, shown to the user with status 422.
type invalidInput interface {
	error
	FieldErrors() map[string]string
}

// statusOf returns the HTTP status and user-facing message for err.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, ok := he.Message.(string)
		if !ok {
			msg = http.StatusText(he.Code)
		}
		return he.Code, msg
	}
	var fe *inventory.FilterError
	if errors.As(err, &fe) {
		return http.StatusBadRequest, fe.Error()
	}
	var re *inventory.ReadError
	if errors.As(err, &re) {
		return http.StatusBadGateway, "Could not read the cloud. Try Refresh in a moment; the log has the details."
	}
	var ve invalidInput
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity, ve.Error()
	}
	for _, m := range errorStatuses {
		if errors.Is(err, m.err) {
			return m.status, err.Error()
		}
	}
	return http.StatusInternalServerError, "Internal error"
}

// handleError is the one HTTPErrorHandler: it logs 5xx once with the request
// ID, shows the message for 4xx and "Internal error" for 5xx, as a full page
// for navigation and as a #flash fragment for htmx.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		// Headers are out: typically the client went away mid-body.
		s.log(c).Debug("error after response started", "error", err, "path", c.Request().URL.Path)
		return
	}
	status, msg := statusOf(err)
	if status >= 500 {
		s.log(c).Error("request failed", "error", err, "path", c.Request().URL.Path)
		if status != http.StatusBadGateway { // 502 messages are written for users
			msg = "Internal error"
		}
		msg += " (request " + requestIDOf(c) + ")"
	}
	if status == 499 {
		c.Response().WriteHeader(status)
		return
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	var rerr error
	if c.Request().Header.Get("HX-Request") == "true" {
		h := c.Response().Header()
		h.Set("HX-Retarget", "#flash")
		h.Set("HX-Reswap", "innerHTML")
		rerr = s.render(c, status, views.Flashes([]views.Flash{{Kind: "error", Message: msg}}))
	} else {
		rerr = s.render(c, status, views.ErrorPage(s.meta(c, http.StatusText(status), ""), status, msg))
	}
	if rerr != nil {
		s.log(c).Error("render error page", "error", rerr)
	}
}
