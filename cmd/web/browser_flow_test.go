package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/internal/browsertest"
)

// TestBrowserFlow: sign in, filter, select across pages, open a ROMA
// instance's assets, sign out — in Debian's chromium, against "web serve"
// with its embedded simulator, taking a screenshot of each page.
func TestBrowserFlow(t *testing.T) {
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	base := startConsole(t, nil)
	count := `document.querySelector('[data-testid="selected-count"]').textContent.trim()`

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", name, err, truncate(html, 3000))
		}
	}

	step("login page", chromedp.Navigate(base+"/inventory"), chromedp.WaitVisible(testID("login-form")))
	browsertest.Screenshot(t, ctx, "01-login")
	signIn(t, ctx, base, "alice")
	if got := text(t, ctx, testID("sim-banner")); !strings.Contains(got, "Simulated cloud") {
		t.Errorf("banner = %q", got)
	}
	browsertest.Screenshot(t, ctx, "02-overview")

	t.Run("filter", func(t *testing.T) {
		step("list", chromedp.Navigate(base+"/inventory/rocketmq"), chromedp.WaitVisible(testID("resource-table")))
		browsertest.Screenshot(t, ctx, "03-rocketmq")
		step(
			"status",
			chromedp.Evaluate[chromedp.Void](
				`(() => { const s = document.querySelector('[data-testid="filter-status"]');
			s.value = 'failed'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`,
			),
		)
		waitJS(t, ctx, "status filter pushes the URL", `location.search.includes('status=failed')`)
		waitJS(
			t,
			ctx,
			"only failed rows",
			`[...document.querySelectorAll('[data-testid="status-badge"]')].every(b => b.classList.contains('badge-failed'))`,
		)
		step("search", chromedp.SendKeys(testID("filter-q"), "prod"))
		waitJS(t, ctx, "search pushes the URL", `location.search.includes('q=prod')`)
		waitJS(
			t,
			ctx,
			"rows match",
			`[...document.querySelectorAll('[data-testid="resource-name"]')].every(a => a.textContent.includes('prod'))`,
		)
		browsertest.Screenshot(t, ctx, "04-filtered")
		step("sort by created", chromedp.Click(chromedp.CSS(`th a[href*="sort=created"]`)))
		waitJS(
			t,
			ctx,
			"sort keeps filters",
			`location.search.includes('sort=created') && location.search.includes('q=prod')`,
		)
		step("back", chromedp.NavigateBack())
		waitJS(t, ctx, "history", `!location.search.includes('sort=created')`)
	})

	t.Run("select across pages", func(t *testing.T) {
		step(
			"list",
			chromedp.Navigate(base+"/inventory/rocketmq?per=25"),
			chromedp.WaitVisible(testID("resource-table")),
		)
		step("tick row 1", chromedp.Click(testID("row-check")))
		waitJS(t, ctx, "count 1", count+` === '1'`)
		step("next page", chromedp.Click(testID("next-page")))
		waitJS(
			t,
			ctx,
			"page 2",
			`location.search.includes('page=2') && document.querySelector('[data-testid="pager"]').textContent.includes('Page 2 of')`,
		)
		step("tick row on page 2", chromedp.Click(testID("row-check")))
		waitJS(t, ctx, "count 2", count+` === '2'`)
		// Protected and not deletable rows have no box: the page box ticks the others.
		step("whole page", chromedp.Click(testID("select-page")))
		waitJS(
			t,
			ctx,
			"page 2 ticked",
			count+` === String(1 + document.querySelectorAll('[data-testid="row-check"]').length)`,
		)
		selected := text(t, ctx, testID("selected-count"))
		step("prev page", chromedp.Click(testID("prev-page")))
		waitJS(
			t,
			ctx,
			"first row still ticked",
			`document.querySelector('[data-testid="pager"]').textContent.includes('Page 1 of') &&
			document.querySelector('[data-testid="row-check"]').checked && `+count+` === '`+selected+`'`,
		)
		browsertest.Screenshot(t, ctx, "05-selection")
		step("clear", chromedp.Click(testID("clear-selection")))
		waitJS(t, ctx, "cleared", count+` === '0'`)
		step(
			"failed only",
			chromedp.Navigate(base+"/inventory/rocketmq?status=failed&per=25"),
			chromedp.WaitVisible(testID("resource-table")),
		)
		total := text(t, ctx, testID("total"))
		if n, err := strconv.Atoi(total); err != nil || n == 0 {
			t.Fatalf("total = %q", total)
		}
		step("select all matching", chromedp.Click(testID("select-all")))
		waitJS(t, ctx, "all matching selected", count+` === '`+total+`'`)
		if got := text(t, ctx, testID("plan-deletion")); !strings.Contains(got, total) {
			t.Errorf("plan button = %q", got)
		}
	})

	t.Run("ROMA assets", func(t *testing.T) {
		step("roma", chromedp.Navigate(base+"/inventory/roma"), chromedp.WaitVisible(testID("resource-table")))
		step("open assets", chromedp.Click(testID("assets-link")), chromedp.WaitVisible(testID("resource-table")))
		waitJS(t, ctx, "assets page", `location.pathname.endsWith('/assets')`)
		step("tick asset", chromedp.Click(testID("row-check")))
		waitJS(t, ctx, "own selection", count+` === '1'`)
		browsertest.Screenshot(t, ctx, "06-roma-assets")
		step("asset detail", chromedp.Click(testID("resource-name")), chromedp.WaitVisible(testID("detail-fields")))
		browsertest.Screenshot(t, ctx, "07-detail")
	})

	t.Run("small screen", func(t *testing.T) {
		step("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/inventory/rocketmq?per=25"),
			chromedp.WaitVisible(testID("resource-table")))
		browsertest.ScreenshotViewport(t, ctx, "08-phone-list")
		step("phone overview", chromedp.Navigate(base+"/inventory"), chromedp.WaitVisible(testID("service-cards")))
		browsertest.ScreenshotViewport(t, ctx, "09-phone-overview")
		step("desktop", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("keyboard", func(t *testing.T) {
		// Tab from the search box reaches the filter selects and the row
		// checkboxes, and Space ticks a row.
		step("list", chromedp.Navigate(base+"/inventory/rabbitmq"), chromedp.WaitVisible(testID("resource-table")),
			chromedp.Focus(testID("row-check")), chromedp.KeyEvent(" "))
		waitJS(t, ctx, "space ticks the focused row", count+` === '1'`)
	})

	t.Run("bad query", func(t *testing.T) {
		step(
			"400 page",
			chromedp.Navigate(base+"/inventory/rocketmq?page=abc"),
			chromedp.WaitVisible(testID("error-page")),
		)
		browsertest.ScreenshotViewport(t, ctx, "10-bad-request")
	})

	t.Run("sign out", func(t *testing.T) {
		step("sign out", chromedp.Click(testID("sign-out")), chromedp.WaitVisible(testID("login-form")))
		if got := text(t, ctx, testID("flash")); !strings.Contains(got, "signed out") {
			t.Errorf("flash = %q", got)
		}
		step("protected page", chromedp.Navigate(base+"/inventory"), chromedp.WaitVisible(testID("login-form")))
	})

	t.Run("admin", func(t *testing.T) {
		signIn(t, ctx, base, "admin")
		step("admin page", chromedp.Click(testID("nav-admin")), chromedp.WaitVisible(testID("user-table")))
		browsertest.ScreenshotViewport(t, ctx, "12-admin")
	})

	for _, p := range problems() {
		if !strings.Contains(p, "page=abc") { // the deliberate 400 above
			t.Errorf("browser reported: %s", p)
		}
	}
}
