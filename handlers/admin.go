package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/views"
)

func (s *Server) handleAdmin(c echo.Context) error {
	users, err := s.Users.List(c.Request().Context())
	if err != nil {
		return err
	}
	var rows []views.AdminUser
	for _, u := range users {
		rows = append(
			rows,
			views.AdminUser{Username: u.Username, Roles: strings.ReplaceAll(u.Roles.String(), ",", ", "),
				Created: u.CreatedAt.UTC().Format("2006-01-02"), Disabled: u.Disabled},
		)
	}
	return s.render(c, http.StatusOK, views.AdminPage(s.meta(c, "Admin", "admin"), rows))
}
