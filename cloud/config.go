package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults for an account's resilience settings.
const (
	DefaultRateLimit = 20.0             // requests per second per endpoint
	DefaultBurst     = 5                // limiter burst
	DefaultTimeout   = 30 * time.Second // per HTTP attempt
)

// Endpoints holds one base URL per service family (scheme and host only: the
// SDK drops any path). Empty means the family is not used for the account.
type Endpoints struct {
	DMS     string `json:"dms,omitempty"`
	ROMA    string `json:"roma,omitempty"`
	CloudDC string `json:"clouddc,omitempty"`
}

// Account is one cloud account: where it is, which projects decom manages,
// and how to authenticate (AK/SK, optionally temporary with SecurityToken,
// or an IAM token).
type Account struct {
	Name          string
	Region        string
	Projects      []string
	Endpoints     Endpoints
	AK            string
	SK            string
	SecurityToken string
	Token         string
	// Credentials chooses the provider: static, env, profile, metadata or
	// auto ("" = auto: static when AK/SK or a token is set here, else the
	// SDK's chain of environment, profile file and instance metadata).
	Credentials string
	// RefreshBefore: temporary credentials are replaced this long before
	// they expire; 0 = DefaultRefreshBefore.
	RefreshBefore time.Duration
	Simulated     bool
	RateLimit     float64       // requests per second per endpoint; 0 = DefaultRateLimit
	Burst         int           // 0 = DefaultBurst
	Timeout       time.Duration // per HTTP attempt; 0 = DefaultTimeout
	// SettleTime is how long after a delete call decom waits before it
	// trusts a read showing the resource unchanged; it must cover the
	// cloud's read lag. 0 = DefaultSettleTime.
	SettleTime time.Duration
}

// Config lists the accounts the Client serves.
type Config struct {
	Accounts []Account `json:"accounts"`
	// Network holds the proxy, CA bundle and connect-timeout settings shared
	// by every account.
	Network Network `json:"network,omitempty"`
}

// Endpoint returns the account's endpoint for svc: the explicit one, or
// (after defaults) the region's; "" if neither. ServiceEndpoint says why.
func (a Account) Endpoint(svc Service) string {
	switch svc {
	case RocketMQ, RabbitMQ:
		return a.Endpoints.DMS
	case ROMA:
		return a.Endpoints.ROMA
	case CloudDC:
		return a.Endpoints.CloudDC
	}
	return ""
}

// HasProject reports whether project is one of the account's projects.
func (a Account) HasProject(project string) bool {
	for _, p := range a.Projects {
		if p == project {
			return true
		}
	}
	return false
}

