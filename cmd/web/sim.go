package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/decom/decom/cloudsim"
)

// simConfig is the sim subcommand's configuration.
type simConfig struct {
	Listen   string
	AK, SK   string
	Token    string
	User     string
	Projects listFlag
	Fleet    string
	Seed     int64
	Faults   cloudsim.Faults
}

// listFlag is a repeatable, comma-separated flag. Values from the
// environment are replaced, not extended, by the first command-line value.
type listFlag struct {
	vals    []string
	fromEnv bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(v string) error {
	if l.fromEnv {
		l.vals, l.fromEnv = nil, false
	}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			l.vals = append(l.vals, p)
		}
	}
	return nil
}

func simFlags(cfg *simConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8081", "address to serve the simulated cloud on")
	fs.StringVar(&cfg.AK, "ak", "", "access key the simulator accepts (default: the demo AK)")
	fs.StringVar(&cfg.SK, "sk", "", "secret key for --ak")
	fs.StringVar(&cfg.Token, "token", "", "IAM token the simulator accepts (default: the demo token)")
	fs.StringVar(&cfg.User, "user", cloudsim.DemoUser, "user name of the configured credentials")
	fs.Var(
		&cfg.Projects,
		"project",
		"project ID the credentials may use (repeatable or comma list; default: the demo projects)",
	)
	fs.StringVar(&cfg.Fleet, "fleet", "demo", "initial resources: demo or empty")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed for the demo fleet, IDs and fault decisions")
	f := &cfg.Faults
	fs.IntVar(&f.LatencyMS, "latency-ms", f.LatencyMS, "latency added to every cloud call (ms)")
	fs.Float64Var(&f.ErrorRate, "error-rate", f.ErrorRate, "fraction 0..1 of cloud calls answered 500")
	fs.Float64Var(&f.RateLimit, "rate-limit", f.RateLimit, "requests per second per credential, 0 = off")
	fs.IntVar(&f.RetryAfter, "retry-after", f.RetryAfter, "Retry-After seconds sent with 429, 0 = none")
	fs.IntVar(&f.DMSDeleteDelayMS, "dms-delete-delay-ms", f.DMSDeleteDelayMS, "time a DMS instance stays DELETING (ms)")
	fs.IntVar(
		&f.CloudDCDeleteDelayMS,
		"clouddc-delete-delay-ms",
		f.CloudDCDeleteDelayMS,
		"time a CloudDC instance stays shutting-down (ms)",
	)
	fs.IntVar(&f.ROMAAssetMS, "roma-asset-ms", f.ROMAAssetMS, "time per asset in a ROMA delete job (ms)")
	fs.Float64Var(
		&f.DeleteFailureRate,
		"delete-failure-rate",
		f.DeleteFailureRate,
		"fraction 0..1 of deletes that fail",
	)
	fs.IntVar(
		&f.TerminatedRetentionMS,
		"terminated-retention-ms",
		f.TerminatedRetentionMS,
		"time terminated CloudDC instances stay visible (ms)",
	)
	fs.BoolVar(
		&f.CloudDCAllowDeleteRunning,
		"clouddc-allow-delete-running",
		f.CloudDCAllowDeleteRunning,
		"let CloudDC delete running instances",
	)
	fs.BoolVar(
		&f.RefusePrepaidDelete,
		"refuse-prepaid-delete",
		f.RefusePrepaidDelete,
		"refuse deleting yearly/monthly DMS instances",
	)
	fs.Float64Var(&f.AppliedErrorRate, "applied-error-rate", f.AppliedErrorRate,
		"fraction 0..1 of write calls applied, then answered 500/504 (answer lost)")
	fs.IntVar(&f.ReadLagMS, "read-lag-ms", f.ReadLagMS, "how long reads show the state from before a write (ms)")
	fs.BoolVar(&f.CheckSignatures, "check-signatures", f.CheckSignatures, "verify AK/SK signatures")
	return fs
}

