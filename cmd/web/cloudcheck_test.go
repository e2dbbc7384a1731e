package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

func TestRunCloudCheck(t *testing.T) {
	sim := cloudsim.New(
		cloudsim.Options{
			Credentials: cloudsim.DemoCredentials(),
			Fleet:       "demo",
			Seed:        1,
			Faults:      cloudsim.DefaultFaults(),
		},
	)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	dir := t.TempDir()
	write := func(sk string) string {
		p := filepath.Join(dir, "cloud.json")
		body := `{"accounts": [{"name": "demo", "region": "cn-east-3", "projects": ["` + cloudsim.DemoProjects[0] + `"],
		  "ak": "` + cloudsim.DemoAK + `", "sk": "` + sk + `", "simulated": true,
		  "endpoints": {"dms": "` + srv.URL + `", "roma": "` + srv.URL + `", "clouddc": "` + srv.URL + `"}}]}`
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noenv := func(string) string { return "" }
	t.Run("OK", func(t *testing.T) {
		var out bytes.Buffer
		if err := runCloud(context.Background(), []string{"check", "-config", write(cloudsim.DemoSK)}, noenv, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		t.Log("\n" + out.String())
		for _, want := range []string{"account demo", "rocketmq", "rabbitmq", "roma", "clouddc", "instances",
			"apps and tasks readable", "all checks passed"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("wrong SK", func(t *testing.T) {
		var out bytes.Buffer
		err := runCloud(context.Background(), []string{"check", "-config", write("not-the-sk")}, noenv, &out)
		if err == nil || strings.Count(out.String(), "FAILED") != 4 || !strings.Contains(out.String(), "APIGW.0301") {
			t.Fatalf("err %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "not-the-sk") {
			t.Error("secret in output")
		}
	})
	t.Run("denied action", func(t *testing.T) {
		if err := sim.Deny(cloudsim.DemoAK, "dms:instance:list"); err != nil {
			t.Fatal(err)
		}
		defer sim.Deny(cloudsim.DemoAK)
		var out bytes.Buffer
		err := runCloud(context.Background(), []string{"check", "-config", write(cloudsim.DemoSK)}, noenv, &out)
		t.Log("\n" + out.String())
		want := "needs dms:instance:list in project " + cloudsim.DemoProjects[0]
		if err == nil || strings.Count(out.String(), "FAILED") != 2 || strings.Count(out.String(), want) != 2 {
			t.Fatalf("err %v, want rocketmq and rabbitmq FAILED with %q:\n%s", err, want, out.String())
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, "FAILED") && !strings.Contains(line, "rocketmq") &&
				!strings.Contains(line, "rabbitmq") {
				t.Errorf("unexpected failure: %s", line)
			}
		}
	})
	t.Run("region without the service", func(t *testing.T) {
		p := filepath.Join(dir, "eu.json")
		body := `{"accounts": [{"name": "eu", "region": "eu-west-101", "projects": ["` + cloudsim.DemoProjects[0] + `"],
		  "ak": "` + cloudsim.DemoAK + `", "sk": "` + cloudsim.DemoSK + `", "endpoints": {"dms": "` + srv.URL + `"}}]}`
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := runCloud(context.Background(), []string{"check", "-config", p}, noenv, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		for _, want := range []string{`skipped: ROMA Connect is not offered in region "eu-west-101"`,
			`skipped: CloudDC is not offered in region "eu-west-101"`, "rabbitmq  ok"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("TLS verification off warns", func(t *testing.T) {
		p := filepath.Join(dir, "insecure.json")
		body := `{"network": {"insecure_skip_verify": true}, "accounts": [{"name": "demo", "projects": ["` +
			cloudsim.DemoProjects[0] + `"], "ak": "` + cloudsim.DemoAK + `", "sk": "` + cloudsim.DemoSK + `",
		  "endpoints": {"dms": "` + srv.URL + `", "roma": "` + srv.URL + `", "clouddc": "` + srv.URL + `"}}]}`
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := runCloud(context.Background(), []string{"check", "-config", p}, noenv, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !strings.HasPrefix(out.String(), "WARNING: TLS VERIFICATION IS OFF") {
			t.Fatalf("no loud warning first:\n%s", out.String())
		}
	})
	t.Run("no account", func(t *testing.T) {
		err := runCloud(context.Background(), []string{"check"}, noenv, &bytes.Buffer{})
		if !errors.Is(err, cloud.ErrConfig) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("env account missing project", func(t *testing.T) {
		env := map[string]string{
			"HUAWEICLOUD_SDK_AK": "AK",
			"HUAWEICLOUD_SDK_SK": "secret-sk",
			"DECOM_CLOUD_REGION": "cn-east-3",
		}
		err := runCloud(
			context.Background(),
			[]string{"check"},
			func(k string) string { return env[k] },
			&bytes.Buffer{},
		)
		if err == nil || !strings.Contains(err.Error(), "no project ID") || strings.Contains(err.Error(), "secret-sk") {
			t.Fatalf("err %v", err)
		}
	})
}
