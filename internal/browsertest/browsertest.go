// Package browsertest starts Debian's chromium headless through chromedp
// for decom's browser tests, and saves screenshots.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs chromium; $CHROMIUM overrides it.
const ChromiumPath = "/usr/bin/chromium"

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// New starts a fresh headless chromium (its own user-data dir) and returns a
// tab's context, closed at the end of the test. Without chromium the test is
// skipped, except under CI=true, where it fails: CI installs chromium, so
// its absence is a broken pipeline, not a reason to pass.
func New(t testing.TB) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found (set CHROMIUM or install Debian's chromium); browser tests must run in CI")
		}
		t.Skip("chromium not found; install it (apt-get install chromium) to run browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// The first Do starts the browser on ctx, which must carry no timeout
	// (it would stop the browser); the test's actions get one below.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return tctx
}

// ScreenshotDir is where screenshots go: $DECOM_SCREENSHOTS, else
// <os temp dir>/decom-screenshots (kept after the test so people can look).
func ScreenshotDir() string {
	if d := os.Getenv("DECOM_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "decom-screenshots")
}

// Screenshot saves a full-page PNG named name.png and logs its path.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	save(t, ctx, name, chromedp.FullScreenshot(100))
}

// ScreenshotViewport saves only what the viewport shows, as a user sees it.
func ScreenshotViewport(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	save(t, ctx, name, chromedp.CaptureScreenshot())
}

func save(t testing.TB, ctx context.Context, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	buf, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := ScreenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// Problems collects what the page reports as going wrong: console errors
// (CSP violations, failed loads) and uncaught exceptions. Call it right after
// New; call the returned func at the end to get them.
func Problems(t testing.TB, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				msg = string(e.Entry.Source) + ": " + e.Entry.Text + " " + e.Entry.URL
			}
		case *cdpruntime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		}
		if msg != "" {
			mu.Lock()
			out = append(out, msg)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable log: %v", err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), out...)
	}
}
