package cloud

import (
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// TestSimUndoShare measures, at the cloud layer, the share of deletions
// that can be undone within the retention: DMS deletes that are not forced
// with the recycle policy on (all of them land in the bin; 5 restored run
// again), ROMA assets deleted after a backup (all re-imported under their
// names), CloudDC (no undo in the API).
//
//	go test -count=1 -run UndoShare -v ./cloud/
func TestSimUndoShare(t *testing.T) {
	env := newSim(t, "empty", func(f *cloudsim.Faults) {
		f.RestoreDelayMS, f.ExportDelayMS, f.ImportDelayMS = 100, 20, 20
	})
	c, acct := env.client(authAKSK, Options{})
	env.control("PUT", "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": simProject,
		"retention_days": 3, "default_use_recycle": true}, nil)
	share := map[Service]float64{}
	for _, svc := range []Service{RocketMQ, RabbitMQ} {
		ids := env.createN(20, spec{Service: string(svc)})
		if _, err := c.DeleteDMS(ctxBG, acct, simProject, svc, ids, false); err != nil {
			t.Fatal(err)
		}
		var bin []RecycleEntry
		waitFor(t, 5*time.Second, "the bin", func() bool {
			var err error
			bin, err = c.RecycleBin(ctxBG, acct, simProject, svc)
			return err == nil && len(bin) == len(ids)
		})
		restorable := 0
		for _, e := range bin {
			if e.Restorable(time.Now()) {
				restorable++
			}
		}
		share[svc] = float64(restorable) / float64(len(ids))
		outs, err := c.RestoreDMS(ctxBG, acct, simProject, svc, ids[:5])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outs {
			if !o.Accepted {
				t.Fatalf("restore %+v", o)
			}
		}
		waitFor(t, 5*time.Second, "restored instances running", func() bool {
			got, err := c.ReadMany(ctxBG, refsFor(acct, svc, ids[:5]))
			if err != nil || len(got) != 5 {
				return false
			}
			for _, r := range got {
				if r.Status != "RUNNING" {
					return false
				}
			}
			return true
		})
	}
	inst := env.create(spec{Service: "roma"})
	apps := env.createN(10, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "app"})
	tasks := env.createN(20, spec{Service: "roma", Kind: "task", InstanceID: inst, Name: "task"})
	before := assetNames(t, c, acct, inst)
	b, err := c.BackupROMA(ctxBG, acct, simProject, inst, apps, tasks)
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, apps, tasks)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitROMAJob(ctxBG, acct, simProject, inst, job); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/" + b.SHA256 + ".zip"
	writeFile(t, path, b.Data)
	if job, err = c.SubmitROMAImport(ctxBG, acct, simProject, inst, path); err != nil {
		t.Fatal(err)
	}
	if j, err := c.WaitROMAJob(ctxBG, acct, simProject, inst, job); err != nil || j.Status != JobSucceeded {
		t.Fatalf("import %+v %v", j, err)
	}
	restored := 0
	after := map[string]bool{}
	for _, n := range assetNames(t, c, acct, inst) {
		after[n] = true
	}
	for _, n := range before {
		if after[n] {
			restored++
		}
	}
	share[ROMA] = float64(restored) / float64(len(before))
	share[CloudDC] = 0
	for _, svc := range Services {
		t.Logf("undoable within the retention, %s: %.0f %%", svc, 100*share[svc])
	}
	if share[RocketMQ] != 1 || share[RabbitMQ] != 1 || share[ROMA] != 1 {
		t.Fatalf("shares %v, want 100 %% for DMS with the bin on and ROMA with backup", share)
	}
}

func refsFor(acct string, svc Service, ids []string) []Ref {
	out := make([]Ref, 0, len(ids))
	for _, id := range ids {
		out = append(out, Ref{Account: acct, Project: simProject, Service: svc, Kind: KindInstance, ID: id})
	}
	return out
}
