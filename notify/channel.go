package notify

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Format is a channel's message format.
type Format string

// The message formats.
const (
	FormatJSON     Format = "json" // generic webhook, HMAC-signed
	FormatSlack    Format = "slack"
	FormatTeams    Format = "teams"
	FormatFeishu   Format = "feishu" // Feishu and Lark custom bots
	FormatDingTalk Format = "dingtalk"
	FormatWeCom    Format = "wecom"
)

// Formats lists every Format in display order.
var Formats = []Format{FormatJSON, FormatSlack, FormatTeams, FormatFeishu, FormatDingTalk, FormatWeCom}

// Label is the format's display name.
func (f Format) Label() string {
	switch f {
	case FormatJSON:
		return "Generic JSON webhook (signed)"
	case FormatSlack:
		return "Slack incoming webhook"
	case FormatTeams:
		return "Microsoft Teams"
	case FormatFeishu:
		return "Feishu / Lark bot"
	case FormatDingTalk:
		return "DingTalk bot"
	case FormatWeCom:
		return "WeCom bot"
	}
	return string(f)
}

// Channel is where a project's (or, with Project "", every change's)
// events are sent. URL and Secret are secrets: show Redacted().
type Channel struct {
	ID        int64
	Project   string
	Format    Format
	URL       string
	Secret    string
	CreatedBy string
	CreatedAt time.Time
}

// MaxURL bounds a channel URL.
const MaxURL = 2000

// ValidationError lists invalid fields with a message each.
type ValidationError struct{ Fields map[string]string }

// Error lists the fields in name order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("invalid notification channel:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + e.Fields[k] + ";")
	}
	return b.String()
}

// FieldErrors returns the messages by field, for forms.
func (e *ValidationError) FieldErrors() map[string]string { return e.Fields }

// ErrNotFound is returned for a channel that does not exist.
var ErrNotFound = errors.New("not found")

// Validate checks a channel an admin wants to add.
func (c Channel) Validate() error {
	f := map[string]string{}
	if !slices.Contains(Formats, c.Format) {
		f["format"] = "choose a format"
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		f["url"] = "required"
	case len(c.URL) > MaxURL:
		f["url"] = "at most 2000 characters"
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "":
		f["url"] = "an http(s) URL"
	}
	if c.Format == FormatJSON && len(c.Secret) < 16 {
		f["secret"] = "at least 16 characters: receivers verify the signature with it"
	}
	if len(c.Secret) > 200 {
		f["secret"] = "at most 200 characters"
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// Redacted is the channel's URL without its secret parts.
func (c Channel) Redacted() string { return RedactURL(c.URL) }

// RedactURL returns raw without its secret parts: user info is dropped, the
// path is kept to its first segment, and every query value becomes "***".
// Webhook URLs carry their token in the path (Slack, Teams, Feishu) or the
// query (DingTalk access_token, WeCom key).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[unparsable URL]"
	}
	out := u.Scheme + "://" + u.Host
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if segs[0] != "" {
		out += "/" + segs[0]
		if len(segs) > 1 {
			out += "/***"
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"=***")
		}
		slices.Sort(keys)
		out += "?" + strings.Join(keys, "&")
	}
	return out
}
