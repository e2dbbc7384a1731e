package main

import (
	"net"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/decom/decom/internal/browsertest"
)

// freeAddr returns a loopback address with a port free right now, for a
// console whose public URL must be known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startSSOConsole runs "web serve" with single sign-on against op.
func startSSOConsole(t *testing.T, op *mockoidc.MockOIDC, extraEnv map[string]string) string {
	t.Helper()
	addr := freeAddr(t)
	cfg := op.Config()
	env := map[string]string{
		"DECOM_LISTEN": addr, "DECOM_PUBLIC_URL": "http://" + addr,
		"DECOM_OIDC_ISSUER": cfg.Issuer, "DECOM_OIDC_CLIENT_ID": cfg.ClientID,
		"DECOM_OIDC_CLIENT_SECRET": cfg.ClientSecret, "DECOM_OIDC_NAME": "Corp SSO",
		"DECOM_OIDC_ROLE_MAP": "platform-requesters=requester,platform-approvers=approver,sec-audit=auditor,decom-admins=admin",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	return startConsole(t, env)
}

// TestBrowserSSO: an approver signs in through the provider's redirect and
// back, in Debian's chromium against "web serve", and lands on the approvals
// page the sign-in started from, with the role their group grants.
func TestBrowserSSO(t *testing.T) {
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Shutdown() })
	base := startSSOConsole(t, op, nil)
	op.QueueUser(&mockoidc.MockUser{Subject: "u-4711", PreferredUsername: "grace", Email: "grace@example.com",
		Groups: []string{"platform-approvers", "all-staff"}})

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/approvals"), // signed out: sent to sign in, next=/approvals
		chromedp.WaitVisible(testID("sso-sign-in")),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "sso-01-sign-in")
	if err := chromedp.Do(ctx, chromedp.Click(testID("sso-sign-in"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "back from the provider on /approvals", `location.pathname === '/approvals' && `+
		`document.querySelector('[data-testid="whoami"]')?.textContent === 'grace'`)
	waitJS(t, ctx, "approver's navigation", `!!document.querySelector('[data-testid="nav-approvals"]') && `+
		`!document.querySelector('[data-testid="nav-admin"]')`)
	browsertest.Screenshot(t, ctx, "sso-02-approvals")
	if p := problems(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}
