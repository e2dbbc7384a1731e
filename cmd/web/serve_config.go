package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
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
	PublicURL       string // the console's URL as users reach it, for links in notifications
	NotifyAllow     []netip.Prefix
	notifyAllowRaw  string
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
	fs.StringVar(&c.Listen, "listen", envDefault(getenv, "DECOM_LISTEN", "127.0.0.1:8080"), "console address (env DECOM_LISTEN)")
	fs.StringVar(&c.Data, "data", envDefault(getenv, "DECOM_DATA", "./data"), "data directory: SQLite database and session key, created if missing (env DECOM_DATA)")
	fs.StringVar(&c.SimListen, "sim-listen", envDefault(getenv, "DECOM_SIM_LISTEN", "127.0.0.1:0"),
		"address of the embedded cloud simulator, started when no cloud is configured; port 0 picks a free one (env DECOM_SIM_LISTEN)")
	fs.StringVar(&c.CloudConfig, "cloud-config", getenv("DECOM_CLOUD_CONFIG"),
		"JSON file of cloud accounts (see docs/console.md); without it, HUAWEICLOUD_SDK_AK/SK/PROJECT_ID and DECOM_CLOUD_* configure one account, and with neither the simulator is used (env DECOM_CLOUD_CONFIG)")
	fs.StringVar(&c.SessionKey, "session-key", "",
		"session cookie key, 128 hex characters (append \",OLDKEY\" to keep accepting cookies of a previous key while rotating); default env DECOM_SESSION_KEY or the file DECOM_SESSION_KEY_FILE, else <data>/session.key (generated on first start)")
	fs.StringVar(&c.TLSCert, "tls-cert", getenv("DECOM_TLS_CERT"), "serve HTTPS with this certificate file (env DECOM_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", getenv("DECOM_TLS_KEY"), "private key for --tls-cert (env DECOM_TLS_KEY)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", boolEnv("DECOM_SECURE_COOKIES"),
		"mark cookies Secure and send HSTS; implied by --tls-cert; set it behind a TLS-terminating proxy (env DECOM_SECURE_COOKIES)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", dur("DECOM_IDLE_TIMEOUT", 30*time.Minute), "sign out after this long without a request (env DECOM_IDLE_TIMEOUT)")
	fs.DurationVar(&c.SessionLifetime, "session-lifetime", dur("DECOM_SESSION_LIFETIME", 12*time.Hour), "sign out this long after sign-in (env DECOM_SESSION_LIFETIME)")
	fs.DurationVar(&c.CacheTTL, "cache-ttl", dur("DECOM_CACHE_TTL", 30*time.Second), "how long inventory reads are served from the cache (env DECOM_CACHE_TTL)")
	fs.StringVar(&c.PublicURL, "public-url", getenv("DECOM_PUBLIC_URL"),
		"the console's URL as users reach it (https://decom.example.com), for links in notifications; default http://<listen> (env DECOM_PUBLIC_URL)")
	fs.StringVar(&c.notifyAllowRaw, "notify-allow", getenv("DECOM_NOTIFY_ALLOW"),
		"comma-separated CIDRs that notification webhooks may reach although private, loopback or link-local (env DECOM_NOTIFY_ALLOW)")
	fs.StringVar(&c.LogFormat, "log-format", envDefault(getenv, "DECOM_LOG_FORMAT", "text"), "log format: text or json (env DECOM_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envDefault(getenv, "DECOM_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env DECOM_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprint(stdout, "usage: web serve [flags]\n\nRuns the console. Environment: DECOM_DEMO_PASSWORD sets the demo users' password on first start.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if c.SessionKey == "" {
		k, err := secretFromEnv(getenv, "DECOM_SESSION_KEY")
		if err != nil {
			return c, err
		}
		c.SessionKey = k
	}
	c.DemoPassword = getenv("DECOM_DEMO_PASSWORD")
	if c.TLSCert != "" {
		c.SecureCookies = true
	}
	allow, err := notify.ParseAllow(c.notifyAllowRaw)
	if err != nil {
		return c, err
	}
	c.NotifyAllow = allow
	if c.PublicURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.PublicURL = scheme + "://" + c.Listen
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
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" {
		errs = append(errs, errors.New("--public-url must be an http(s) URL without user info or query"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("--log-format must be text or json"))
	}
	if c.DemoPassword != "" && len(c.DemoPassword) < 10 {
		errs = append(errs, errors.New("DECOM_DEMO_PASSWORD must be at least 10 characters"))
	}
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
		"demo_password", mask(c.DemoPassword), "public_url", c.PublicURL, "notify_allow", c.notifyAllowRaw}
}
