package cloud

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/provider"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// Credential providers an account may choose ("credentials" in the config).
const (
	CredStatic   = "static"   // AK/SK (optionally with security_token) or token from the config
	CredEnv      = "env"      // the SDK's environment provider (HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN)
	CredProfile  = "profile"  // the SDK's profile file (~/.huaweicloud/credentials, HUAWEICLOUD_SDK_CREDENTIALS_FILE)
	CredMetadata = "metadata" // the SDK's instance-metadata provider (the server's agency, temporary AK/SK)
	CredAuto     = "auto"     // static when the config holds a credential, else the SDK's provider chain
)

// CredentialKinds lists the accepted values of Account.Credentials.
var CredentialKinds = []string{CredStatic, CredEnv, CredProfile, CredMetadata, CredAuto}

// Defaults for credential refresh.
const (
	// DefaultRefreshBefore: temporary credentials are replaced this long
	// before they expire.
	DefaultRefreshBefore = 5 * time.Minute
	// reloadEvery: credentials without an expiry from the environment or the
	// profile file are read again this often, so a rotated file is picked up.
	reloadEvery = 5 * time.Minute
	// metadataRecheck: how often the metadata credential is asked to refresh
	// itself (the SDK does so within 40 minutes of its expiry).
	metadataRecheck = time.Minute
)

// TemporaryCredentials are one set of AK/SK credentials, with the security
// token of temporary ones and when they expire (zero: never).
type TemporaryCredentials struct {
	AK, SK, SecurityToken string
	ExpiresAt             time.Time
}

