package handlers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/internal/browsertest"
	"github.com/decom/decom/poller"
)

// slowCloud makes deletes take a while: an accepted instance reads as
// deleting for delay, then is gone.
type slowCloud struct {
	*fakeCloud
	delay    time.Duration
	mu       sync.Mutex
	gone     map[string]time.Time      // key -> when the delete was accepted
	deleting map[string]cloud.Resource // key -> the resource as it reads while deleting
}

func (s *slowCloud) DeleteDMS(
	ctx context.Context,
	account, project string,
	svc cloud.Service,
	ids []string,
	force bool,
) ([]cloud.Outcome, error) {
	snapshot, _ := s.fakeCloud.ReadMany(ctx, refsOf(account, project, svc, ids))
	outs, err := s.fakeCloud.DeleteDMS(ctx, account, project, svc, ids, force)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range outs {
		if o.Accepted {
			s.gone[o.Ref.Key()] = time.Now()
			r := snapshot[o.Ref.Key()]
			r.Status, r.Class = "DELETING", cloud.ClassDeleting
			s.deleting[o.Ref.Key()] = r
		}
	}
	return outs, err
}

func (s *slowCloud) ReadMany(ctx context.Context, refs []cloud.Ref) (map[string]cloud.Resource, error) {
	out, err := s.fakeCloud.ReadMany(ctx, refs)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range refs {
		if at, ok := s.gone[r.Key()]; ok && time.Since(at) < s.delay {
			out[r.Key()] = s.deleting[r.Key()]
		}
	}
	return out, err
}

func refsOf(account, project string, svc cloud.Service, ids []string) []cloud.Ref {
	out := make([]cloud.Ref, len(ids))
	for i, id := range ids {
		out[i] = cloud.Ref{Account: account, Project: project, Service: svc, Kind: cloud.KindInstance, ID: id}
	}
	return out
}

func bTestID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