// parseSimConfig builds the configuration: defaults ← DECOM_SIM_* ← flags.
func parseSimConfig(args []string, getenv func(string) string, out io.Writer) (simConfig, error) {
	cfg := simConfig{Faults: cloudsim.DefaultFaults()}
	fs := simFlags(&cfg)
	fs.SetOutput(out)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "DECOM_SIM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if file := getenv(name + "_FILE"); v == "" && file != "" && (f.Name == "sk" || f.Name == "token") {
			b, err := os.ReadFile(file)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s_FILE: %w", name, err))
				return
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s: %w", name, err))
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	cfg.Projects.fromEnv = true
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate reports the first inconsistent setting.
func (c simConfig) Validate() error {
	switch {
	case c.Fleet != "demo" && c.Fleet != "empty":
		return fmt.Errorf("sim: --fleet must be demo or empty, got %q", c.Fleet)
	case (c.AK == "") != (c.SK == ""):
		return errors.New("sim: --ak and --sk go together")
	case c.User == "":
		return errors.New("sim: --user must not be empty")
	}
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}

// credentials are the configured identities, or the demo ones.
func (c simConfig) credentials() []cloudsim.Credential {
	if c.AK == "" && c.Token == "" && len(c.Projects.vals) == 0 {
		return cloudsim.DemoCredentials()
	}
	projects := c.Projects.vals
	if len(projects) == 0 {
		projects = cloudsim.DemoProjects
	}
	ak, sk, token := c.AK, c.SK, c.Token
	if ak == "" && token == "" {
		ak, sk, token = cloudsim.DemoAK, cloudsim.DemoSK, cloudsim.DemoToken
	}
	var creds []cloudsim.Credential
	if ak != "" {
		creds = append(creds, cloudsim.Credential{AK: ak, SK: sk, User: c.User, Projects: projects})
	}
	if token != "" {
		creds = append(creds, cloudsim.Credential{Token: token, User: c.User, Projects: projects})
	}
	return creds
}

// runSim serves the simulated cloud alone until ctx is done.
func runSim(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseSimConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	creds := cfg.credentials()
	sim := cloudsim.New(cloudsim.Options{Credentials: creds, Fleet: cfg.Fleet, Seed: cfg.Seed, Faults: cfg.Faults})
	defer sim.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("sim: listen: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	printSimBanner(stdout, "http://"+ln.Addr().String(), cfg, creds)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sim: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("sim: shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "cloudsim stopped")
	return nil
}

func printSimBanner(w io.Writer, base string, cfg simConfig, creds []cloudsim.Credential) {
	fmt.Fprintf(w, "cloudsim serving the simulated Huawei Cloud at %s\n", base)
	fmt.Fprintf(w, "  endpoints: dms, roma and clouddc all = %s (control API: %s/_sim/)\n", base, base)
	fmt.Fprintf(w, "  fleet: %s (seed %d)\n", cfg.Fleet, cfg.Seed)
	for _, c := range creds {
		if c.AK != "" {
			fmt.Fprintf(w, "  AK/SK: %s / %s  user %s\n", c.AK, reveal(c.SK, cloudsim.DemoSK), c.User)
		} else {
			fmt.Fprintf(w, "  token: %s  user %s\n", reveal(c.Token, cloudsim.DemoToken), c.User)
		}
		fmt.Fprintf(w, "    projects: %s\n", strings.Join(c.Projects, ", "))
	}
	f := cfg.Faults
	fmt.Fprintf(
		w,
		"  faults: latency %dms, error rate %g, rate limit %g/s, retry-after %ds, delete failure rate %g, check signatures %t\n",
		f.LatencyMS,
		f.ErrorRate,
		f.RateLimit,
		f.RetryAfter,
		f.DeleteFailureRate,
		f.CheckSignatures,
	)
	if f.AppliedErrorRate > 0 || f.ReadLagMS > 0 {
		fmt.Fprintf(w, "  realism: applied error rate %g, read lag %dms\n", f.AppliedErrorRate, f.ReadLagMS)
	}
}

// reveal prints the well-known demo secrets and masks any other.
func reveal(secret, demo string) string {
	switch {
	case secret == demo:
		return secret
	case len(secret) <= 8:
		return strings.Repeat("*", len(secret))
	}
	return secret[:4] + strings.Repeat("*", len(secret)-4)
}
