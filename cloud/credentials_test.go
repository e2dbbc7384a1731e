package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// credSim serves a demo fleet and accepts the demo identities plus extra.
func credSim(t *testing.T, extra ...cloudsim.Credential) (*cloudsim.Sim, string) {
	t.Helper()
	sim := cloudsim.New(cloudsim.Options{Credentials: append(cloudsim.DemoCredentials(), extra...), Fleet: "demo",
		Seed: 1, Faults: cloudsim.DefaultFaults()})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func providerAccount(url, kind string) Account {
	return Account{Name: "acct", Region: "cn-east-3", Projects: []string{simProject}, Credentials: kind,
		Endpoints: Endpoints{DMS: url, ROMA: url, CloudDC: url}, RateLimit: 1000, Burst: 100}
}

func TestCredentialsFromEnvironment(t *testing.T) {
	const ak, sk = "HWENVPROVIDERAK00001", "env-provider-secret-key-0000000000000001"
	_, url := credSim(t, cloudsim.Credential{AK: ak, SK: sk, User: "env", Projects: []string{simProject}})
	t.Setenv("HUAWEICLOUD_SDK_AK", ak)
	t.Setenv("HUAWEICLOUD_SDK_SK", sk)
	t.Setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", "")
	for _, kind := range []string{CredEnv, CredAuto} {
		t.Run(kind, func(t *testing.T) {
			c, err := New(Config{Accounts: []Account{providerAccount(url, kind)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			list, err := c.ListInstances(context.Background(), "acct", simProject, RocketMQ)
			if err != nil || len(list) == 0 {
				t.Fatalf("list through the %s provider: %d, %v", kind, len(list), err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Setenv("HUAWEICLOUD_SDK_AK", "")
		c, _ := New(Config{Accounts: []Account{providerAccount(url, CredEnv)}}, Options{})
		_, err := c.ListInstances(context.Background(), "acct", simProject, RocketMQ)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "environment provider") ||
			strings.Contains(err.Error(), sk) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCredentialsFromProfileWithSecurityToken(t *testing.T) {
	const ak, sk, token = "HWPROFILEAK000000001", "profile-secret-key-00000000000000000001", "sts-token-from-profile-file"
	_, url := credSim(t, cloudsim.Credential{AK: ak, SK: sk, SecurityToken: token, User: "profile",
		Projects: []string{simProject}})
	write := func(tok string) {
		p := filepath.Join(t.TempDir(), "credentials")
		body := fmt.Sprintf("[basic]\nak = %s\nsk = %s\nsecurity_token = %s\n", ak, sk, tok)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", p)
	}
	write(token)
	c, err := New(Config{Accounts: []Account{providerAccount(url, CredProfile)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListInstances(context.Background(), "acct", simProject, CloudDC); err != nil {
		t.Fatalf("list with the profile's temporary credentials: %v", err)
	}
	// The same AK/SK with the wrong security token is refused: the token
	// from the file really is sent.
	write("not-the-token")
	c, _ = New(Config{Accounts: []Account{providerAccount(url, CredProfile)}}, Options{})
	_, err = c.ListInstances(context.Background(), "acct", simProject, CloudDC)
	if !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "not-the-token") ||
		strings.Contains(err.Error(), sk) {
		t.Fatalf("wrong token: %v", err)
	}
}

// issuer mints short-lived temporary credentials in the simulator, as the
// metadata service would, and counts them.
type issuer struct {
	sim  *cloudsim.Sim
	life time.Duration
	mu   sync.Mutex
	n    int
}

func (i *issuer) source(context.Context) (TemporaryCredentials, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.n++
	t := TemporaryCredentials{AK: fmt.Sprintf("HWTEMPAK%012d", i.n), SK: fmt.Sprintf("temp-sk-%032d", i.n),
		SecurityToken: fmt.Sprintf("sts-%d", i.n), ExpiresAt: time.Now().Add(i.life)}
	i.sim.AddCredential(cloudsim.Credential{AK: t.AK, SK: t.SK, SecurityToken: t.SecurityToken, Expires: t.ExpiresAt,
		User: "agency", Projects: []string{simProject}})
	return t, nil
}

// A long execution outlives several generations of temporary credentials:
// every call succeeds because they are replaced before they expire.
func TestTemporaryCredentialsRefreshedMidExecution(t *testing.T) {
	sim, url := credSim(t)
	iss := &issuer{sim: sim, life: 1200 * time.Millisecond}
	a := providerAccount(url, CredMetadata)
	a.RefreshBefore = 400 * time.Millisecond
	c, err := New(Config{Accounts: []Account{a}},
		Options{CredentialSources: map[string]CredentialSource{"acct": iss.source}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, err := c.ListInstances(ctx, "acct", simProject, RocketMQ)
	if err != nil {
		t.Fatal(err)
	}
	var victim Resource
	for _, r := range list {
		if r.Deletable() {
			victim = r
			break
		}
	}
	if err := c.DeleteDMSInstance(ctx, victim.Ref); err != nil {
		t.Fatalf("delete: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second) // 2.5 credential lifetimes
	calls := 0
	for time.Now().Before(deadline) {
		if _, err := c.Read(ctx, victim.Ref); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("status read %d after %d credential fetches: %v", calls, c.Fetches("acct"), err)
		}
		calls++
		time.Sleep(50 * time.Millisecond)
	}
	// About one fetch per 0.8 s (lifetime minus the refresh margin): at
	// least 3 in 3 s, and not one per call.
	if n := c.Fetches("acct"); n < 3 || n > 8 {
		t.Fatalf("credentials fetched %d times over 3 s of 1.2 s credentials, want 3..8", n)
	}
	t.Logf("%d status reads, %d credential fetches", calls, c.Fetches("acct"))
}

func TestTemporaryCredentialsNeverShown(t *testing.T) {
	tc := TemporaryCredentials{AK: "HWTEMPAK000000000001", SK: "very-secret-sk", SecurityToken: "very-secret-token"}
	for _, s := range []string{tc.String(), fmt.Sprintf("%v %+v %#v", tc, tc, tc)} {
		if strings.Contains(s, "very-secret") {
			t.Fatalf("secret shown: %s", s)
		}
	}
	sc := &sourceCredential{cache: &credCache{account: "a", kind: CredMetadata}, project: "p"}
	if s := fmt.Sprintf("%v %#v", sc, sc); strings.Contains(s, "secret") {
		t.Fatalf("credential shown: %s", s)
	}
}
