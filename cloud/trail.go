package cloud

import (
	"context"
	"strings"
	"sync"
)

// TrailCall is one HTTP call the cloud answered: the operation, the
// cloud's X-Request-Id (what a support ticket or a CTS query names) and the
// HTTP status.
type TrailCall struct {
	Operation   string `json:"op"`
	RequestID   string `json:"id"`
	Status      int    `json:"http"`
	Destructive bool   `json:"destructive,omitempty"`
}

// Trail collects the calls made under one context (see WithTrail). It is
// safe for concurrent use.
type Trail struct {
	mu    sync.Mutex
	calls []TrailCall
}

// Calls returns the calls recorded so far, in order.
func (t *Trail) Calls() []TrailCall {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TrailCall(nil), t.calls...)
}

func (t *Trail) add(c TrailCall) {
	t.mu.Lock()
	t.calls = append(t.calls, c)
	t.mu.Unlock()
}

type trailKey struct{}

type opKey struct{}

// WithTrail returns a context under which every cloud call the Client makes
// (retries and re-reads included) is recorded in the returned Trail.
func WithTrail(ctx context.Context) (context.Context, *Trail) {
	t := &Trail{}
	return context.WithValue(ctx, trailKey{}, t), t
}

// Destructive reports whether a decom operation changes the cloud.
func Destructive(op string) bool {
	return strings.Contains(op, "delete") || strings.HasSuffix(op, ".restore") || strings.HasSuffix(op, ".import")
}

// recordResponse notes one answered call on the trail of ctx, if any.
func recordResponse(ctx context.Context, requestID string, status int) {
	t, _ := ctx.Value(trailKey{}).(*Trail)
	if t == nil {
		return
	}
	op, _ := ctx.Value(opKey{}).(string)
	t.add(TrailCall{Operation: op, RequestID: requestID, Status: status, Destructive: Destructive(op)})
}
