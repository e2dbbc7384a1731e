package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const demoPassword = "browser-test-password"

// startConsole runs "web serve" as a user would (embedded simulator, fresh
// data directory) and returns its base URL. It listens on a free port unless
// extraEnv sets DECOM_LISTEN.
func startConsole(t *testing.T, extraEnv map[string]string) string {
	t.Helper()
	base, _ := startConsoleSim(t, extraEnv)
	return base
}

// startConsoleSim is startConsole that also returns the embedded
// simulator's base URL, for its /_sim/ control API.
func startConsoleSim(t *testing.T, extraEnv map[string]string) (base, sim string) {
	t.Helper()
	env := map[string]string{"DECOM_DEMO_PASSWORD": demoPassword, "DECOM_LOG_LEVEL": "warn"}
	for k, v := range extraEnv {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	args := []string{"--data", t.TempDir()}
	if env["DECOM_LISTEN"] == "" {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	go func() {
		done <- runServe(ctx, args, func(k string) string { return env[k] }, out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	re := regexp.MustCompile(`decom console: (http://\S+)/`)
	simRE := regexp.MustCompile(`cloud simulator: (http://\S+)/`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			if s := simRE.FindStringSubmatch(out.String()); s != nil {
				sim = s[1]
			}
			return m[1], sim
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("console did not start:\n%s", out.String())
	return "", ""
}

func testID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

func signIn(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(testID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(testID("sign-in")),
		chromedp.WaitVisible(testID("service-cards")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

// htmxIdle is true when htmx has no request, swap or settle under way.
const htmxIdle = `!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')`

// waitJS polls a JavaScript expression until it is true and htmx is idle.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	// Retried, because a navigation (htmx reloading on a history miss, say)
	// aborts a poll in flight.
	var err error
	for range 5 {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool]("("+expr+") && "+htmxIdle, chromedp.WithPollingTimeout(3*time.Second))); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	t.Fatalf("%s: %v (waiting for %s)\n%s", what, err, expr, truncate(html, 3000))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}
