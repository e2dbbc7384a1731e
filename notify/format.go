package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Message is one HTTP request to a channel.
type Message struct {
	URL    string
	Body   []byte
	Header http.Header
}

// JSONMessage is the body of the generic JSON webhook (docs/notifications.md).
type JSONMessage struct {
	Version int    `json:"version"` // 1
	Summary string `json:"summary"` // one line for people
	URL     string `json:"url"`     // the change page
	Event   Event  `json:"event"`
}

// Headers of the generic JSON webhook.
const (
	HeaderTimestamp = "X-Decom-Timestamp" // Unix seconds
	HeaderSignature = "X-Decom-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderEventID   = "X-Decom-Event-Id"  // every format
)

// Sign is the X-Decom-Signature value of body sent at timestamp (Unix
// seconds as sent in X-Decom-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Summary is the one-line text of an event, e.g. "CR-12 was approved by bob".
func Summary(ev Event) string {
	s := fmt.Sprintf("%s %s", ev.ChangeName, ev.Kind.Title())
	if ev.Actor != "" && ev.Actor != "system" {
		s += " by " + ev.Actor
	}
	return s
}

// details are the lines under the summary in chat formats.
func details(ev Event) []string {
	lines := []string{fmt.Sprintf("Requester: %s · %d resource(s) · %s", ev.Requester, ev.Resources,
		strings.Join(ev.Projects, ", "))}
	if ev.Reason != "" {
		lines = append(lines, "Reason: "+clip(ev.Reason, 300))
	}
	if ev.Text != "" {
		lines = append(lines, "“"+clip(ev.Text, 1000)+"”")
	}
	return append(lines, "Event "+ev.ID)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Build renders ev for ch; link is the change page's absolute URL and now
// the sending time (timestamps and signatures).
func Build(ch Channel, ev Event, link string, now time.Time) (Message, error) {
	m := Message{URL: ch.URL, Header: http.Header{}}
	m.Header.Set("Content-Type", "application/json")
	m.Header.Set(HeaderEventID, ev.ID)
	var body any
	switch ch.Format {
	case FormatJSON:
		body = JSONMessage{Version: 1, Summary: Summary(ev), URL: link, Event: ev}
	case FormatSlack:
		body = slackBody(ev, link)
	case FormatTeams:
		body = teamsBody(ev, link)
	case FormatFeishu:
		body = feishuBody(ev, link, ch.Secret, now)
	case FormatDingTalk:
		body = dingTalkBody(ev, link)
		if ch.Secret != "" {
			m.URL = dingTalkSignedURL(ch.URL, ch.Secret, now)
		}
	case FormatWeCom:
		body = map[string]any{"msgtype": "markdown", "markdown": map[string]string{
			"content": markdown(ev, link)}}
	default:
		return Message{}, fmt.Errorf("unknown format %q", ch.Format)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Message{}, fmt.Errorf("encode %s message: %w", ch.Format, err)
	}
	m.Body = b
	if ch.Format == FormatJSON {
		ts := strconv.FormatInt(now.Unix(), 10)
		m.Header.Set(HeaderTimestamp, ts)
		m.Header.Set(HeaderSignature, Sign(ch.Secret, ts, b))
	}
	return m, nil
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackBody(ev Event, link string) any {
	text := "*" + slackEscape(Summary(ev)) + "*\n" + slackEscape(strings.Join(details(ev), "\n")) +
		"\n<" + link + "|Open " + slackEscape(ev.ChangeName) + ">"
	return map[string]any{"text": text}
}

func teamsBody(ev Event, link string) any {
	blocks := []map[string]any{{"type": "TextBlock", "text": Summary(ev), "weight": "Bolder", "wrap": true}}
	for _, l := range details(ev) {
		blocks = append(blocks, map[string]any{"type": "TextBlock", "text": l, "wrap": true})
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type": "AdaptiveCard", "version": "1.4", "body": blocks,
		"actions": []map[string]any{{"type": "Action.OpenUrl", "title": "Open " + ev.ChangeName, "url": link}}}
	return map[string]any{"type": "message", "attachments": []map[string]any{
		{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}}}
}

// markdown is the DingTalk and WeCom text: summary, details and the link.
func markdown(ev Event, link string) string {
	return "**" + Summary(ev) + "**\n\n" + strings.Join(details(ev), "\n\n") +
		"\n\n[Open " + ev.ChangeName + "](" + link + ")"
}

func dingTalkBody(ev Event, link string) any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]string{
		"title": Summary(ev), "text": markdown(ev, link)}}
}

// dingTalkSignedURL adds DingTalk's "additional signature": timestamp in
// milliseconds and base64 HMAC-SHA256(secret, timestamp + "\n" + secret).
func dingTalkSignedURL(raw, secret string, now time.Time) string {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + secret))
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + "timestamp=" + ts + "&sign=" + url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// feishuBody is a Feishu/Lark text message; with a secret it carries the
// signature check: base64 HMAC-SHA256 keyed with timestamp + "\n" + secret
// over an empty message.
func feishuBody(ev Event, link, secret string, now time.Time) any {
	text := Summary(ev) + "\n" + strings.Join(details(ev), "\n") + "\n" + link
	body := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
	if secret != "" {
		ts := strconv.FormatInt(now.Unix(), 10)
		m := hmac.New(sha256.New, []byte(ts+"\n"+secret))
		body["timestamp"] = ts
		body["sign"] = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return body
}
