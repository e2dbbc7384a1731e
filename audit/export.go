package audit

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
)

// Format is an export format.
type Format string

// Export formats.
const (
	FormatCSV   Format = "csv"   // spreadsheet-safe: formula-like cells get a leading '
	FormatJSONL Format = "jsonl" // JSON Lines, values exactly as stored (verifiable)
)

// ParseFormat accepts "csv" and "jsonl".
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case FormatCSV, FormatJSONL:
		return Format(s), nil
	}
	return "", &ValidationError{Field: "format", Problem: `must be "csv" or "jsonl"`}
}

// ContentType is the MIME type of an export in format f.
func (f Format) ContentType() string {
	if f == FormatCSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// csvHeader names the CSV columns, in canonical-encoding order.
var csvHeader = []string{"seq", "time", "actor", "client_ip", "user_agent", "action", "change_id",
	"service", "project", "resource_id", "resource_name", "outcome", "details", "prev_hash", "hash"}

// exportWriter writes events one at a time in one format.
type exportWriter interface {
	write(e Event) error
	flush() error
}

func newExportWriter(w io.Writer, f Format) (exportWriter, error) {
	if f == FormatCSV {
		cw := csv.NewWriter(w)
		return &csvExport{w: cw, row: make([]string, len(csvHeader))}, cw.Write(csvHeader)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // details stay byte-identical to the stored text
	return &jsonlExport{w: bw, enc: enc}, nil
}

type csvExport struct {
	w   *csv.Writer
	row []string
}

func (c *csvExport) write(e Event) error {
	r := c.row
	r[0], r[1] = strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(TimeLayout)
	r[2], r[3], r[4], r[5] = e.Actor, e.ClientIP, e.UserAgent, string(e.Action)
	r[6], r[7], r[8] = strconv.FormatInt(e.ChangeID, 10), e.Service, e.Project
	r[9], r[10], r[11], r[12] = e.ResourceID, e.ResourceName, e.Outcome, string(e.Details)
	r[13], r[14] = e.PrevHash, e.Hash
	for i := range r {
		r[i] = SafeCell(r[i])
	}
	return c.w.Write(r)
}

func (c *csvExport) flush() error { c.w.Flush(); return c.w.Error() }

// SafeCell defuses spreadsheet formula injection: a cell starting with
// = + - @, a tab or a carriage return gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

// jsonLine is an exported event: Time in TimeLayout and Details verbatim, so
// the line holds exactly the stored values.
type jsonLine struct {
	Seq          int64           `json:"seq"`
	Time         string          `json:"time"`
	Actor        string          `json:"actor"`
	ClientIP     string          `json:"client_ip"`
	UserAgent    string          `json:"user_agent"`
	Action       Action          `json:"action"`
	ChangeID     int64           `json:"change_id"`
	Service      string          `json:"service"`
	Project      string          `json:"project"`
	ResourceID   string          `json:"resource_id"`
	ResourceName string          `json:"resource_name"`
	Outcome      string          `json:"outcome"`
	Details      json.RawMessage `json:"details"`
	PrevHash     string          `json:"prev_hash"`
	Hash         string          `json:"hash"`
}

type jsonlExport struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonlExport) write(e Event) error {
	return j.enc.Encode(jsonLine{e.Seq, e.Time.UTC().Format(TimeLayout), e.Actor, e.ClientIP, e.UserAgent,
		e.Action, e.ChangeID, e.Service, e.Project, e.ResourceID, e.ResourceName, e.Outcome, e.Details,
		e.PrevHash, e.Hash})
}

func (j *jsonlExport) flush() error { return j.w.Flush() }
