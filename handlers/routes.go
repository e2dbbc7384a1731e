package handlers

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/auth"
)

// route is one URL of the console. Every URL is in routes(), and tests walk
// that list for role checks, so a new page is safe by construction.
type route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	// Roles that may use the route (admin always may: mayOpen). Empty
	// only with Public.
	Roles []auth.Role
	// Public routes need no sign-in (they still get sessions and CSRF).
	Public bool
	// Bare routes skip sessions and CSRF: probes, metrics, static files.
	Bare bool
}

// Role sets for routes.
var (
	anyRole   = auth.AllRoles
	planners  = []auth.Role{auth.RoleRequester}
	approvers = []auth.Role{auth.RoleApprover}
	auditors  = []auth.Role{auth.RoleAuditor}
	admins    = []auth.Role{auth.RoleAdmin}
	// changeReaders see change requests; executors run approved ones.
	changeReaders = []auth.Role{auth.RoleRequester, auth.RoleApprover, auth.RoleAuditor}
	executors     = []auth.Role{auth.RoleRequester, auth.RoleApprover}
)

// routes lists every URL. Keep it sorted by area; add yours in its block.
func (s *Server) routes() []route {
	return []route{
		// Operations and static files.
		{Method: http.MethodGet, Path: "/healthz", Handler: s.handleHealthz, Bare: true, Public: true},
		{Method: http.MethodGet, Path: "/readyz", Handler: s.handleReadyz, Bare: true, Public: true},
		{Method: http.MethodGet, Path: "/metrics", Handler: s.handleMetrics, Bare: true, Public: true},
		{Method: http.MethodGet, Path: "/static/*", Handler: s.handleStatic, Bare: true, Public: true},
		{Method: http.MethodHead, Path: "/static/*", Handler: s.handleStatic, Bare: true, Public: true},

		// Sign-in.
		{Method: http.MethodGet, Path: "/", Handler: s.handleHome, Public: true},
		{Method: http.MethodGet, Path: "/login", Handler: s.handleLoginPage, Public: true},
		{Method: http.MethodPost, Path: "/login", Handler: s.handleLogin, Public: true},
		{Method: http.MethodGet, Path: "/auth/oidc/login", Handler: s.handleSSOLogin, Public: true},
		{Method: http.MethodGet, Path: "/auth/oidc/callback", Handler: s.handleSSOCallback, Public: true},
		{Method: http.MethodPost, Path: "/logout", Handler: s.handleLogout, Roles: anyRole},
		{Method: http.MethodGet, Path: "/account", Handler: s.handleAccount, Roles: anyRole},
		{
			Method:  http.MethodPost,
			Path:    "/account/sessions/revoke",
			Handler: s.handleAccountSignOutEverywhere,
			Roles:   anyRole,
		},

		// Inventory (handlers/inventory.go).
		{Method: http.MethodGet, Path: "/inventory", Handler: s.handleInventoryOverview, Roles: anyRole},
		{Method: http.MethodPost, Path: "/inventory/refresh", Handler: s.handleInventoryRefresh, Roles: anyRole},
		{Method: http.MethodGet, Path: "/inventory/:service", Handler: s.handleInventoryList, Roles: anyRole},
		{
			Method:  http.MethodPost,
			Path:    "/inventory/:service/select",
			Handler: s.handleInventorySelect,
			Roles:   planners,
		},
		{
			Method:  http.MethodGet,
			Path:    "/inventory/:service/:account/:project/:id",
			Handler: s.handleInventoryDetail,
			Roles:   anyRole,
		},
		{
			Method:  http.MethodGet,
			Path:    "/inventory/roma/:account/:project/:id/assets",
			Handler: s.handleROMAAssets,
			Roles:   anyRole,
		},
		{
			Method:  http.MethodPost,
			Path:    "/inventory/roma/:account/:project/:id/assets/select",
			Handler: s.handleROMAAssetsSelect,
			Roles:   planners,
		},
		{
			Method:  http.MethodGet,
			Path:    "/inventory/roma/:account/:project/:id/assets/:kind/:asset",
			Handler: s.handleROMAAssetDetail,
			Roles:   anyRole,
		},

		// DMS recycle bin (handlers/recycle.go).
		{Method: http.MethodGet, Path: "/recycle/:service", Handler: s.handleRecycleBin, Roles: anyRole},
		{Method: http.MethodPost, Path: "/recycle/:service/restore", Handler: s.handleRecycleRestore, Roles: planners},
		{Method: http.MethodPost, Path: "/admin/recycle", Handler: s.handleRecyclePolicySave, Roles: admins},

		// Change requests (handlers/changes.go).
		{Method: http.MethodGet, Path: "/changes", Handler: s.handleChangesList, Roles: changeReaders},
		{Method: http.MethodGet, Path: "/changes/mine", Handler: s.handleChangesMine, Roles: planners},
		{Method: http.MethodGet, Path: "/changes/new", Handler: s.handleChangeNew, Roles: planners},
		{Method: http.MethodPost, Path: "/changes/new", Handler: s.handleChangeNew, Roles: planners},
		{Method: http.MethodPost, Path: "/changes", Handler: s.handleChangeCreate, Roles: planners},
		{Method: http.MethodGet, Path: "/changes/:id", Handler: s.handleChangeShow, Roles: changeReaders},
		{Method: http.MethodGet, Path: "/changes/:id/progress", Handler: s.handleChangeProgress, Roles: changeReaders},
		{Method: http.MethodPost, Path: "/changes/:id/cancel", Handler: s.handleChangeCancel, Roles: planners},
		{Method: http.MethodPost, Path: "/changes/:id/execute", Handler: s.handleChangeExecute, Roles: executors},
		{Method: http.MethodPost, Path: "/changes/:id/retry", Handler: s.handleChangeRetry, Roles: planners},
		{
			Method:  http.MethodPost,
			Path:    "/changes/:id/restore-assets",
			Handler: s.handleChangeRestoreAssets,
			Roles:   planners,
		},
		{Method: http.MethodPost, Path: "/changes/:id/comments", Handler: s.handleChangeComment, Roles: changeReaders},

		// Approvals (handlers/changes.go).
		{Method: http.MethodGet, Path: "/approvals", Handler: s.handleApprovals, Roles: approvers},
		{Method: http.MethodPost, Path: "/changes/:id/approve", Handler: s.handleChangeApprove, Roles: approvers},
		{Method: http.MethodPost, Path: "/changes/:id/reject", Handler: s.handleChangeReject, Roles: approvers},
		// Audit (handlers/audit.go).
		{Method: http.MethodGet, Path: "/audit", Handler: s.handleAuditList, Roles: auditors},
		{Method: http.MethodGet, Path: "/audit/export.csv", Handler: s.handleAuditExportCSV, Roles: auditors},
		{Method: http.MethodGet, Path: "/audit/export.jsonl", Handler: s.handleAuditExportJSONL, Roles: auditors},
		{Method: http.MethodGet, Path: "/audit/changes/:id", Handler: s.handleAuditTimeline, Roles: auditors},
		{Method: http.MethodGet, Path: "/audit/resource", Handler: s.handleAuditHistory, Roles: auditors},
		// Admin: add here.
		{Method: http.MethodGet, Path: "/admin", Handler: s.handleAdmin, Roles: admins},
		{Method: http.MethodGet, Path: "/admin/policies", Handler: s.handlePolicies, Roles: admins},
		{Method: http.MethodPost, Path: "/admin/policies", Handler: s.handlePolicySave, Roles: admins},
		{Method: http.MethodGet, Path: "/admin/notifications", Handler: s.handleChannels, Roles: admins},
		{Method: http.MethodPost, Path: "/admin/notifications", Handler: s.handleChannelAdd, Roles: admins},
		{
			Method:  http.MethodPost,
			Path:    "/admin/notifications/:id/remove",
			Handler: s.handleChannelRemove,
			Roles:   admins,
		},
		{Method: http.MethodGet, Path: "/admin/deliveries", Handler: s.handleDeliveries, Roles: admins},
		{Method: http.MethodGet, Path: "/admin/sessions", Handler: s.handleAdminSessions, Roles: admins},
		{
			Method:  http.MethodPost,
			Path:    "/admin/sessions/:id/revoke",
			Handler: s.handleAdminSessionRevoke,
			Roles:   admins,
		},
		{Method: http.MethodGet, Path: "/admin/protection", Handler: s.handleProtection, Roles: admins},
		{Method: http.MethodPost, Path: "/admin/protection", Handler: s.handleProtectionAdd, Roles: admins},
		{
			Method:  http.MethodPost,
			Path:    "/admin/protection/:id/delete",
			Handler: s.handleProtectionRemove,
			Roles:   admins,
		},
	}
}

// chain returns the middleware for one route: sessions and CSRF unless
// Bare, then the sign-in and role check unless Public.
func (s *Server) chain(r route) []echo.MiddlewareFunc {
	if r.Bare {
		return nil
	}
	if !r.Public && len(r.Roles) == 0 {
		panic("handlers: route " + r.Method + " " + r.Path + " has no roles and is not Public")
	}
	mw := []echo.MiddlewareFunc{s.noStore, s.loadSession, s.csrf}
	if !r.Public {
		mw = append(mw, s.requireRole(r.Roles...))
	}
	return mw
}

// mayOpen is the route gate, for the route table and the navigation alike:
// a user holding one of roles, or an admin, may open the page. What they may
// then do on it is the domain's rule (changes.Can*), not this one.
func mayOpen(u *auth.User, roles []auth.Role) bool {
	return u != nil && (u.Roles.Has(auth.RoleAdmin) || slices.ContainsFunc(roles, u.Roles.Has))
}
