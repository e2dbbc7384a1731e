package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"

	"github.com/decom/decom/store"
)

// ExportResult describes a finished export.
type ExportResult struct {
	Event  Event // the audit_export event recording it
	Events int64 // events written
}

// exportDetails is what an audit_export event records about the export.
type exportDetails struct {
	Format     Format `json:"format"`
	Actor      string `json:"actor,omitempty"`
	Action     Action `json:"action,omitempty"`
	Service    string `json:"service,omitempty"`
	ResourceID string `json:"resource_id,omitempty"`
	ChangeID   int64  `json:"change_id,omitempty"`
	Outcome    string `json:"outcome,omitempty"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Text       string `json:"q,omitempty"`
	ThroughSeq int64  `json:"through_seq"`
}

// Export streams every event matching f (oldest first, Limit and After
// ignored) to w in format, in constant memory. It first appends and commits
// an audit_export event with by's Actor, ClientIP and UserAgent, so no
// export goes unrecorded; the export covers events before that one.
func (l *Log) Export(ctx context.Context, w io.Writer, format Format, f Filter, by Event) (ExportResult, error) {
	if _, err := ParseFormat(string(format)); err != nil {
		return ExportResult{}, err
	}
	f.After, f.Limit = 0, 0
	if err := f.Validate(); err != nil {
		return ExportResult{}, err
	}
	rec, err := l.recordExport(ctx, format, f, by)
	if err != nil {
		return ExportResult{}, err
	}
	res := ExportResult{Event: rec}
	ew, err := newExportWriter(w, format)
	if err != nil {
		return res, fmt.Errorf("export audit log: %w", err)
	}
	f.through = rec.Seq
	err = l.Each(ctx, f, func(e Event) error {
		res.Events++
		return ew.write(e)
	})
	if err != nil {
		return res, fmt.Errorf("export audit log: %w", err)
	}
	if err := ew.flush(); err != nil {
		return res, fmt.Errorf("export audit log: %w", err)
	}
	return res, nil
}

func (l *Log) recordExport(ctx context.Context, format Format, f Filter, by Event) (Event, error) {
	d := exportDetails{Format: format, Actor: f.Actor, Action: f.Action, Service: f.Service,
		ResourceID: f.ResourceID, ChangeID: f.ChangeID, Outcome: f.Outcome, Text: f.Text}
	if !f.From.IsZero() {
		d.From = f.From.UTC().Format(TimeLayout)
	}
	if !f.To.IsZero() {
		d.To = f.To.UTC().Format(TimeLayout)
	}
	var rec Event
	err := store.InTx(ctx, l.db, func(tx *sql.Tx) error {
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT ifnull(max(seq), 0) FROM audit_events`).Scan(&head); err != nil {
			return err
		}
		d.ThroughSeq = head
		details, err := json.Marshal(d)
		if err != nil {
			return err
		}
		rec, err = l.Append(ctx, tx, Event{Actor: by.Actor, ClientIP: by.ClientIP, UserAgent: by.UserAgent,
			Action: ActionAuditExport, Outcome: OutcomeSuccess, Details: details})
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("record audit export: %w", err)
	}
	return rec, nil
}
