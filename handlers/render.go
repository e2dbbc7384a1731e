package handlers

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
	"github.com/decom/decom/static"
	"github.com/decom/decom/views"
)

// render writes component with status. It renders into a buffer first, so a
// template error becomes a clean 500 instead of half a page.
func (s *Server) render(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	ctx := views.WithCSRF(c.Request().Context(), csrfToken(c))
	if err := component.Render(ctx, buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Add(echo.HeaderVary, "HX-Request")
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// isFragment reports whether the request wants only the fragment: an htmx
// request that is neither boosted nor a history restore.
func isFragment(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") == "" && h.Get("HX-History-Restore-Request") == ""
}

// navEntry is one top-level area and who may open it.
type navEntry struct {
	item  views.NavItem
	roles []auth.Role
}

var navEntries = []navEntry{
	{views.NavItem{Key: "inventory", Label: "Inventory", URL: "/inventory"}, anyRole},
	{views.NavItem{Key: "recycle", Label: "Recycle bin", URL: "/recycle/rocketmq"}, anyRole},
	{views.NavItem{Key: "changes", Label: "Changes", URL: "/changes"}, changeReaders},
	{views.NavItem{Key: "approvals", Label: "Approvals", URL: "/approvals"}, approvers},
	{views.NavItem{Key: "audit", Label: "Audit", URL: "/audit"}, auditors},
	{views.NavItem{Key: "admin", Label: "Admin", URL: "/admin"}, admins},
}

// assetURLs are the layout's content-hashed file URLs.
func assetURLs(a *static.Assets) views.Assets {
	return views.Assets{PicoCSS: a.URL("pico.min.css"), AppCSS: a.URL("app.css"), HTMX: a.URL("htmx.min.js"),
		AppJS: a.URL("app.js")}
}

// meta builds the layout's Meta for this request; active is the nav key.
// It consumes the queued flash messages, so call it before writing a body.
func (s *Server) meta(c echo.Context, title, active string) views.Meta {
	m := views.Meta{
		Title:     title,
		Active:    active,
		CSRFToken: csrfToken(c),
		Flashes:   takeFlashes(c),
		Simulated: s.Simulated,
		SimURL:    s.SimURL,
		Assets:    s.assets,
		RequestID: requestIDOf(c),
	}
	if u := currentUser(c); u != nil {
		info := &views.UserInfo{Username: u.Username}
		for _, r := range u.Roles {
			info.Roles = append(info.Roles, string(r))
		}
		m.User = info
		for _, n := range navEntries {
			if mayOpen(u, n.roles) {
				m.Nav = append(m.Nav, n.item)
			}
		}
	}
	return m
}

// redirectAfterPost answers a successful POST: 303 for a plain form, and
// HX-Location for htmx so the browser navigates without a full reload.
func redirectAfterPost(c echo.Context, to string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Location", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
