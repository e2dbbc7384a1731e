package handlers

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/views"
)

// listView is one selectable list: a service's instances or a ROMA
// instance's apps and tasks.
type listView struct {
	heading  string
	path     string // URL path of the list
	scope    string // selection scope
	crumbs   []views.Crumb
	snap     *inventory.Snapshot
	kinds    []cloud.Kind // non-nil for assets
	svc      cloud.Service
	instance string // ROMA instance Ref.Key() for the assets view
}

func (s *Server) handleInventoryOverview(c echo.Context) error {
	ov, err := s.Inventory.Overview(c.Request().Context())
	if err != nil {
		return err
	}
	vm := overviewVM(ov, s.readInfo(ov.ReadAt, ov.Errors, "", "", "/inventory"))
	return s.render(c, http.StatusOK, views.InventoryOverviewPage(s.meta(c, "Inventory", "inventory"), vm))
}

// RefreshForm names the cached view to read again and where to go after.
type RefreshForm struct {
	Service  string `form:"service"`
	Instance string `form:"instance"`
	Back     string `form:"back"`
}

func (s *Server) handleInventoryRefresh(c echo.Context) error {
	var f RefreshForm
	if err := c.Bind(&f); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Malformed form.")
	}
	svc := cloud.Service(f.Service)
	if svc != "" && !slices.Contains(cloud.Services, svc) {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown service.")
	}
	s.Inventory.Refresh(svc, f.Instance)
	if err := setFlash(c, "success", "Read again from the cloud."); err != nil {
		return err
	}
	return redirectAfterPost(c, refererOr(c, safeNext(f.Back)))
}

func (s *Server) handleInventoryList(c echo.Context) error {
	v, err := s.serviceView(c)
	if err != nil {
		return err
	}
	return s.renderList(c, v)
}

func (s *Server) handleInventorySelect(c echo.Context) error {
	v, err := s.serviceView(c)
	if err != nil {
		return err
	}
	return s.applySelection(c, v)
}

func (s *Server) handleROMAAssets(c echo.Context) error {
	v, err := s.assetsView(c)
	if err != nil {
		return err
	}
	return s.renderList(c, v)
}

func (s *Server) handleROMAAssetsSelect(c echo.Context) error {
	v, err := s.assetsView(c)
	if err != nil {
		return err
	}
	return s.applySelection(c, v)
}

func (s *Server) handleInventoryDetail(c echo.Context) error {
	svc, err := serviceParam(c)
	if err != nil {
		return err
	}
	ref := cloud.Ref{
		Account: c.Param("account"),
		Project: c.Param("project"),
		Service: svc,
		Kind:    cloud.KindInstance,
		ID:      c.Param("id"),
	}
	snap, err := s.Inventory.Service(c.Request().Context(), svc)
	if err != nil {
		return err
	}
	r, ok := snap.Lookup(ref.Key())
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No such resource in the inventory.")
	}
	rules, err := s.protectionRules(c.Request().Context())
	if err != nil {
		return err
	}
	vm := detailVM(r, rules, s.readInfo(snap.ReadAt, nil, string(svc), "", c.Request().URL.RequestURI()))
	return s.render(c, http.StatusOK, views.ResourceDetailPage(s.meta(c, r.Name, "inventory"), vm))
}

func (s *Server) handleROMAAssetDetail(c echo.Context) error {
	v, err := s.assetsView(c)
	if err != nil {
		return err
	}
	kind := cloud.Kind(c.Param("kind"))
	if !slices.Contains(v.kinds, kind) {
		return echo.NewHTTPError(http.StatusNotFound, "No such kind of asset.")
	}
	ref := cloud.Ref{
		Account: c.Param("account"),
		Project: c.Param("project"),
		Service: cloud.ROMA,
		Kind:    kind,
		ID:      c.Param("asset"),
		Parent:  c.Param("id"),
	}
	r, ok := v.snap.Lookup(ref.Key())
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No such asset in the inventory.")
	}
	rules, err := s.protectionRules(c.Request().Context())
	if err != nil {
		return err
	}
	vm := detailVM(r, rules, s.readInfo(v.snap.ReadAt, nil, "", v.instance, c.Request().URL.RequestURI()))
	vm.Crumbs = append(v.crumbs, views.Crumb{Label: v.heading, URL: v.path}, views.Crumb{Label: r.Name})
	return s.render(c, http.StatusOK, views.ResourceDetailPage(s.meta(c, r.Name, "inventory"), vm))
}

func serviceParam(c echo.Context) (cloud.Service, error) {
	svc := cloud.Service(c.Param("service"))
	if !slices.Contains(cloud.Services, svc) {
		return "", echo.NewHTTPError(http.StatusNotFound, "No such service.")
	}
	return svc, nil
}

func (s *Server) serviceView(c echo.Context) (listView, error) {
	svc, err := serviceParam(c)
	if err != nil {
		return listView{}, err
	}
	snap, err := s.Inventory.Service(c.Request().Context(), svc)
	if err != nil {
		return listView{}, err
	}
	return listView{
		heading: serviceLabel(svc), path: "/inventory/" + string(svc), scope: inventory.ServiceScope(svc),
		crumbs: []views.Crumb{{Label: "Inventory", URL: "/inventory"}}, snap: snap, svc: svc,
	}, nil
}

