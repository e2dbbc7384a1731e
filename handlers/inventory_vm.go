package handlers

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/inventory"
	"github.com/decom/decom/views"
)

var serviceLabels = map[cloud.Service]string{
	cloud.RocketMQ: "DMS for RocketMQ",
	cloud.RabbitMQ: "DMS for RabbitMQ",
	cloud.ROMA:     "ROMA Connect",
	cloud.CloudDC:  "CloudDC",
}

func serviceLabel(svc cloud.Service) string {
	if l, ok := serviceLabels[svc]; ok {
		return l
	}
	return string(svc)
}

func classLabel(c cloud.StatusClass) string {
	s := string(c)
	if s == "" {
		return "unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func instanceURL(r cloud.Ref) string {
	return "/inventory/" + url.PathEscape(string(r.Service)) + "/" + url.PathEscape(r.Account) + "/" +
		url.PathEscape(r.Project) + "/" + url.PathEscape(r.ID)
}

func resourceURL(r cloud.Ref) string {
	if r.Kind == cloud.KindInstance {
		return instanceURL(r)
	}
	parent := cloud.Ref{
		Account: r.Account,
		Project: r.Project,
		Service: r.Service,
		Kind:    cloud.KindInstance,
		ID:      r.Parent,
	}
	return instanceURL(parent) + "/assets/" + url.PathEscape(string(r.Kind)) + "/" + url.PathEscape(r.ID)
}

func listURL(path string, f inventory.Filter) string {
	if q := f.Values().Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

const timeLayout = "2006-01-02 15:04:05 UTC"

func (s *Server) readInfo(at time.Time, errs []string, svc, instance, back string) views.ReadInfo {
	ri := views.ReadInfo{Errors: errs, Service: svc, Instance: instance, Back: back}
	if at.IsZero() {
		ri.At = "never"
		return ri
	}
	ri.At, ri.ISO = at.UTC().Format(timeLayout), at.UTC().Format(time.RFC3339)
	ri.Ago = ago(s.Now().Sub(at))
	return ri
}

func ago(d time.Duration) string {
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%.1f h ago", d.Hours())
}

func overviewVM(ov inventory.Overview, read views.ReadInfo) views.InventoryOverview {
	vm := views.InventoryOverview{Read: read}
	for _, svc := range cloud.Services {
		base := "/inventory/" + string(svc)
		counts := ov.Services[svc]
		sum := views.ServiceSummary{Key: string(svc), Label: serviceLabel(svc), URL: base, Total: counts.Total}
		for _, cl := range inventory.Classes {
			if n := counts.ByClass[cl]; n > 0 {
				sum.Classes = append(sum.Classes, views.ClassCount{Class: string(cl), Label: classLabel(cl), Count: n,
					URL: base + "?status=" + string(cl)})
			}
		}
		vm.Services = append(vm.Services, sum)
		vm.Columns = append(vm.Columns, serviceLabel(svc))
	}
	for _, p := range ov.Projects {
		row := views.ProjectRow{Account: p.Account, Project: p.Project, Region: p.Region}
		q := url.Values{"account": {p.Account}, "project": {p.Project}}
		for _, svc := range cloud.Services {
			c := p.ByService[svc]
			base := "/inventory/" + string(svc) + "?" + q.Encode()
			row.Cells = append(row.Cells, views.ProjectCell{Total: c.Total, Failed: c.ByClass[cloud.ClassFailed],
				URL: base, FailedURL: base + "&status=failed"})
		}
		vm.Projects = append(vm.Projects, row)
	}
	return vm
}

// resultsVM builds the #inventory-results fragment's model for filter f.
func (s *Server) resultsVM(c echo.Context, v listView, f inventory.Filter) (views.ResourceTable, error) {
	rules, err := s.protectionRules(c.Request().Context())
	if err != nil {
		return views.ResourceTable{}, err
	}
	page := v.snap.Query(f)
	f.Page = page.Page
	u := currentUser(c)
	keys := make([]string, len(page.Items))
	for i, r := range page.Items {
		keys[i] = r.Key()
	}
	count, selected := s.Inventory.SelectionState(u.ID, v.scope, keys)
	vm := views.ResourceTable{
		Columns:    columns(v, f),
		Pager:      pager(v.path, f, page),
		ShowKind:   v.kinds != nil,
		ShowAssets: v.svc == cloud.ROMA,
		Empty:      "Nothing matches these filters.",
		Filters:    s.filterForm(v, f),
		Selection: views.Selection{CanSelect: canSelect(c), Count: count, Matching: page.Total,
			Scope: v.scope, SelectURL: v.path + "/select", PlanURL: "/changes/new"},
	}
	for k, vals := range f.Values() {
		if k != "page" {
			vm.Hidden = append(vm.Hidden, views.Field{Name: k, Value: vals[0]})
		}
	}
	slices.SortFunc(vm.Hidden, func(a, b views.Field) int { return strings.Compare(a.Name, b.Name) })
	vm.Hidden = append(vm.Hidden, views.Field{Name: "page", Value: strconv.Itoa(page.Page)})
	for i, r := range page.Items {
		row := resourceRow(r, selected[keys[i]], rules)
		vm.Selection.Skips = vm.Selection.Skips || row.Block.Blocked
		vm.Rows = append(vm.Rows, row)
	}
	return vm, nil
}

func resourceRow(r cloud.Resource, selected bool, rules *changes.Matcher) views.ResourceRow {
	row := views.ResourceRow{
		Key: r.Key(), Name: r.Name, ID: r.ID, Kind: string(r.Kind), Account: r.Account, Project: r.Project,
		Region: r.Region, Status: r.Status, Class: string(r.Class), DetailURL: resourceURL(r.Ref), Selected: selected,
		Tags: tagTexts(r.Tags), EnterpriseProject: r.EnterpriseProject, Block: blockOf(r, rules),
	}
	if row.Status == "" {
		row.Status = classLabel(r.Class)
	}
	if !r.CreatedAt.IsZero() {
		row.Created = r.CreatedAt.UTC().Format("2006-01-02 15:04")
	}
	if r.Service == cloud.ROMA && r.Kind == cloud.KindInstance {
		row.AssetsURL = instanceURL(r.Ref) + "/assets"
	}
	return row
}

func columns(v listView, f inventory.Filter) []views.Column {
	type col struct{ label, sort string }
	cols := []col{{"Name", inventory.SortName}}
	if v.kinds != nil {
		cols = append(cols, col{"Kind", inventory.SortKind})
	}
	cols = append(
		cols,
		col{"Status", inventory.SortStatus},
		col{"Account / project", inventory.SortProject},
		col{"Created", inventory.SortCreated},
	)
	if v.svc == cloud.ROMA {
		cols = append(cols, col{"Assets", ""})
	}
	cur := f.Sort
	if cur == "" {
		cur = inventory.SortName
	}
	out := make([]views.Column, len(cols))
	for i, c := range cols {
		out[i].Label = c.label
		if c.sort == inventory.SortProject || c.sort == inventory.SortCreated {
			out[i].Class = "col-minor"
		}
		if c.sort == "" {
			continue
		}
		g := f
		g.Page, g.Sort, g.Desc = 1, c.sort, false
		if c.sort == cur {
			out[i].Sorted = "ascending"
			if f.Desc {
				out[i].Sorted = "descending"
			}
			g.Desc = !f.Desc
		}
		out[i].URL = listURL(v.path, g)
	}
	return out
}

func pager(path string, f inventory.Filter, p inventory.Page) views.Pager {
	pg := views.Pager{
		Page:   p.Page,
		Pages:  p.Pages,
		Total:  p.Total,
		From:   p.From,
		To:     p.To,
		Target: "#inventory-results",
	}
	if p.Page > 1 {
		g := f
		g.Page = p.Page - 1
		pg.PrevURL = listURL(path, g)
	}
	if p.Page < p.Pages {
		g := f
		g.Page = p.Page + 1
		pg.NextURL = listURL(path, g)
	}
	return pg
}

func (s *Server) filterForm(v listView, f inventory.Filter) views.FilterForm {
	ff := views.FilterForm{Path: v.path, Account: f.Account, Project: f.Project, Status: f.Status, Q: f.Q,
		Kind: string(f.Kind), Sort: f.Sort, Per: strconv.Itoa(f.PerPage), EP: f.EP, TagKeys: v.snap.TagKeys()}
	if f.Tag != nil {
		ff.Tag = f.Tag.String()
	}
	eps := v.snap.EnterpriseProjects()
	if f.EP != "" && !slices.Contains(eps, f.EP) {
		eps = append([]string{f.EP}, eps...) // keep a chosen one that matches nothing now
	}
	for _, ep := range eps {
		label := ep
		if ep == "0" {
			label = "0 (default)"
		}
		ff.EPs = append(ff.EPs, views.Option{Value: ep, Label: label})
	}
	if f.Desc {
		ff.Dir = "desc"
	}
	accounts := s.Inventory.Accounts()
	if v.kinds != nil {
		accounts = nil // a ROMA instance's assets all live in its project
	}
	for _, a := range accounts {
		ff.Accounts = append(ff.Accounts, views.Option{Value: a.Name, Label: a.Name})
		if f.Account != "" && a.Name != f.Account {
			continue
		}
		for _, p := range a.Projects {
			label := p
			if len(accounts) > 1 {
				label = a.Name + " / " + p
			}
			ff.Projects = append(ff.Projects, views.Option{Value: p, Label: label})
		}
	}
	for _, k := range v.kinds {
		ff.Kinds = append(ff.Kinds, views.Option{Value: string(k), Label: string(k) + "s"})
	}
	for _, cl := range inventory.Classes {
		ff.Classes = append(ff.Classes, views.Option{Value: string(cl), Label: classLabel(cl)})
	}
	for _, st := range v.snap.Statuses() {
		if st != "" {
			ff.Statuses = append(ff.Statuses, views.Option{Value: st, Label: st})
		}
	}
	for _, n := range inventory.PerPageChoices {
		ff.PerChoices = append(ff.PerChoices, views.Option{Value: strconv.Itoa(n), Label: strconv.Itoa(n)})
	}
	return ff
}

func detailVM(r cloud.Resource, rules *changes.Matcher, read views.ReadInfo) views.ResourceDetail {
	deletable := "yes"
	if why := r.NotDeletableReason(); why != "" {
		deletable = "no: " + why
	}
	ep := r.EnterpriseProject
	if ep == "" {
		ep = "none"
	}
	block := blockOf(r, rules)
	protection := "not protected"
	if block.Protected {
		protection = block.Reason
	}
	vm := views.ResourceDetail{
		Name: r.Name, Status: r.Status, Class: string(r.Class), Read: read,
		Tags: tagTexts(r.Tags), Block: block,
		Crumbs: []views.Crumb{
			{Label: "Inventory", URL: "/inventory"},
			{Label: serviceLabel(r.Service), URL: "/inventory/" + string(r.Service)},
			{Label: r.Name},
		},
		Fields: []views.Field{
			{
				Name:  "ID",
				Value: r.ID,
			}, {Name: "Service", Value: serviceLabel(r.Service)}, {Name: "Kind", Value: string(r.Kind)},
			{Name: "Account", Value: r.Account}, {Name: "Project", Value: r.Project}, {Name: "Region", Value: r.Region},
			{Name: "Cloud status", Value: r.Status}, {Name: "Status class", Value: classLabel(r.Class)},
			{
				Name:  "Billing",
				Value: map[bool]string{true: "Prepaid (yearly/monthly)", false: "Pay per use"}[r.Prepaid],
			},
			{Name: "Deletable now", Value: deletable},
			{Name: "Enterprise project", Value: ep},
			{Name: "Protection", Value: protection},
		},
	}
	if r.Parent != "" {
		vm.Fields = append(vm.Fields, views.Field{Name: "ROMA instance", Value: r.Parent})
	}
	if !r.CreatedAt.IsZero() {
		vm.Fields = append(vm.Fields, views.Field{Name: "Created", Value: r.CreatedAt.UTC().Format(timeLayout)})
	}
	for _, k := range slices.Sorted(maps.Keys(r.Details)) {
		vm.Details = append(vm.Details, views.Field{Name: k, Value: r.Details[k]})
	}
	if r.Service == cloud.ROMA && r.Kind == cloud.KindInstance {
		vm.AssetsURL = instanceURL(r.Ref) + "/assets"
	}
	return vm
}
