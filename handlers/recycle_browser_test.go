package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/internal/browsertest"
)

// TestRecycleBinBrowser opens the recycle bin at desktop and phone widths:
// the entries with time left and cost show, nothing overflows, the page
// reports no problems (CSP, scripts).
func TestRecycleBinBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	ts := newTestServer(t)
	sim := newBinSim(t, ts.now.Now)
	ts.srv.Recycle = sim.client
	for _, p := range []struct {
		project string
		days    int
	}{{"p1", 3}, {"p2", 1}} {
		sim.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": p.project,
			"retention_days": p.days, "default_use_recycle": true})
	}
	for i, name := range []string{"orders-events-mq-prod-03", "payments-outbox-mq-prod-11", "ledger-cdc-mq-stg-07"} {
		sim.binned(cloud.RocketMQ, []string{"p1", "p1", "p2"}[i], name)
		ts.now.Add(9 * time.Hour)
	}
	sim.binned(cloud.RabbitMQ, "p1", "notify-fanout-rabbit-prod-61")

	base := ts.URL
	do := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	do("sign in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(bTestID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), "bob"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(bTestID("sign-in")), chromedp.WaitVisible(bTestID("whoami")))
	do("open from the nav", chromedp.Click(bTestID("nav-recycle")), chromedp.WaitVisible(bTestID("recycle-table")))
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"1366", 1366, 900}, {"390", 390, 844}} {
		do("viewport "+vp.name, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(base+"/recycle/rocketmq"),
			chromedp.WaitVisible(bTestID("recycle-table")))
		rows, err := chromedp.Run(
			ctx,
			chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="recycle-row"]').length`),
		)
		if err != nil || rows != 3 {
			t.Fatalf("%s: %d rows, %v", vp.name, rows, err)
		}
		left := textOf(t, ctx, "time-left")
		if !strings.Contains(left, "h") || !strings.Contains(left, "until") {
			t.Errorf("%s: time left %q", vp.name, left)
		}
		overflow, err := chromedp.Run(
			ctx,
			chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`),
		)
		if err != nil || overflow {
			t.Errorf("%s: page wider than the viewport (%v)", vp.name, err)
		}
		browsertest.Screenshot(t, ctx, "recycle-bin-"+vp.name)
	}
	do("rabbit tab", chromedp.Click(chromedp.CSS(`[data-testid="recycle-tabs"] a[href="/recycle/rabbitmq"]`)),
		chromedp.WaitVisible(bTestID("recycle-name")))
	if name := textOf(t, ctx, "recycle-name"); name != "notify-fanout-rabbit-prod-61" {
		t.Errorf("rabbit tab shows %q", name)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("page problems: %v", p)
	}
}
