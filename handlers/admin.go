package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/views"
)

// userLister is the optional part of Users the admin page needs; *auth.Service has it.
type userLister interface {
	List(ctx context.Context) ([]auth.User, error)
}

func (s *Server) handleAdmin(c echo.Context) error {
	var rows []views.AdminUser
	if l, ok := s.Users.(userLister); ok {
		users, err := l.List(c.Request().Context())
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
	}
	return s.render(c, http.StatusOK, views.AdminPage(s.meta(c, "Admin", "admin"), rows))
}
