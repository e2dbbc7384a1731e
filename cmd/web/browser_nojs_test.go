package main

import (
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/decom/decom/internal/browsertest"
)

// TestBrowserWithoutJavaScript: with scripts off, filters, paging and the
// selection still work through plain forms and links.
func TestBrowserWithoutJavaScript(t *testing.T) {
	ctx := browsertest.New(t)
	base := startConsole(t, nil)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, base, "alice")
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/inventory/rocketmq"),
		chromedp.WaitVisible(testID("apply-filters")), // hidden when JavaScript runs
		chromedp.SetValue(testID("filter-q"), "prod"),
		chromedp.Click(testID("apply-filters")),
		// The new page's refresh form returns to the filtered URL.
		chromedp.WaitReady(chromedp.CSS(`input[name="back"][value="/inventory/rocketmq?q=prod"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(testID("row-check")),
		chromedp.Click(chromedp.CSS(`button[name="op"][value="page"]`)),
		chromedp.WaitVisible(testID("plan-deletion")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Scripts are off, so read the DOM, not JavaScript.
	count, err := chromedp.Run(ctx, chromedp.AttributeValue(testID("selection-bar"), "data-count"))
	if err != nil || count.Value != "1" {
		t.Errorf("selected = %q, %v; want 1", count.Value, err)
	}
	browsertest.ScreenshotViewport(t, ctx, "11-no-javascript")
}
