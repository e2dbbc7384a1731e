package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func seqs(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQuery(t *testing.T) {
	ctx := context.Background()
	l, db, _ := newTestLog(t)
	appendSample(t, l, db, 20) // event seq s has i = s-1
	tests := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"All", Filter{Limit: 3}, []int64{20, 19, 18}},
		{"Actor", Filter{Actor: "bob", Limit: 3}, []int64{20, 18, 16}},
		{"Action", Filter{Action: ActionCloudCall, Limit: 2}, []int64{20, 18}},
		{"Service", Filter{Service: "ecs", Limit: 1}, []int64{20}},
		{"ResourceID", Filter{ResourceID: "i-002"}, []int64{18, 13, 8, 3}},
		{"ChangeID", Filter{ChangeID: 3, Limit: 3}, []int64{18, 15, 12}},
		{"Outcome", Filter{Outcome: OutcomeFailure}, []int64{17, 13, 9, 5, 1}},
		{"TimeRange", Filter{From: t0.Add(5 * time.Second), To: t0.Add(8 * time.Second)}, []int64{7, 6, 5}},
		{"Combined", Filter{Actor: "alice", Outcome: OutcomeFailure, ResourceID: "i-000"}, []int64{1}},
		{"Text", Filter{Text: "w12"}, []int64{13}},
		{"TextResourceName", Filter{Text: "web 4", Limit: 2}, []int64{20, 15}},
		{"TextPrefix", Filter{Text: "w1*", ChangeID: 2}, []int64{20, 17, 14, 11, 2}},
		{"TextHostile", Filter{Text: `"w3")( -`}, []int64{4}},
		{"TextOperatorsAreWords", Filter{Text: `w3 OR NEAR/3 -w4 "`}, []int64{}},
		{"TextCompoundWord", Filter{Text: "WEB-4"}, []int64{20, 15, 10, 5}},
		{"TextCompoundNoSubstring", Filter{Text: "web-40"}, []int64{}},
		{"Oldest", Filter{ChangeID: 1, Oldest: true, Limit: 2}, []int64{1, 4}},
		{"NoMatch", Filter{Actor: "<script>"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := l.Query(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(p.Events); !equalSeqs(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQueryPagination(t *testing.T) {
	ctx := context.Background()
	l, db, _ := newTestLog(t)
	appendSample(t, l, db, 23)
	for _, oldest := range []bool{false, true} {
		var got []int64
		f := Filter{Limit: 5, Oldest: oldest}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			p, err := l.Query(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, seqs(p.Events)...)
			if p.Next == 0 {
				break
			}
			f.After = p.Next
		}
		if len(got) != 23 || (oldest && got[0] != 1) || (!oldest && got[0] != 23) {
			t.Errorf("oldest=%v: got %v", oldest, got)
		}
		for i := 1; i < len(got); i++ {
			if (got[i] > got[i-1]) != oldest {
				t.Errorf("oldest=%v: out of order %v", oldest, got)
			}
		}
	}
}

func TestQueryValidation(t *testing.T) {
	l, _, _ := newTestLog(t)
	for _, f := range []Filter{
		{Limit: MaxLimit + 1}, {Limit: -1}, {ChangeID: -1}, {After: -2}, {Text: "*** ()"},
		{From: t0, To: t0}, {Actor: string(make([]byte, 300))},
	} {
		var ve *ValidationError
		if _, err := l.Query(context.Background(), f); !errors.As(err, &ve) {
			t.Errorf("%+v: got %v, want *ValidationError", f, err)
		}
	}
}

func TestTimelineHistoryDaily(t *testing.T) {
	ctx := context.Background()
	l, db, _ := newTestLog(t)
	appendSample(t, l, db, 12)
	t.Run("Timeline", func(t *testing.T) {
		p, err := l.Query(ctx, Filter{ChangeID: 2, Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(p.Events); !equalSeqs(got, []int64{2, 5, 8, 11}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("History", func(t *testing.T) {
		p, err := l.Query(ctx, Filter{Service: "ecs", ResourceID: "i-001", Limit: 2, Oldest: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(p.Events); !equalSeqs(got, []int64{2, 7}) || p.Next != 7 {
			t.Errorf("got %v next %d", got, p.Next)
		}
	})
	t.Run("DailyDestructive", func(t *testing.T) {
		got, err := l.DailyDestructive(ctx, t0.Truncate(24*time.Hour), t0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// resource_outcome for i even (6 events); failure for i%4 == 0 (3).
		want := []DayCount{{"2026-01-02", OutcomeFailure, 3}, {"2026-01-02", OutcomeSuccess, 3}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

// TestQueryPlans guards the indexes: no review query may sort its matches.
func TestQueryPlans(t *testing.T) {
	_, db, _ := newTestLog(t)
	for _, f := range []Filter{
		{}, {Actor: "a"}, {Action: ActionApproved}, {Service: "s"}, {ResourceID: "r"}, {ChangeID: 1}, {Outcome: "o"},
		{From: t0, To: t0.Add(time.Hour)}, {Actor: "a", Outcome: "o", From: t0}, {After: 5}, {Actor: "a", After: 5},
		{ChangeID: 1, Oldest: true, After: 3}, {Service: "s", ResourceID: "r", Oldest: true}, {Text: "x"},
		{Text: "x", Actor: "a", After: 9},
	} {
		q, args := f.selectSQL(51)
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "TEMP B-TREE") || strings.Contains(p+";", "SCAN e;") ||
			strings.Contains(p+";", "SCAN k;") {
			t.Errorf("%+v sorts or scans the table: %s", f, p)
		}
	}
}

// TestIndex: appends leave the review indexes behind; every reader indexes
// the tail first, so results never miss an event, and batches add up.
func TestIndex(t *testing.T) {
	ctx := context.Background()
	l, db, _ := newTestLog(t)
	behind := func() int64 {
		t.Helper()
		n, err := l.behind(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	appendSample(t, l, db, 8)
	if got := behind(); got != 8 {
		t.Fatalf("behind after 8 appends: got %d, want 8", got)
	}
	t.Run("QueryIndexesFirst", func(t *testing.T) {
		p, err := l.Query(ctx, Filter{Text: "w7"})
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(p.Events); !equalSeqs(got, []int64{8}) || behind() != 0 {
			t.Errorf("got %v, behind %d", got, behind())
		}
	})
	t.Run("DailyAddsBatches", func(t *testing.T) {
		appendSample(t, l, db, 4) // two more resource_outcome events, one a failure
		got, err := l.DailyDestructive(ctx, t0.Truncate(24*time.Hour), t0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []DayCount{{"2026-01-02", OutcomeFailure, 3}, {"2026-01-02", OutcomeSuccess, 3}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("Indexer", func(t *testing.T) {
		appendSample(t, l, db, 3)
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- (&Indexer{Log: l, Interval: time.Millisecond}).Run(ctx) }()
		for deadline := time.Now().Add(5 * time.Second); behind() != 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("indexer did not catch up")
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM audit_index`).Scan(&n); err != nil || n != 15 {
			t.Errorf("audit_index rows: got %d (%v), want 15", n, err)
		}
	})
}
