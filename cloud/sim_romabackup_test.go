package cloud

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/decom/decom/cloudsim"
)

func backupSim(t *testing.T) *simEnv {
	return newSim(t, "empty", func(f *cloudsim.Faults) { f.ExportDelayMS, f.ImportDelayMS = 30, 30 })
}

func assetNames(t *testing.T, c *Client, acct, inst string) []string {
	t.Helper()
	list, err := c.ListROMAAssets(ctxBG, acct, simProject, inst)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list {
		out = append(out, string(r.Kind)+":"+r.Name)
	}
	slices.Sort(out)
	return out
}

// TestSimROMABackupDeleteRestore deletes 30 assets after a backup and
// restores them from the archive: they exist again under their names.
func TestSimROMABackupDeleteRestore(t *testing.T) {
	env := backupSim(t)
	for _, mode := range []authMode{authAKSK, authToken} {
		t.Run(string(mode), func(t *testing.T) {
			c, acct := env.client(mode, Options{})
			inst := env.create(spec{Service: "roma"})
			apps := env.createN(12, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "app"})
			tasks := env.createN(18, spec{Service: "roma", Kind: "task", InstanceID: inst, Name: "task"})
			env.createN(2, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "keep"})
			before := assetNames(t, c, acct, inst)

			b, err := c.BackupROMA(ctxBG, acct, simProject, inst, apps, tasks)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b.Data)
			if b.SHA256 != hex.EncodeToString(sum[:]) || len(b.ArchiveID) != 32 || len(b.JobID) != 32 {
				t.Fatalf("backup %+v", b)
			}
			// The archive was downloadable once.
			if _, err := c.DownloadROMAArchive(ctxBG, acct, simProject, inst, b.ArchiveID); !errors.Is(
				err,
				ErrNotFound,
			) {
				t.Fatalf("second download: %v", err)
			}
			job, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, apps, tasks)
			if err != nil {
				t.Fatal(err)
			}
			if j, err := c.WaitROMAJob(ctxBG, acct, simProject, inst, job); err != nil || j.Status != JobSucceeded {
				t.Fatalf("delete job %+v %v", j, err)
			}
			if left := assetNames(t, c, acct, inst); len(left) != 2 {
				t.Fatalf("after delete: %v", left)
			}
			path := filepath.Join(t.TempDir(), b.SHA256+".zip")
			if err := os.WriteFile(path, b.Data, 0o600); err != nil {
				t.Fatal(err)
			}
			job, err = c.SubmitROMAImport(ctxBG, acct, simProject, inst, path)
			if err != nil {
				t.Fatal(err)
			}
			j, err := c.WaitROMAJob(ctxBG, acct, simProject, inst, job)
			if err != nil || j.Status != JobSucceeded || j.Type != "importAsset" {
				t.Fatalf("import job %+v %v", j, err)
			}
			if after := assetNames(t, c, acct, inst); !slices.Equal(after, before) {
				t.Fatalf("restored %v, want %v", after, before)
			}
			// Importing again clashes by name: one reason per asset.
			job, _ = c.SubmitROMAImport(ctxBG, acct, simProject, inst, path)
			j, err = c.WaitROMAJob(ctxBG, acct, simProject, inst, job)
			if err != nil || j.Status != JobFailed || len(j.Reasons) != 30 || j.Reasons[0].Code != "ROMA.00000409" {
				t.Fatalf("second import %+v %v", j, err)
			}
		})
	}
}

func TestSimROMABackupErrors(t *testing.T) {
	env := backupSim(t)
	c, acct := env.client(authAKSK, Options{})
	inst := env.create(spec{Service: "roma"})
	app := env.create(spec{Service: "roma", Kind: "app", InstanceID: inst})
	t.Run("export fails: nothing to download", func(t *testing.T) {
		_, err := c.BackupROMA(ctxBG, acct, simProject, inst, []string{app, "missing"}, nil)
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("err %v", err)
		}
		if names := assetNames(t, c, acct, inst); len(names) != 1 {
			t.Fatalf("export changed assets: %v", names)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		if _, err := c.SubmitROMAExport(ctxBG, acct, simProject, inst, nil, nil); !errors.Is(err, ErrPermanent) {
			t.Fatalf("empty export: %v", err)
		}
		if _, err := c.SubmitROMAImport(ctxBG, acct, simProject, inst, ""); !errors.Is(err, ErrPermanent) {
			t.Fatalf("empty path: %v", err)
		}
		if _, err := c.SubmitROMAImport(ctxBG, acct, simProject, inst, filepath.Join(t.TempDir(), "none.zip")); !errors.Is(
			err,
			ErrPermanent,
		) {
			t.Fatalf("missing file: %v", err)
		}
		junk := filepath.Join(t.TempDir(), "junk.zip")
		os.WriteFile(junk, []byte("not a zip"), 0o600)
		if _, err := c.SubmitROMAImport(ctxBG, acct, simProject, inst, junk); !errors.Is(err, ErrPermanent) {
			t.Fatalf("junk archive: %v", err)
		}
		if _, err := c.DownloadROMAArchive(ctxBG, acct, simProject, inst, "0123"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown archive: %v", err)
		}
		if _, err := c.SubmitROMAExport(ctxBG, acct, simProject, "no-such-instance", []string{app}, nil); !errors.Is(
			err,
			ErrNotFound,
		) {
			t.Fatalf("unknown instance: %v", err)
		}
	})
	t.Run("one job at a time", func(t *testing.T) {
		// A delete job of this identity is running; the export waits for it.
		apps := env.createN(10, spec{Service: "roma", Kind: "app", InstanceID: inst, Name: "slow"})
		env.faults(map[string]any{"roma_asset_ms": 30})
		defer env.faults(map[string]any{"roma_asset_ms": 5})
		if _, err := c.SubmitROMADelete(ctxBG, acct, simProject, inst, apps[:9], nil); err != nil {
			t.Fatal(err)
		}
		b, err := c.BackupROMA(ctxBG, acct, simProject, inst, apps[9:], nil)
		if err != nil || len(b.Data) == 0 {
			t.Fatalf("export after a running delete: %v", err)
		}
	})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
