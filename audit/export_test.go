package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func hostileEvent() Event {
	return Event{Actor: "=HYPERLINK(\"http://evil\")", ClientIP: "+1", UserAgent: "@SUM(A1)",
		Action: ActionPlanCreated, ChangeID: 9, Service: "-2+3", Project: "\tproj", ResourceID: "\rid",
		ResourceName: `<script>alert("x")</script>`, Outcome: OutcomeSuccess,
		Details: json.RawMessage(`{"note":"=cmd|' /C calc'!A0","html":"<img src=x onerror=alert(1)>"}`)}
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+1", "'=1+1"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@x", "'@x"}, {"\tx", "'\tx"}, {"\rx", "'\rx"},
		{"", ""}, {"plain", "plain"}, {"a=b", "a=b"}, {"<script>", "<script>"},
	}
	for _, tt := range tests {
		if got := SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	by := Event{Actor: "auditor1", ClientIP: "10.1.1.1", UserAgent: "ua"}
	t.Run("CSV", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		appendSample(t, l, db, 2)
		h := mustAppend(t, l, db, hostileEvent())
		var buf bytes.Buffer
		res, err := l.Export(ctx, &buf, FormatCSV, Filter{}, by)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != 3 || len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
			t.Fatalf("res %+v, %d records: %q", res, len(recs), recs)
		}
		for _, cell := range recs[3] {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("formula-like cell %q", cell)
			}
		}
		if got := recs[3][10]; got != h.ResourceName {
			t.Errorf("resource name %q, want %q", got, h.ResourceName)
		}
		if got := recs[3][2]; got != "'"+h.Actor {
			t.Errorf("actor cell %q", got)
		}
	})
	t.Run("JSONLVerifiable", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		appendSample(t, l, db, 3)
		h := mustAppend(t, l, db, hostileEvent())
		var buf bytes.Buffer
		if _, err := l.Export(ctx, &buf, FormatJSONL, Filter{}, by); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		var n int
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			if computeHash(&e) != e.Hash {
				t.Errorf("line %d does not verify: %s", n, sc.Bytes())
			}
			n++
			if e.Seq == h.Seq && (e.ResourceName != h.ResourceName || string(e.Details) != string(h.Details)) {
				t.Errorf("hostile event changed: %+v", e)
			}
		}
		if n != 4 {
			t.Errorf("%d lines, want 4", n)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		l, db, _ := newTestLog(t)
		appendSample(t, l, db, 6)
		var buf bytes.Buffer
		res, err := l.Export(ctx, &buf, FormatJSONL, Filter{Actor: "alice", Text: "w2"}, by)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != 1 || res.Event.Seq != 7 || res.Event.Action != ActionAuditExport ||
			res.Event.Actor != "auditor1" {
			t.Fatalf("res %+v", res)
		}
		want := `{"actor":"alice","format":"jsonl","q":"w2","through_seq":6}`
		if string(res.Event.Details) != want {
			t.Errorf("details %s, want %s", res.Event.Details, want)
		}
		buf.Reset()
		res, err = l.Export(ctx, &buf, FormatCSV, Filter{}, by)
		if err != nil || res.Events != 7 || res.Event.Seq != 8 {
			t.Fatalf("second export %+v %v: covers the first export's event, not its own", res, err)
		}
		if _, err := l.Verify(ctx, nil); err != nil {
			t.Error(err)
		}
	})
	t.Run("ErrValidation", func(t *testing.T) {
		l, _, _ := newTestLog(t)
		var ve *ValidationError
		if _, err := l.Export(ctx, &bytes.Buffer{}, "xml", Filter{}, by); !errors.As(err, &ve) {
			t.Errorf("got %v", err)
		}
	})
}
