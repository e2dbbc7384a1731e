package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

func TestClassify(t *testing.T) {
	sre := func(status int, code, msg string) error {
		return &sdkerr.ServiceResponseError{StatusCode: status, ErrorCode: code, ErrorMessage: msg, RequestId: "rid"}
	}
	tests := []struct {
		name string
		svc  Service
		err  error
		want error
	}{
		{"401 auth", RocketMQ, sre(401, "APIGW.0301", "Incorrect IAM authentication information"), ErrConfig},
		{"403 project", ROMA, sre(403, "APIGW.0302", "project not allowed"), ErrPermission},
		{"404 DMS", RocketMQ, sre(404, "DMS.00404022", "instance not found"), ErrNotFound},
		{"404 ROMA job", ROMA, sre(404, "ROMA.00000404", "job not found"), ErrNotFound},
		{"400 state", RabbitMQ, sre(400, "DMS.00400026", "not allowed"), ErrPermanent},
		{"409", CloudDC, sre(409, "X.1", "conflict"), ErrPermanent},
		{"429", CloudDC, sre(429, "APIGW.0308", "throttled"), ErrThrottled},
		{"429 APIG prefix", ROMA, sre(429, "APIG.0308", "throttled"), ErrThrottled},
		{"500", ROMA, sre(500, "ROMA.00000500", "boom"), ErrTransient},
		{"502 html", RocketMQ, sre(502, "", "<html>bad gateway</html>"), ErrTransient},
		{"503", RocketMQ, sre(503, "", ""), ErrTransient},
		{"busy 400", ROMA, sre(400, "ROMA.10012", "An asset management task is running"), ErrBusy},
		{"busy 403", ROMA, sre(403, "ROMA.10012", "An asset management task is running"), ErrBusy},
		{"clouddc 400 not exist", CloudDC, sre(400, "CLOUDDC.00000400", "instance does not exist"), ErrNotFound},
		{"dms 400 not exist stays permanent", RocketMQ, sre(400, "DMS.00400005", "does not exist"), ErrPermanent},
		{"2xx decode", RocketMQ, sre(200, "", "ReadString: expects \" or n"), ErrContract},
		{
			"retry-after wrapper",
			DMSFamilyForTest,
			&responseError{
				ServiceResponseError: sre(429, "APIGW.0308", "x").(*sdkerr.ServiceResponseError),
				retryAfter:           3 * time.Second,
			},
			ErrThrottled,
		},
		{
			"url error",
			ROMA,
			&url.Error{Op: "Get", URL: "http://x/v2", Err: errors.New("connection refused")},
			ErrTransient,
		},
		{"deadline", ROMA, fmt.Errorf("do: %w", context.DeadlineExceeded), ErrTransient},
		{
			"credential type",
			CloudDC,
			errors.New("need credential type is [basic.Credentials], actually is cloud.TokenCredential"),
			ErrConfig,
		},
		{"other", CloudDC, errors.New("request field Id read null value"), ErrPermanent},
	}
	classes := []error{
		ErrNotFound,
		ErrConfig,
		ErrPermission,
		ErrBusy,
		ErrThrottled,
		ErrTransient,
		ErrPermanent,
		ErrContract,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.svc, "op", tt.err)
			for _, c := range classes {
				if errors.Is(got, c) != (c == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", got, c, errors.Is(got, c), c == tt.want)
				}
			}
			if got.Operation != "op" || got.Service != tt.svc {
				t.Errorf("got op %q svc %q", got.Operation, got.Service)
			}
		})
	}
}

// DMSFamilyForTest is any DMS service; classification does not depend on it.
const DMSFamilyForTest = RocketMQ

func TestClassifyKeepsFields(t *testing.T) {
	err := &responseError{ServiceResponseError: &sdkerr.ServiceResponseError{StatusCode: 429, ErrorCode: "APIGW.0308",
		ErrorMessage: strings.Repeat("x", 1000), RequestId: "req-1"}, retryAfter: 2 * time.Second}
	got := classify(CloudDC, "clouddc.list", err)
	if got.HTTPStatus != 429 || got.Code != "APIGW.0308" || got.RequestID != "req-1" ||
		got.RetryAfter != 2*time.Second {
		t.Errorf("got %+v", got)
	}
	if len(got.Message) > maxMessage+10 {
		t.Errorf("message not truncated: %d bytes", len(got.Message))
	}
	msg := got.Error()
	for _, want := range []string{"clouddc.list", "throttled", "HTTP 429", "APIGW.0308", "req-1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, missing %q", msg, want)
		}
	}
	// An *Error passed through classify again is kept as is.
	if again := classify(ROMA, "other", got); again != got {
		t.Error("classify re-wrapped an *Error")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{
			"",
			0,
		}, {"2", 2 * time.Second}, {" 7 ", 7 * time.Second}, {"0", 0}, {"-1", 0}, {"1.5", 1500 * time.Millisecond},
		{"soon", 0}, {now.Add(10 * time.Second).Format(httpTimeFormat), 10 * time.Second},
		{now.Add(-10 * time.Second).Format(httpTimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 0}, {1, 0.5, 500 * time.Millisecond}, {1, 0.999, 999 * time.Millisecond},
		{2, 0.5, time.Second}, {3, 0.5, 2 * time.Second}, {4, 1, 8 * time.Second},
		{5, 1, 16 * time.Second}, {6, 1, 30 * time.Second}, {20, 1, 30 * time.Second}, {6, 0.5, 15 * time.Second},
	}
	for _, tt := range tests {
		if got := BackoffDelay(tt.attempt, tt.r); got != tt.want {
			t.Errorf("BackoffDelay(%d, %v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
	if got := retryWait(&Error{RetryAfter: 3 * time.Second}, 5, 0.9); got != 3*time.Second {
		t.Errorf("Retry-After not honoured: %v", got)
	}
	if got := retryWait(&Error{RetryAfter: time.Hour}, 1, 0.9); got != BackoffCap {
		t.Errorf("Retry-After not capped: %v", got)
	}
}
