package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// simOutput lets the test read what runSim prints while it runs.
type simOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *simOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *simOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noSimEnv(string) string { return "" }

func TestRunSimServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &simOutput{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--listen", "127.0.0.1:0", "--fleet", "empty"}, noSimEnv, out)
	}()

	base := waitForSimOutput(t, out, regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`))
	body := strings.NewReader(
		`{"service":"clouddc","kind":"instance","project_id":"` + firstProject(
			t,
			out,
		) + `","name":"bm-1","status":"stopped"}`,
	)
	resp, err := http.Post(base+"/_sim/resources", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /_sim/resources: %d, want 201", resp.StatusCode)
	}
	// The cloud API itself refuses an unsigned call.
	resp, err = http.Get(base + "/v1/p/instances")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned cloud call: %d, want 401", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run sim: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop after cancel")
	}
	if !strings.Contains(out.String(), "cloudsim stopped") {
		t.Fatalf("no shutdown message in:\n%s", out)
	}
}

func TestSimConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad fleet", []string{"--fleet", "huge"}, nil, "--fleet"},
		{"ak without sk", []string{"--ak", "AKAKAKAKAKAKAKAKAKAK"}, nil, "--ak and --sk"},
		{"bad rate from env", nil, map[string]string{"DECOM_SIM_ERROR_RATE": "2"}, "error"},
		{"unparsable env", nil, map[string]string{"DECOM_SIM_LATENCY_MS": "slow"}, "DECOM_SIM_LATENCY_MS"},
		{"applied error rate above 1", []string{"--applied-error-rate", "1.5"}, nil, "applied_error_rate"},
		{"negative read lag from env", nil, map[string]string{"DECOM_SIM_READ_LAG_MS": "-1"}, "read_lag_ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			_, err := parseSimConfig(tt.args, getenv, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSimConfigEnvThenFlags(t *testing.T) {
	env := map[string]string{"DECOM_SIM_RATE_LIMIT": "7", "DECOM_SIM_PROJECT": "envp"}
	cfg, err := parseSimConfig([]string{"--project", "flagp"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Faults.RateLimit != 7 {
		t.Errorf("rate limit %g, want 7 from the environment", cfg.Faults.RateLimit)
	}
	if got := cfg.Projects.String(); got != "flagp" {
		t.Errorf("projects %q, want the flag to replace the environment's", got)
	}
}

// TestSimRealismKnobs sets the realism knobs from the environment and a
// flag; both default to off.
func TestSimRealismKnobs(t *testing.T) {
	cfg, err := parseSimConfig(nil, noSimEnv, &bytes.Buffer{})
	if err != nil || cfg.Faults.AppliedErrorRate != 0 || cfg.Faults.ReadLagMS != 0 {
		t.Fatalf("defaults %+v %v, want both off", cfg.Faults, err)
	}
	env := map[string]string{"DECOM_SIM_APPLIED_ERROR_RATE": "0.3", "DECOM_SIM_READ_LAG_MS": "1000"}
	cfg, err = parseSimConfig(
		[]string{"--read-lag-ms", "3000"},
		func(k string) string { return env[k] },
		&bytes.Buffer{},
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Faults.AppliedErrorRate != 0.3 || cfg.Faults.ReadLagMS != 3000 {
		t.Errorf("applied error rate %g, read lag %d; want 0.3 from the environment and 3000 from the flag",
			cfg.Faults.AppliedErrorRate, cfg.Faults.ReadLagMS)
	}
}

func waitForSimOutput(t *testing.T, out *simOutput, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no match for %s in output:\n%s", re, out)
	return ""
}

func firstProject(t *testing.T, out *simOutput) string {
	return waitForSimOutput(t, out, regexp.MustCompile(`projects: ([0-9a-f]+)`))
}
