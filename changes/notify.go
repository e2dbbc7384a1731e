package changes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Notification is the JSON body posted to pending-request webhooks.
type Notification struct {
	Change    int64  `json:"change_id"`
	Name      string `json:"name"`
	State     State  `json:"state"`
	Requester string `json:"requester"`
	Reason    string `json:"reason"`
	Resources int    `json:"resources"`
	PlanHash  string `json:"plan_hash"`
}

// Notifier delivers a notification to one webhook URL.
type Notifier interface {
	Notify(ctx context.Context, url string, n Notification) error
}

// HTTPNotifier posts notifications as JSON with a short timeout.
type HTTPNotifier struct{ Client *http.Client }

// Notify posts n to url; any non-2xx answer is an error.
func (h HTTPNotifier) Notify(ctx context.Context, url string, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("notify %s: %w", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// notifyPending tells every webhook that c awaits approval, in the
// background after the transaction committed: a slow webhook never holds up
// the request, and a failed one is only logged.
func (s *Service) notifyPending(c Change, hooks []string) {
	n := Notification{Change: c.ID, Name: c.Name(), State: StatePending, Requester: c.Requester,
		Reason: c.Reason, Resources: len(c.Plan.Items), PlanHash: c.PlanHash}
	for _, url := range hooks {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.notify.Notify(ctx, url, n); err != nil {
				s.log.Warn("pending-change webhook failed", "change", c.ID, "err", err)
			}
		}()
	}
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
