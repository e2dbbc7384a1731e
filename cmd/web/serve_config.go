package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/decom/decom/notify"
)

// serveConfig is the console's configuration: defaults ← env ← flags.
type serveConfig struct {
	Listen          string
	Data            string
	SimListen       string
	CloudConfig     string
	SessionKey      string // 128 hex characters; empty: data/session.key
	TLSCert         string
	TLSKey          string
	SecureCookies   bool
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	CacheTTL        time.Duration
	LogFormat       string
	LogLevel        string
	DemoPassword    string // env only: a flag would show in ps
	TrustedProxies  string // CIDR,…: proxies whose X-Forwarded-For names the client
	trustedNets     []*net.IPNet

	PublicURL     string // the console's external URL; the OIDC redirect is <PublicURL>/auth/oidc/callback
	PasswordLogin bool
	OIDC          oidcConfig
	NotifyAllow   []netip.Prefix // --notify-allow: internal ranges notification webhooks may reach
	notifyAllow   string
}

// oidcConfig is single sign-on's part of the configuration.
type oidcConfig struct {
	Issuer, ClientID, ClientSecret, Name string
	Scopes, GroupsClaim, UsernameClaim   string
	RoleMap                              string
}

// envDefault returns getenv(key), or def when unset.
func envDefault(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func parseServeConfig(args []string, getenv func(string) string, stdout io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dur := func(key string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(getenv(key)); err == nil {
			return d
		}
		return def
	}
	boolEnv := func(key string) bool { b, _ := strconv.ParseBool(getenv(key)); return b }
	fs.StringVar(
		&c.Listen,
		"listen",
		envDefault(getenv, "DECOM_LISTEN", "127.0.0.1:8080"),
		"console address (env DECOM_LISTEN)",
	)
	fs.StringVar(
		&c.Data,
		"data",
		envDefault(getenv, "DECOM_DATA", "./data"),
		"data directory: SQLite database and session key, created if missing (env DECOM_DATA)",
	)
	fs.StringVar(
		&c.SimListen,
		"sim-listen",
		envDefault(getenv, "DECOM_SIM_LISTEN", "127.0.0.1:0"),
		"address of the embedded cloud simulator, started when no cloud is configured; port 0 picks a free one (env DECOM_SIM_LISTEN)",
	)
	fs.StringVar(
		&c.CloudConfig,
		"cloud-config",
		getenv("DECOM_CLOUD_CONFIG"),
		"JSON file of cloud accounts (see docs/console.md); without it, HUAWEICLOUD_SDK_AK/SK/PROJECT_ID and DECOM_CLOUD_* configure one account, and with neither the simulator is used (env DECOM_CLOUD_CONFIG)",
	)
	fs.StringVar(
		&c.SessionKey,
		"session-key",
		"",
		"session cookie key, 128 hex characters (append \",OLDKEY\" to keep accepting cookies of a previous key while rotating); default env DECOM_SESSION_KEY or the file DECOM_SESSION_KEY_FILE, else <data>/session.key (generated on first start)",
	)
	fs.StringVar(
		&c.TLSCert,
		"tls-cert",
		getenv("DECOM_TLS_CERT"),
		"serve HTTPS with this certificate file (env DECOM_TLS_CERT)",
	)
	fs.StringVar(&c.TLSKey, "tls-key", getenv("DECOM_TLS_KEY"), "private key for --tls-cert (env DECOM_TLS_KEY)")
	fs.BoolVar(
		&c.SecureCookies,
		"secure-cookies",
		boolEnv("DECOM_SECURE_COOKIES"),
		"mark cookies Secure and send HSTS; implied by --tls-cert; set it behind a TLS-terminating proxy (env DECOM_SECURE_COOKIES)",
	)
	fs.DurationVar(
		&c.IdleTimeout,
		"idle-timeout",
		dur("DECOM_IDLE_TIMEOUT", 30*time.Minute),
		"sign out after this long without a request (env DECOM_IDLE_TIMEOUT)",
	)
	fs.DurationVar(
		&c.SessionLifetime,
		"session-lifetime",
		dur("DECOM_SESSION_LIFETIME", 12*time.Hour),
		"sign out this long after sign-in (env DECOM_SESSION_LIFETIME)",
	)
	fs.DurationVar(
		&c.CacheTTL,
		"cache-ttl",
		dur("DECOM_CACHE_TTL", 30*time.Second),
		"how long inventory reads are served from the cache (env DECOM_CACHE_TTL)",
	)
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", getenv("DECOM_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For gives the client address; "+
			"without it the address is the TCP peer's (env DECOM_TRUSTED_PROXIES)")
	fs.StringVar(&c.PublicURL, "public-url", getenv("DECOM_PUBLIC_URL"),
		"the console's external URL, e.g. https://decom.example.com; single sign-on returns to "+
			"<public-url>/auth/oidc/callback (env DECOM_PUBLIC_URL)")
	fs.BoolVar(&c.PasswordLogin, "password-login", boolEnvDefault(getenv, "DECOM_PASSWORD_LOGIN", true),
		"offer the username and password form; false hides and refuses it, leaving single sign-on only "+
			"(env DECOM_PASSWORD_LOGIN)")
	addOIDCFlags(fs, &c.OIDC, getenv)
	fs.StringVar(&c.notifyAllow, "notify-allow", getenv("DECOM_NOTIFY_ALLOW"),
		"comma-separated CIDRs that notification webhooks may reach although private, loopback or "+
			"link-local (env DECOM_NOTIFY_ALLOW)")
	fs.StringVar(
		&c.LogFormat,
		"log-format",
		envDefault(getenv, "DECOM_LOG_FORMAT", "text"),
		"log format: text or json (env DECOM_LOG_FORMAT)",
	)
	fs.StringVar(
		&c.LogLevel,
		"log-level",
		envDefault(getenv, "DECOM_LOG_LEVEL", "info"),
		"log level: debug, info, warn, error (env DECOM_LOG_LEVEL)",
	)
	fs.Usage = func() {
		fmt.Fprint(
			stdout,
			"usage: web serve [flags]\n\nRuns the console. Environment: DECOM_DEMO_PASSWORD sets the demo users' password on first start.\n\nflags:\n",
		)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if c.OIDC.ClientSecret == "" {
		k, err := secretFromEnv(getenv, "DECOM_OIDC_CLIENT_SECRET")
		if err != nil {
			return c, err
		}
		c.OIDC.ClientSecret = k
	}
	if c.SessionKey == "" {
		k, err := secretFromEnv(getenv, "DECOM_SESSION_KEY")
		if err != nil {
			return c, err
		}
		c.SessionKey = k
	}
	c.DemoPassword = getenv("DECOM_DEMO_PASSWORD")
	if c.TLSCert != "" || strings.HasPrefix(c.PublicURL, "https://") {
		c.SecureCookies = true
	}
	nets, err := parseCIDRs(c.TrustedProxies)
	if err != nil {
		return c, err
	}
	c.trustedNets = nets
	if c.NotifyAllow, err = notify.ParseAllow(c.notifyAllow); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the configuration as a whole.
func (c serveConfig) Validate() error {
	var errs []error
	if c.Listen == "" || c.Data == "" {
		errs = append(errs, errors.New("--listen and --data must not be empty"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.IdleTimeout < time.Minute || c.SessionLifetime < c.IdleTimeout {
		errs = append(errs, errors.New("--idle-timeout must be at least 1m and at most --session-lifetime"))
	}
	if c.CacheTTL < 0 || c.CacheTTL > 10*time.Minute {
		errs = append(errs, errors.New("--cache-ttl must be between 0 and 10m"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("--log-format must be text or json"))
	}
	if c.DemoPassword != "" && len(c.DemoPassword) < 10 {
		errs = append(errs, errors.New("DECOM_DEMO_PASSWORD must be at least 10 characters"))
	}
	errs = append(errs, c.validateSSO()...)
	return errors.Join(errs...)
}

// LogValue logs the effective configuration with secrets masked.
func (c serveConfig) logAttrs() []any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return []any{"listen", c.Listen, "data", c.Data, "sim_listen", c.SimListen, "cloud_config", c.CloudConfig,
		"session_key", mask(c.SessionKey), "tls", c.TLSCert != "", "secure_cookies", c.SecureCookies,
		"idle_timeout", c.IdleTimeout, "session_lifetime", c.SessionLifetime, "cache_ttl", c.CacheTTL,
		"demo_password", mask(c.DemoPassword), "trusted_proxies", c.TrustedProxies, "public_url", c.PublicURL,
		"password_login", c.PasswordLogin, "oidc_issuer", c.OIDC.Issuer, "oidc_client_id", c.OIDC.ClientID,
		"oidc_client_secret", mask(c.OIDC.ClientSecret), "oidc_role_map", c.OIDC.RoleMap, "notify_allow", c.notifyAllow}
}

// linkBase is the base of links to the console in notifications:
// --public-url, or this server's own address when it is not set.
func (c serveConfig) linkBase() string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.TLSCert != "" {
		return "https://" + c.Listen
	}
	return "http://" + c.Listen
}

// parseCIDRs parses "10.0.0.0/8, 192.0.2.1"; a bare address is one host.
func parseCIDRs(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
				f += "/32"
			} else {
				f += "/128"
			}
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR or an address", f)
		}
		out = append(out, n)
	}
	return out, nil
}
