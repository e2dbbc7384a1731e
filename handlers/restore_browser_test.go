package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/internal/browsertest"
	"github.com/decom/decom/poller"
)

// TestRestoreBrowser restores DMS instances from the recycle-bin page in
// the browser: alice ticks two instances and plans the restore, bob
// approves, alice executes, the poller restores them against cloudsim and
// the bin keeps only the third. Screenshots at 1366 and 390 px.
func TestRestoreBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	ts := newTestServer(t)
	sim := newBinSim(t, ts.now.Now)
	f := cloudsim.DefaultFaults()
	f.DMSDeleteDelayMS, f.RestoreDelayMS = 0, 0
	sim.control(http.MethodPut, "/_sim/faults", f)
	sim.control(http.MethodPut, "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": "p1",
		"retention_days": 3, "default_use_recycle": true})
	var ids []string
	for _, name := range []string{"orders-events-mq-prod-03", "payments-outbox-mq-prod-11", "ledger-cdc-mq-stg-07"} {
		ids = append(ids, sim.binned(cloud.RocketMQ, "p1", name))
		ts.now.Add(5 * time.Hour)
	}
	p := poller.New(
		ts.db,
		sim.client,
		poller.Options{MinInterval: 200 * time.Millisecond, IdleTick: 200 * time.Millisecond},
	)
	ts.srv.Recycle = sim.client
	ts.srv.Changes = changes.New(ts.db, sim.client, changes.Options{Now: ts.now.Now, Wake: p.Wake})
	pctx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- p.Run(pctx) }()
	t.Cleanup(func() { stop(); <-stopped })
	base := ts.URL

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			if len(html) > 3000 {
				html = html[:3000]
			}
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
	waitJS := func(what, expr string, timeout time.Duration) {
		t.Helper()
		var err error
		for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if _, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	signIn := func(user string) {
		t.Helper()
		step("sign in "+user, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(bTestID("login-form")),
			chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(bTestID("sign-in")), chromedp.WaitVisible(bTestID("whoami")))
	}
	noOverflow := func(vp string) {
		t.Helper()
		overflow, err := chromedp.Run(
			ctx,
			chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`),
		)
		if err != nil || overflow {
			t.Errorf("%s: page wider than the viewport (%v)", vp, err)
		}
	}
	row := func(id string) string {
		return `[data-testid="recycle-row"][data-id="` + id + `"] [data-testid="restore-select"]`
	}

	signIn("alice")
	step("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/recycle/rocketmq"),
		chromedp.WaitVisible(bTestID("restore-form")))
	noOverflow("390")
	browsertest.Screenshot(t, ctx, "restore-01-bin-390")
	step("desktop", chromedp.EmulateViewport(1366, 900), chromedp.Navigate(base+"/recycle/rocketmq"),
		chromedp.WaitVisible(bTestID("restore-form")))
	step("tick two", chromedp.Click(chromedp.CSS(row(ids[0]))), chromedp.Click(chromedp.CSS(row(ids[2]))),
		chromedp.SendKeys(bTestID("restore-reason"), "Deleted the wrong brokers"))
	noOverflow("1366")
	browsertest.Screenshot(t, ctx, "restore-02-bin-ticked-1366")
	step("restore", chromedp.Click(bTestID("restore")), chromedp.WaitVisible(bTestID("change-name")))
	changeURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if k := textOf(t, ctx, "change-kind"); !strings.Contains(k, "restore") {
		t.Errorf("change kind %q", k)
	}
	if a := textOf(t, ctx, "approvals"); a != "0 of 1" {
		t.Errorf("approvals %q, want 0 of 1", a)
	}
	browsertest.Screenshot(t, ctx, "restore-03-pending-1366")
	step("sign out", chromedp.Click(bTestID("sign-out")), chromedp.WaitVisible(bTestID("login-form")))

	signIn("bob")
	step("open", chromedp.Navigate(changeURL), chromedp.WaitVisible(bTestID("approve")))
	step("approve", chromedp.SendKeys(bTestID("comment"), "Owners confirm"), chromedp.Click(bTestID("approve")),
		chromedp.WaitVisible(bTestID("flash")))
	step("sign out", chromedp.Click(bTestID("sign-out")), chromedp.WaitVisible(bTestID("login-form")))

	signIn("alice")
	step("change", chromedp.Navigate(changeURL), chromedp.WaitVisible(bTestID("execute")))
	step("execute", chromedp.Click(bTestID("execute")))
	waitJS(
		"finished",
		`document.querySelector('[data-testid="change-progress"]')?.dataset.finished === 'true'`,
		30*time.Second,
	)
	if done := textOf(t, ctx, "done-count"); done != "2" {
		t.Errorf("done %q, want 2", done)
	}
	browsertest.Screenshot(t, ctx, "restore-04-finished-1366")
	step(
		"phone change",
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		chromedp.WaitVisible(bTestID("change-name")),
	)
	noOverflow("390 change")
	browsertest.Screenshot(t, ctx, "restore-05-finished-390")
	step("bin again", chromedp.Navigate(base+"/recycle/rocketmq"), chromedp.WaitVisible(bTestID("recycle-table")))
	rows, err := chromedp.Run(
		ctx,
		chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="recycle-row"]').length`),
	)
	if err != nil || rows != 1 {
		t.Errorf("%d rows left in the bin (%v), want 1", rows, err)
	}
	live, err := sim.client.ReadMany(context.Background(), []cloud.Ref{
		{Account: "acct", Project: "p1", Service: cloud.RocketMQ, Kind: cloud.KindInstance, ID: ids[0]},
		{Account: "acct", Project: "p1", Service: cloud.RocketMQ, Kind: cloud.KindInstance, ID: ids[2]}})
	if err != nil || len(live) != 2 {
		t.Fatalf("restored instances: %d live (%v)", len(live), err)
	}
	for _, r := range live {
		if r.Status != "RUNNING" {
			t.Errorf("%s is %s, want RUNNING", r.Name, r.Status)
		}
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("page problems: %v", p)
	}
}
