package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is returned for a destination the guard refuses: a loopback,
// link-local, private, shared, unspecified or multicast address (cloud
// metadata services live at link-local 169.254.169.254) not on the
// allowlist, or a redirect.
var ErrRefused = errors.New("destination refused")

// ParseAllow parses a comma-separated CIDR list (single addresses allowed).
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("notify allowlist: %q is not an address or CIDR", part)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("notify allowlist: %q is not a CIDR", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// sharedSpace is carrier-grade NAT space (100.64.0.0/10), which Go's
// IsPrivate does not cover; it is internal on many clouds.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// Allowed reports whether the guard lets a connection to ip through: a
// public unicast address, or one the allowlist names.
func Allowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !sharedSpace.Contains(ip)
}

// NewClient returns the HTTP client notifications go through. The check
// runs on the address actually dialled (after DNS resolution, for every
// connection), so a name that resolves to a private address, or re-resolves
// to one later (DNS rebinding), is refused. Proxies from the environment
// are not used (a proxy would dial for us), redirects are never followed
// and every request times out.
func NewClient(allow []netip.Prefix, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: unparsable address %q", ErrRefused, address)
		}
		if !Allowed(ap.Addr(), allow) {
			return fmt.Errorf("%w: %s is not a public address (allowlist it with --notify-allow)",
				ErrRefused, ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       time.Minute,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends m with c and returns the status; a redirect or non-2xx answer
// is an error. Errors never contain the URL: it may hold a token.
func post(ctx context.Context, c *http.Client, m Message) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, strings.NewReader(string(m.Body)))
	if err != nil {
		return 0, errors.New("invalid request (URL redacted)")
	}
	req.Header = m.Header.Clone()
	req.Header.Set("User-Agent", "decom-notify/1")
	resp, err := c.Do(req)
	if err != nil {
		return 0, stripURL(err)
	}
	defer resp.Body.Close()
	var buf [512]byte
	_, _ = resp.Body.Read(buf[:]) // let the connection be reused for short answers
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("%w: redirect (status %d) not followed", ErrRefused, resp.StatusCode)
	case resp.StatusCode/100 != 2:
		return resp.StatusCode, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// stripURL returns the cause of a *url.Error without the URL it names.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if inner := ue.Err; inner != nil {
			if errors.Is(inner, context.DeadlineExceeded) || strings.Contains(inner.Error(), "Client.Timeout") {
				return errors.New("timed out")
			}
			return inner
		}
	}
	return errors.New("request failed")
}
