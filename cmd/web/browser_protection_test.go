package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/internal/browsertest"
)

// TestBrowserProtection: an admin adds a protection rule; a requester sees
// the shield and the protecting rule on protected resources, a running
// server blocked with its reason, tags and enterprise projects, and, when a
// selected resource becomes protected before planning, the plan page and
// the change say which was left out and why. Every page fits a 1366x900 and
// a 390x844 screen, in Debian's chromium against "web serve".
func TestBrowserProtection(t *testing.T) {
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	base, sim := startConsoleSim(t, nil)
	if sim == "" {
		t.Fatal("no embedded simulator URL")
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", name, err, truncate(html, 3000))
		}
	}
	control := func(method, path string, body map[string]any) string {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, sim+path, bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, err)
		}
		return got.ID
	}
	create := func(svc, name, status string, extra map[string]any) string {
		body := map[string]any{"service": svc, "kind": "instance", "project_id": cloudsim.DemoProjects[0], "name": name,
			"status": status}
		for k, v := range extra {
			body[k] = v
		}
		return control(http.MethodPost, "/_sim/resources", body)
	}
	payments := map[string]string{"key": "team", "value": "pt-payments"}
	create("rocketmq", "pt-mq-tagged", "RUNNING", map[string]any{"enterprise_project_id": "ep-finance",
		"tags": []map[string]string{{"key": "decom:protect", "value": "yes"}, payments}})
	create("rocketmq", "pt-mq-rule-1", "RUNNING", nil)
	later := create("rocketmq", "pt-mq-later", "RUNNING", map[string]any{"tags": []map[string]string{payments}})
	create("rocketmq", "pt-mq-free", "RUNNING", nil)
	create("clouddc", "pt-bm-running", "running", nil)

	// Both screen sizes: a screenshot each, and nothing wider than the screen.
	shots := func(name string) {
		t.Helper()
		for _, vp := range []struct {
			w, h int64
			tag  string
		}{{1366, 900, "desktop"}, {390, 844, "phone"}} {
			step("viewport "+vp.tag, chromedp.EmulateViewport(vp.w, vp.h))
			waitJS(t, ctx, name+" laid out", `document.readyState === 'complete'`)
			browsertest.Screenshot(t, ctx, "protection-"+name+"-"+vp.tag)
			// The elements that stick out, if any, by their tag, class and test ID.
			wide, err := chromedp.Run(
				ctx,
				chromedp.Evaluate[[]string](`document.documentElement.scrollWidth <= window.innerWidth ? [] :
				[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 &&
					!e.parentElement.closest('.table-wrap, pre'))
				.slice(0, 8).map(e => e.tagName + '.' + e.className + '[' + (e.dataset.testid || '') + ']')`),
			)
			if err != nil || len(wide) > 0 {
				t.Errorf("%s at %dx%d: wider than the screen: %v %v", name, vp.w, vp.h, wide, err)
			}
		}
		step("back to desktop", chromedp.EmulateViewport(1366, 900))
	}
	rowOf := func(name string) string {
		return `[...document.querySelectorAll('[data-testid="resource-row"]')].find(r => r.textContent.includes('` + name + `'))`
	}

	// The admin protects every "pt-mq-rule*" instance.
	signIn(t, ctx, base, "admin")
	step(
		"protection page",
		chromedp.Navigate(base+"/admin/protection"),
		chromedp.WaitVisible(testID("protection-form")),
		chromedp.SetValue(testID("rule-kind"), "name"),
		chromedp.SendKeys(testID("rule-pattern-input"), "PT-MQ-RULE*"),
		chromedp.SendKeys(
			testID("rule-note"),
			"pilot brokers, ask the payments team",
		),
		chromedp.Click(testID("add-rule")),
		chromedp.WaitVisible(testID("flash")),
	)
	waitJS(t, ctx, "rule listed", `document.querySelectorAll('[data-testid="protection-rule"]').length === 2`)
	shots("admin")
	step("admin signs out", chromedp.Click(testID("sign-out")), chromedp.WaitVisible(testID("login-form")))

	// alice sees shields with their rule and cannot tick them.
	signIn(t, ctx, base, "alice")
	step(
		"rocketmq list",
		chromedp.Navigate(base+"/inventory/rocketmq?q=pt-mq"),
		chromedp.WaitVisible(testID("resource-table")),
	)
	waitJS(t, ctx, "tag shield", rowOf("pt-mq-tagged")+`.querySelector('[data-testid="shield"]') &&
		`+rowOf("pt-mq-tagged")+`.querySelector('[data-testid="block-reason"]').textContent === 'protected by the built-in tag decom:protect' &&
		!`+rowOf("pt-mq-tagged")+`.querySelector('[data-testid="row-check"]')`)
	waitJS(t, ctx, "rule shield", rowOf("pt-mq-rule-1")+`.querySelector('[data-testid="block-reason"]').textContent ===
		'protected by rule 1: name PT-MQ-RULE* (pilot brokers, ask the payments team)'`)
	waitJS(
		t,
		ctx,
		"tags and enterprise project",
		rowOf("pt-mq-tagged")+`.querySelector('[data-testid="tags"]').textContent.includes('team=pt-payments') &&
		`+rowOf("pt-mq-tagged")+`.querySelector('[data-testid="row-ep"]').textContent.includes('ep-finance')`,
	)
	shots("list")

	step(
		"clouddc list",
		chromedp.Navigate(base+"/inventory/clouddc?q=pt-bm"),
		chromedp.WaitVisible(testID("resource-table")),
	)
	waitJS(
		t,
		ctx,
		"running server blocked",
		rowOf(
			"pt-bm-running",
		)+`.querySelector('[data-testid="block-reason"]').textContent === 'running: stop it first' &&
		`+rowOf(
			"pt-bm-running",
		)+`.querySelector('[data-testid="row-check-blocked"]').disabled`,
	)
	shots("running")

	step(
		"detail",
		chromedp.Navigate(base+"/inventory/rocketmq?q=pt-mq-tagged"),
		chromedp.WaitVisible(testID("resource-table")),
		chromedp.Click(testID("resource-name")),
		chromedp.WaitVisible(testID("detail-fields")),
	)
	waitJS(t, ctx, "detail shield", `!!document.querySelector('main [data-testid="shield"]') &&
		document.querySelector('[data-testid="detail-fields"]').textContent.includes('ep-finance')`)
	shots("detail")

	step(
		"tag filter",
		chromedp.Navigate(base+"/inventory/rocketmq?tag=team%3Dpt-payments"),
		chromedp.WaitVisible(testID("resource-table")),
	)
	waitJS(t, ctx, "tag filter rows", `document.querySelectorAll('[data-testid="resource-row"]').length === 2`)

	// Two free instances selected; one is tagged decom:protect in the cloud
	// before planning: the plan page and the change leave it out, and say why.
	step(
		"select",
		chromedp.Navigate(base+"/inventory/rocketmq?q=pt-mq"),
		chromedp.WaitVisible(testID("resource-table")),
	)
	for _, name := range []string{"pt-mq-later", "pt-mq-free"} {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](rowOf(name)+`.querySelector('[data-testid="row-check"]').click() || true`)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "ticked "+name, rowOf(name)+`.querySelector('[data-testid="row-check"]').checked`)
	}
	waitJS(t, ctx, "2 selected", `document.querySelector('[data-testid="selected-count"]').textContent.trim() === '2'`)
	control(
		http.MethodPatch,
		"/_sim/resources/"+later,
		map[string]any{"tags": []map[string]string{payments, {"key": "decom:protect", "value": ""}}},
	)
	step("refresh", chromedp.Click(testID("refresh")), chromedp.WaitVisible(testID("flash")))
	step("plan", chromedp.Click(testID("plan-deletion")), chromedp.WaitVisible(testID("plan-form")))
	waitJS(
		t,
		ctx,
		"plan page leaves it out",
		`document.querySelector('[data-testid="excluded-row"] strong')?.textContent === 'pt-mq-later' &&
		document.querySelector('[data-testid="excluded-row"] [data-testid="block-reason"]').textContent === 'protected by the built-in tag decom:protect'`,
	)
	shots("plan")
	step(
		"create",
		chromedp.SendKeys(testID("reason"), "Retire the pilot brokers"),
		chromedp.Click(testID("create-change")),
		chromedp.WaitVisible(testID("change-name")),
	)
	waitJS(
		t,
		ctx,
		"change leaves it out",
		`document.querySelector('[data-testid="excluded-row"] strong')?.textContent === 'pt-mq-later'`,
	)
	shots("change")

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}
