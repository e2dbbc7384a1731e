package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/internal/browsertest"
)

// TestBrowserAuditor: an auditor reviews sign-in events in the audit log,
// filters and searches them with htmx, and sees the export links, in Debian's
// chromium against "web serve".
func TestBrowserAuditor(t *testing.T) {
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	base := startConsole(t, nil)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", name, err, truncate(html, 3000))
		}
	}
	rows := `[...document.querySelectorAll('[data-testid="audit-row"]')]`

	// A failed and a good sign-in by alice give the auditor something to read.
	step("wrong password", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(testID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not-her-password"),
		chromedp.Click(testID("sign-in")), chromedp.WaitVisible(testID("login-error")))
	signIn(t, ctx, base, "alice")
	step("alice signs out", chromedp.Click(testID("sign-out")), chromedp.WaitVisible(testID("login-form")))

	step("dave signs in", chromedp.SendKeys(chromedp.ID("username"), "dave"),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword), chromedp.Click(testID("sign-in")),
		chromedp.WaitVisible(testID("nav-audit")))
	step("audit page", chromedp.Click(testID("nav-audit")), chromedp.WaitVisible(testID("audit-table")),
		chromedp.WaitVisible(testID("audit-chart")))
	browsertest.Screenshot(t, ctx, "audit-01-all")
	waitJS(
		t,
		ctx,
		"alice's failure is listed",
		rows+`.some(r => r.textContent.includes('sign_in_failure') && r.textContent.includes('alice'))`,
	)

	step(
		"filter by actor",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="audit-filters"] input[name="actor"]`), "alice"),
		chromedp.Click(testID("audit-apply")),
	)
	waitJS(t, ctx, "actor filter pushes the URL", `location.search.includes('actor=alice')`)
	waitJS(t, ctx, "only alice's events", rows+`.length > 0 && `+rows+`.every(r => r.textContent.includes('alice'))`)
	browsertest.Screenshot(t, ctx, "audit-02-actor")

	step(
		"back to all",
		chromedp.Navigate(base+"/audit?action=sign_in_failure"),
		chromedp.WaitVisible(testID("audit-table")),
	)
	waitJS(t, ctx, "action filter from the URL", rows+`.length === 1 && `+rows+`[0].textContent.includes('alice')`)

	step(
		"full-text search for nothing",
		chromedp.Navigate(base+"/audit?q=no-such-word-anywhere"),
		chromedp.WaitVisible(testID("audit-empty")),
	)
	browsertest.ScreenshotViewport(t, ctx, "audit-03-empty")

	href := func(id string) string {
		s, err := chromedp.Run(
			ctx,
			chromedp.Evaluate[string](`document.querySelector('[data-testid="`+id+`"]').getAttribute('href')`),
		)
		if err != nil {
			t.Fatalf("%s link: %v", id, err)
		}
		return s
	}
	step("filtered page", chromedp.Navigate(base+"/audit?actor=alice"), chromedp.WaitVisible(testID("audit-table")))
	for _, id := range []string{"export-csv", "export-jsonl"} {
		if h := href(id); !strings.Contains(h, "actor=alice") {
			t.Errorf("%s link %q does not keep the filter", id, h)
		}
	}

	for _, p := range problems() {
		if !strings.Contains(p, "401 (Unauthorized)") { // the deliberate wrong password above
			t.Errorf("browser reported: %s", p)
		}
	}
}
