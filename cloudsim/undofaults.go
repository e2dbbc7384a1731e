package cloudsim

import (
	"errors"
	"fmt"
)

// UndoFaults are the knobs of the undo paths: the DMS recycle bin and ROMA
// asset export and import (cloud-api.md §2.10, §3.8-§3.11). They are part of
// Faults, so PUT /_sim/faults sets them by these JSON names.
type UndoFaults struct {
	// RecycleDayMS is the length of one retention day of the recycle bin;
	// 0 means a real day (24 h).
	RecycleDayMS int `json:"recycle_day_ms"`
	// RestoreDelayMS is how long a restored DMS instance stays STARTING.
	RestoreDelayMS int `json:"restore_delay_ms"`
	// RestoreFailureRate is the fraction (0..1) of restores that end in
	// ERROR instead of the status the instance had before its delete.
	RestoreFailureRate float64 `json:"restore_failure_rate"`
	// ExportDelayMS is how long a ROMA export job stays RUNNING.
	ExportDelayMS int `json:"export_delay_ms"`
	// ImportDelayMS is how long a ROMA import job stays RUNNING.
	ImportDelayMS int `json:"import_delay_ms"`
	// ExportFailureRate is the fraction (0..1) of export jobs that fail
	// with no archive.
	ExportFailureRate float64 `json:"export_failure_rate"`
}

// DefaultUndoFaults returns the contract's defaults: real retention days, 30 s
// restores, 2 s export and import jobs, no failures.
func DefaultUndoFaults() UndoFaults {
	return UndoFaults{RestoreDelayMS: 30000, ExportDelayMS: 2000, ImportDelayMS: 2000}
}

func (f UndoFaults) validate() error {
	for _, k := range []struct {
		name string
		v    int
	}{{"recycle_day_ms", f.RecycleDayMS}, {"restore_delay_ms", f.RestoreDelayMS},
		{"export_delay_ms", f.ExportDelayMS}, {"import_delay_ms", f.ImportDelayMS}} {
		if k.v < 0 {
			return fmt.Errorf("%s must be >= 0, got %d", k.name, k.v)
		}
	}
	if !(f.RestoreFailureRate >= 0 && f.RestoreFailureRate <= 1) {
		return errors.New("restore_failure_rate must be within 0..1")
	}
	if !(f.ExportFailureRate >= 0 && f.ExportFailureRate <= 1) {
		return errors.New("export_failure_rate must be within 0..1")
	}
	return nil
}
