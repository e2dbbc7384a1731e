package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/views"
)

// handleAccount shows the user's own live sessions.
func (s *Server) handleAccount(c echo.Context) error {
	rows, err := s.sessionRows(c, currentUser(c).Username)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AccountPage(s.meta(c, "Your sessions", ""), rows))
}

// handleAccountSignOutEverywhere ends every session of the user, this one
// included.
func (s *Server) handleAccountSignOutEverywhere(c echo.Context) error {
	u := currentUser(c)
	if _, err := s.Users.RevokeUserSessions(c.Request().Context(), s.origin(c), u.Username,
		"signed out everywhere"); err != nil {
		return err
	}
	s.clearSession(c, session(c))
	return redirectAfterPost(c, "/login?bye=1")
}

// handleAdminSessions lists every live session.
func (s *Server) handleAdminSessions(c echo.Context) error {
	rows, err := s.sessionRows(c, "")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AdminSessionsPage(s.meta(c, "Active sessions", "admin"), rows))
}

// handleAdminSessionRevoke ends one session.
func (s *Server) handleAdminSessionRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such session.")
	}
	if err := s.Users.RevokeSession(c.Request().Context(), s.origin(c), id); err != nil {
		return err
	}
	if se := currentSession(c); se != nil && se.ID == id {
		s.clearSession(c, session(c))
		return redirectAfterPost(c, "/login?bye=1")
	}
	if err := setFlash(c, "success", "Session revoked."); err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/sessions")
}

func (s *Server) sessionRows(c echo.Context, username string) ([]views.SessionRow, error) {
	list, err := s.Users.ListSessions(c.Request().Context(), username)
	if err != nil {
		return nil, err
	}
	var cur int64
	if se := currentSession(c); se != nil {
		cur = se.ID
	}
	rows := make([]views.SessionRow, len(list))
	for i, se := range list {
		rows[i] = sessionRow(se, se.ID == cur)
	}
	return rows, nil
}

func sessionRow(se auth.Session, current bool) views.SessionRow {
	const layout = "2006-01-02 15:04 UTC"
	return views.SessionRow{ID: se.ID, Username: se.Username, Method: se.Method,
		Created: se.Created.UTC().Format(layout), LastSeen: se.LastSeen.UTC().Format(layout),
		ClientIP: se.ClientIP, UserAgent: se.UserAgent, Current: current}
}
