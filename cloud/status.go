package cloud

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// DMSClass normalises a DMS (RocketMQ/RabbitMQ) instance status (§2.5).
// Unknown values are transitional: decom never deletes what it does not
// understand.
func DMSClass(status string) StatusClass {
	switch strings.ToUpper(status) {
	case "RUNNING", "FROZEN":
		return ClassActive
	case "CREATEFAILED", "ERROR", "EXTENDEDFAILED", "ROLLBACKFAILED":
		return ClassFailed
	case "DELETING":
		return ClassDeleting
	case "DELETED":
		return ClassGone
	}
	return ClassTransitional // CREATING, RESTARTING, EXTENDING, SHRINKING, CONFIGURING, ...
}

// ROMAInstanceClass normalises a ROMA instance status (§3.1), accepting the
// SDK's DELETE_FALIED typo.
func ROMAInstanceClass(status string) StatusClass {
	switch strings.ToUpper(status) {
	case "RUNNING", "FROZEN":
		return ClassActive
	case "ERROR", "CREATE_FAILED", "DELETE_FAILED", "DELETE_FALIED":
		return ClassFailed
	case "DELETING":
		return ClassDeleting
	case "DELETED", "SOFT_DELETED":
		return ClassGone
	}
	return ClassTransitional // CREATING, FREEZING, unknown
}

// CloudDCClass normalises a CloudDC instance state (§4.5). "failed" (the
// list filter's word) is the same as "error".
func CloudDCClass(state string) StatusClass {
	switch strings.ToLower(state) {
	case "running", "stopped", "pending":
		return ClassActive
	case "error", "failed":
		return ClassFailed
	case "shutting-down":
		return ClassDeleting
	case "terminated":
		return ClassGone
	}
	return ClassTransitional // stopping, reinstalling, unknown
}

// ROMAJobStatus normalises a ROMA asset job status, case-insensitively and
// with the older spellings (§3.5). ok is false for an unknown value.
func ROMAJobStatus(s string) (status JobStatus, ok bool) {
	switch strings.ToLower(s) {
	case "running":
		return JobRunning, true
	case "succeeded", "success", "finished":
		return JobSucceeded, true
	case "failed":
		return JobFailed, true
	}
	return "", false
}

// JobProgress clamps progress_percent to 0..1; a value above 1 is read as a
// percentage (§3.5).
func JobProgress(p float64) float64 {
	if p > 1 {
		p /= 100
	}
	return max(0, min(1, p))
}

// parseEpochMillis reads DMS created_at ("1700000000000"); zero if bad.
func parseEpochMillis(s string) time.Time {
	ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// parseTime reads an RFC 3339 time; zero if empty or bad.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
