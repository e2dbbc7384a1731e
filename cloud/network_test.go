package cloud

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// connectProxy is a minimal HTTPS forward proxy (CONNECT only) that counts
// the tunnels it opened.
func connectProxy(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var tunnels atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		w.WriteHeader(http.StatusOK)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, conn); up.Close() }()
		go func() { _, _ = io.Copy(conn, up); conn.Close() }()
	}))
	t.Cleanup(srv.Close)
	return srv, &tunnels
}

func TestNetworkProxyCABundleNoProxy(t *testing.T) {
	sim := cloudsim.New(cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "demo", Seed: 1,
		Faults: cloudsim.DefaultFaults()})
	tlsSrv := httptest.NewUnstartedServer(sim)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case logs handshake errors
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy, tunnels := connectProxy(t)
	acct := Account{Name: "tls", Projects: []string{simProject}, AK: cloudsim.DemoAK, SK: cloudsim.DemoSK,
		Endpoints: Endpoints{DMS: tlsSrv.URL, ROMA: tlsSrv.URL, CloudDC: tlsSrv.URL}}
	list := func(n Network) error {
		c, err := New(Config{Accounts: []Account{acct}, Network: n},
			Options{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
		if err != nil {
			return err
		}
		_, err = c.ListInstances(context.Background(), "tls", simProject, RocketMQ)
		return err
	}

	if err := list(Network{HTTPSProxy: proxy.URL, CABundle: bundle}); err != nil || tunnels.Load() == 0 {
		t.Fatalf("through the proxy with the CA bundle: %v, %d tunnels", err, tunnels.Load())
	}
	before := tunnels.Load()
	if err := list(Network{HTTPSProxy: proxy.URL, NoProxy: "example.com, 127.0.0.0/8", CABundle: bundle}); err != nil {
		t.Fatalf("NO_PROXY: %v", err)
	}
	if tunnels.Load() != before {
		t.Fatal("a NO_PROXY host went through the proxy")
	}
	// Without the bundle the simulator's certificate is not trusted. The
	// error is that of the last retry: under load the proxy's tunnel can be
	// cut (EOF) before the handshake reports the certificate.
	if err := list(Network{HTTPSProxy: proxy.URL}); !errors.Is(err, ErrTransient) ||
		!strings.Contains(err.Error(), "certificate") && !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("without the CA bundle: %v", err)
	}
}

func TestNoProxy(t *testing.T) {
	tests := []struct {
		list, host string
		want       bool
	}{
		{"", "dms.cn-east-3.myhuaweicloud.com", false},
		{"*", "anything", true},
		{"myhuaweicloud.com", "dms.cn-east-3.myhuaweicloud.com", true},
		{".myhuaweicloud.com", "dms.cn-east-3.myhuaweicloud.com", true},
		{"huaweicloud.com", "dms.cn-east-3.myhuaweicloud.com", false},
		{"169.254.169.254", "169.254.169.254", true},
		{"10.0.0.0/8", "10.1.2.3", true},
		{"10.0.0.0/8", "11.1.2.3", false},
		{"internal:8443, corp", "corp", true},
	}
	for _, tt := range tests {
		if got := noProxy(tt.list, tt.host); got != tt.want {
			t.Errorf("noProxy(%q, %q) = %t, want %t", tt.list, tt.host, got, tt.want)
		}
	}
}

func TestNetworkValidateAndWarnings(t *testing.T) {
	base := Config{Accounts: []Account{validAccount()}}
	for name, n := range map[string]Network{
		"proxy without scheme": {HTTPSProxy: "proxy:3128"},
		"bad timeout":          {ConnectTimeout: "soon"},
		"missing bundle":       {CABundle: filepath.Join(t.TempDir(), "none.pem")},
	} {
		c := base
		c.Network = n
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want a config error", name, err)
		}
	}
	if w := base.Warnings(); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
	base.Network.InsecureSkipVerify = true
	if w := base.Warnings(); len(w) != 1 || !strings.Contains(w[0], "TLS VERIFICATION IS OFF") {
		t.Fatalf("warnings %v", w)
	}
	if s := (Network{HTTPSProxy: "http://u:hunter2@proxy:3128"}).String(); strings.Contains(s, "hunter2") {
		t.Fatalf("proxy password shown: %s", s)
	}
}
