package cloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// Error classes. Every error the Client returns for a cloud call is an
// *Error whose errors.Is matches exactly one of these, so callers decide by
// class, never by message text.
var (
	// ErrNotFound: the resource (or job) does not exist (HTTP 404).
	ErrNotFound = errors.New("cloud: not found")
	// ErrConfig: the account configuration or its credentials are wrong
	// (invalid config, HTTP 401).
	ErrConfig = errors.New("cloud: configuration or authentication error")
	// ErrNotOffered: the service has no endpoint in the account's region
	// (the SDK's region tables) and none was configured.
	ErrNotOffered = errors.New("cloud: service not offered in this region")
	// ErrPermission: the credentials may not do this (HTTP 403).
	ErrPermission = errors.New("cloud: permission denied")
	// ErrBusy: ROMA reports an asset job of this identity still running
	// (error code *.10012); retry later.
	ErrBusy = errors.New("cloud: busy, retry later")
	// ErrThrottled: the gateway throttled the call (HTTP 429) and retries
	// were exhausted.
	ErrThrottled = errors.New("cloud: throttled")
	// ErrTransient: a server error, gateway error, timeout or network
	// failure; the state of a destructive call is unknown until re-read.
	ErrTransient = errors.New("cloud: transient failure")
	// ErrPermanent: the cloud refused the request (HTTP 400/409 and other
	// 4xx), e.g. an operation the resource's state forbids.
	ErrPermanent = errors.New("cloud: request refused")
	// ErrContract: the cloud answered something this client cannot
	// understand (a 2xx body that does not decode, an unknown enum).
	ErrContract = errors.New("cloud: contract violation")
)

// Error describes one failed cloud call. It never holds a secret: only the
// service, the operation, the HTTP status and the cloud's code, request ID
// and message.
type Error struct {
	Class      error         // one of the Err* sentinels
	Account    string        // account name
	Service    Service       // service family
	Operation  string        // e.g. "dms.list", "roma.assets.delete"
	Project    string        // project ID of the call, when it had one
	Action     string        // for ErrPermission: the IAM action the identity lacks
	HTTPStatus int           // 0 when no HTTP response came back
	Code       string        // cloud error_code, e.g. "DMS.00404022"
	RequestID  string        // X-Request-Id of the failed response
	Message    string        // cloud error_msg (truncated) or transport error
	RetryAfter time.Duration // the Retry-After header of a 429, if any
	Err        error         // underlying non-HTTP cause (network, context)
}

// Error formats the error for logs and pages.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	if e.Account != "" {
		fmt.Fprintf(&b, " (account %s)", e.Account)
	}
	b.WriteString(": ")
	b.WriteString(className(e.Class))
	if e.Action != "" {
		fmt.Fprintf(&b, ": needs %s", e.Action)
		if e.Project != "" {
			fmt.Fprintf(&b, " in project %s", e.Project)
		}
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is matches the error's class sentinel.
func (e *Error) Is(target error) bool { return target != nil && target == e.Class }

// Unwrap returns the underlying transport or context error, if any.
func (e *Error) Unwrap() error { return e.Err }

func className(class error) string {
	switch class {
	case ErrNotFound:
		return "not found"
	case ErrConfig:
		return "configuration or authentication error"
	case ErrNotOffered:
		return "not offered in this region"
	case ErrPermission:
		return "permission denied"
	case ErrBusy:
		return "busy"
	case ErrThrottled:
		return "throttled"
	case ErrTransient:
		return "transient failure"
	case ErrPermanent:
		return "refused"
	case ErrContract:
		return "contract violation"
	}
	return "error"
}

// Explain is a short reason for err fit for a page: for a missing
// permission "permission denied: needs <action> in project <p> (<service>)",
// for a service the region lacks the cloud's explanation, otherwise
// err.Error(). It never holds a secret.
func Explain(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch {
	case e.Class == ErrNotOffered:
		return e.Message
	case e.Class == ErrPermission && e.Action != "":
		msg := "permission denied: needs " + e.Action
		if e.Project != "" {
			msg += " in project " + e.Project
		}
		if e.Service != "" {
			msg += " (" + serviceTitle(e.Service) + ")"
		}
		return msg
	}
	return e.Error()
}

// Definitive reports whether err is the cloud's settled answer about the
// account rather than a failure to reach it: a missing permission or a
// service the region does not offer. Reading again will not change it.
func Definitive(err error) bool {
	return errors.Is(err, ErrPermission) || errors.Is(err, ErrNotOffered)
}

// responseError is what errorHandler returns for an HTTP status >= 400: the
// SDK's error plus the Retry-After header the SDK itself would drop.
type responseError struct {
	*sdkerr.ServiceResponseError
	retryAfter time.Duration
}

const maxMessage = 300

// classify turns whatever the SDK returned into an *Error.
func classify(svc Service, op string, err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	e := &Error{Service: svc, Operation: op}
	var re *responseError
	var sre *sdkerr.ServiceResponseError
	switch {
	case errors.As(err, &re):
		fillResponse(e, re.ServiceResponseError)
		e.RetryAfter = re.retryAfter
	case errors.As(err, &sre):
		fillResponse(e, sre)
	default:
		fillTransport(e, err)
	}
	return e
}

func fillResponse(e *Error, sre *sdkerr.ServiceResponseError) {
	e.HTTPStatus = sre.StatusCode
	e.Code = sre.ErrorCode
	e.RequestID = sre.RequestId
	e.Message = truncate(sre.ErrorMessage)
	e.Class = statusClass(e.Service, sre.StatusCode, sre.ErrorCode, sre.ErrorMessage)
}

// statusClass maps an HTTP status and cloud error code to a class (§1.5).
func statusClass(svc Service, status int, code, msg string) error {
	switch {
	case strings.HasSuffix(code, ".10012"):
		return ErrBusy
	case status < 400:
		return ErrContract // a 2xx whose body did not decode (§1.6)
	case status == 401:
		return ErrConfig
	case status == 403:
		return ErrPermission
	case status == 404:
		return ErrNotFound
	case status == 429 || strings.HasSuffix(code, ".0308"):
		return ErrThrottled
	case status >= 500:
		return ErrTransient
	case status == 400 && svc == CloudDC && mentionsMissing(msg):
		return ErrNotFound // CloudDC documents no 404 (§4.2)
	}
	return ErrPermanent
}

func mentionsMissing(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "not exist") || strings.Contains(m, "not found")
}

func fillTransport(e *Error, err error) {
	e.Err = err
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Class = ErrTransient
		e.Message = "timed out or cancelled"
	case errors.As(err, &ue), errors.As(err, &ne):
		e.Class = ErrTransient
		e.Message = truncate(err.Error())
	case strings.Contains(err.Error(), "need credential type"):
		e.Class = ErrConfig
		e.Message = truncate(err.Error())
	default:
		e.Class = ErrPermanent
		e.Message = truncate(err.Error())
	}
}

func truncate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxMessage {
		return s[:maxMessage] + "…"
	}
	return s
}

// configError builds a configuration error for an account.
func configError(account, format string, args ...any) *Error {
	return &Error{Class: ErrConfig, Account: account, Operation: "config", Message: fmt.Sprintf(format, args...)}
}
