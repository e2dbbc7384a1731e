package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testSK    = "SUPERSECRETSKVALUE0123456789"
	testToken = "MIIToken-very-secret-value"
	testSTS   = "STS-temporary-secret"
)

func validAccount() Account {
	return Account{Name: "prod", Region: "cn-east-3", Projects: []string{"p1"},
		Endpoints: DefaultEndpoints("cn-east-3"), AK: "AKIDEXAMPLE12345", SK: testSK}
}

func TestAccountValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Account)
		want   string // substring of the error; "" = valid
	}{
		{"OK", func(*Account) {}, ""},
		{"token OK", func(a *Account) { a.AK, a.SK, a.Token = "", "", testToken }, ""},
		{"missing name", func(a *Account) { a.Name = "" }, "name is missing"},
		{"missing project", func(a *Account) { a.Projects = nil }, "no project ID"},
		{"empty project", func(a *Account) { a.Projects = []string{""} }, "project ID \"\" is not valid"},
		{"no credentials", func(a *Account) { a.AK, a.SK, a.Credentials = "", "", CredStatic }, "no credentials"},
		{"auto without credentials", func(a *Account) { a.AK, a.SK = "", "" }, ""},
		{"env", func(a *Account) { a.AK, a.SK, a.Credentials = "", "", CredEnv }, ""},
		{"metadata", func(a *Account) { a.AK, a.SK, a.Credentials = "", "", CredMetadata }, ""},
		{"profile with keys", func(a *Account) { a.Credentials = CredProfile }, `credentials is "profile": remove ak`},
		{"unknown provider", func(a *Account) { a.Credentials = "vault" }, `credentials "vault": want one of`},
		{"AK without SK", func(a *Account) { a.SK = "" }, "AK and SK must both be set"},
		{"both", func(a *Account) { a.Token = testToken }, "either AK/SK or a token"},
		{"no endpoint", func(a *Account) { a.Endpoints, a.Region = Endpoints{}, "" }, "no endpoint"},
		{"region only", func(a *Account) { a.Endpoints = Endpoints{} }, ""},
		{"unknown region", func(a *Account) { a.Endpoints, a.Region = Endpoints{}, "eu-west-1" }, "offers none"},
		{"bad URL scheme", func(a *Account) { a.Endpoints.DMS = "ftp://x" }, "must start with http"},
		{"bad URL", func(a *Account) { a.Endpoints.ROMA = "http://[::1" }, "not a URL"},
		{"no host", func(a *Account) { a.Endpoints.CloudDC = "http://" }, "has no host"},
		{"path", func(a *Account) { a.Endpoints.ROMA = "http://127.0.0.1:8080/roma" }, "must not have a path"},
		{"negative", func(a *Account) { a.RateLimit = -1 }, "must not be negative"},
		{"negative settle time", func(a *Account) { a.SettleTime = -time.Second }, "settle_time must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := validAccount()
			tt.modify(&a)
			err := a.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("not ErrConfig: %v", err)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testSK, testToken, testSTS} {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked in %q", s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("empty config: %v", err)
	}
	a := validAccount()
	if err := (Config{Accounts: []Account{a, a}}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := New(Config{Accounts: []Account{{Name: "x"}}}, Options{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with bad config: %v", err)
	}
}

func TestSecretsMasked(t *testing.T) {
	a := validAccount()
	a.SecurityToken = testSTS
	tok := validAccount()
	tok.AK, tok.SK, tok.Token = "", "", testToken
	for _, acct := range []Account{a, tok} {
		cfg := Config{Accounts: []Account{acct}}
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		outs := []string{acct.String(), fmt.Sprintf("%v", acct), fmt.Sprintf("%+v", acct), fmt.Sprintf("%#v", acct),
			fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%s", &acct), string(js),
			NewTokenCredential("p", testToken).String(), fmt.Sprintf("%#v", NewTokenCredential("p", testToken))}
		for _, o := range outs {
			assertNoSecret(t, o)
		}
		if !strings.Contains(outs[0], "***") {
			t.Errorf("String() shows no mask: %s", outs[0])
		}
	}
}

func TestAccountFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	t.Run("none", func(t *testing.T) {
		_, ok, err := AccountFromEnv(env(nil))
		if ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
	})
	t.Run("metadata provider", func(t *testing.T) {
		a, ok, err := AccountFromEnv(env(map[string]string{"DECOM_CLOUD_CREDENTIALS": "metadata",
			"HUAWEICLOUD_SDK_PROJECT_ID": "p1", "DECOM_CLOUD_REGION": "cn-north-4"}))
		if !ok || err != nil || a.credentialKind() != CredMetadata || a.AK != "" {
			t.Fatalf("ok=%v err=%v account %v", ok, err, a)
		}
	})
	t.Run("env provider drops the copied keys", func(t *testing.T) {
		a, ok, err := AccountFromEnv(env(map[string]string{"DECOM_CLOUD_CREDENTIALS": "env",
			"HUAWEICLOUD_SDK_AK": "AK1234567890", "HUAWEICLOUD_SDK_SK": testSK, "HUAWEICLOUD_SDK_PROJECT_ID": "p1", "DECOM_CLOUD_REGION": "cn-north-4"}))
		if !ok || err != nil || a.credentialKind() != CredEnv || a.SK != "" {
			t.Fatalf("ok=%v err=%v account %v", ok, err, a)
		}
	})
	t.Run("region defaults", func(t *testing.T) {
		a, ok, err := AccountFromEnv(
			env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK1234567890", "HUAWEICLOUD_SDK_SK": testSK,
				"HUAWEICLOUD_SDK_PROJECT_ID": "p1, p2", "DECOM_CLOUD_REGION": "cn-east-3"}),
		)
		if !ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		want := Endpoints{
			DMS:     "https://dms.cn-east-3.myhuaweicloud.com",
			ROMA:    "https://roma.cn-east-3.myhuaweicloud.com",
			CloudDC: "https://clouddc.cn-east-3.myhuaweicloud.com",
		}
		if a.Endpoints != want || a.Name != "env" || len(a.Projects) != 2 || a.Projects[1] != "p2" {
			t.Errorf("got %v", a)
		}
	})
	t.Run("no clouddc in region", func(t *testing.T) {
		a, _, err := AccountFromEnv(env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": testSK,
			"HUAWEICLOUD_SDK_PROJECT_ID": "p1", "DECOM_CLOUD_REGION": "eu-west-101"}))
		if err != nil || a.Endpoints.CloudDC != "" || a.Endpoints.DMS == "" {
			t.Errorf("got %v, %v", a, err)
		}
	})
	t.Run("overrides", func(t *testing.T) {
		a, _, err := AccountFromEnv(
			env(map[string]string{"DECOM_CLOUD_TOKEN": testToken, "HUAWEICLOUD_SDK_PROJECT_ID": "p1",
				"DECOM_CLOUD_ENDPOINT_DMS": "http://127.0.0.1:9", "DECOM_CLOUD_ENDPOINT_ROMA": "http://127.0.0.1:9",
				"DECOM_CLOUD_ENDPOINT_CLOUDDC": "http://127.0.0.1:9", "DECOM_CLOUD_ACCOUNT": "sim"}),
		)
		if err != nil || a.Name != "sim" || a.Endpoints.CloudDC != "http://127.0.0.1:9" {
			t.Errorf("got %v, %v", a, err)
		}
	})
	t.Run("missing project", func(t *testing.T) {
		_, ok, err := AccountFromEnv(env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": testSK,
			"DECOM_CLOUD_REGION": "cn-east-3"}))
		if !ok || err == nil || !strings.Contains(err.Error(), "no project ID") {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("bad endpoint", func(t *testing.T) {
		_, _, err := AccountFromEnv(env(map[string]string{"HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": testSK,
			"HUAWEICLOUD_SDK_PROJECT_ID": "p1", "DECOM_CLOUD_ENDPOINT_DMS": "localhost:8080"}))
		if err == nil || !strings.Contains(err.Error(), "endpoint dms") {
			t.Fatalf("err=%v", err)
		}
	})
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	skFile := filepath.Join(dir, "sk")
	if err := os.WriteFile(skFile, []byte(testSK+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(body string) string {
		p := filepath.Join(dir, "cloud.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("OK", func(t *testing.T) {
		p := write(`{"accounts": [
		  {"name": "prod", "region": "cn-east-3", "projects": ["p1"], "ak": "AK1234567890", "sk_file": "` + skFile + `",
		   "rate_limit": 10, "burst": 2, "timeout": "15s", "settle_time": "8s"},
		  {"name": "sim", "projects": ["p2"], "token": "` + testToken + `", "simulated": true,
		   "endpoints": {"dms": "http://127.0.0.1:9", "roma": "http://127.0.0.1:9", "clouddc": "http://127.0.0.1:9"}}]}`)
		cfg, err := LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		a := cfg.Accounts[0]
		if a.SK != testSK || a.Timeout != 15*time.Second || a.RateLimit != 10 || a.Burst != 2 ||
			!cfg.Accounts[1].Simulated {
			t.Errorf("got %v", cfg)
		}
		if a.SettleTime != 8*time.Second || cfg.Accounts[1].SettleTime != 0 {
			t.Errorf("settle times %s, %s; want 8s and unset", a.SettleTime, cfg.Accounts[1].SettleTime)
		}
		c, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c.SettleTime("prod") != 8*time.Second || c.SettleTime("sim") != DefaultSettleTime {
			t.Errorf("client settle times %s, %s; want 8s and the default", c.SettleTime("prod"), c.SettleTime("sim"))
		}
	})
	t.Run("bad JSON", func(t *testing.T) {
		_, err := LoadConfig(write(`{"accounts": [ {"name": "x", "sk": "` + testSK + `" ,,]}`))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "invalid JSON") {
			t.Fatalf("err=%v", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("bad settle time", func(t *testing.T) {
		_, err := LoadConfig(write(`{"accounts": [{"name": "x", "region": "cn-east-3", "projects": ["p1"], "token": "t",
		  "settle_time": "soon"}]}`))
		if err == nil || !strings.Contains(err.Error(), "settle_time") {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("unknown field", func(t *testing.T) {
		_, err := LoadConfig(write(`{"accounts": [], "acounts": []}`))
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("invalid account", func(t *testing.T) {
		_, err := LoadConfig(
			write(`{"accounts": [{"name": "x", "region": "cn-east-3", "ak": "AK", "sk": "` + testSK + `"}]}`),
		)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "no project ID") {
			t.Fatalf("err=%v", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadConfig(filepath.Join(dir, "nope.json")); !errors.Is(err, ErrConfig) {
			t.Fatalf("err=%v", err)
		}
	})
}
