package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Errors of single sign-on, matched with errors.Is.
var (
	// ErrSSOUnavailable: the provider's discovery has not succeeded yet.
	ErrSSOUnavailable = errors.New("single sign-on is unavailable: the identity provider could not be reached")
	// ErrSSOFailed: the provider's answer was refused (state, code, token,
	// signature, nonce, expiry or claims); the wrapped error says why.
	ErrSSOFailed = errors.New("single sign-on failed")
	// ErrNoRole: the user's groups map to no console role.
	ErrNoRole = errors.New("your groups grant no role in this console")
)

// OIDCConfig configures sign-in through an OpenID Connect provider.
type OIDCConfig struct {
	Issuer         string
	ClientID       string
	ClientSecret   string
	RedirectURL    string   // <public-url>/auth/oidc/callback
	Scopes         []string // default openid profile email groups
	GroupsClaim    string   // default groups
	UsernameClaims []string // tried in order; default preferred_username, email
	RoleMap        RoleMap
	Now            func() time.Time
	HTTPClient     *http.Client // default: 10 s timeout
}

// GroupRole is one entry of a RoleMap: members of Group hold Role.
type GroupRole struct {
	Group string
	Role  Role
}

// RoleMap maps the provider's groups to console roles.
type RoleMap []GroupRole

// ParseRoleMap parses "group=role,group=role"; a group may grant several
// roles by repeating it.
func ParseRoleMap(s string) (RoleMap, error) {
	var m RoleMap
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i := strings.LastIndex(f, "=")
		if i <= 0 || i == len(f)-1 {
			return nil, &ValidationError{Field: "role map", Message: fmt.Sprintf("%q is not group=role", f)}
		}
		g, r := strings.TrimSpace(f[:i]), Role(strings.TrimSpace(f[i+1:]))
		if !AllRoles.Has(r) {
			return nil, &ValidationError{Field: "role map", Message: fmt.Sprintf("unknown role %q", r)}
		}
		m = append(m, GroupRole{Group: g, Role: r})
	}
	if len(m) == 0 {
		return nil, &ValidationError{Field: "role map", Message: "map at least one group to a role"}
	}
	return m, nil
}

// Roles returns the roles groups grant, in the order of Roles, each once.
// Group names match exactly (providers differ in case rules; the map is
// written in the provider's spelling).
func (m RoleMap) Roles(groups []string) Roles {
	var out Roles
	for _, r := range AllRoles {
		for _, gr := range m {
			if gr.Role == r && slices.Contains(groups, gr.Group) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// String formats the map as ParseRoleMap reads it.
func (m RoleMap) String() string {
	parts := make([]string, len(m))
	for i, gr := range m {
		parts[i] = gr.Group + "=" + string(gr.Role)
	}
	return strings.Join(parts, ",")
}

// Identity is a user as the provider vouched for them, with the roles their
// groups grant.
type Identity struct {
	Subject  string // "<issuer> <sub>": the stable link to the console user
	Username string // lower-cased username claim
	Groups   []string
	Roles    Roles
}

// OIDCFlow is one sign-in in progress: what the browser must bring back.
// It lives in a short-lived cookie, never in the URL.
type OIDCFlow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
}

// OIDC signs users in through one provider: authorization code flow with
// PKCE (S256), state and nonce, ID token verified with the provider's keys.
type OIDC struct {
	cfg OIDCConfig

	mu       sync.RWMutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	lastErr  error
}

// NewOIDC returns a client for cfg; call Discover (or Run) before use.
func NewOIDC(cfg OIDCConfig) *OIDC {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if len(cfg.UsernameClaims) == 0 {
		cfg.UsernameClaims = []string{"preferred_username", "email"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &OIDC{cfg: cfg, lastErr: ErrSSOUnavailable}
}

// Discover fetches the provider's configuration and keys location once.
func (o *OIDC) Discover(ctx context.Context) error {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.lastErr = fmt.Errorf("%w: discovery at %s: %v", ErrSSOUnavailable, o.cfg.Issuer, err)
		return o.lastErr
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret,
		RedirectURL: o.cfg.RedirectURL, Endpoint: p.Endpoint(), Scopes: o.cfg.Scopes}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: o.cfg.Now})
	o.lastErr = nil
	return nil
}

// Run retries Discover until it succeeds (every retry, doubling to 5 min)
// or ctx ends; report is told each failure. A provider that is down at start
// thus leaves the console up, password sign-in working, and SSO following
// as soon as the provider answers.
func (o *OIDC) Run(ctx context.Context, retry time.Duration, report func(error)) error {
	for {
		if o.Ready() == nil {
			return nil
		}
		if err := o.Discover(ctx); err == nil {
			return nil
		} else if ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retry):
		}
		retry = min(2*retry, 5*time.Minute)
	}
}

// Ready is nil once discovery succeeded, else why not.
func (o *OIDC) Ready() error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.lastErr
}

func (o *OIDC) clients() (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.oauth, o.verifier, o.lastErr
}

// Begin starts a sign-in: a new flow and the provider URL to send the
// browser to.
func (o *OIDC) Begin() (OIDCFlow, string, error) {
	oc, _, err := o.clients()
	if err != nil {
		return OIDCFlow{}, "", err
	}
	f := OIDCFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier()}
	return f, oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// Finish exchanges the code for tokens (with the PKCE verifier), verifies the
// ID token (signature, issuer, audience, expiry) and its nonce, and returns
// the identity with its roles. The caller has already checked the state.
func (o *OIDC) Finish(ctx context.Context, code string, f OIDCFlow) (Identity, error) {
	oc, verifier, err := o.clients()
	if err != nil {
		return Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: code exchange: %v", ErrSSOFailed, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fmt.Errorf("%w: no ID token in the token response", ErrSSOFailed)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: ID token: %v", ErrSSOFailed, err)
	}
	if idt.Nonce == "" || idt.Nonce != f.Nonce {
		return Identity{}, fmt.Errorf("%w: ID token nonce does not match this sign-in", ErrSSOFailed)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %v", ErrSSOFailed, err)
	}
	return o.identity(idt.Issuer, idt.Subject, claims)
}

// identity reads the username and groups claims.
func (o *OIDC) identity(issuer, sub string, claims map[string]any) (Identity, error) {
	id := Identity{Subject: issuer + " " + sub, Groups: stringsClaim(claims[o.cfg.GroupsClaim])}
	for _, c := range o.cfg.UsernameClaims {
		if v, _ := claims[c].(string); v != "" {
			id.Username = strings.ToLower(strings.TrimSpace(v))
			break
		}
	}
	if err := validateSignInName(id.Username); err != nil {
		return Identity{}, fmt.Errorf("%w: username claim (%s): %v", ErrSSOFailed,
			strings.Join(o.cfg.UsernameClaims, ", "), err)
	}
	id.Roles = o.cfg.RoleMap.Roles(id.Groups)
	return id, nil
}

// stringsClaim accepts a claim given as a list of strings or one string.
func stringsClaim(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
