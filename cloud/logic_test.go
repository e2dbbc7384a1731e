package cloud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "id" + strconv.Itoa(i)
	}
	return out
}

func TestChunk(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int
	}{
		{0, 50, nil}, {1, 50, []int{1}}, {50, 50, []int{50}}, {51, 50, []int{50, 1}},
		{120, 50, []int{50, 50, 20}}, {3, 0, []int{3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n, "/", tt.size), func(t *testing.T) {
			in := ids(tt.n)
			got := Chunk(in, tt.size)
			var sizes []int
			var flat []string
			for _, c := range got {
				sizes = append(sizes, len(c))
				flat = append(flat, c...)
			}
			if !slices.Equal(sizes, tt.want) {
				t.Errorf("sizes %v, want %v", sizes, tt.want)
			}
			if !slices.Equal(flat, in) && tt.n > 0 {
				t.Error("order or content changed")
			}
		})
	}
	// Appending to a chunk must not overwrite the next one.
	in := ids(4)
	c := Chunk(in, 2)
	_ = append(c[0], "x")
	if in[2] != "id2" {
		t.Error("chunk aliases the next chunk's backing array")
	}
}

func TestChunkROMA(t *testing.T) {
	tests := []struct {
		name        string
		apps, tasks int
		want        [][2]int // apps, tasks per batch
	}{
		{"empty", 0, 0, nil},
		{"apps only", 3, 0, [][2]int{{3, 0}}},
		{"exactly 100", 60, 40, [][2]int{{60, 40}}},
		{"101", 60, 41, [][2]int{{60, 40}, {0, 1}}},
		{"many apps", 250, 0, [][2]int{{100, 0}, {100, 0}, {50, 0}}},
		{"mixed", 150, 120, [][2]int{{100, 0}, {50, 50}, {0, 70}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ChunkROMA(ids(tt.apps), ids(tt.tasks))
			var sizes [][2]int
			for _, b := range got {
				if b.Size() > MaxROMABatch || b.Size() == 0 {
					t.Errorf("batch size %d", b.Size())
				}
				sizes = append(sizes, [2]int{len(b.Apps), len(b.Tasks)})
			}
			if !slices.Equal(sizes, tt.want) {
				t.Errorf("got %v, want %v", sizes, tt.want)
			}
		})
	}
}

func TestDMSClass(t *testing.T) {
	want := map[string]StatusClass{
		"RUNNING": ClassActive, "FROZEN": ClassActive,
		"CREATEFAILED": ClassFailed, "ERROR": ClassFailed, "EXTENDEDFAILED": ClassFailed, "ROLLBACKFAILED": ClassFailed,
		"DELETING": ClassDeleting, "DELETED": ClassGone,
		"CREATING": ClassTransitional, "RESTARTING": ClassTransitional, "EXTENDING": ClassTransitional,
		"SHRINKING": ClassTransitional, "CONFIGURING": ClassTransitional, "ROLLBACK": ClassTransitional,
		"VOLUMETYPECHANGING": ClassTransitional, "FREEZING": ClassTransitional, "STARTING": ClassTransitional,
		"UPGRADING": ClassTransitional, "ROLLINGBACK": ClassTransitional, "SOMETHINGNEW": ClassTransitional, "": ClassTransitional,
		"running": ClassActive,
	}
	for s, w := range want {
		if got := DMSClass(s); got != w {
			t.Errorf("DMSClass(%q) = %s, want %s", s, got, w)
		}
	}
}

func TestROMAInstanceClass(t *testing.T) {
	want := map[string]StatusClass{
		"RUNNING": ClassActive, "FROZEN": ClassActive, "CREATING": ClassTransitional, "FREEZING": ClassTransitional,
		"DELETING": ClassDeleting, "DELETED": ClassGone, "SOFT_DELETED": ClassGone,
		"ERROR": ClassFailed, "CREATE_FAILED": ClassFailed, "DELETE_FAILED": ClassFailed, "DELETE_FALIED": ClassFailed,
		"Running": ClassActive, "other": ClassTransitional,
	}
	for s, w := range want {
		if got := ROMAInstanceClass(s); got != w {
			t.Errorf("ROMAInstanceClass(%q) = %s, want %s", s, got, w)
		}
	}
}

