package cloud

import (
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// BenchmarkReadRecycleBin reads a project's bin of 200 instances through
// the SDK (one call), as the recycle-bin page does per project.
//
//	go test -run '^$' -bench ReadRecycleBin ./cloud/
func BenchmarkReadRecycleBin(b *testing.B) {
	env := newSim(b, "empty", func(f *cloudsim.Faults) { f.DMSDeleteDelayMS = 0 })
	c, acct := env.client(authAKSK, Options{})
	env.control("PUT", "/_sim/recycle", map[string]any{"service": "rocketmq", "project_id": simProject,
		"default_use_recycle": true}, nil)
	ids := env.createN(200, spec{Service: "rocketmq"})
	for _, chunk := range Chunk(ids, MaxDMSBatch) {
		if _, err := c.DeleteDMS(ctxBG, acct, simProject, RocketMQ, chunk, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		bin, err := c.ReadRecycleBin(ctxBG, acct, simProject)
		if err != nil || len(bin.Entries) != 200 {
			b.Fatalf("%d entries, %v", len(bin.Entries), err)
		}
	}
}

// BenchmarkBackupROMA exports 100 assets, waits for the job and downloads
// the archive (export_delay_ms 0, so the figure is the client and
// simulator work), reporting the archive size.
//
//	go test -run '^$' -bench BackupROMA ./cloud/
func BenchmarkBackupROMA(b *testing.B) {
	env := newSim(b, "empty", func(f *cloudsim.Faults) { f.ExportDelayMS = 0 })
	c, acct := env.client(authAKSK, Options{PollInterval: time.Millisecond})
	inst := env.create(spec{Service: "roma"})
	apps := env.createN(40, spec{Service: "roma", Kind: "app", InstanceID: inst})
	tasks := env.createN(60, spec{Service: "roma", Kind: "task", InstanceID: inst})
	var size int
	b.ResetTimer()
	for b.Loop() {
		bk, err := c.BackupROMA(ctxBG, acct, simProject, inst, apps, tasks)
		if err != nil {
			b.Fatal(err)
		}
		size = len(bk.Data)
	}
	b.ReportMetric(float64(size), "archive-bytes")
}
