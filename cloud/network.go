package cloud

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Network is how decom reaches the cloud: proxies, extra trusted CAs and
// connection timeouts. cmd/web fills the proxies from HTTPS_PROXY, HTTP_PROXY
// and NO_PROXY when the cloud config leaves them empty.
type Network struct {
	// HTTPSProxy is the proxy for https endpoints (the real cloud), HTTPProxy
	// for http ones (a simulator); "" = direct.
	HTTPSProxy string `json:"https_proxy,omitempty"`
	HTTPProxy  string `json:"http_proxy,omitempty"`
	// NoProxy lists hosts reached directly: "*", a host name (also matching
	// its subdomains), ".domain", an IP or a CIDR, comma-separated, as in
	// NO_PROXY. Unlike Go's default, loopback addresses are proxied unless
	// listed.
	NoProxy string `json:"no_proxy,omitempty"`
	// CABundle is a PEM file of CAs trusted besides the system's (a TLS
	// inspecting proxy's CA, a private endpoint's).
	CABundle string `json:"ca_bundle,omitempty"`
	// InsecureSkipVerify turns TLS verification off. Never do this outside a
	// lab: decom warns loudly at every start (Config.Warnings).
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
	// ConnectTimeout bounds the TCP connect and the TLS handshake (default
	// 10 s); the account's timeout bounds each whole call.
	ConnectTimeout string `json:"connect_timeout,omitempty"`
}

// Warnings lists what start-up must say loudly about the configuration.
func (c Config) Warnings() []string {
	var out []string
	if c.Network.InsecureSkipVerify {
		out = append(out, "TLS VERIFICATION IS OFF for every cloud call (network.insecure_skip_verify): "+
			"anyone on the path can read the credentials' signatures and forge the cloud's answers. "+
			"Use network.ca_bundle for a private CA instead.")
	}
	return out
}

// validate checks the network settings.
func (n Network) validate() error {
	for name, p := range map[string]string{"https_proxy": n.HTTPSProxy, "http_proxy": n.HTTPProxy} {
		if p == "" {
			continue
		}
		u, err := url.Parse(p)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return configError("", "network.%s must be http://host:port or https://host:port", name)
		}
	}
	if n.ConnectTimeout != "" {
		if d, err := time.ParseDuration(n.ConnectTimeout); err != nil || d <= 0 {
			return configError("", "network.connect_timeout %q is not a positive duration", n.ConnectTimeout)
		}
	}
	if n.CABundle != "" {
		if _, err := caPool(n.CABundle); err != nil {
			return err
		}
	}
	return nil
}

// NewTransport builds the HTTP transport decom gives the SDK's HttpConfig
// (WithHttpRoundTripper): proxies with NO_PROXY, the CA bundle, and connect
// timeouts. The SDK's own Proxy setting has no NO_PROXY and is bypassed once
// a round tripper is set, so the proxy lives here.
func NewTransport(n Network) (*http.Transport, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	connect := 10 * time.Second
	if n.ConnectTimeout != "" {
		connect, _ = time.ParseDuration(n.ConnectTimeout)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16 // concurrent callers per endpoint keep their connections
	t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connect
	t.Proxy = n.proxyFunc()
	// InsecureSkipVerify only by explicit config, warned loudly at every start.
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: n.InsecureSkipVerify}
	if n.CABundle != "" {
		pool, err := caPool(n.CABundle)
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}

func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, configError("", "network.ca_bundle: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, configError("", "network.ca_bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

// proxyFunc chooses the proxy of a request by its scheme, honouring NoProxy.
func (n Network) proxyFunc() func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		p := n.HTTPProxy
		if r.URL.Scheme == "https" {
			p = n.HTTPSProxy
		}
		if p == "" || noProxy(n.NoProxy, r.URL.Hostname()) {
			return nil, nil
		}
		return url.Parse(p)
	}
}

// noProxy reports whether host matches a NO_PROXY list.
func noProxy(list, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, e := range strings.Split(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if h, _, err := net.SplitHostPort(e); err == nil {
			e = h // a port in the entry is ignored
		}
		switch {
		case e == "":
		case e == "*":
			return true
		case strings.Contains(e, "/"):
			if _, cidr, err := net.ParseCIDR(e); err == nil && ip != nil && cidr.Contains(ip) {
				return true
			}
		case ip != nil:
			if eip := net.ParseIP(e); eip != nil && eip.Equal(ip) {
				return true
			}
		default:
			d := strings.TrimPrefix(e, ".")
			if host == d || strings.HasSuffix(host, "."+d) {
				return true
			}
		}
	}
	return false
}

// String shows the settings; a proxy URL's password is masked.
func (n Network) String() string {
	return fmt.Sprintf("Network{HTTPSProxy:%s HTTPProxy:%s NoProxy:%q CABundle:%q InsecureSkipVerify:%t "+
		"ConnectTimeout:%q}", maskProxy(n.HTTPSProxy), maskProxy(n.HTTPProxy), n.NoProxy, n.CABundle,
		n.InsecureSkipVerify, n.ConnectTimeout)
}

func maskProxy(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.User == nil {
		return p
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}
