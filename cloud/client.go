package cloud

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	clouddc "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/clouddc/v1"
	rabbitmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rabbitmq/v2"
	rocketmq "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/rocketmq/v2"
	roma "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/roma/v2"
	"golang.org/x/time/rate"
)

// AccountInfo describes a configured account without any secret.
type AccountInfo struct {
	Name      string   `json:"name"`
	Region    string   `json:"region"`
	Projects  []string `json:"projects"`
	Simulated bool     `json:"simulated"`
}

// Client talks to every configured account through the official SDK. It is
// safe for concurrent use.
type Client struct {
	accounts  []Account
	byName    map[string]Account
	transport *ctxTransport
	sleep     func(context.Context, time.Duration) error
	rand      func() float64
	now       func() time.Time
	poll      time.Duration
	observe   func(svc Service, operation string, err error, d time.Duration)
	retries   atomic.Int64
	creds     map[string]*credCache // per account

	mu        sync.Mutex
	endpoints map[string]*endpoint // account + "|" + endpoint URL
	sessions  map[string]*session  // account | project | service
	roma      map[string]*romaIdentity
	dmsCounts map[string]int // last seen instance_num per account|project|service
	// dmsPlaces holds the list place of DMS instances ReadMany was asked
	// about, per account|project|service|id, until they are found gone.
	dmsPlaces map[string]dmsKey
}

// Options tunes a Client. Zero fields take the defaults.
type Options struct {
	// Transport is the base HTTP transport (default: a clone of
	// http.DefaultTransport keeping 16 idle connections per host), e.g. one
	// with custom TLS for a self-signed simulator.
	Transport http.RoundTripper
	// Sleep waits between retries and polls (tests shorten it). It must
	// return ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64   // jitter source, values in [0,1)
	Now   func() time.Time // clock, default time.Now
	// Observe is told about every request sent to the cloud (retries
	// included) with its operation, classified error and duration, for
	// metrics. It must be fast and safe for concurrent use.
	Observe func(svc Service, operation string, err error, d time.Duration)
	// PollInterval is how often SubmitROMADelete re-checks a running job of
	// the same identity (default 2 s).
	PollInterval time.Duration
	// CredentialSources replaces the configured credential provider of the
	// named accounts (tests, and sources the SDK has no provider for).
	CredentialSources map[string]CredentialSource
}

// New validates cfg and returns a Client. No network call is made.
func New(cfg Config, o Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		byName:    map[string]Account{},
		transport: newCtxTransport(nil),
		sleep:     realSleep,
		rand:      defaultRand,
		now:       time.Now,
		poll:      2 * time.Second,
		endpoints: map[string]*endpoint{},
		sessions:  map[string]*session{},
		roma:      map[string]*romaIdentity{},
		dmsCounts: map[string]int{},
		dmsPlaces: map[string]dmsKey{},
		creds:     map[string]*credCache{},
	}
	for _, a := range cfg.Accounts {
		a = a.withDefaults()
		c.accounts = append(c.accounts, a)
		c.byName[a.Name] = a
	}
	if cfg.Network != (Network{}) {
		t, err := NewTransport(cfg.Network)
		if err != nil {
			return nil, err
		}
		c.transport = newCtxTransport(t)
	}
	if o.Transport != nil {
		c.transport = newCtxTransport(o.Transport)
	}
	if o.Sleep != nil {
		c.sleep = o.Sleep
	}
	if o.Rand != nil {
		c.rand = o.Rand
	}
	if o.Now != nil {
		c.now = o.Now
	}
	if o.PollInterval > 0 {
		c.poll = o.PollInterval
	}
	c.observe = o.Observe
	for _, a := range c.accounts {
		c.creds[a.Name] = newCredCache(a, o.CredentialSources[a.Name], c.now)
	}
	return c, nil
}

// Accounts lists the configured accounts, secrets left out.
func (c *Client) Accounts() []AccountInfo {
	out := make([]AccountInfo, 0, len(c.accounts))
	for _, a := range c.accounts {
		out = append(out, AccountInfo{Name: a.Name, Region: a.Region,
			Projects: append([]string(nil), a.Projects...), Simulated: a.Simulated})
	}
	return out
}

// Retries reports how many retries the client has made since it was built
// (a figure for tests and metrics).
func (c *Client) Retries() int64 { return c.retries.Load() }

func (c *Client) countRetry() { c.retries.Add(1) }