// String never shows a secret.
func (t TemporaryCredentials) String() string {
	return fmt.Sprintf("TemporaryCredentials{AK:%s SK:%s SecurityToken:%s ExpiresAt:%s}",
		maskAK(t.AK), mask(t.SK), mask(t.SecurityToken), t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String.
func (t TemporaryCredentials) GoString() string { return t.String() }

// CredentialSource fetches an account's current credentials. decom calls it
// again when the last ones are within the refresh margin of their expiry.
type CredentialSource func(ctx context.Context) (TemporaryCredentials, error)

// credCache holds an account's current credentials and refreshes them
// before they expire. Every session of the account shares it.
type credCache struct {
	account       string
	kind          string
	source        CredentialSource
	now           func() time.Time
	refreshBefore time.Duration

	mu      sync.Mutex
	cur     TemporaryCredentials
	have    bool
	fetches int
}

// current returns credentials valid for at least refreshBefore, fetching new
// ones when needed. If a refresh fails while the old ones are still valid,
// the old ones are used and the refresh is tried again on the next call.
func (c *credCache) current(ctx context.Context) (TemporaryCredentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.have && (c.cur.ExpiresAt.IsZero() || now.Add(c.refreshBefore).Before(c.cur.ExpiresAt)) {
		return c.cur, nil
	}
	t, err := c.source(ctx)
	if err == nil && (t.AK == "" || t.SK == "") {
		err = fmt.Errorf("the %s provider returned no AK/SK", c.kind)
	}
	if err != nil {
		if c.have && now.Before(c.cur.ExpiresAt) {
			return c.cur, nil
		}
		return TemporaryCredentials{}, &Error{Class: ErrConfig, Account: c.account, Operation: "credentials",
			Message: fmt.Sprintf("account %q: %s", c.account, err.Error())}
	}
	c.cur, c.have = t, true
	c.fetches++
	return t, nil
}

// Fetches reports how many times the account's credentials were fetched
// (the first time and every refresh).
func (c *Client) Fetches(account string) int {
	cc := c.creds[account]
	if cc == nil {
		return 0
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.fetches
}

// sdkSource wraps one of the SDK's credential providers. The provider's
// error text is not passed on: the profile parser may quote a line of the
// file, and that line may hold a secret.
func sdkSource(kind string, now func() time.Time, refreshBefore time.Duration) CredentialSource {
	var (
		mu   sync.Mutex
		held *auth.BasicCredentials
	)
	return func(context.Context) (TemporaryCredentials, error) {
		mu.Lock()
		defer mu.Unlock()
		if held == nil {
			var p provider.ICredentialProvider
			switch kind {
			case CredEnv:
				p = provider.BasicCredentialEnvProvider()
			case CredProfile:
				p = provider.BasicCredentialProfileProvider()
			case CredMetadata:
				p = provider.BasicCredentialMetadataProvider()
			default:
				p = provider.BasicCredentialProviderChain()
			}
			ic, err := p.GetCredentials()
			if err != nil {
				return TemporaryCredentials{}, fmt.Errorf("no credentials from the SDK's %s", providerName(kind))
			}
			bc, ok := ic.(*auth.BasicCredentials)
			if !ok {
				return TemporaryCredentials{}, fmt.Errorf(
					"the SDK's %s gave %T, not AK/SK credentials",
					providerName(kind),
					ic,
				)
			}
			held = bc
		}
		// A metadata credential renews itself here when it is within the
		// SDK's threshold (40 minutes) of its expiry; others are unchanged.
		if err := held.ProcessSts(nil); err != nil {
			return TemporaryCredentials{}, fmt.Errorf(
				"refreshing credentials from the SDK's %s failed",
				providerName(kind),
			)
		}
		t := TemporaryCredentials{AK: held.AK, SK: held.SK, SecurityToken: held.SecurityToken}
		if held.StsAccessor != nil {
			t.ExpiresAt = now().Add(metadataRecheck + refreshBefore)
		} else {
			t.ExpiresAt = now().Add(reloadEvery + refreshBefore)
			held = nil // read the environment or file again next time
		}
		return t, nil
	}
}

func providerName(kind string) string {
	switch kind {
	case CredEnv:
		return "environment provider (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)"
	case CredProfile:
		return "profile provider (HUAWEICLOUD_SDK_CREDENTIALS_FILE or ~/.huaweicloud/credentials)"
	case CredMetadata:
		return "instance-metadata provider (the server's agency)"
	}
	return "provider chain (environment, profile file, instance metadata)"
}

// sourceCredential signs each request with the account's current
// credentials, so a refresh reaches every session at once.
type sourceCredential struct {
	cache   *credCache
	project string
}

// sourceCredentialType is the type name the SDK builders must accept.
const sourceCredentialType = "cloud.sourceCredential"

var _ auth.ICredential = (*sourceCredential)(nil)

// ProcessAuthParams returns the credential: the project is always set.
func (s *sourceCredential) ProcessAuthParams(*impl.DefaultHttpClient, string) (auth.ICredential, error) {
	return s, nil
}

// ProcessAuthRequest signs req as the SDK's basic.Credentials would, with
// the credentials in force now.
func (s *sourceCredential) ProcessAuthRequest(c *impl.DefaultHttpClient,
	req *request.DefaultHttpRequest) (*request.DefaultHttpRequest, error) {
	t, err := s.cache.current(context.Background())
	if err != nil {
		return nil, err
	}
	b := auth.NewBasicCredentialsBuilder().WithAk(t.AK).WithSk(t.SK).WithProjectId(s.project)
	if t.SecurityToken != "" {
		b = b.WithSecurityToken(t.SecurityToken)
	}
	bc, err := b.SafeBuild()
	if err != nil {
		return nil, &Error{
			Class:     ErrConfig,
			Account:   s.cache.account,
			Operation: "credentials",
			Message:   "invalid AK/SK",
		}
	}
	return bc.ProcessAuthRequest(c, req)
}

// String never shows a secret.
func (s *sourceCredential) String() string {
	return "sourceCredential{account:" + s.cache.account + " provider:" + s.cache.kind + "}"
}

// GoString is String.
func (s *sourceCredential) GoString() string { return s.String() }

// credentialKind resolves "auto" and "": static when the config holds a
// credential, else the SDK's chain.
func (a Account) credentialKind() string {
	switch {
	case a.Credentials != "" && a.Credentials != CredAuto:
		return a.Credentials
	case a.AK != "" || a.SK != "" || a.Token != "":
		return CredStatic
	}
	return CredAuto
}

// newCredCache builds the account's credential cache (no network call).
func newCredCache(a Account, override CredentialSource, now func() time.Time) *credCache {
	kind := a.credentialKind()
	rb := a.RefreshBefore
	if rb == 0 {
		rb = DefaultRefreshBefore
	}
	src := override
	switch {
	case src != nil:
	case kind == CredStatic:
		static := TemporaryCredentials{AK: a.AK, SK: a.SK, SecurityToken: a.SecurityToken}
		src = func(context.Context) (TemporaryCredentials, error) { return static, nil }
	default:
		src = sdkSource(kind, now, rb)
	}
	return &credCache{account: a.Name, kind: kind, source: src, now: now, refreshBefore: rb}
}
