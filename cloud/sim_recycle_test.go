package cloud

import (
	"errors"
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

func TestSimRecycleBin(t *testing.T) {
	env := newSim(t, "empty", func(f *cloudsim.Faults) { f.RestoreDelayMS = 300 })
	for _, mode := range []authMode{authAKSK, authToken} {
		t.Run(string(mode), func(t *testing.T) {
			c, acct := env.client(mode, Options{})
			env.control("POST", "/_sim/reset", map[string]any{"fleet": "empty"}, nil)
			pol, err := c.RecyclePolicy(ctxBG, acct, simProject)
			if err != nil || pol != (RecyclePolicy{RetentionDays: 7}) {
				t.Fatalf("default policy %+v %v", pol, err)
			}
			pol, err = c.SetRecyclePolicy(
				ctxBG,
				acct,
				simProject,
				RecyclePolicyChange{RetentionDays: ptr(3), DefaultUseRecycle: ptr(true)},
			)
			if err != nil || pol != (RecyclePolicy{RetentionDays: 3, DefaultUseRecycle: true}) {
				t.Fatalf("set policy %+v %v", pol, err)
			}
			if _, err := c.SetRecyclePolicy(ctxBG, acct, simProject, RecyclePolicyChange{RetentionDays: ptr(8)}); !errors.Is(
				err,
				ErrPermanent,
			) {
				t.Fatalf("8 days: %v", err)
			}
			if _, err := c.SetRecyclePolicy(ctxBG, acct, simProject, RecyclePolicyChange{}); !errors.Is(
				err,
				ErrPermanent,
			) {
				t.Fatalf("empty change: %v", err)
			}
			rocket := env.createN(3, spec{Service: "rocketmq", Name: "mq"})
			rabbit := env.create(spec{Service: "rabbitmq", Name: "rabbit", Status: "ERROR"})
			forced := env.create(spec{Service: "rocketmq", Name: "forced"})
			if _, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, rocket, false); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, []string{forced}, true); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteDMSInstance(ctxBG, Ref{Account: acct, Project: simProject, Service: RabbitMQ,
				Kind: KindInstance, ID: rabbit}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var bin RecycleBin
			waitFor(t, 5*time.Second, "4 instances in the bin", func() bool {
				bin, err = c.ReadRecycleBin(ctxBG, acct, simProject)
				return err == nil && len(bin.Entries) == 4
			})
			for _, e := range bin.Entries {
				if e.SaveDays != 3 || e.AutoDelete.Sub(e.InRecycle) != 72*time.Hour || e.InRecycle.Before(start.Add(-time.Minute)) ||
					!e.Restorable(time.Now()) || e.Ref.Account != acct ||
					e.Ref.Kind != KindInstance ||
					e.ProductID == "" {
					t.Fatalf("entry %+v", e)
				}
			}
			rabbits, err := c.RecycleBin(ctxBG, acct, simProject, RabbitMQ)
			if err != nil || len(rabbits) != 1 || rabbits[0].Ref.ID != rabbit || rabbits[0].Status != "ERROR" ||
				rabbits[0].Name != "rabbit" {
				t.Fatalf("rabbit bin %+v %v", rabbits, err)
			}
			if _, err := c.RecycleBin(ctxBG, acct, simProject, ROMA); !errors.Is(err, ErrPermanent) {
				t.Fatalf("roma bin: %v", err)
			}
			// Restore two and an unknown ID; a repeat counts as accepted
			// once the instance is live again.
			outs, err := c.RestoreDMS(ctxBG, acct, simProject, RocketMQ, []string{rocket[0], "no-such-id", rocket[1]})
			if err != nil || len(outs) != 3 || !outs[0].Accepted || len(outs[0].JobID) != 32 || outs[1].Accepted ||
				outs[1].Err == "" || !outs[2].Accepted || outs[2].Ref.ID != rocket[1] || outs[2].Ref.Service != RocketMQ {
				t.Fatalf("restore %+v %v", outs, err)
			}
			again, err := c.RestoreDMS(ctxBG, acct, simProject, RocketMQ, []string{rocket[0]})
			if err != nil || !again[0].Accepted || again[0].JobID != "" {
				t.Fatalf("repeat %+v %v", again, err)
			}
			ref := Ref{Account: acct, Project: simProject, Service: RocketMQ, Kind: KindInstance, ID: rocket[0]}
			r, err := c.Read(ctxBG, ref)
			if err != nil || r.Status != "STARTING" || r.Class != ClassTransitional || r.Deletable() {
				t.Fatalf("restoring %+v %v", r, err)
			}
			waitFor(t, 5*time.Second, "running again", func() bool {
				r, err = c.Read(ctxBG, ref)
				return err == nil && r.Status == "RUNNING"
			})
			if bin, _ := c.ReadRecycleBin(ctxBG, acct, simProject); len(bin.Entries) != 2 {
				t.Fatalf("bin after restore %+v", bin.Entries)
			}
		})
	}
}

func TestSimRestoreChunks(t *testing.T) {
	env := newSim(t, "empty", nil)
	c, acct := env.client(authAKSK, Options{})
	env.control("PUT", "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": simProject,
		"default_use_recycle": true}, nil)
	ids := env.createN(60, spec{Service: "rocketmq"})
	if _, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, ids, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "60 in the bin", func() bool {
		es, err := c.RecycleBin(ctxBG, acct, simProject, RocketMQ)
		return err == nil && len(es) == 60
	})
	before := env.stats()
	outs, err := c.RestoreDMS(ctxBG, acct, simProject, RocketMQ, ids)
	if err != nil || len(outs) != 60 {
		t.Fatalf("%d %v", len(outs), err)
	}
	for i, o := range outs {
		if !o.Accepted || o.Ref.ID != ids[i] {
			t.Fatalf("outcome %d %+v", i, o)
		}
	}
	if calls := env.callsSince(before); calls["dms.restore"] != 2 || len(calls) != 1 {
		t.Fatalf("calls %v, want 2 restores of at most 50", calls)
	}
}
