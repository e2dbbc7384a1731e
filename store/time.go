package store

import "time"

// TimeLayout is the one encoding of times in decom's tables: UTC, fixed width
// with nanoseconds, so text order is time order and range queries on the
// column are plain string comparisons. (The audit log keeps its own, equal,
// constant: its layout is part of the documented hash encoding.)
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime encodes t for a column; the zero time is stored as "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// ParseTime decodes a column written by FormatTime; "" (or anything else it
// did not write) gives the zero time.
func ParseTime(s string) time.Time {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
