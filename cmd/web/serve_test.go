package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
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
		{"--trusted-proxies", "10.0.0.0/33"}, {"--trusted-proxies", "proxy.example"},
		{"--notify-allow", "10.0.0.0/33"}, {"--notify-allow", "intranet"}} {
		env := func(string) string { return "" }
		err := runServe(context.Background(), append(args, "--data", t.TempDir()), env, io.Discard)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestServeNotifyConfig(t *testing.T) {
	env := map[string]string{"DECOM_PUBLIC_URL": "https://decom.example.com", "DECOM_NOTIFY_ALLOW": "10.0.0.0/8"}
	c, err := parseServeConfig(
		[]string{"--notify-allow", "127.0.0.1, 192.168.0.0/16"},
		func(k string) string { return env[k] },
		io.Discard,
	)
	if err != nil {
		t.Fatal(err)
	}
	if c.linkBase() != "https://decom.example.com" || len(c.NotifyAllow) != 2 ||
		c.NotifyAllow[0].String() != "127.0.0.1/32" {
		t.Errorf("config %q %v", c.linkBase(), c.NotifyAllow)
	}
	c, err = parseServeConfig([]string{"--listen", "127.0.0.1:9000"}, func(string) string { return "" }, io.Discard)
	if err != nil || c.PublicURL != "" || c.linkBase() != "http://127.0.0.1:9000" || len(c.NotifyAllow) != 0 {
		t.Errorf("defaults: %q %v %v", c.linkBase(), c.NotifyAllow, err)
	}
}

// TestServeFreshStart: a fresh data directory is created and migrated, the
// demo users and their password are printed once, the console answers, and
// the process stops cleanly when its context ends.
func TestServeFreshStart(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"DECOM_LOG_LEVEL": "error", "DECOM_DEMO_PASSWORD": demoPassword,
		"DECOM_NOTIFY_ALLOW": "127.0.0.0/8", "DECOM_PUBLIC_URL": "http://decom.example.com"}
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
	if !strings.Contains(out, "alice (requester)") || !strings.Contains(out, "password:   from DECOM_DEMO_PASSWORD") ||
		!strings.Contains(out, "cloud simulator: http://127.0.0.1:") {
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
		if !strings.Contains(body, `"url":"http://decom.example.com/changes/5"`) {
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
		_, err := notify.Enqueue(
			ctx,
			tx,
			notify.Event{Kind: notify.KindApproved, ChangeID: 5, ChangeName: "CR-5", At: time.Now()},
		)
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
	resp, err := c.PostForm(
		base+"/login",
		url.Values{"username": {"alice"}, "password": {demoPassword}, "_csrf": {m[1]}},
	)
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

func TestParseCIDRs(t *testing.T) {
	nets, err := parseCIDRs(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::1,")
	if err != nil || len(nets) != 3 || nets[1].String() != "192.0.2.1/32" || nets[2].String() != "2001:db8::1/128" {
		t.Errorf("got %v %v", nets, err)
	}
}

func TestServeSSOConfigErrors(t *testing.T) {
	sso := map[string]string{"DECOM_OIDC_ISSUER": "https://idp.example/realms/x", "DECOM_OIDC_CLIENT_ID": "decom",
		"DECOM_OIDC_CLIENT_SECRET": "s3cret", "DECOM_PUBLIC_URL": "https://decom.example", "DECOM_OIDC_ROLE_MAP": "ops=admin"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
		drop string // a variable of env to leave out
	}{
		{
			"no issuer, password off",
			nil,
			[]string{"--password-login=false"},
			"--password-login=false needs single sign-on",
			"",
		},
		{"client without issuer", map[string]string{"DECOM_OIDC_CLIENT_ID": "x"}, nil, "need --oidc-issuer", ""},
		{"no public URL", sso, []string{"--public-url", ""}, "needs --public-url", ""},
		{"relative public URL", sso, []string{"--public-url", "decom.example"}, "--public-url", ""},
		{"complete", sso, nil, "", ""},
		{"no secret", sso, nil, "DECOM_OIDC_CLIENT_SECRET", "DECOM_OIDC_CLIENT_SECRET"},
		{"unknown role", sso, []string{"--oidc-role-map", "ops=root"}, `unknown role "root"`, ""},
		{"not group=role", sso, []string{"--oidc-role-map", "ops"}, "is not group=role", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				if k != tt.drop {
					env[k] = v
				}
			}
			_, err := parseServeConfig(
				append(tt.args, "--data", t.TempDir()),
				func(k string) string { return env[k] },
				io.Discard,
			)
			if tt.want == "" {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
	t.Run("secret from file, masked in the log", func(t *testing.T) {
		f := t.TempDir() + "/secret"
		os.WriteFile(f, []byte("from-a-file\n"), 0o600)
		env := map[string]string{"DECOM_OIDC_CLIENT_SECRET_FILE": f}
		for k, v := range sso {
			if k != "DECOM_OIDC_CLIENT_SECRET" {
				env[k] = v
			}
		}
		c, err := parseServeConfig([]string{"--data", t.TempDir()}, func(k string) string { return env[k] }, io.Discard)
		if err != nil || c.OIDC.ClientSecret != "from-a-file" || !c.SecureCookies {
			t.Fatalf("config %+v, %v", c.OIDC, err)
		}
		if strings.Contains(fmt.Sprint(c.logAttrs()...), "from-a-file") {
			t.Error("secret in the logged configuration")
		}
		ac := c.authOIDCConfig()
		if ac.RedirectURL != "https://decom.example/auth/oidc/callback" || len(ac.RoleMap) != 1 ||
			strings.Join(ac.Scopes, " ") != "openid profile email groups" {
			t.Errorf("auth config %+v", ac)
		}
	})
}

// TestServeSSODiscoveryFails: a provider that does not answer at start is a
// clear message naming the issuer, not a failed start; the sign-in page says
// single sign-on is unavailable and password sign-in still works.
func TestServeSSODiscoveryFails(t *testing.T) {
	addr := freeAddr(t)
	out := &syncBuffer{}
	env := map[string]string{"DECOM_DEMO_PASSWORD": demoPassword, "DECOM_LOG_LEVEL": "error",
		"DECOM_OIDC_ISSUER": "http://127.0.0.1:1/realms/down", "DECOM_OIDC_CLIENT_ID": "decom",
		"DECOM_OIDC_CLIENT_SECRET": "s3cret", "DECOM_PUBLIC_URL": "http://" + addr, "DECOM_OIDC_ROLE_MAP": "ops=admin"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", addr, "--data", t.TempDir()}, func(k string) string { return env[k] }, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	for i := 0; !strings.Contains(out.String(), "decom console: "); i++ {
		if i > 400 {
			t.Fatalf("did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "single sign-on is unavailable") ||
		!strings.Contains(out.String(), "127.0.0.1:1/realms/down") {
		t.Errorf("start output does not explain:\n%s", out.String())
	}
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `data-testid="sso-notice"`) ||
		!strings.Contains(string(b), `data-testid="login-form"`) {
		t.Errorf("sign-in page:\n%s", b)
	}
}
