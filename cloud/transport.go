package cloud

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/response"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// callHeader carries a call ID from our wrapper, through the SDK (which takes
// no context), to ctxTransport, which swaps in that call's context and removes
// the header. The SDK signs no header whose name contains "_", so removing it
// keeps AK/SK signatures valid.
const callHeader = "X-Decom_call"

// ctxTransport gives every SDK request the context of the call that made it,
// so cancellation and deadlines reach the socket.
type ctxTransport struct {
	base  http.RoundTripper
	seq   atomic.Uint64
	mu    sync.Mutex
	calls map[string]context.Context
}

func newCtxTransport(base http.RoundTripper) *ctxTransport {
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16 // concurrent callers per endpoint keep their connections
		base = t
	}
	return &ctxTransport{base: base, calls: map[string]context.Context{}}
}

// register makes ctx the context of requests carrying the returned ID.
func (t *ctxTransport) register(ctx context.Context) (id string, done func()) {
	id = strconv.FormatUint(t.seq.Add(1), 10)
	t.mu.Lock()
	t.calls[id] = ctx
	t.mu.Unlock()
	return id, func() {
		t.mu.Lock()
		delete(t.calls, id)
		t.mu.Unlock()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := req.Header.Get(callHeader)
	if id == "" {
		return t.base.RoundTrip(req)
	}
	t.mu.Lock()
	ctx, ok := t.calls[id]
	t.mu.Unlock()
	if !ok {
		ctx = req.Context()
	}
	r := req.Clone(ctx)
	r.Header.Del(callHeader)
	resp, err := t.base.RoundTrip(r)
	if resp != nil {
		recordResponse(ctx, resp.Header.Get("X-Request-Id"), resp.StatusCode)
	}
	return resp, err
}

// errorHandler keeps the Retry-After header that the SDK's default handler
// drops (§1.5).
type errorHandler struct{}

// HandleError implements sdkerr.ErrorHandler.
func (errorHandler) HandleError(_ *request.DefaultHttpRequest, resp *response.DefaultHttpResponse) error {
	if resp.GetStatusCode() < 400 {
		return nil
	}
	ra := parseRetryAfter(resp.GetHeader("Retry-After"), time.Now())
	return &responseError{ServiceResponseError: sdkerr.NewServiceResponseError(resp.Response), retryAfter: ra}
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
