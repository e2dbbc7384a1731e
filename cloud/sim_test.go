package cloud

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

var ctxBG = context.Background()

func TestSimListPaging(t *testing.T) {
	env := newSim(t, "empty", nil)
	counts := map[Service]int{RocketMQ: 101, RabbitMQ: 50, ROMA: 201, CloudDC: 1001}
	for svc, n := range counts {
		env.createN(n, spec{Service: string(svc)})
	}
	sizes := map[Service]int{
		RocketMQ: dmsPageSize,
		RabbitMQ: dmsPageSize,
		ROMA:     romaInstancePage,
		CloudDC:  cloudDCPageSize,
	}
	ops := map[Service]string{
		RocketMQ: "dms.list",
		RabbitMQ: "dms.list",
		ROMA:     "roma.list_instances",
		CloudDC:  "clouddc.list",
	}
	for _, mode := range []authMode{authAKSK, authToken} {
		c, acct := env.client(mode, Options{})
		for _, svc := range Services {
			t.Run(string(mode)+"/"+string(svc), func(t *testing.T) {
				before := env.stats()
				got, err := c.ListInstances(ctxBG, acct, simProject, svc)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != counts[svc] {
					t.Errorf("listed %d, want %d", len(got), counts[svc])
				}
				calls := env.callsSince(before)
				if want := pages(counts[svc], sizes[svc]); calls[ops[svc]] != want || len(calls) != 1 {
					t.Errorf("calls %v, want %d × %s", calls, want, ops[svc])
				}
				seen := map[string]bool{}
				for _, r := range got {
					if seen[r.ID] || r.ID == "" || r.Name == "" || r.Service != svc || r.Account != acct || r.Class != ClassActive ||
						r.CreatedAt.IsZero() || r.Project != simProject ||
						r.Region != "cn-east-3" {
						t.Fatalf("bad or duplicate resource %+v", r)
					}
					seen[r.ID] = true
				}
			})
		}
	}
}