func (s *Server) assetsView(c echo.Context) (listView, error) {
	ctx := c.Request().Context()
	inst := cloud.Ref{
		Account: c.Param("account"),
		Project: c.Param("project"),
		Service: cloud.ROMA,
		Kind:    cloud.KindInstance,
		ID:      c.Param("id"),
	}
	roma, err := s.Inventory.Service(ctx, cloud.ROMA)
	if err != nil {
		return listView{}, err
	}
	r, ok := roma.Lookup(inst.Key())
	if !ok {
		return listView{}, echo.NewHTTPError(http.StatusNotFound, "No such ROMA instance in the inventory.")
	}
	snap, err := s.Inventory.Assets(ctx, inst)
	if err != nil {
		return listView{}, err
	}
	return listView{
		heading: "Apps and tasks of " + r.Name, path: instanceURL(inst) + "/assets", scope: inventory.AssetsScope(inst),
		crumbs: []views.Crumb{
			{Label: "Inventory", URL: "/inventory"},
			{Label: serviceLabel(cloud.ROMA), URL: "/inventory/roma"},
			{Label: r.Name, URL: instanceURL(inst)},
		},
		snap: snap, kinds: []cloud.Kind{cloud.KindApp, cloud.KindTask}, instance: inst.Key(),
	}, nil
}

// renderList answers a list GET: the #inventory-results fragment for htmx,
// the full page otherwise.
func (s *Server) renderList(c echo.Context, v listView) error {
	f, err := inventory.ParseFilter(c.QueryParams(), v.kinds)
	if err != nil {
		return err
	}
	if err := f.Validate(s.Inventory.Accounts()); err != nil {
		return err
	}
	res, err := s.resultsVM(c, v, f)
	if err != nil {
		return err
	}
	res.RefreshFilters = isFragment(c)
	if isFragment(c) {
		return s.render(c, http.StatusOK, views.InventoryResults(res))
	}
	vm := views.InventoryList{
		Heading: v.heading, Path: v.path, Crumbs: v.crumbs, Filters: res.Filters, Results: res,
		Read: s.readInfo(v.snap.ReadAt, v.snap.Errors, string(v.svc), v.instance, listURL(v.path, f)),
	}
	return s.render(c, http.StatusOK, views.InventoryListPage(s.meta(c, v.heading, "inventory"), vm))
}

// filterParams are the query parameters of a list, carried by the selection form.
var filterParams = []string{"account", "project", "status", "kind", "q", "tag", "ep", "sort", "dir", "page", "per"}

// maxFormKeys bounds the keys one selection post may carry.
const maxFormKeys = 500

// applySelection handles a selection post: op "page" (default) syncs the
// visible rows' checkboxes, "all" selects every match of the filter,
// "clear" empties the scope's selection.
func (s *Server) applySelection(c echo.Context, v listView) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Malformed form.")
	}
	if len(form["visible"]) > maxFormKeys || len(form["key"]) > maxFormKeys {
		return echo.NewHTTPError(http.StatusBadRequest, "Too many keys in one request.")
	}
	fv := url.Values{}
	for _, k := range filterParams {
		if vals, ok := form[k]; ok && (len(vals) != 1 || vals[0] != "") {
			fv[k] = vals
		}
	}
	f, err := inventory.ParseFilter(fv, v.kinds)
	if err != nil {
		return err
	}
	rules, err := s.protectionRules(c.Request().Context())
	if err != nil {
		return err
	}
	uid := currentUser(c).ID
	op := form.Get("op")
	switch op {
	case "", "page":
		s.syncPage(uid, v, form["visible"], form["key"], rules)
	case "all":
		s.Inventory.Select(uid, v.scope, unblocked(v.snap.Matching(f), rules)...)
	case "clear":
		s.Inventory.ClearSelection(uid, v.scope)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown selection operation.")
	}
	if !isFragment(c) {
		return c.Redirect(http.StatusSeeOther, listURL(v.path, f))
	}
	res, err := s.resultsVM(c, v, f)
	if err != nil {
		return err
	}
	res.RefreshFilters = true
	if op == "" || op == "page" {
		return s.render(c, http.StatusOK, views.SelectionBar(res.Selection))
	}
	return s.render(c, http.StatusOK, views.InventoryResults(res))
}

// syncPage makes the selection follow the page's checkboxes. A blocked
// resource (protected, or not deletable now) is never added, whatever the
// form says, and leaves the selection if it was in it.
func (s *Server) syncPage(uid int64, v listView, visible, checked []string, rules *changes.Matcher) {
	var add []cloud.Resource
	var remove []string
	for _, k := range visible {
		if !slices.Contains(checked, k) {
			remove = append(remove, k)
		}
	}
	for _, k := range checked {
		if r, ok := v.snap.Lookup(k); ok {
			add = append(add, r)
		}
	}
	add = unblocked(add, rules)
	s.Inventory.Deselect(uid, v.scope, remove...)
	s.Inventory.Select(uid, v.scope, add...)
}

// canSelect: selecting is for planning deletions (changes.CanPlan).
func canSelect(c echo.Context) bool { return changes.CanPlan(actorOf(c)) == nil }

// refererOr returns the same-origin Referer's path (the page the user is
// on, including URLs htmx pushed), or fallback.
func refererOr(c echo.Context, fallback string) string {
	ref, err := url.Parse(c.Request().Referer())
	if err != nil || ref.Host != c.Request().Host || ref.Path == "" {
		return fallback
	}
	return safeNext(ref.RequestURI())
}