// TestChangeBrowserFlow: alice plans, bob approves, alice executes and
// watches progress to the end.
func TestChangeBrowserFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browsertest.New(t)
	ts := newTestServer(t)
	sc := &slowCloud{
		fakeCloud: ts.cloud,
		delay:     6 * time.Second,
		gone:      map[string]time.Time{},
		deleting:  map[string]cloud.Resource{},
	}
	pctx, stop := context.WithCancel(context.Background())
	p := poller.New(ts.db, sc, poller.Options{MinInterval: 500 * time.Millisecond, IdleTick: 200 * time.Millisecond})
	stopped := make(chan error, 1)
	go func() { stopped <- p.Run(pctx) }()
	t.Cleanup(func() { stop(); <-stopped })
	base := ts.URL

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			if len(html) > 3000 {
				html = html[:3000]
			}
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
	waitJS := func(what, expr string, timeout time.Duration) {
		t.Helper()
		// Retried: a navigation aborts a poll in flight.
		var err error
		for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if _, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)))); err == nil {
				break
			}
		}
		if err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			if len(html) > 3000 {
				html = html[:3000]
			}
			t.Fatalf("%s: %v\n%s", what, err, html)
		}
	}
	signIn := func(user string) {
		t.Helper()
		step("sign in "+user, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(bTestID("login-form")),
			chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(bTestID("sign-in")), chromedp.WaitVisible(bTestID("whoami")))
	}
	signOut := func() {
		t.Helper()
		step("sign out", chromedp.Click(bTestID("sign-out")), chromedp.WaitVisible(bTestID("login-form")))
	}

	// alice selects a page of RocketMQ instances and plans their deletion.
	signIn("alice")
	step(
		"list",
		chromedp.Navigate(base+"/inventory/rocketmq?project=p1&per=25"),
		chromedp.WaitVisible(bTestID("resource-table")),
	)
	step("select page", chromedp.Click(bTestID("select-page")))
	// CREATING instances cannot be selected (the cloud refuses their delete):
	// the page box selects every other row.
	waitJS("page selected", `document.querySelector('[data-testid="selected-count"]').textContent.trim() ===
		String(document.querySelectorAll('[data-testid="row-check"]').length)`, 5*time.Second)
	selected := textOf(t, ctx, "selected-count")
	if n := strings.Count(mustOuterHTML(t, ctx, "resource-table"), `data-testid="row-check-blocked"`); n == 0 ||
		selected == "25" {
		t.Errorf("%d blocked rows, %s selected", n, selected)
	}
	step("plan", chromedp.Click(bTestID("plan-deletion")), chromedp.WaitVisible(bTestID("plan-form")))
	step(
		"reason",
		chromedp.SendKeys(bTestID("reason"), "Retire the p1 brokers"),
		chromedp.SendKeys(bTestID("ticket"), "CHG-1042"),
	)
	browsertest.Screenshot(t, ctx, "changes-01-plan-form")
	step("create", chromedp.Click(bTestID("create-change")), chromedp.WaitVisible(bTestID("change-name")))
	changeURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "changes-02-pending")
	if got := strings.TrimSpace(textOf(t, ctx, "approvals")); got != "0 of 1" {
		t.Errorf("approvals = %q", got)
	}
	signOut()

	// bob approves from his queue.
	signIn("bob")
	step("queue", chromedp.Navigate(base+"/approvals"), chromedp.WaitVisible(bTestID("change-table")))
	browsertest.Screenshot(t, ctx, "changes-03-approvals")
	step("open", chromedp.Click(bTestID("change-link")), chromedp.WaitVisible(bTestID("approve")))
	step("comment", chromedp.SendKeys(bTestID("comment-text"), "Are the consumers switched off?"),
		chromedp.Click(bTestID("post-comment")), chromedp.WaitVisible(bTestID("comment-body")))
	if got := textOf(t, ctx, "comment-body"); got != "Are the consumers switched off?" {
		t.Errorf("comment shown as %q", got)
	}
	browsertest.Screenshot(t, ctx, "changes-03b-comment")
	step(
		"approve",
		chromedp.SendKeys(bTestID("comment"), "Checked with the owners"),
		chromedp.Click(bTestID("approve")),
		chromedp.WaitVisible(bTestID("flash")),
	)
	signOut()

	// alice executes with typed confirmation and watches it finish.
	signIn("alice")
	step("change", chromedp.Navigate(changeURL), chromedp.WaitVisible(bTestID("execute")))
	step("confirm", chromedp.SendKeys(bTestID("confirm"), selected), chromedp.Click(bTestID("execute")))
	waitJS(
		"executing",
		`document.querySelector('[data-testid="change-progress"]')?.getAttribute('hx-get') !== null`,
		5*time.Second,
	)
	waitJS("in flight", `Number(document.querySelector('[data-testid="running-count"]')?.textContent) > 0 ||
		document.querySelector('[data-testid="change-progress"]')?.dataset.finished === 'true'`, 15*time.Second)
	browsertest.Screenshot(t, ctx, "changes-04-progress")
	waitJS(
		"finished",
		`document.querySelector('[data-testid="change-progress"]')?.dataset.finished === 'true'`,
		30*time.Second,
	)
	browsertest.Screenshot(t, ctx, "changes-05-finished")
	done := textOf(t, ctx, "done-count")
	failed := textOf(t, ctx, "failed-count")
	if done == "0" || done+failed == "" {
		t.Errorf("done %s, failed %s", done, failed)
	}
	// Failed deletes can be retried.
	if failed != "0" {
		step("retry", chromedp.Click(bTestID("retry-failed")))
		waitJS(
			"retry change",
			`location.pathname !== '`+strings.TrimPrefix(
				changeURL,
				base,
			)+`' && !!document.querySelector('[data-testid="approvals"]')`,
			10*time.Second,
		)
		browsertest.Screenshot(t, ctx, "changes-06-retry")
	}
}

func mustOuterHTML(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(bTestID(id)))
	if err != nil {
		t.Fatalf("html of %s: %v", id, err)
	}
	return s
}

func textOf(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(bTestID(id)))
	if err != nil {
		t.Fatalf("text of %s: %v", id, err)
	}
	return strings.TrimSpace(s)
}
