package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestInventoryResultsFragment(t *testing.T) {
	vm := ResourceTable{
		Rows: []ResourceRow{
			{Key: "a/p/rocketmq/instance//1", Name: `<img src=x onerror=alert(1)>`, ID: "1", Status: "RUNNING",
				Class: "active", DetailURL: "/inventory/rocketmq/a/p/1", Selected: true},
		},
		Selection: Selection{
			CanSelect: true,
			Count:     3,
			Matching:  10,
			Scope:     "rocketmq",
			SelectURL: "/inventory/rocketmq/select",
			PlanURL:   "/changes/new",
		},
		Pager:   Pager{Page: 1, Pages: 1, Total: 1, From: 1, To: 1, Target: "#inventory-results"},
		Filters: FilterForm{Sort: "created", Dir: "desc"}, RefreshFilters: true,
	}
	var b strings.Builder
	ctx := WithCSRF(context.Background(), "tok")
	if err := InventoryResults(vm).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if !strings.HasPrefix(html, `<div id="inventory-results"`) {
		t.Errorf("root is not #inventory-results: %.80s", html)
	}
	if strings.Contains(html, "<img") {
		t.Error("resource name not escaped")
	}
	d, _ := goquery.NewDocumentFromReader(strings.NewReader(html))
	if d.Find(`#filter-hidden[hx-swap-oob="true"] input[name="sort"][value="created"]`).Length() != 1 {
		t.Error("out-of-band sort field missing")
	}
	if v, _ := d.Find(`input[name="_csrf"]`).Attr("value"); v != "tok" {
		t.Errorf("csrf field = %q", v)
	}
	if d.Find(`[data-testid="row-check"][checked]`).Length() != 1 ||
		d.Find(`[data-testid="selected-count"]`).Text() != "3" {
		t.Error("selection state not rendered")
	}
}
