package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/decom/decom/cloud"
)

const cloudUsage = `usage: web cloud check [-config FILE] [-timeout 15s]

Checks every configured cloud account: for each project and service it makes
the cheapest read (one list call of one item; for ROMA also the app and task
lists of one instance) and prints what it saw, or a clear error per failure.
A missing permission is named ("needs dms:instance:list in project P"); a
service the region does not offer is reported, not failed. Exits non-zero if
any check failed.

Accounts come from the JSON file (-config, or DECOM_CLOUD_CONFIG) and from
HUAWEICLOUD_SDK_AK/_SK/_PROJECT_ID (+ DECOM_CLOUD_REGION,
DECOM_CLOUD_ENDPOINT_DMS/_ROMA/_CLOUDDC, and DECOM_CLOUD_CREDENTIALS=env,
profile, metadata or auto for the SDK's credential providers). HTTPS_PROXY,
HTTP_PROXY and NO_PROXY apply unless the file's "network" sets them. See
docs/cloud.md.
`

// runCloud runs "cloud <subcommand>".
func runCloud(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stdout, cloudUsage)
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return nil
		}
		return fmt.Errorf("unknown cloud subcommand %q", args[0])
	}
	fs := flag.NewFlagSet("cloud check", flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", getenv("DECOM_CLOUD_CONFIG"), "cloud accounts JSON file")
	fs.StringVar(path, "cloud-config", *path, "same as -config (the serve flag's name)")
	timeout := fs.Duration("timeout", 15*time.Second, "time limit per account, project and service (retries included)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := cloudConfig(*path, getenv)
	if err != nil {
		return err
	}
	networkFromEnv(&cfg, getenv)
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "WARNING: "+w)
	}
	client, err := cloud.New(cfg, cloud.Options{})
	if err != nil {
		return err
	}
	if failed := cloudCheck(ctx, client, *timeout, stdout); failed > 0 {
		return fmt.Errorf("cloud check: %d check(s) failed", failed)
	}
	fmt.Fprintln(stdout, "all checks passed")
	return nil
}

// cloudConfig builds the cloud configuration from the file at path (if any)
// and the environment account (if its variables are set), validated.
func cloudConfig(path string, getenv func(string) string) (cloud.Config, error) {
	var cfg cloud.Config
	if path != "" {
		c, err := cloud.LoadConfig(path)
		if err != nil {
			return cloud.Config{}, err
		}
		cfg = c
	}
	acct, ok, err := cloud.AccountFromEnv(getenv)
	if err != nil {
		return cloud.Config{}, fmt.Errorf("environment: %w", err)
	}
	if ok {
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	if len(cfg.Accounts) == 0 {
		return cloud.Config{}, fmt.Errorf(
			"no cloud account: give -config FILE (or DECOM_CLOUD_CONFIG) or set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID: %w",
			cloud.ErrConfig,
		)
	}
	return cfg, cfg.Validate()
}

// cloudCheck lists every service of every account and project and prints
// one line each; it returns the number of failures.
func cloudCheck(ctx context.Context, c *cloud.Client, timeout time.Duration, w io.Writer) int {
	failed := 0
	for _, a := range c.Accounts() {
		sim := ""
		if a.Simulated {
			sim = " (simulated)"
		}
		region := a.Region
		if region == "" {
			region = "(none)"
		}
		fmt.Fprintf(w, "account %s, region %s%s\n", a.Name, region, sim)
		for _, p := range a.Projects {
			for _, svc := range cloud.Services {
				sctx, cancel := context.WithTimeout(ctx, timeout)
				line, err := checkService(sctx, c, a.Name, p, svc)
				cancel()
				if errors.Is(err, cloud.ErrNotOffered) {
					fmt.Fprintf(w, "  %-10s %-9s skipped: %s\n", p, svc, notOfferedText(err))
					continue
				}
				if err != nil {
					failed++
					fmt.Fprintf(w, "  %-10s %-9s FAILED: %v\n", p, svc, err)
					continue
				}
				fmt.Fprintf(w, "  %-10s %-9s ok: %s\n", p, svc, line)
			}
		}
	}
	return failed
}

func checkService(ctx context.Context, c *cloud.Client, account, project string, svc cloud.Service) (string, error) {
	start := time.Now()
	line, err := c.Probe(ctx, account, project, svc)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s)", line, time.Since(start).Round(time.Millisecond)), nil
}

// notOfferedText is the cloud's explanation without the operation prefix.
func notOfferedText(err error) string {
	var ce *cloud.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}