func TestCloudDCClass(t *testing.T) {
	want := map[string]StatusClass{
		"pending": ClassActive, "running": ClassActive, "stopped": ClassActive,
		"stopping": ClassTransitional, "reinstalling": ClassTransitional,
		"shutting-down": ClassDeleting, "terminated": ClassGone, "error": ClassFailed, "failed": ClassFailed,
		"RUNNING": ClassActive, "weird": ClassTransitional,
	}
	for s, w := range want {
		if got := CloudDCClass(s); got != w {
			t.Errorf("CloudDCClass(%q) = %s, want %s", s, got, w)
		}
	}
}

func TestROMAJobStatus(t *testing.T) {
	tests := []struct {
		in   string
		want JobStatus
		ok   bool
	}{
		{"RUNNING", JobRunning, true}, {"Running", JobRunning, true},
		{"SUCCEEDED", JobSucceeded, true}, {"Success", JobSucceeded, true}, {"Finished", JobSucceeded, true},
		{"FAILED", JobFailed, true}, {"Failed", JobFailed, true}, {"", "", false}, {"PAUSED", "", false},
	}
	for _, tt := range tests {
		got, ok := ROMAJobStatus(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ROMAJobStatus(%q) = %q,%v want %q,%v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJobProgress(t *testing.T) {
	for in, want := range map[float64]float64{0: 0, 0.35: 0.35, 1: 1, 50: 0.5, 100: 1, 250: 1, -0.2: 0} {
		if got := JobProgress(in); got != want {
			t.Errorf("JobProgress(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestParseTimes(t *testing.T) {
	if got := parseEpochMillis("1700000000000"); !got.Equal(time.UnixMilli(1700000000000)) {
		t.Errorf("parseEpochMillis = %v", got)
	}
	if !parseEpochMillis("x").IsZero() || !parseEpochMillis("").IsZero() {
		t.Error("bad epoch should be zero")
	}
	if got := parseTime("2024-05-01T08:00:00Z"); got.Year() != 2024 || got.Hour() != 8 {
		t.Errorf("parseTime = %v", got)
	}
}

func TestDeletable(t *testing.T) {
	dms := func(status string) Resource {
		return Resource{Ref: Ref{Service: RocketMQ}, Status: status, Class: DMSClass(status)}
	}
	cdc := func(state string) Resource {
		return Resource{Ref: Ref{Service: CloudDC}, Status: state, Class: CloudDCClass(state)}
	}
	tests := []struct {
		name   string
		r      Resource
		reason string // "" = deletable
	}{
		{"dms running", dms("RUNNING"), ""},
		{"dms createfailed", Resource{Ref: Ref{Service: RabbitMQ}, Status: "CREATEFAILED", Class: ClassFailed}, ""},
		{"dms frozen", dms("FROZEN"), ""},
		{"dms deleting", dms("DELETING"), "DELETING: already being deleted"},
		{"dms restarting", dms("RESTARTING"), "RESTARTING: an operation is in progress; wait until it ends"},
		{"dms extending", dms("EXTENDING"), "EXTENDING: an operation is in progress; wait until it ends"},
		{"dms creating", dms("CREATING"), "CREATING: an operation is in progress; wait until it ends"},
		{
			"dms starting (restored from the bin)",
			dms("STARTING"),
			"STARTING: an operation is in progress; wait until it ends",
		},
		{"dms unknown status", dms("SOMETHINGNEW"), "SOMETHINGNEW: an operation is in progress; wait until it ends"},
		{"dms empty status", dms(""), "unknown status: an operation is in progress; wait until it ends"},
		{"clouddc running must be stopped first", cdc("running"), "running: stop it first"},
		{"clouddc running in upper case", cdc("RUNNING"), "RUNNING: stop it first"},
		{"clouddc stopped", cdc("stopped"), ""},
		{"clouddc pending", cdc("pending"), ""},
		{"clouddc error", cdc("error"), ""},
		{"clouddc stopping", cdc("stopping"), "stopping: an operation is in progress; wait until it ends"},
		{"clouddc shutting-down", cdc("shutting-down"), "shutting-down: already being deleted"},
		{"clouddc terminated", cdc("terminated"), "terminated: already deleted"},
		{"roma app", Resource{Ref: Ref{Service: ROMA, Kind: KindApp}, Status: "ACTIVE", Class: ClassActive}, ""},
		{"unknown class", Resource{Ref: Ref{Service: ROMA}, Status: "X", Class: "weird"},
			"X: an operation is in progress; wait until it ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.NotDeletableReason(); got != tt.reason {
				t.Errorf("NotDeletableReason() = %q, want %q", got, tt.reason)
			}
			if got, want := tt.r.Deletable(), tt.reason == ""; got != want {
				t.Errorf("Deletable() = %v, want %v", got, want)
			}
		})
	}
}

func TestDeleteFailed(t *testing.T) {
	cdc := func(status string, details map[string]string) Resource {
		return Resource{Ref: Ref{Service: CloudDC}, Status: status, Details: details}
	}
	tests := []struct {
		name string
		r    Resource
		want bool
	}{
		{"uninstall failed", cdc("error", map[string]string{"operation": "uninstall-failed"}), true},
		{"delete error type", cdc("error", map[string]string{"error": "delete_instance_error"}), true},
		{
			"create failed",
			cdc("error", map[string]string{"operation": "install-failed", "error": "create_instance_error"}),
			false,
		},
		{"error without details", cdc("error", nil), false},
		{"stopped", cdc("stopped", map[string]string{"operation": "uninstall-failed"}), false},
		{"DMS is never judged by CloudDC details", Resource{Ref: Ref{Service: RocketMQ}, Status: "error",
			Details: map[string]string{"operation": "uninstall-failed"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.DeleteFailed(); got != tt.want {
				t.Errorf("DeleteFailed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTagSelector(t *testing.T) {
	tags := []Tag{{Key: "env", Value: "Prod"}, {Key: "decom:protect", Value: ""}, {Key: "team", Value: "a=b"}}
	tests := []struct {
		in      string
		want    TagSelector
		matches bool
		err     bool
	}{
		{in: "env", want: TagSelector{Key: "env", AnyValue: true}, matches: true},
		{in: "ENV", want: TagSelector{Key: "ENV", AnyValue: true}, matches: true},
		{in: "env=prod", want: TagSelector{Key: "env", Value: "prod"}, matches: true},
		{in: "env=dev", want: TagSelector{Key: "env", Value: "dev"}, matches: false},
		{in: " env =Prod", want: TagSelector{Key: "env", Value: "Prod"}, matches: true},
		{in: "decom:protect=", want: TagSelector{Key: "decom:protect", Value: ""}, matches: true},
		{in: "team=a=b", want: TagSelector{Key: "team", Value: "a=b"}, matches: true},
		{in: "owner", want: TagSelector{Key: "owner", AnyValue: true}, matches: false},
		{in: "", err: true},
		{in: "=x", err: true},
		{in: "   ", err: true},
		{in: strings.Repeat("k", 129), err: true},
		{in: "k=" + strings.Repeat("v", 256), err: true},
		{in: "k\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTagSelector(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParseTagSelector(%q) error %v, want error %v", tt.in, err, tt.err)
			}
			if tt.err {
				return
			}
			if got != tt.want {
				t.Errorf("ParseTagSelector(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if m := got.Matches(tags); m != tt.matches {
				t.Errorf("Matches = %v, want %v", m, tt.matches)
			}
			if again, _ := ParseTagSelector(got.String()); again != got {
				t.Errorf("String() %q does not parse back: %+v", got.String(), again)
			}
		})
	}
}
