package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
)

// consoleCloud is the cloud the console reads: configured accounts, or the
// embedded simulator.
type consoleCloud struct {
	client    *cloud.Client
	simulated bool
	simURL    string
	close     func()
}

// startCloud builds the cloud client from --cloud-config, else from the
// SDK's environment variables, else starts cloudsim in-process with the demo
// fleet and points every endpoint at it.
func startCloud(ctx context.Context, cfg serveConfig, getenv func(string) string, log *slog.Logger,
	opts cloud.Options) (consoleCloud, error) {
	var cc cloud.Config
	switch {
	case cfg.CloudConfig != "":
		c, err := cloud.LoadConfig(cfg.CloudConfig)
		if err != nil {
			return consoleCloud{}, err
		}
		cc = c
	default:
		a, ok, err := cloud.AccountFromEnv(getenv)
		if err != nil {
			return consoleCloud{}, err
		}
		if ok {
			cc = cloud.Config{Accounts: []cloud.Account{a}}
		}
	}
	if len(cc.Accounts) > 0 {
		networkFromEnv(&cc, getenv)
		for _, w := range cc.Warnings() {
			log.Warn("!!! INSECURE CLOUD CONNECTION !!! " + w)
		}
		client, err := cloud.New(cc, opts)
		if err != nil {
			return consoleCloud{}, err
		}
		sim := true
		for _, a := range cc.Accounts {
			sim = sim && a.Simulated
			log.Info("cloud account", "account", a.String()) // secrets masked
			for _, err := range a.NotOffered() {
				log.Warn("cloud service not offered in the account's region; it is left out", "account", a.Name,
					"region", a.Region, "reason", notOfferedText(err))
			}
		}
		return consoleCloud{client: client, simulated: sim, close: func() {}}, nil
	}
	return startEmbeddedSim(cfg.SimListen, log, opts)
}

func startEmbeddedSim(addr string, log *slog.Logger, opts cloud.Options) (consoleCloud, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return consoleCloud{}, fmt.Errorf("simulator listen: %w", err)
	}
	sim := cloudsim.New(
		cloudsim.Options{
			Credentials: cloudsim.DemoCredentials(),
			Fleet:       "demo",
			Seed:        1,
			Faults:      cloudsim.DefaultFaults(),
		},
	)
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator stopped", "error", err)
		}
	}()
	url := "http://" + ln.Addr().String()
	log.Info("embedded cloud simulator", "url", url)
	client, err := cloud.New(cloud.Config{Accounts: []cloud.Account{simAccount(url)}}, opts)
	if err != nil {
		srv.Close()
		return consoleCloud{}, err
	}
	return consoleCloud{client: client, simulated: true, simURL: url, close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		sim.Close()
	}}, nil
}

// simAccount is the demo account of the embedded simulator.
func simAccount(url string) cloud.Account {
	return cloud.Account{
		Name: "demo", Region: "cn-east-3", Projects: append([]string(nil), cloudsim.DemoProjects...),
		Endpoints: cloud.Endpoints{DMS: url, ROMA: url, CloudDC: url},
		AK:        cloudsim.DemoAK, SK: cloudsim.DemoSK, Simulated: true,
		// The in-process simulator has no rate limit of its own; the default
		// 20 req/s per endpoint would only slow the demo's first reads.
		RateLimit: 500, Burst: 100,
	}
}

// networkFromEnv fills the cloud config's proxy settings from HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY (or their lower-case forms) when the file leaves
// them empty: the variables every HTTP client honours.
func networkFromEnv(cc *cloud.Config, getenv func(string) string) {
	env := func(name string) string { return firstSet(getenv(name), getenv(strings.ToLower(name))) }
	n := &cc.Network
	if n.HTTPSProxy == "" {
		n.HTTPSProxy = env("HTTPS_PROXY")
	}
	if n.HTTPProxy == "" {
		n.HTTPProxy = env("HTTP_PROXY")
	}
	if n.NoProxy == "" {
		n.NoProxy = env("NO_PROXY")
	}
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
