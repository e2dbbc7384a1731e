package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/decom/decom/auth"
)

// addOIDCFlags declares the single sign-on flags.
func addOIDCFlags(fs *flag.FlagSet, c *oidcConfig, getenv func(string) string) {
	fs.StringVar(&c.Issuer, "oidc-issuer", getenv("DECOM_OIDC_ISSUER"),
		"OpenID Connect issuer URL; turns on single sign-on (env DECOM_OIDC_ISSUER)")
	fs.StringVar(&c.ClientID, "oidc-client-id", getenv("DECOM_OIDC_CLIENT_ID"),
		"OIDC client ID (env DECOM_OIDC_CLIENT_ID)")
	fs.StringVar(&c.ClientSecret, "oidc-client-secret", "",
		"OIDC client secret; prefer the env DECOM_OIDC_CLIENT_SECRET or the file DECOM_OIDC_CLIENT_SECRET_FILE "+
			"(a flag shows in ps)")
	fs.StringVar(&c.Name, "oidc-name", envDefault(getenv, "DECOM_OIDC_NAME", "SSO"),
		"label of the sign-in button: \"Sign in with NAME\" (env DECOM_OIDC_NAME)")
	fs.StringVar(&c.Scopes, "oidc-scopes", envDefault(getenv, "DECOM_OIDC_SCOPES", "openid profile email groups"),
		"scopes to request, space- or comma-separated (env DECOM_OIDC_SCOPES)")
	fs.StringVar(&c.GroupsClaim, "oidc-groups-claim", envDefault(getenv, "DECOM_OIDC_GROUPS_CLAIM", "groups"),
		"ID token claim listing the user's groups (env DECOM_OIDC_GROUPS_CLAIM)")
	fs.StringVar(&c.UsernameClaim, "oidc-username-claim", getenv("DECOM_OIDC_USERNAME_CLAIM"),
		"ID token claim with the username; default preferred_username, then email (env DECOM_OIDC_USERNAME_CLAIM)")
	fs.StringVar(&c.RoleMap, "oidc-role-map", getenv("DECOM_OIDC_ROLE_MAP"),
		"group=role,… e.g. platform-requesters=requester,platform-approvers=approver,"+
			"sec-audit=auditor,decom-admins=admin; "+
			"roles are re-derived from the groups at every sign-in (env DECOM_OIDC_ROLE_MAP)")
}

// boolEnvDefault parses a boolean variable, def when unset or unparsable.
func boolEnvDefault(getenv func(string) string, key string, def bool) bool {
	if b, err := strconv.ParseBool(getenv(key)); err == nil {
		return b
	}
	return def
}

// validateSSO checks the single sign-on settings.
func (c serveConfig) validateSSO() []error {
	var errs []error
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" ||
			u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--public-url %q: give an absolute http(s) URL such as "+
				"https://decom.example.com", c.PublicURL))
		}
	}
	o := c.OIDC
	if o.Issuer == "" {
		if o.ClientID != "" || o.RoleMap != "" || o.ClientSecret != "" {
			errs = append(
				errs,
				errors.New("--oidc-client-id, --oidc-client-secret and --oidc-role-map need --oidc-issuer"),
			)
		}
		if !c.PasswordLogin {
			errs = append(
				errs,
				errors.New("--password-login=false needs single sign-on (--oidc-issuer): nobody could sign in"),
			)
		}
		return errs
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--oidc-issuer %q: give the issuer's URL", o.Issuer))
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		errs = append(
			errs,
			errors.New("--oidc-issuer needs --oidc-client-id and DECOM_OIDC_CLIENT_SECRET (or its _FILE)"),
		)
	}
	if c.PublicURL == "" {
		errs = append(errs, errors.New("--oidc-issuer needs --public-url: "+
			"the provider returns to <public-url>/auth/oidc/callback"))
	}
	if _, err := auth.ParseRoleMap(o.RoleMap); err != nil {
		errs = append(errs, fmt.Errorf("--oidc-role-map: %w", err))
	}
	return errs
}

// authOIDCConfig is the auth package's view of the settings.
func (c serveConfig) authOIDCConfig() auth.OIDCConfig {
	o := c.OIDC
	roleMap, _ := auth.ParseRoleMap(o.RoleMap) // checked by Validate
	cfg := auth.OIDCConfig{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		RedirectURL: strings.TrimSuffix(c.PublicURL, "/") + "/auth/oidc/callback",
		Scopes:      strings.FieldsFunc(o.Scopes, func(r rune) bool { return r == ' ' || r == ',' }),
		GroupsClaim: o.GroupsClaim, RoleMap: roleMap}
	if o.UsernameClaim != "" {
		cfg.UsernameClaims = []string{o.UsernameClaim}
	}
	return cfg
}

// startSSO discovers the provider, giving it up to 10 s. A provider that
// does not answer is a clear error in the log and on stdout, not a failed
// start (which a supervisor would turn into a crash loop): the console comes
// up, the sign-in page says single sign-on is unavailable, password sign-in
// (a break-glass admin) keeps working if on, and the returned worker retries
// discovery until the provider answers.
func startSSO(ctx context.Context, cfg serveConfig, log *slog.Logger, stdout io.Writer) (*auth.OIDC, *worker) {
	if cfg.OIDC.Issuer == "" {
		return nil, nil
	}
	o := auth.NewOIDC(cfg.authOIDCConfig())
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := o.Discover(dctx)
	if err == nil {
		log.Info("single sign-on ready", "issuer", cfg.OIDC.Issuer)
		return o, nil
	}
	log.Error("single sign-on unavailable; retrying in the background", "issuer", cfg.OIDC.Issuer, "err", err)
	fmt.Fprintf(stdout, "single sign-on: %v\n  (check --oidc-issuer and that the provider is reachable; "+
		"retrying every 30s, then less often)\n", err)
	w := &worker{name: "oidc discovery", run: func(ctx context.Context) error {
		err := o.Run(ctx, 30*time.Second, func(err error) {
			log.Error("single sign-on still unavailable", "issuer", cfg.OIDC.Issuer, "err", err)
		})
		if err == nil {
			log.Info("single sign-on ready", "issuer", cfg.OIDC.Issuer)
		}
		return err
	}}
	return o, w
}