// Validate checks an account and says exactly what is wrong, never echoing a
// secret.
func (a Account) Validate() error {
	var errs []string
	if a.Name == "" {
		errs = append(errs, "name is missing")
	}
	if len(a.Projects) == 0 {
		errs = append(errs, "no project ID (set projects, or HUAWEICLOUD_SDK_PROJECT_ID)")
	}
	for _, p := range a.Projects {
		if p == "" || strings.ContainsAny(p, "/?#% ") {
			errs = append(errs, fmt.Sprintf("project ID %q is not valid", p))
		}
	}
	errs = append(errs, a.credentialErrors()...)
	e := a.withDefaults().Endpoints // region-derived where not given
	switch {
	case e.DMS == "" && e.ROMA == "" && e.CloudDC == "" && a.Region != "":
		errs = append(errs, fmt.Sprintf("region %q offers none of DMS, ROMA Connect and CloudDC in the SDK's "+
			"region tables (a typo?); set the region or explicit endpoints", a.Region))
	case e.DMS == "" && e.ROMA == "" && e.CloudDC == "":
		errs = append(errs, "no endpoint: set a region or at least one endpoint")
	}
	for _, ep := range []struct{ name, url string }{{"dms", e.DMS}, {"roma", e.ROMA}, {"clouddc", e.CloudDC}} {
		if msg := checkEndpoint(ep.url); msg != "" {
			errs = append(errs, fmt.Sprintf("endpoint %s %q: %s", ep.name, ep.url, msg))
		}
	}
	if a.RateLimit < 0 || a.Burst < 0 || a.Timeout < 0 || a.RefreshBefore < 0 || a.SettleTime < 0 {
		errs = append(errs, "rate_limit, burst, timeout, refresh_before and settle_time must not be negative")
	}
	if len(errs) > 0 {
		name := a.Name
		if name == "" {
			name = "(unnamed)"
		}
		return configError(name, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// credentialErrors checks the credential provider choice against the
// credentials the config holds.
func (a Account) credentialErrors() []string {
	var errs []string
	hasAKSK := a.AK != "" || a.SK != ""
	held := hasAKSK || a.Token != "" || a.SecurityToken != ""
	kind := a.credentialKind()
	switch {
	case a.Credentials != "" && !slices.Contains(CredentialKinds, a.Credentials):
		return []string{
			fmt.Sprintf("credentials %q: want one of %s", a.Credentials, strings.Join(CredentialKinds, ", ")),
		}
	case kind != CredStatic && held:
		return []string{fmt.Sprintf("credentials is %q: remove ak, sk, security_token and token from the config "+
			"(they would be ignored)", kind)}
	case kind != CredStatic:
		return nil
	}
	switch {
	case hasAKSK && a.Token != "":
		errs = append(errs, "give either AK/SK or a token, not both")
	case hasAKSK && (a.AK == "" || a.SK == ""):
		errs = append(errs, "AK and SK must both be set")
	case !hasAKSK && a.Token == "":
		errs = append(errs, "no credentials: set AK and SK, or an IAM token")
	}
	if a.SecurityToken != "" && !hasAKSK {
		errs = append(errs, "security_token needs AK and SK")
	}
	return errs
}

// checkEndpoint returns why u is not a usable endpoint, or "".
func checkEndpoint(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return "not a URL"
	case p.Scheme != "http" && p.Scheme != "https":
		return "must start with http:// or https://"
	case p.Host == "":
		return "has no host"
	case p.Path != "" && p.Path != "/":
		return "must not have a path (the SDK replaces it)"
	case p.User != nil, p.RawQuery != "", p.Fragment != "":
		return "must be scheme://host[:port] only"
	}
	return ""
}

// Validate checks every account and that names are unique.
func (c Config) Validate() error {
	if len(c.Accounts) == 0 {
		return configError("", "no cloud account configured")
	}
	seen := map[string]bool{}
	var errs []error
	if err := c.Network.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, a := range c.Accounts {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[a.Name] {
			errs = append(errs, configError(a.Name, "account name %q is used twice", a.Name))
		}
		seen[a.Name] = true
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero resilience settings and derived endpoints.
func (a Account) withDefaults() Account {
	def := DefaultEndpoints(a.Region)
	if a.Endpoints.DMS == "" {
		a.Endpoints.DMS = def.DMS
	}
	if a.Endpoints.ROMA == "" {
		a.Endpoints.ROMA = def.ROMA
	}
	if a.Endpoints.CloudDC == "" {
		a.Endpoints.CloudDC = def.CloudDC
	}
	if a.RateLimit == 0 {
		a.RateLimit = DefaultRateLimit
	}
	if a.Burst == 0 {
		a.Burst = DefaultBurst
	}
	if a.Timeout == 0 {
		a.Timeout = DefaultTimeout
	}
	if a.SettleTime == 0 {
		a.SettleTime = DefaultSettleTime
	}
	return a
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// String shows the account with every secret masked.
func (a Account) String() string {
	return fmt.Sprintf("Account{Name:%q Region:%q Projects:%q Endpoints:%+v Credentials:%s AK:%s SK:%s "+
		"SecurityToken:%s Token:%s Simulated:%t RateLimit:%g Burst:%d Timeout:%s SettleTime:%s}",
		a.Name, a.Region, a.Projects, a.Endpoints, a.credentialKind(), maskAK(a.AK), mask(a.SK), mask(a.SecurityToken),
		mask(a.Token), a.Simulated, a.RateLimit, a.Burst, a.Timeout, a.SettleTime)
}

// GoString is String, so %#v masks secrets too.
func (a Account) GoString() string { return a.String() }

// maskAK keeps the first 4 characters of an access key ID for recognition;
// the AK is an identifier, the SK is the secret.
func maskAK(ak string) string {
	if len(ak) <= 8 {
		return mask(ak)
	}
	return ak[:4] + "***"
}

// accountJSON is the config file form of an Account.
type accountJSON struct {
	Name          string    `json:"name"`
	Region        string    `json:"region,omitempty"`
	Projects      []string  `json:"projects"`
	Endpoints     Endpoints `json:"endpoints"`
	AK            string    `json:"ak,omitempty"`
	SK            string    `json:"sk,omitempty"`
	SKFile        string    `json:"sk_file,omitempty"`
	SecurityToken string    `json:"security_token,omitempty"`
	Token         string    `json:"token,omitempty"`
	TokenFile     string    `json:"token_file,omitempty"`
	Credentials   string    `json:"credentials,omitempty"`
	RefreshBefore string    `json:"refresh_before,omitempty"`
	Simulated     bool      `json:"simulated,omitempty"`
	RateLimit     float64   `json:"rate_limit,omitempty"`
	Burst         int       `json:"burst,omitempty"`
	Timeout       string    `json:"timeout,omitempty"`
	SettleTime    string    `json:"settle_time,omitempty"`
}

// MarshalJSON writes the account with secrets masked: it is for display and
// logs, never for saving credentials.
func (a Account) MarshalJSON() ([]byte, error) {
	j := accountJSON{Name: a.Name, Region: a.Region, Projects: a.Projects, Endpoints: a.Endpoints,
		AK: maskAK(a.AK), SK: mask(a.SK), SecurityToken: mask(a.SecurityToken), Token: mask(a.Token),
		Credentials: a.credentialKind(), Simulated: a.Simulated, RateLimit: a.RateLimit, Burst: a.Burst}
	if a.RefreshBefore != 0 {
		j.RefreshBefore = a.RefreshBefore.String()
	}
	if a.Timeout != 0 {
		j.Timeout = a.Timeout.String()
	}
	if a.SettleTime != 0 {
		j.SettleTime = a.SettleTime.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the config file form (timeout and settle_time as Go
// duration strings such as "30s"; sk_file/token_file read the secret from a
// file).
func (a *Account) UnmarshalJSON(b []byte) error {
	var j accountJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Account{Name: j.Name, Region: j.Region, Projects: j.Projects, Endpoints: j.Endpoints,
		AK: j.AK, SK: j.SK, SecurityToken: j.SecurityToken, Token: j.Token, Credentials: j.Credentials,
		Simulated: j.Simulated, RateLimit: j.RateLimit, Burst: j.Burst}
	if j.RefreshBefore != "" {
		d, err := time.ParseDuration(j.RefreshBefore)
		if err != nil {
			return fmt.Errorf("account %q: refresh_before %q: %w", j.Name, j.RefreshBefore, err)
		}
		a.RefreshBefore = d
	}
	if j.Timeout != "" {
		d, err := time.ParseDuration(j.Timeout)
		if err != nil {
			return fmt.Errorf("account %q: timeout %q: %w", j.Name, j.Timeout, err)
		}
		a.Timeout = d
	}
	if j.SettleTime != "" {
		d, err := time.ParseDuration(j.SettleTime)
		if err != nil {
			return fmt.Errorf("account %q: settle_time %q: %w", j.Name, j.SettleTime, err)
		}
		a.SettleTime = d
	}
	var err error
	if j.SKFile != "" && a.SK == "" {
		if a.SK, err = readSecret(j.SKFile); err != nil {
			return fmt.Errorf("account %q: sk_file: %w", j.Name, err)
		}
	}
	if j.TokenFile != "" && a.Token == "" {
		if a.Token, err = readSecret(j.TokenFile); err != nil {
			return fmt.Errorf("account %q: token_file: %w", j.Name, err)
		}
	}
	return nil
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// LoadConfig reads a JSON config file (format in docs/cloud.md) and validates
// it. Errors name the file and the account but never a secret.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &Error{Class: ErrConfig, Operation: "config", Message: "read " + path, Err: err}
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, configError("", "parse %s: %s", path, jsonErrorText(err))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// jsonErrorText describes a decode error without quoting file content.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: expected %s", te.Field, te.Type)
	}
	return err.Error()
}

// AccountFromEnv builds an account from the SDK's usual variables:
// HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK (optional HUAWEICLOUD_SDK_SECURITY_TOKEN),
// or DECOM_CLOUD_TOKEN; HUAWEICLOUD_SDK_PROJECT_ID (comma-separated for
// several); DECOM_CLOUD_REGION (or HUAWEICLOUD_SDK_REGION);
// DECOM_CLOUD_ENDPOINT_DMS/_ROMA/_CLOUDDC overriding the region defaults;
// DECOM_CLOUD_ACCOUNT names it ("env" by default); DECOM_CLOUD_CREDENTIALS
// chooses the provider (env, profile, metadata, auto; static by default when
// AK/SK or a token is set). ok is false when no credential variable is set at
// all. The account is validated.
func AccountFromEnv(getenv func(string) string) (Account, bool, error) {
	a := Account{
		Name:          getenv("DECOM_CLOUD_ACCOUNT"),
		Region:        getenv("DECOM_CLOUD_REGION"),
		AK:            getenv("HUAWEICLOUD_SDK_AK"),
		SK:            getenv("HUAWEICLOUD_SDK_SK"),
		SecurityToken: getenv("HUAWEICLOUD_SDK_SECURITY_TOKEN"),
		Token:         getenv("DECOM_CLOUD_TOKEN"),
	}
	a.Credentials = getenv("DECOM_CLOUD_CREDENTIALS")
	switch {
	case a.Credentials == CredEnv:
		// The SDK's environment provider reads these itself, and again on refresh.
		a.AK, a.SK, a.SecurityToken = "", "", ""
	case a.Credentials != "" && a.Credentials != CredStatic && a.Credentials != CredAuto:
		a.AK, a.SK, a.SecurityToken, a.Token = "", "", "", ""
	case a.AK == "" && a.SK == "" && a.Token == "" && a.Credentials == "":
		return Account{}, false, nil
	}
	if a.Name == "" {
		a.Name = "env"
	}
	if a.Region == "" {
		a.Region = getenv("HUAWEICLOUD_SDK_REGION")
	}
	for _, p := range strings.Split(getenv("HUAWEICLOUD_SDK_PROJECT_ID"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.Projects = append(a.Projects, p)
		}
	}
	def := DefaultEndpoints(a.Region)
	a.Endpoints = Endpoints{
		DMS:     firstNonEmpty(getenv("DECOM_CLOUD_ENDPOINT_DMS"), def.DMS),
		ROMA:    firstNonEmpty(getenv("DECOM_CLOUD_ENDPOINT_ROMA"), def.ROMA),
		CloudDC: firstNonEmpty(getenv("DECOM_CLOUD_ENDPOINT_CLOUDDC"), def.CloudDC),
	}
	if err := a.Validate(); err != nil {
		return Account{}, true, err
	}
	return a, true, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
