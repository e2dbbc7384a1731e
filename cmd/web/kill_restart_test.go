package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/auth"
	"github.com/decom/decom/changes"
	"github.com/decom/decom/cloud"
	"github.com/decom/decom/cloudsim"
	"github.com/decom/decom/store"
)

// killChildEnv makes TestKillRestartChild run the console.
const killChildEnv = "DECOM_KILL_RESTART_CHILD"

// TestKillRestartChild is the console in a child process for
// TestKillRestartMidExecution: the test binary re-executed with the
// console's arguments after "--".
func TestKillRestartChild(t *testing.T) {
	if os.Getenv(killChildEnv) == "" {
		t.Skip("helper process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, flag.Args(), os.Getenv, os.Stdout); err != nil {
		t.Fatal(err)
	}
}

// TestKillRestartMidExecution SIGKILLs a real console process while the
// cloud has accepted four delete batches whose answers the console never
// received, and a fifth batch is still queued; a new console on the same
// data directory must finish the change: every planned resource deleted
// exactly once (the unknown submissions re-read, not re-sent), nothing else
// touched, one outcome per resource in the audit log, and the chain intact.
func TestKillRestartMidExecution(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end with a child process")
	}
	t0 := time.Now()
	sim := newHeldSim(t)
	refs, unplanned := sim.killFleet(t)
	data := t.TempDir()
	cfgPath := writeSimCloudConfig(t, sim.srv.URL)

	first := startConsoleProcess(t, data, cfgPath)
	db, svc := openChanges(t, data, cfgPath)
	c := approveAndExecute(t, svc, refs)
	tExec := time.Now()

	// The first four batches reach the cloud; their answers are held.
	sim.waitDeletes(t, 160, 20*time.Second)
	tKill := time.Now()
	first.kill(t)
	sim.releaseAnswers()
	mid := mustGet(t, svc, c.ID).Progress()
	t.Logf("killed after %s of execution: %+v", tKill.Sub(tExec).Round(time.Millisecond), mid)
	if mid.Submitted != 160 || mid.Queued != 10 {
		t.Fatalf("at the kill: %+v, want 160 submitted with unknown outcome and 10 queued", mid)
	}

	second := startConsoleProcess(t, data, cfgPath)
	got := waitFinal(t, svc, c.ID, 60*time.Second)
	tDone := time.Now()
	second.stop(t)
	t.Logf("finished %s after the restart; whole test %s", tDone.Sub(tKill).Round(time.Millisecond),
		time.Since(t0).Round(time.Millisecond))

	if got.State != changes.StateSucceeded {
		t.Errorf("change ended %s, want succeeded", got.State)
	}
	for _, op := range got.Operations {
		if op.State != changes.OpDone || op.Attempts != 1 {
			t.Errorf(
				"%s %s: %s after %d attempts (%s), want done after 1",
				op.Item.Service,
				op.Item.ID,
				op.State,
				op.Attempts,
				op.LastError,
			)
		}
	}
	planned := map[string]bool{}
	for _, r := range refs {
		planned[r.ID] = true
	}
	sim.checkResources(t, planned, unplanned)
	sim.checkDeletes(t, planned)
	checkChangeAudit(t, db, data, c.ID, planned, 5)
}

// killFleet creates 60 stopped CloudDC instances (batches of 50 and 10) and
// 110 RUNNING RocketMQ instances (50, 50, 10) to delete: five batches, one
// more than the poller sends at once, so the last one waits. Ten more stay
// out of the plan; unplanned maps their IDs to their status.
func (h *heldSim) killFleet(t *testing.T) (refs []cloud.Ref, unplanned map[string]string) {
	t.Helper()
	refs = append(simRefs(cloud.CloudDC, h.create(t, "clouddc", "stopped", 60)),
		simRefs(cloud.RocketMQ, h.create(t, "rocketmq", "RUNNING", 110))...)
	unplanned = map[string]string{}
	for svc, status := range map[string]string{"clouddc": "stopped", "rocketmq": "RUNNING"} {
		for _, id := range h.create(t, svc, status, 5) {
			unplanned[id] = status
		}
	}
	return refs, unplanned
}

