package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/views"
)

func (s *Server) handleAdmin(c echo.Context) error {
	var rows []views.AdminUser
	users, err := s.Users.List(c.Request().Context())
	if err != nil {
		return err
	}
	for _, u := range users {
		roles := make([]string, len(u.Roles))
		for i, r := range u.Roles {
			roles[i] = string(r)
		}
		rows = append(rows, views.AdminUser{Username: u.Username, Roles: strings.Join(roles, ", "),
			Created: u.CreatedAt.UTC().Format("2006-01-02"), Disabled: u.Disabled})
	}
	return s.render(c, http.StatusOK, views.AdminPage(s.meta(c, "Admin", "admin"), rows))
}
