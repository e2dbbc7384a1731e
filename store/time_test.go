package store_test

import (
	"testing"
	"time"

	"github.com/decom/decom/store"
)

func TestTimeEncoding(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	a := time.Date(2026, 11, 24, 15, 4, 5, 7, cst)
	b := a.Add(time.Millisecond)
	if got := store.FormatTime(a); got != "2026-11-24T07:04:05.000000007Z" {
		t.Errorf("FormatTime = %q, want UTC with nanoseconds", got)
	}
	if got := store.ParseTime(store.FormatTime(a)); !got.Equal(a) {
		t.Errorf("round trip: %v, want %v", got, a)
	}
	if !(store.FormatTime(a) < store.FormatTime(b)) {
		t.Error("text order is not time order")
	}
	if store.FormatTime(time.Time{}) != "" || !store.ParseTime("").IsZero() || !store.ParseTime("yesterday").IsZero() {
		t.Error("zero time must encode as \"\" and unreadable text decode as zero")
	}
}