// openChanges opens the console's database (already migrated by it) and a
// changes.Service over the same cloud, as a second process would.
func openChanges(t *testing.T, data, cfgPath string) (*sql.DB, *changes.Service) {
	t.Helper()
	db, err := store.Open(filepath.Join(data, "decom.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, err := cloud.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.New(cfg, cloud.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db, changes.New(db, client, changes.Options{})
}

// approveAndExecute plans refs as alice, has bob approve and starts the
// execution; the console's poller picks it up.
func approveAndExecute(t *testing.T, svc *changes.Service, refs []cloud.Ref) changes.Change {
	t.Helper()
	ctx := context.Background()
	alice := changes.Actor{Name: "alice", Roles: auth.Roles{auth.RoleRequester}}
	bob := changes.Actor{Name: "bob", Roles: auth.Roles{auth.RoleApprover}}
	c, err := svc.Plan(ctx, alice, changes.PlanRequest{Refs: refs, Reason: "kill and restart"})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if len(c.Plan.Items) != len(refs) || len(c.Plan.Batches) != 5 || c.ApprovalsRequired != 1 {
		t.Fatalf(
			"plan: %d items in %d batches, %d approvals required",
			len(c.Plan.Items),
			len(c.Plan.Batches),
			c.ApprovalsRequired,
		)
	}
	if c, err = svc.Approve(ctx, bob, c.ID, c.PlanHash, "ok"); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if c, err = svc.Execute(ctx, alice, c.ID, fmt.Sprint(len(refs))); err != nil {
		t.Fatalf("execute: %v", err)
	}
	if c.State != changes.StateExecuting {
		t.Fatalf("after execute: %s", c.State)
	}
	return c
}

func mustGet(t *testing.T, svc *changes.Service, id int64) changes.Change {
	t.Helper()
	c, err := svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFinal(t *testing.T, svc *changes.Service, id int64, limit time.Duration) changes.Change {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c := mustGet(t, svc, id)
		if c.State.Final() {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("change not final within %s: %s %+v", limit, c.State, c.Progress())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkChangeAudit expects exactly one done outcome per planned resource,
// one submission per batch (of batches), one finish, and a chain (with the
// console's signed checkpoints, if any) that verifies.
func checkChangeAudit(t *testing.T, db *sql.DB, data string, id int64, planned map[string]bool, batches int) {
	t.Helper()
	ctx := context.Background()
	log := audit.New(db, audit.Options{Now: time.Now})
	outcomes := map[string]int{}
	var submitted, finished int
	for after := int64(0); ; {
		p, err := log.Query(ctx, audit.Filter{ChangeID: id, After: after, Limit: audit.MaxLimit, Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			switch {
			case e.Action == audit.ActionResourceOutcome:
				outcomes[e.ResourceID]++
				if e.Outcome != string(changes.OpDone) {
					t.Errorf("resource_outcome %s: %s", e.ResourceID, e.Outcome)
				}
			case e.Action == audit.ActionCloudCall && e.Outcome == "submitted":
				submitted++
			case e.Action == audit.ActionChangeFinished:
				finished++
			}
		}
		if after = p.Next; after == 0 {
			break
		}
	}
	for rid := range planned {
		if outcomes[rid] != 1 {
			t.Errorf("%s: %d resource_outcome events, want 1", rid, outcomes[rid])
		}
	}
	if len(outcomes) != len(planned) || submitted != batches || finished != 1 {
		t.Errorf("audit: outcomes for %d resources (want %d), %d batch submissions (want %d), %d finishes (want 1)",
			len(outcomes), len(planned), submitted, batches, finished)
	}
	pub, err := audit.LoadPublicKey(filepath.Join(data, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := log.Verify(ctx, pub); err != nil {
		t.Errorf("audit chain: %v", err)
	} else {
		t.Logf("audit chain: %d events, %d checkpoints verified", rep.Events, rep.Checkpoints)
	}
}

// consoleProcess is "web serve" in a child process.
type consoleProcess struct {
	cmd      *exec.Cmd
	out, log *syncBuffer
	done     chan struct{} // closed when the process has been waited for
}

// startConsoleProcess starts the console on data and the cloud config and
// waits until it answers /readyz.
func startConsoleProcess(t *testing.T, data, cfgPath string) *consoleProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillRestartChild$", "--",
		"serve", "--listen", "127.0.0.1:0", "--data", data, "--cloud-config", cfgPath)
	cmd.Env = append(os.Environ(), killChildEnv+"=1", "DECOM_LOG_LEVEL=warn", "DECOM_DEMO_PASSWORD="+demoPassword)
	p := &consoleProcess{cmd: cmd, out: &syncBuffer{}, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("console pid %d output:\n%s\n%s", cmd.Process.Pid, p.out.String(), truncate(p.log.String(), 4000))
		}
	})
	re := regexp.MustCompile(`decom console: (http://\S+)/`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			resp, err := http.Get(m[1] + "/readyz")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("console at %s not ready: %v %v", m[1], err, resp)
			}
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("console exited: %v\n%s\n%s", cmd.ProcessState, p.out.String(), p.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("console did not start:\n%s\n%s", p.out.String(), p.log.String())
	return nil
}

// kill sends SIGKILL: no deferred function, shutdown hook or flush runs.
func (p *consoleProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("console ended %v, want killed by SIGKILL", p.cmd.ProcessState)
	}
}

// stop asks for a graceful shutdown, so the database is quiet for the checks.
func (p *consoleProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("console stopped with %v", p.cmd.ProcessState)
		}
	case <-time.After(20 * time.Second):
		t.Error("console did not stop within 20s")
	}
}

// writeSimCloudConfig writes a --cloud-config file with one account whose
// endpoints are all the simulator.
func writeSimCloudConfig(t *testing.T, url string) string {
	t.Helper()
	return writeSimCloudConfigSettle(t, url, "")
}

// writeSimCloudConfigSettle is writeSimCloudConfig with the account's
// settle_time ("" for the default).
func writeSimCloudConfigSettle(t *testing.T, url, settle string) string {
	t.Helper()
	acct := map[string]any{"name": "sim", "region": "cn-east-3", "projects": cloudsim.DemoProjects,
		"endpoints": map[string]string{"dms": url, "roma": url, "clouddc": url},
		"ak":        cloudsim.DemoAK, "sk": cloudsim.DemoSK, "simulated": true, "rate_limit": 500, "burst": 100}
	if settle != "" {
		acct["settle_time"] = settle
	}
	b, err := json.Marshal(map[string]any{"accounts": []any{acct}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cloud.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func simRefs(svc cloud.Service, ids []string) []cloud.Ref {
	out := make([]cloud.Ref, len(ids))
	for i, id := range ids {
		out[i] = cloud.Ref{
			Account: "sim",
			Project: cloudsim.DemoProjects[0],
			Service: svc,
			Kind:    cloud.KindInstance,
			ID:      id,
		}
	}
	return out
}

// heldSim is cloudsim on httptest in the test process, so the cloud outlives
// the console. Delete calls are carried out at once but answered only after
// releaseAnswers (or when the caller is gone): the window in which the cloud
// has acted and the console does not know it.
type heldSim struct {
	sim     http.Handler
	srv     *httptest.Server
	release chan struct{}
	once    sync.Once
}

func newHeldSim(t *testing.T) *heldSim {
	f := cloudsim.DefaultFaults()
	f.CloudDCDeleteDelayMS, f.DMSDeleteDelayMS = 2000, 2000
	return newHeldSimFaults(t, f)
}

func newHeldSimFaults(t *testing.T, f cloudsim.Faults) *heldSim {
	h := &heldSim{release: make(chan struct{}),
		sim: cloudsim.New(
			cloudsim.Options{Credentials: cloudsim.DemoCredentials(), Fleet: "empty", Seed: 1, Faults: f},
		)}
	h.srv = httptest.NewServer(h)
	t.Cleanup(func() { h.releaseAnswers(); h.srv.Close() })
	return h
}

func (h *heldSim) releaseAnswers() { h.once.Do(func() { close(h.release) }) }

func (h *heldSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	isDelete := r.Method == http.MethodDelete || r.Method == http.MethodPost &&
		(strings.HasSuffix(p, "/instances/action") || strings.HasSuffix(p, "/instances/batch-delete") ||
			strings.HasSuffix(p, "/assets/delete"))
	if !isDelete {
		h.sim.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, r)
	select {
	case <-h.release:
	case <-r.Context().Done():
		return
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (h *heldSim) control(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

func (h *heldSim) create(t *testing.T, svc, status string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		var got struct{ ID string }
		h.control(t, http.MethodPost, "/_sim/resources", map[string]any{"service": svc, "kind": "instance",
			"project_id": cloudsim.DemoProjects[0], "name": fmt.Sprintf("%s-%s-%d", svc, status, i), "status": status}, &got)
		ids[i] = got.ID
	}
	return ids
}

type heldSimStats struct {
	ByOp    map[string]int `json:"by_operation"`
	Deletes []struct {
		Service, ID string
	} `json:"deletes"`
}

func (h *heldSim) stats(t *testing.T) heldSimStats {
	t.Helper()
	var s heldSimStats
	h.control(t, http.MethodGet, "/_sim/stats", nil, &s)
	return s
}

// waitDeletes waits until the simulator has accepted n deletes.
func (h *heldSim) waitDeletes(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := len(h.stats(t).Deletes)
		if got == n {
			return
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("%d deletes accepted, waited for %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkResources expects every planned resource gone or terminated and every
// other one unchanged.
func (h *heldSim) checkResources(t *testing.T, planned map[string]bool, unplanned map[string]string) {
	t.Helper()
	var out struct{ Resources []struct{ ID, Status string } }
	h.control(t, http.MethodGet, "/_sim/resources", nil, &out)
	live := map[string]string{}
	for _, r := range out.Resources {
		live[r.ID] = r.Status
	}
	for id := range planned {
		if st, ok := live[id]; ok && st != "terminated" {
			t.Errorf("planned %s still live as %q", id, st)
		}
	}
	for id, want := range unplanned {
		if got, ok := live[id]; !ok || got != want {
			t.Errorf("unplanned %s: status %q (present %v), want %q", id, got, ok, want)
		}
	}
}

// checkDeletes expects each planned resource deleted exactly once, in
// exactly the five planned batch calls, and nothing else deleted.
func (h *heldSim) checkDeletes(t *testing.T, planned map[string]bool) {
	t.Helper()
	st := h.stats(t)
	seen := map[string]int{}
	for _, d := range st.Deletes {
		seen[d.ID]++
		if !planned[d.ID] {
			t.Errorf("deleted %s %s outside the plan", d.Service, d.ID)
		}
	}
	for id := range planned {
		if seen[id] != 1 {
			t.Errorf("%s accepted %d deletes, want 1", id, seen[id])
		}
	}
	calls := map[string]int{"clouddc.batch_delete": 2, "dms.batch_delete": 3, "clouddc.delete": 0, "dms.delete": 0}
	for op, want := range calls {
		if st.ByOp[op] != want {
			t.Errorf("%s calls: %d, want %d (all calls %v)", op, st.ByOp[op], want, st.ByOp)
		}
	}
}