// session is the SDK client of one account, project and service.
type session struct {
	account  Account
	project  string
	svc      Service
	ep       *endpoint
	rocket   *rocketmq.RocketMQClient
	rabbit   *rabbitmq.RabbitMQClient
	roma     *roma.RomaClient
	clouddc  *clouddc.CloudDCClient
	identity string // who the cloud sees: AK or token fingerprint, per project
}

// session returns (building once) the SDK client for account/project/svc.
func (c *Client) session(account, project string, svc Service) (*session, error) {
	a, ok := c.byName[account]
	if !ok {
		return nil, configError(account, "unknown cloud account %q", account)
	}
	if !a.HasProject(project) {
		return nil, configError(account, "project %q is not configured for account %q", project, account)
	}
	url, err := a.ServiceEndpoint(svc)
	if err != nil {
		return nil, err
	}
	key := account + "|" + project + "|" + string(svc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sessions[key]; ok {
		return s, nil
	}
	s := &session{account: a, project: project, svc: svc, ep: c.endpointLocked(a, url)}
	s.identity = url + "|" + project + "|" + identityOf(a)
	if err := c.buildSDK(s, url); err != nil {
		return nil, err
	}
	c.sessions[key] = s
	return s, nil
}

func (c *Client) endpointLocked(a Account, url string) *endpoint {
	key := a.Name + "|" + url
	if e, ok := c.endpoints[key]; ok {
		return e
	}
	e := &endpoint{limiter: rate.NewLimiter(rate.Limit(a.RateLimit), a.Burst)}
	c.endpoints[key] = e
	return e
}

// identityOf names the cloud identity behind an account without revealing
// the secret: the AK (an identifier), or a short hash of the token.
func identityOf(a Account) string {
	switch {
	case a.credentialKind() != CredStatic:
		return "provider:" + a.credentialKind() + ":" + a.Name
	case a.AK != "":
		return "ak:" + a.AK
	}
	return "token:" + fingerprint(a.Token)
}

func (c *Client) buildSDK(s *session, url string) error {
	cred, credType := c.credential(s.account, s.project)
	var err error
	hcfg := config.DefaultHttpConfig().WithTimeout(s.account.Timeout).
		WithHttpRoundTripper(c.transport).WithUserAgent("decom")
	build := func(b *core.HcHttpClientBuilder) (*core.HcHttpClient, error) {
		hc, err := b.WithEndpoints([]string{url}).WithCredential(cred).WithCredentialsType(credType).
			WithHttpConfig(hcfg).WithErrorHandler(errorHandler{}).SafeBuild()
		if err != nil {
			return nil, configError(s.account.Name, "build %s client: %s", s.svc, err.Error())
		}
		return hc, nil
	}
	var hc *core.HcHttpClient
	switch s.svc {
	case RocketMQ:
		if hc, err = build(rocketmq.RocketMQClientBuilder()); err == nil {
			s.rocket = rocketmq.NewRocketMQClient(hc)
		}
	case RabbitMQ:
		if hc, err = build(rabbitmq.RabbitMQClientBuilder()); err == nil {
			s.rabbit = rabbitmq.NewRabbitMQClient(hc)
		}
	case ROMA:
		if hc, err = build(roma.RomaClientBuilder()); err == nil {
			s.roma = roma.NewRomaClient(hc)
		}
	case CloudDC:
		if hc, err = build(clouddc.CloudDCClientBuilder()); err == nil {
			s.clouddc = clouddc.NewCloudDCClient(hc)
		}
	default:
		return configError(s.account.Name, "unknown service %q", s.svc)
	}
	return err
}

// credential builds the SDK credential: our TokenCredential for an IAM
// token, else a sourceCredential signing with the account's current AK/SK
// (static, or from the SDK's providers, refreshed before expiry). The project
// ID is always set, so the SDK never calls IAM (§1.4).
func (c *Client) credential(a Account, project string) (auth.ICredential, string) {
	if a.credentialKind() == CredStatic && a.Token != "" {
		return NewTokenCredential(project, a.Token), tokenCredentialType
	}
	return &sourceCredential{cache: c.creds[a.Name], project: project}, sourceCredentialType
}

// errUnsupported is returned for an operation a service does not have.
func errUnsupported(op string, svc Service) error {
	return &Error{Class: ErrPermanent, Service: svc, Operation: op,
		Message: fmt.Sprintf("not supported for %s", svc)}
}
