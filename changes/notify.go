package changes

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
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

// Policies returns the global policy (defaults if never saved) and every
// per-project policy.
func (s *Service) Policies(ctx context.Context) (Policy, []Policy, error) {
	all, err := getPolicies(ctx, s.db)
	if err != nil {
		return Policy{}, nil, err
	}
	global, ok := all[""]
	if !ok {
		global = DefaultPolicy()
	}
	var projects []Policy
	for k, p := range all {
		if k != "" {
			projects = append(projects, p)
		}
	}
	return global, projects, nil
}

// SetPolicy saves the global (Project "") or a project's policy. Admins only.
func (s *Service) SetPolicy(ctx context.Context, a Actor, p Policy) error {
	if !a.Has(RoleAdmin) {
		return fmt.Errorf("set policy: %w: admin role needed", ErrForbidden)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		now := s.now().UTC()
		if err := upsertPolicy(ctx, tx, p, a.Name, now); err != nil {
			return err
		}
		return s.record(ctx, tx, a, audit.ActionPolicyChanged, Change{}, "saved", p)
	})
}

// policyFor is policyIn outside a transaction.
func (s *Service) policyFor(ctx context.Context, p Plan) (Policy, []string, error) {
	return s.policyIn(ctx, s.db, p)
}

// policyIn is the effective policy of a plan and its webhooks.
func (s *Service) policyIn(ctx context.Context, q querier, p Plan) (Policy, []string, error) {
	all, err := getPolicies(ctx, q)
	if err != nil {
		return Policy{}, nil, err
	}
	global, ok := all[""]
	if !ok {
		global = DefaultPolicy()
	}
	var per []Policy
	for _, proj := range p.Projects() {
		if pp, ok := all[proj]; ok {
			per = append(per, pp)
		}
	}
	pol, hooks := Effective(global, per)
	return pol, hooks, nil
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
