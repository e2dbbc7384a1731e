package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/decom/decom/notify"
)

// verify is the receiver-side check documented in docs/notifications.md
// (kept identical): recompute the HMAC over timestamp "." body and refuse
// stale timestamps.
func verify(secret string, h http.Header, body []byte, now time.Time) bool {
	ts := h.Get("X-Decom-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Decom-Signature")))
}

// TestFormats sends one event through each format to a loopback receiver
// (allowlisted) and checks the message: signature, link, shape.
func TestFormats(t *testing.T) {
	const secret = "s3cret-for-signing-0123456789"
	for _, tt := range []struct {
		format notify.Format
		secret string
		check  func(t *testing.T, r request, link string, ev notify.Event)
	}{
		{notify.FormatJSON, secret, func(t *testing.T, r request, link string, ev notify.Event) {
			if !verify(secret, r.Header, r.Body, time.Now()) {
				t.Error("HMAC does not verify")
			}
			if verify("other-secret-0123456789", r.Header, r.Body, time.Now()) {
				t.Error("HMAC verifies with the wrong secret")
			}
			tampered := append([]byte(nil), r.Body...)
			tampered[len(tampered)-2] ^= 1
			if verify(secret, r.Header, tampered, time.Now()) {
				t.Error("HMAC verifies a changed body")
			}
			var m notify.JSONMessage
			dec := json.NewDecoder(strings.NewReader(string(r.Body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("body is not the documented shape: %v", err)
			}
			want := notify.JSONMessage{Version: 1, Summary: "CR-7 was approved by bob", URL: link, Event: ev}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			var raw map[string]any
			_ = json.Unmarshal(r.Body, &raw)
			keys := []string{}
			for k := range raw["event"].(map[string]any) {
				keys = append(keys, k)
			}
			for _, k := range []string{"id", "kind", "at", "change_id", "change_name", "state", "actor", "requester",
				"reason", "resources", "projects", "text"} {
				if _, ok := raw["event"].(map[string]any)[k]; !ok {
					t.Errorf("event lacks documented field %q (has %v)", k, keys)
				}
			}
		}},
		{notify.FormatSlack, "", func(t *testing.T, r request, link string, ev notify.Event) {
			var m struct{ Text string }
			mustJSON(t, r.Body, &m)
			if !strings.Contains(m.Text, "<"+link+"|Open CR-7>") || !strings.Contains(m.Text, "&lt;orders&gt; &amp; co") {
				t.Errorf("slack text %q", m.Text)
			}
		}},
		{notify.FormatTeams, "", func(t *testing.T, r request, link string, ev notify.Event) {
			var m struct {
				Type        string
				Attachments []struct {
					ContentType string
					Content     struct {
						Type    string
						Actions []struct{ Type, URL string }
					}
				}
			}
			mustJSON(t, r.Body, &m)
			if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
				m.Attachments[0].Content.Type != "AdaptiveCard" || len(m.Attachments[0].Content.Actions) != 1 ||
				m.Attachments[0].Content.Actions[0].URL != link {
				t.Errorf("teams card %s", r.Body)
			}
		}},
		{notify.FormatFeishu, secret, func(t *testing.T, r request, link string, ev notify.Event) {
			var m struct {
				MsgType   string `json:"msg_type"`
				Content   struct{ Text string }
				Timestamp string
				Sign      string
			}
			mustJSON(t, r.Body, &m)
			if m.MsgType != "text" || !strings.Contains(m.Content.Text, link) {
				t.Errorf("feishu body %s", r.Body)
			}
			mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+secret))
			if m.Sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Errorf("feishu sign %q does not verify", m.Sign)
			}
		}},
		{notify.FormatDingTalk, secret, func(t *testing.T, r request, link string, ev notify.Event) {
			var m struct {
				MsgType  string
				Markdown struct{ Title, Text string }
			}
			mustJSON(t, r.Body, &m)
			if m.MsgType != "markdown" || !strings.Contains(m.Markdown.Text, "[Open CR-7]("+link+")") {
				t.Errorf("dingtalk body %s", r.Body)
			}
			q, _ := url.ParseQuery(r.Query)
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
			if q.Get("access_token") != "tok" || q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Errorf("dingtalk query %q does not verify", r.Query)
			}
		}},
		{notify.FormatWeCom, "", func(t *testing.T, r request, link string, ev notify.Event) {
			var m struct {
				MsgType  string
				Markdown struct{ Content string }
			}
			mustJSON(t, r.Body, &m)
			if m.MsgType != "markdown" || !strings.Contains(m.Markdown.Content, "("+link+")") {
				t.Errorf("wecom body %s", r.Body)
			}
		}},
	} {
		t.Run(string(tt.format), func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			rec := newReceiver(t)
			svc := notify.New(db, notify.Options{Client: notify.NewClient(loopback, 5*time.Second),
				PublicURL: "https://decom.example.com/", Logger: quietLogger()})
			target := rec.srv.URL + "/hook/abc"
			if tt.format == notify.FormatDingTalk {
				target = rec.srv.URL + "/robot/send?access_token=tok"
			}
			if _, err := svc.AddChannel(ctx, notify.Actor{Name: "root"}, notify.Channel{Format: tt.format,
				URL: target, Secret: tt.secret}); err != nil {
				t.Fatal(err)
			}
			ev := enqueue(t, db, sampleEvent(7))
			if n, err := svc.DeliverDue(ctx); n != 1 || err != nil {
				t.Fatalf("DeliverDue = %d, %v", n, err)
			}
			got := rec.requests()
			if len(got) != 1 {
				t.Fatalf("%d requests", len(got))
			}
			if got[0].Header.Get(notify.HeaderEventID) != ev.ID ||
				got[0].Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", got[0].Header)
			}
			if !strings.Contains(string(got[0].Body), ev.ID) {
				t.Errorf("body lacks the event ID: %s", got[0].Body)
			}
			tt.check(t, got[0], "https://decom.example.com/changes/7", ev)
			ds, _ := svc.Deliveries(ctx, notify.DeliveryFilter{ChangeID: 7})
			if len(ds) != 1 || ds[0].State != notify.StateDelivered || ds[0].Attempts != 1 {
				t.Errorf("deliveries %+v", ds)
			}
		})
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/services/***"},
		{"https://user:hunter2@example.com/hook", "https://example.com/hook"},
		{"https://oapi.dingtalk.com/robot/send?access_token=abcdef", "https://oapi.dingtalk.com/robot/***?access_token=***"},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1&debug=1", "https://qyapi.weixin.qq.com/cgi-bin/***?debug=***&key=***"},
		{"https://example.com", "https://example.com"},
		{"::not a url", "[unparsable URL]"},
	} {
		if got := notify.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChannelValidate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		c     notify.Channel
		field string
	}{
		{"OK", notify.Channel{Format: notify.FormatSlack, URL: "https://hooks.slack.com/services/x"}, ""},
		{"NoFormat", notify.Channel{Format: "irc", URL: "https://x.example/"}, "format"},
		{"NoURL", notify.Channel{Format: notify.FormatSlack}, "url"},
		{"FTP", notify.Channel{Format: notify.FormatSlack, URL: "ftp://x.example/"}, "url"},
		{"JSONNeedsSecret", notify.Channel{Format: notify.FormatJSON, URL: "https://x.example/"}, "secret"},
		{"ShortSecret", notify.Channel{Format: notify.FormatJSON, URL: "https://x.example/", Secret: "short"}, "secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.field == "" && err != nil {
				t.Fatalf("valid channel refused: %v", err)
			}
			if tt.field != "" {
				ve, ok := err.(*notify.ValidationError)
				if !ok || ve.Fields[tt.field] == "" {
					t.Fatalf("want a message for %s, got %v", tt.field, err)
				}
			}
		})
	}
}
