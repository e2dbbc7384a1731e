package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

func TestServeHelp(t *testing.T) {
	var out bytes.Buffer
	if err := runServe(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"-listen", "-data", "-sim-listen", "-cloud-config", "-session-key", "DECOM_LISTEN", "DECOM_DEMO_PASSWORD"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}

func TestServeConfigErrors(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "x"}, {"--idle-timeout", "1s"}, {"--log-format", "xml"}, {"stray"}, {"--session-key", "abc"},
		{"--notify-allow", "10.0.0.0/33"}, {"--notify-allow", "intranet"}, {"--public-url", "ftp://decom.example"},
		{"--public-url", "https://u:p@decom.example"}} {
		env := func(string) string { return "" }
		err := runServe(context.Background(), append(args, "--data", t.TempDir()), env, io.Discard)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestServeNotifyConfig(t *testing.T) {
	env := map[string]string{"DECOM_PUBLIC_URL": "https://decom.example.com", "DECOM_NOTIFY_ALLOW": "10.0.0.0/8"}
	c, err := parseServeConfig([]string{"--notify-allow", "127.0.0.1, 192.168.0.0/16"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "https://decom.example.com" || len(c.NotifyAllow) != 2 || c.NotifyAllow[0].String() != "127.0.0.1/32" {
		t.Errorf("config %q %v", c.PublicURL, c.NotifyAllow)
	}
	c, err = parseServeConfig([]string{"--listen", "127.0.0.1:9000"}, func(string) string { return "" }, io.Discard)
	if err != nil || c.PublicURL != "http://127.0.0.1:9000" || len(c.NotifyAllow) != 0 {
		t.Errorf("defaults: %q %v %v", c.PublicURL, c.NotifyAllow, err)
	}
}

// TestServeFreshStart: a fresh data directory is created and migrated, the
// demo users and their password are printed once, the console answers, and
// the process stops cleanly when its context ends.
func TestServeFreshStart(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"DECOM_LOG_LEVEL": "error", "DECOM_DEMO_PASSWORD": demoPassword,
		"DECOM_NOTIFY_ALLOW": "127.0.0.0/8", "DECOM_PUBLIC_URL": "https://decom.example.com"}
	start := func() (string, string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- runServe(ctx, []string{"--listen", "127.0.0.1:0", "--data", data}, func(k string) string { return env[k] }, out)
		}()
		for range 200 {
			if s := out.String(); strings.Contains(s, "decom console: ") {
				url := strings.TrimSuffix(strings.Fields(s[strings.Index(s, "decom console: "):])[2], "/")
				return url, s, func() {
					cancel()
					select {
					case err := <-done:
						if err != nil {
							t.Errorf("serve: %v", err)
						}
					case <-time.After(20 * time.Second):
						t.Error("no graceful shutdown")
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		t.Fatalf("did not start: %s", out.String())
		return "", "", nil
	}
	url, out, stop := start()
	if !strings.Contains(out, "alice (requester)") || !strings.Contains(out, "password:   from DECOM_DEMO_PASSWORD") || !strings.Contains(out, "cloud simulator: http://127.0.0.1:") {
		t.Errorf("first start output:\n%s", out)
	}
	for _, p := range []string{"/healthz", "/readyz", "/login"} {
		resp, err := http.Get(url + p)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %v %v", p, err, resp)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	checkMetricsWiring(t, url)
	stop()
	got := leaveOutboxRow(t, data)
	_, out, stop = start()
	select {
	case body := <-got: // the notification worker runs and resends what a stop left
		if !strings.Contains(body, `"url":"https://decom.example.com/changes/5"`) {
			t.Errorf("message %s", body)
		}
	case <-time.After(10 * time.Second):
		t.Error("the row left in the outbox was not delivered after the restart")
	}
	stop()
	if strings.Contains(out, "password:") {
		t.Errorf("password printed again on the second start:\n%s", out)
	}
}

// leaveOutboxRow adds a loopback channel and an undelivered event to the
// stopped console's database, as a crash after a commit would leave it, and
// returns the channel the receiver reports bodies on.
func leaveOutboxRow(t *testing.T, data string) <-chan string {
	t.Helper()
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	t.Cleanup(srv.Close)
	db, err := openDB(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	n := notify.New(db, notify.Options{})
	if _, err := n.AddChannel(ctx, notify.Actor{Name: "test"}, notify.Channel{Format: notify.FormatJSON,
		URL: srv.URL + "/hook", Secret: "0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	err = store.InTx(ctx, db, func(tx *sql.Tx) error {
		_, err := notify.Enqueue(ctx, tx, notify.Event{Kind: notify.KindApproved, ChangeID: 5, ChangeName: "CR-5", At: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkMetricsWiring signs in, reads a list, and expects the inventory's
// cloud calls and the request latency in /metrics.
func checkMetricsWiring(t *testing.T, base string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	page := get("/login")
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field on the login page")
	}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"alice"}, "password": {demoPassword}, "_csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(get("/inventory/rocketmq"), `data-testid="resource-row"`) {
		t.Fatal("no rows after signing in")
	}
	metrics := get("/metrics")
	for _, want := range []string{
		`decom_cloud_calls_total{operation="dms.list",outcome="ok",service="rocketmq"}`,
		`decom_http_request_duration_seconds_count{code="200",method="GET",route="/inventory/:service"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