func TestSimROMAAssets(t *testing.T) {
	env := newSim(t, "empty", nil)
	inst := env.create(spec{Service: "roma", Name: "roma-1"})
	env.createN(501, spec{Service: "roma", Kind: "app", InstanceID: inst})
	env.createN(1000, spec{Service: "roma", Kind: "task", InstanceID: inst})
	for _, mode := range []authMode{authAKSK, authToken} {
		t.Run(string(mode), func(t *testing.T) {
			c, acct := env.client(mode, Options{})
			before := env.stats()
			got, err := c.ListROMAAssets(ctxBG, acct, simProject, inst)
			if err != nil {
				t.Fatal(err)
			}
			apps, tasks := 0, 0
			for _, r := range got {
				if r.Parent != inst || r.Service != ROMA {
					t.Fatalf("bad asset %+v", r)
				}
				if r.Kind == KindApp {
					apps++
				} else if r.Kind == KindTask {
					tasks++
				}
			}
			if apps != 501 || tasks != 1000 {
				t.Errorf("apps %d tasks %d", apps, tasks)
			}
			calls := env.callsSince(before)
			if calls["roma.list_apps"] != 2 || calls["roma.list_tasks"] != 2 {
				t.Errorf("calls %v, want 2 app pages (500) and 2 task pages (999)", calls)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		c, acct := env.client(authAKSK, Options{})
		_, err := c.ListROMAAssets(ctxBG, acct, simProject, "no-such-instance")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSimRead(t *testing.T) {
	env := newSim(t, "empty", func(f *cloudsim.Faults) { f.TerminatedRetentionMS = 300 })
	c, acct := env.client(authAKSK, Options{})
	roma := env.create(spec{Service: "roma", Name: "r"})
	ids := map[string]Ref{
		"rocket": {
			Service: RocketMQ,
			Kind:    KindInstance,
			ID:      env.create(spec{Service: "rocketmq", Status: "CREATEFAILED"}),
		},
		"rabbit": {
			Service: RabbitMQ,
			Kind:    KindInstance,
			ID:      env.create(spec{Service: "rabbitmq", Status: "RESTARTING"}),
		},
		"cdc":  {Service: CloudDC, Kind: KindInstance, ID: env.create(spec{Service: "clouddc", Status: "stopped"})},
		"roma": {Service: ROMA, Kind: KindInstance, ID: roma},
		"app": {
			Service: ROMA,
			Kind:    KindApp,
			Parent:  roma,
			ID:      env.create(spec{Service: "roma", Kind: "app", InstanceID: roma, Name: "a1"}),
		},
		"task": {
			Service: ROMA,
			Kind:    KindTask,
			Parent:  roma,
			ID:      env.create(spec{Service: "roma", Kind: "task", InstanceID: roma, Name: "t1"}),
		},
	}
	want := map[string]StatusClass{"rocket": ClassFailed, "rabbit": ClassTransitional, "cdc": ClassActive,
		"roma": ClassActive, "app": ClassActive, "task": ClassActive}
	for name, ref := range ids {
		ref.Account, ref.Project = acct, simProject
		t.Run("OK/"+name, func(t *testing.T) {
			r, err := c.Read(ctxBG, ref)
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != ref.ID || r.Class != want[name] || r.Name == "" || r.Ref.Key() != ref.Key() {
				t.Errorf("got %+v", r)
			}
		})
		t.Run("ErrNotFound/"+name, func(t *testing.T) {
			missing := ref
			missing.ID = "00000000-0000-0000-0000-000000000000"
			if _, err := c.Read(ctxBG, missing); !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v", err)
			}
		})
	}
	t.Run("CloudDC terminated is ClassGone, then ErrNotFound", func(t *testing.T) {
		ref := ids["cdc"]
		ref.Account, ref.Project = acct, simProject
		if err := c.DeleteCloudDC(ctxBG, ref); err != nil {
			t.Fatal(err)
		}
		r, err := c.Read(ctxBG, ref)
		if err != nil || r.Class != ClassDeleting {
			t.Fatalf("after delete: %+v %v", r, err)
		}
		waitFor(t, 3*time.Second, "terminated", func() bool {
			r, err := c.Read(ctxBG, ref)
			return err == nil && r.Class == ClassGone && r.Status == "terminated"
		})
		waitFor(t, 3*time.Second, "404 after retention", func() bool {
			_, err := c.Read(ctxBG, ref)
			return errors.Is(err, ErrNotFound)
		})
	})
}

func TestSimReadMany(t *testing.T) {
	env := newSim(t, "empty", nil)
	c, acct := env.client(authToken, Options{})
	refsOf := func(svc Service, kind Kind, parent string, ids []string) []Ref {
		var out []Ref
		for _, id := range ids {
			out = append(out, Ref{Account: acct, Project: simProject, Service: svc, Kind: kind, Parent: parent, ID: id})
		}
		return out
	}
	check := func(t *testing.T, refs []Ref, wantFound int, wantCalls map[string]int) {
		t.Helper()
		before := env.stats()
		got, err := c.ReadMany(ctxBG, refs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != wantFound {
			t.Errorf("found %d, want %d", len(got), wantFound)
		}
		for _, r := range refs {
			if res, ok := got[r.Key()]; ok && res.ID != r.ID {
				t.Errorf("key %s holds %s", r.Key(), res.ID)
			}
		}
		if calls := env.callsSince(before); !mapsEqual(calls, wantCalls) {
			t.Errorf("calls %v, want %v", calls, wantCalls)
		}
	}
	t.Run("CloudDC 150 ids in 2 calls", func(t *testing.T) {
		ids := env.createN(150, spec{Service: "clouddc"})
		env.createN(30, spec{Service: "clouddc"}) // others not asked for
		refs := refsOf(CloudDC, KindInstance, "", append(ids, "missing-1"))
		check(t, refs, 150, map[string]int{"clouddc.list": 2})
	})
	t.Run("DMS few ids: one show each", func(t *testing.T) {
		ids := env.createN(120, spec{Service: "rocketmq"})
		if _, err := c.ListInstances(ctxBG, acct, simProject, RocketMQ); err != nil { // learns the count
			t.Fatal(err)
		}
		check(t, refsOf(RocketMQ, KindInstance, "", ids[:2]), 2, map[string]int{"dms.show": 2})
	})
	t.Run("DMS many ids: list pages", func(t *testing.T) {
		// 120 RocketMQ instances exist: 3 pages beat 60 shows.
		all, err := c.ListInstances(ctxBG, acct, simProject, RocketMQ)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range all[:60] {
			ids = append(ids, r.ID)
		}
		check(t, refsOf(RocketMQ, KindInstance, "", ids), 60, map[string]int{"dms.list": 3})
	})
	t.Run("DMS unknown count: probe page", func(t *testing.T) {
		ids := env.createN(10, spec{Service: "rabbitmq"})
		check(t, refsOf(RabbitMQ, KindInstance, "", ids), 10, map[string]int{"dms.list": 1})
	})
	t.Run("ROMA assets: one list per kind", func(t *testing.T) {
		inst := env.create(spec{Service: "roma"})
		apps := env.createN(20, spec{Service: "roma", Kind: "app", InstanceID: inst})
		tasks := env.createN(20, spec{Service: "roma", Kind: "task", InstanceID: inst})
		refs := append(refsOf(ROMA, KindApp, inst, apps), refsOf(ROMA, KindTask, inst, tasks)...)
		// Apps carry their instance's enterprise project: one instance list.
		check(t, refs, 40, map[string]int{"roma.list_apps": 1, "roma.list_tasks": 1, "roma.list_instances": 1})
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestSimFaults(t *testing.T) {
	env := newSim(t, "empty", nil)
	env.createN(60, spec{Service: "rocketmq"})
	list := func(c *Client, acct string) error {
		_, err := c.ListInstances(ctxBG, acct, simProject, RocketMQ)
		return err
	}
	t.Run("429 with Retry-After", func(t *testing.T) {
		env.faults(map[string]any{"rate_limit": 1, "retry_after": 1})
		defer env.faults(map[string]any{"rate_limit": 0, "retry_after": 0})
		time.Sleep(time.Second) // fill the bucket
		c, acct := env.client(authAKSK, Options{Sleep: realSleep})
		start := time.Now()
		if err := list(c, acct); err != nil { // 2 pages, 1 token: the second waits for Retry-After
			t.Fatal(err)
		}
		if c.Retries() == 0 || time.Since(start) < 900*time.Millisecond {
			t.Errorf("retries %d after %v", c.Retries(), time.Since(start))
		}
	})
	t.Run("429 without Retry-After", func(t *testing.T) {
		env.faults(map[string]any{"rate_limit": 2})
		defer env.faults(map[string]any{"rate_limit": 0})
		time.Sleep(time.Second)
		c, acct := env.client(authAKSK, Options{Sleep: realSleep, Rand: func() float64 { return 0.9 }})
		for range 3 {
			if err := list(c, acct); err != nil {
				t.Fatal(err)
			}
		}
		if c.Retries() == 0 {
			t.Error("no retries")
		}
	})
	t.Run("5xx retried for reads", func(t *testing.T) {
		env.faults(map[string]any{"error_rate": 0.3})
		defer env.faults(map[string]any{"error_rate": 0})
		c, acct := env.client(authAKSK, Options{Sleep: func(context.Context, time.Duration) error { return nil }})
		for range 10 {
			if err := list(c, acct); err != nil {
				t.Fatal(err)
			}
		}
		if c.Retries() == 0 {
			t.Error("no retries at 30% errors")
		}
	})
	t.Run("5xx exhausted", func(t *testing.T) {
		env.faults(map[string]any{"error_rate": 1})
		defer env.faults(map[string]any{"error_rate": 0})
		c, acct := env.client(authAKSK, Options{Sleep: func(context.Context, time.Duration) error { return nil }})
		err := list(c, acct)
		var ce *Error
		if !errors.Is(err, ErrTransient) || !errors.As(err, &ce) || ce.HTTPStatus != 500 || ce.Code != "DMS.00500000" ||
			ce.RequestID == "" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("latency and deadline", func(t *testing.T) {
		env.faults(map[string]any{"latency_ms": 300})
		defer env.faults(map[string]any{"latency_ms": 0})
		c, acct := env.client(authAKSK, Options{Sleep: func(context.Context, time.Duration) error { return nil }})
		start := time.Now()
		if err := list(c, acct); err != nil || time.Since(start) < 600*time.Millisecond {
			t.Fatalf("err %v after %v (2 pages × 300 ms)", err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(ctxBG, 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err := c.ListInstances(ctx, acct, simProject, RocketMQ)
		if !errors.Is(err, ErrTransient) || time.Since(start) > time.Second {
			t.Errorf("err %v after %v", err, time.Since(start))
		}
	})
	t.Run("delete failures", func(t *testing.T) {
		env.faults(map[string]any{"delete_failure_rate": 1})
		defer env.faults(map[string]any{"delete_failure_rate": 0})
		c, acct := env.client(authAKSK, Options{})
		ids := env.createN(3, spec{Service: "rabbitmq"})
		out, err := c.DeleteDMS(ctxBG, acct, simProject, RabbitMQ, ids, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.Accepted || !strings.Contains(o.Err, "RUNNING") {
				t.Errorf("outcome %+v", o)
			}
		}
		cdc := env.create(spec{Service: "clouddc", Status: "stopped"})
		ref := Ref{Account: acct, Project: simProject, Service: CloudDC, Kind: KindInstance, ID: cdc}
		if err := c.DeleteCloudDC(ctxBG, ref); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Second, "error state", func() bool {
			r, err := c.Read(ctxBG, ref)
			return err == nil && r.Class == ClassFailed && r.Details["error"] == "delete_instance_error"
		})
	})
	t.Run("refuse prepaid delete", func(t *testing.T) {
		env.faults(map[string]any{"refuse_prepaid_delete": true})
		defer env.faults(map[string]any{"refuse_prepaid_delete": false})
		c, acct := env.client(authAKSK, Options{})
		zero := int32(0)
		id := env.create(spec{Service: "rocketmq", ChargingMode: &zero})
		r, err := c.Read(ctxBG, Ref{Account: acct, Project: simProject, Service: RocketMQ, ID: id})
		if err != nil || !r.Prepaid {
			t.Fatalf("%+v %v", r, err)
		}
		out, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, []string{id}, true)
		if err != nil || out[0].Accepted {
			t.Fatalf("%+v %v", out, err)
		}
	})
}

func TestSimBadConfig(t *testing.T) {
	env := newSim(t, "empty", nil)
	t.Run("wrong SK", func(t *testing.T) {
		a := env.account(authAKSK)
		a.SK = "wrong-" + testSK
		c, err := New(Config{Accounts: []Account{a}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListInstances(ctxBG, a.Name, simProject, CloudDC)
		var ce *Error
		if !errors.Is(err, ErrConfig) || !errors.As(err, &ce) || ce.HTTPStatus != 401 || ce.Code != "APIGW.0301" {
			t.Fatalf("err = %v", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("wrong SK passes without signature checks", func(t *testing.T) {
		env.faults(map[string]any{"check_signatures": false})
		defer env.faults(map[string]any{"check_signatures": true})
		a := env.account(authAKSK)
		a.SK = "wrong"
		c, _ := New(Config{Accounts: []Account{a}}, Options{})
		if _, err := c.ListInstances(ctxBG, a.Name, simProject, ROMA); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		a := env.account(authToken)
		a.Token = testToken
		c, _ := New(Config{Accounts: []Account{a}}, Options{})
		_, err := c.ListInstances(ctxBG, a.Name, simProject, RabbitMQ)
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("err = %v", err)
		}
		assertNoSecret(t, err.Error())
	})
	t.Run("project not allowed", func(t *testing.T) {
		a := env.account(authAKSK)
		a.Projects = []string{"ffffffffffffffffffffffffffffffff"}
		c, _ := New(Config{Accounts: []Account{a}}, Options{})
		_, err := c.ListInstances(ctxBG, a.Name, a.Projects[0], RocketMQ)
		if !errors.Is(err, ErrPermission) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("project not configured", func(t *testing.T) {
		c, acct := env.client(authAKSK, Options{})
		if _, err := c.ListInstances(ctxBG, acct, "other", RocketMQ); !errors.Is(err, ErrConfig) {
			t.Fatalf("err = %v", err)
		}
		if _, err := c.ListInstances(ctxBG, "nobody", simProject, RocketMQ); !errors.Is(err, ErrConfig) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		a := env.account(authAKSK)
		a.Endpoints.ROMA = "http://127.0.0.1:1"
		c, _ := New(
			Config{Accounts: []Account{a}},
			Options{Sleep: func(context.Context, time.Duration) error { return nil }},
		)
		_, err := c.ListInstances(ctxBG, a.Name, simProject, ROMA)
		if !errors.Is(err, ErrTransient) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestSimListTenThousand reports calls and time to list 10,000 resources per
// service family (run with -v to see the figures).
func TestSimListTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 30,000 resources")
	}
	const n = 10000
	env := newSim(t, "empty", nil)
	env.createN(n, spec{Service: "rocketmq"})
	env.createN(n, spec{Service: "clouddc"})
	inst := env.create(spec{Service: "roma"})
	env.createN(n, spec{Service: "roma", Kind: "task", InstanceID: inst})
	c, acct := env.client(authAKSK, Options{})
	type row struct {
		name   string
		op     string
		size   int
		listFn func() (int, error)
	}
	rows := []row{
		{"RocketMQ instances", "dms.list", dmsPageSize, func() (int, error) {
			l, err := c.ListInstances(ctxBG, acct, simProject, RocketMQ)
			return len(l), err
		}},
		{"CloudDC instances", "clouddc.list", cloudDCPageSize, func() (int, error) {
			l, err := c.ListInstances(ctxBG, acct, simProject, CloudDC)
			return len(l), err
		}},
		{"ROMA tasks", "roma.list_tasks", romaTaskPage, func() (int, error) {
			l, err := c.ListROMAAssets(ctxBG, acct, simProject, inst)
			return len(l), err
		}},
	}
	var lines []string
	for _, r := range rows {
		before := env.stats()
		start := time.Now()
		got, err := r.listFn()
		d := time.Since(start)
		if err != nil || got != n {
			t.Fatalf("%s: %d, %v", r.name, got, err)
		}
		calls := env.callsSince(before)
		if calls[r.op] != pages(n, r.size) {
			t.Errorf("%s: %v, want %d", r.name, calls, pages(n, r.size))
		}
		lines = append(lines, r.name+": "+strconv.Itoa(calls[r.op])+" calls, "+d.Round(time.Millisecond).String())
	}
	sort.Strings(lines)
	t.Logf("listing %d resources:\n  %s", n, strings.Join(lines, "\n  "))
}

func TestSimConcurrent(t *testing.T) {
	env := newSim(t, "demo", nil)
	c, acct := env.client(authAKSK, Options{})
	tok, tacct := env.client(authToken, Options{})
	errs := make(chan error, 16)
	for i := range 8 {
		go func() {
			cl, a := c, acct
			if i%2 == 1 {
				cl, a = tok, tacct
			}
			for _, svc := range Services {
				list, err := cl.ListInstances(ctxBG, a, simProject, svc)
				if err != nil {
					errs <- err
					return
				}
				var refs []Ref
				for _, r := range list {
					refs = append(refs, r.Ref)
				}
				got, err := cl.ReadMany(ctxBG, refs)
				if err == nil && len(got) != len(refs) {
					err = errors.New("ReadMany lost resources of " + string(svc))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
