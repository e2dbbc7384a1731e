package audit

import (
	"strings"
	"time"
	"unicode"
)

// Page sizes for Query.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Filter selects events; zero fields match everything. Pages are ordered by
// (Time, Seq), newest first unless Oldest; with Text, by Seq (log order),
// which is the same order whenever the clock did not step back.
type Filter struct {
	Actor      string
	Action     Action
	Service    string
	ResourceID string
	ChangeID   int64
	Outcome    string
	From       time.Time // inclusive
	To         time.Time // exclusive
	Text       string    // words, all of which must appear in the resource name or details
	After      int64     // keyset cursor: continue after this event's seq (Page.Next)
	Oldest     bool      // oldest first (timelines, exports)
	Limit      int       // Query page size: 0 means DefaultLimit; at most MaxLimit

	through int64 // when set, only events before this seq (exports)
}

// Validate reports the first unusable field as a *ValidationError.
func (f Filter) Validate() error {
	for name, v := range map[string]string{"actor": f.Actor, "action": string(f.Action),
		"service": f.Service, "resource_id": f.ResourceID, "outcome": f.Outcome} {
		if len(v) > 256 {
			return &ValidationError{Field: name, Problem: "longer than 256 bytes"}
		}
	}
	switch {
	case len(f.Text) > 256:
		return &ValidationError{Field: "q", Problem: "longer than 256 bytes"}
	case f.ChangeID < 0:
		return &ValidationError{Field: "change_id", Problem: "must not be negative"}
	case f.After < 0:
		return &ValidationError{Field: "after", Problem: "must not be negative"}
	case f.Limit < 0 || f.Limit > MaxLimit:
		return &ValidationError{Field: "limit", Problem: "must be between 1 and 500"}
	case !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To):
		return &ValidationError{Field: "to", Problem: "must be after from"}
	case f.Text != "" && matchExpr(f.Text) == "":
		return &ValidationError{Field: "q", Problem: "needs at least one letter or digit"}
	}
	return nil
}

// matchExpr is textQuery's MATCH expression alone.
func matchExpr(text string) string {
	m, _ := textQuery(text)
	return m
}

// textQuery turns user words into an FTS4 MATCH expression that cannot be a
// syntax error, ANDing one quoted term per word (a trailing * keeps prefix
// search). A word the tokenizer splits ("web-prod-0042") matches on its
// longest token only, which is usually the rare one, and the whole word is
// returned in subs for a substring check: an FTS phrase would read the
// doclists of every token, "web" and "prod" included, on each query.
func textQuery(text string) (match string, subs []string) {
	var parts []string
	for _, w := range strings.Fields(text) {
		prefix := strings.HasSuffix(w, "*")
		notWord := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
		tokens := strings.FieldsFunc(w, notWord)
		if len(tokens) == 0 {
			continue
		}
		term := tokens[0]
		if len(tokens) > 1 {
			for _, t := range tokens {
				if len(t) > len(term) {
					term = t
				}
			}
			subs = append(subs, asciiLower(strings.TrimFunc(w, notWord)))
			prefix = prefix && term == tokens[len(tokens)-1]
		}
		if prefix {
			term += "*"
		}
		parts = append(parts, `"`+term+`"`)
	}
	return strings.Join(parts, " "), subs
}

// asciiLower lower-cases A-Z only, as SQLite's lower() does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// selectSQL builds the query for f: every column of eventColumns, LIMIT
// limit when limit > 0.
//
// Without text, audit_index k drives: exactly one equality runs on an index
// (the most selective given); the others get a unary + so SQLite cannot pick
// a less selective index, and the chosen (column, time) index then serves
// the time range and ORDER BY time, seq without a sort; each match costs a
// rowid lookup in audit_events. With text, the FTS table drives (CROSS JOIN
// fixes the loop order) in docid = seq order, which its order=DESC doclists
// deliver incrementally, so a page stops after limit matches; the other
// filters are checked on the event itself.
func (f Filter) selectSQL(limit int) (string, []any) {
	var w where
	from, t := " FROM audit_index k CROSS JOIN audit_events e ON e.seq = k.seq", "k."
	if f.Text != "" {
		from, t = " FROM audit_fts CROSS JOIN audit_events e ON e.seq = audit_fts.docid", "e."
		match, subs := textQuery(f.Text)
		w.add("audit_fts MATCH ?", match)
		for _, sub := range subs {
			w.add("instr(lower(e.resource_name || ' ' || e.details), ?) > 0", sub)
		}
	}
	f.equalities(&w, t)
	if !f.From.IsZero() {
		w.add(t+"time >= ?", f.From.UTC().Format(TimeLayout))
	}
	if !f.To.IsZero() {
		w.add(t+"time < ?", f.To.UTC().Format(TimeLayout))
	}
	if f.through != 0 {
		w.add("+"+t+"seq < ?", f.through) // + keeps the rowid out of index choice
	}
	cmp, dir := "<", " DESC"
	if f.Oldest {
		cmp, dir = ">", ""
	}
	order := " ORDER BY k.time" + dir + ", k.seq" + dir
	if f.Text != "" {
		order = " ORDER BY audit_fts.docid" + dir
		if f.After != 0 {
			w.add("audit_fts.docid "+cmp+" ?", f.After)
		}
	} else if f.After != 0 {
		w.add("(k.time, k.seq) "+cmp+" (SELECT time, seq FROM audit_index WHERE seq = ?)", f.After)
	}
	q := "SELECT " + eventColumns + from
	if len(w.conds) > 0 {
		q += " WHERE " + strings.Join(w.conds, " AND ")
	}
	q += order
	if limit > 0 {
		q += " LIMIT ?"
		w.args = append(w.args, limit)
	}
	return q, w.args
}

// where collects ANDed conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds, w.args = append(w.conds, cond), append(w.args, arg)
}

// equalities adds the column filters of table alias t ("k." or "e."), the
// most selective first; only that one may use an index.
func (f Filter) equalities(w *where, t string) {
	indexed := false
	for _, c := range []struct {
		col string
		arg any
		set bool
	}{
		{"change_id", f.ChangeID, f.ChangeID != 0},
		{"resource_id", f.ResourceID, f.ResourceID != ""},
		{"actor", f.Actor, f.Actor != ""},
		{"action", string(f.Action), f.Action != ""},
		{"service", f.Service, f.Service != ""},
		{"outcome", f.Outcome, f.Outcome != ""},
	} {
		if !c.set {
			continue
		}
		col := t + c.col
		if indexed {
			col = "+" + col
		}
		indexed = true
		w.add(col+" = ?", c.arg)
	}
}
