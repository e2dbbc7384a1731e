package notify

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/decom/decom/audit"
	"github.com/decom/decom/store"
)

// Options tune a Service. Zero values take defaults.
type Options struct {
	Now         func() time.Time                // clock, default time.Now
	Client      *http.Client                    // default NewClient(nil, Timeout): public addresses only
	Timeout     time.Duration                   // per attempt, default 10 s
	PublicURL   string                          // the console's base URL, for links to change pages
	Backoff     func(attempt int) time.Duration // wait after failed attempt n (1, 2, ...), default Backoff
	MaxAttempts int                             // then the row is failed, default 15
	Idle        time.Duration                   // longest sleep of Run between checks, default 5 s
	Parallel    int                             // concurrent deliveries, default 4
	Logger      *slog.Logger
}

// Service configures channels, lists deliveries, and delivers the outbox.
type Service struct {
	db   *sql.DB
	o    Options
	wake chan struct{}
}

// New returns a Service over db (migrated).
func New(db *sql.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = NewClient(nil, o.Timeout)
	}
	if o.Backoff == nil {
		o.Backoff = Backoff
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 15
	}
	if o.Idle <= 0 {
		o.Idle = 5 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Service{db: db, o: o, wake: make(chan struct{}, 1)}
}

// Backoff is the default wait after failed attempt n: 2^(n-1) seconds
// capped at 10 minutes, with ±20% jitter. Fifteen attempts span about 1.5 h.
func Backoff(n int) time.Duration {
	d := time.Duration(1<<min(n-1, 20)) * time.Second
	d = min(d, 10*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Link is the change page's absolute URL.
func (s *Service) Link(changeID int64) string {
	return s.o.PublicURL + "/changes/" + strconv.FormatInt(changeID, 10)
}

// Wake makes Run look at the outbox now (after a commit that enqueued).
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Actor is who changes the channels, for the audit log.
type Actor struct{ Name, ClientIP, UserAgent string }

// Channels lists every channel, global first.
func (s *Service) Channels(ctx context.Context) ([]Channel, error) { return listChannels(ctx, s.db) }

// AddChannel validates and saves a channel. The audit event names the
// channel by its redacted URL.
func (s *Service) AddChannel(ctx context.Context, a Actor, c Channel) (Channel, error) {
	c.Project, c.URL, c.Secret = strings.TrimSpace(c.Project), strings.TrimSpace(c.URL), strings.TrimSpace(c.Secret)
	if err := c.Validate(); err != nil {
		return Channel{}, err
	}
	c.CreatedBy, c.CreatedAt = a.Name, s.o.Now().UTC()
	err := store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notify_channels
			(project, format, url, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Project, c.Format, c.URL, c.Secret, c.CreatedBy, store.FormatTime(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("add channel: %w", err)
		}
		c.ID, _ = res.LastInsertId()
		return s.audit(ctx, tx, a, "added", c)
	})
	return c, err
}

// RemoveChannel deletes a channel; its past deliveries stay in the log and
// its pending ones are given up.
func (s *Service) RemoveChannel(ctx context.Context, a Actor, id int64) error {
	return store.InTx(ctx, s.db, func(tx *sql.Tx) error {
		c, err := getChannel(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notify_channels WHERE id = ?`, id); err != nil {
			return fmt.Errorf("remove channel %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET state = ?, last_error = 'channel removed'
			WHERE channel_id = ? AND state = ?`, StateFailed, id, StatePending); err != nil {
			return fmt.Errorf("remove channel %d: %w", id, err)
		}
		return s.audit(ctx, tx, a, "removed", c)
	})
}

func (s *Service) audit(ctx context.Context, tx *sql.Tx, a Actor, outcome string, c Channel) error {
	return audit.Record(ctx, tx, audit.Event{Time: s.o.Now().UTC(), Actor: a.Name, ClientIP: a.ClientIP,
		UserAgent: a.UserAgent, Action: audit.ActionChannelChanged, Project: c.Project, Outcome: outcome},
		map[string]any{"channel": c.ID, "format": c.Format, "project": c.Project, "url": c.Redacted()})
}

// Deliveries lists outbox rows, newest first.
func (s *Service) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	return listDeliveries(ctx, s.db, f)
}

// Attempts lists the recorded attempts of one delivery.
func (s *Service) Attempts(ctx context.Context, deliveryID int64) ([]Attempt, error) {
	return listAttempts(ctx, s.db, deliveryID)
}

// Run delivers the outbox until ctx ends (cmd/web runs it beside the
// poller); it returns nil on cancellation. Rows left pending by a crash are
// sent on the next start: at-least-once.
func (s *Service) Run(ctx context.Context) error {
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Error("deliver notifications", "err", err)
		}
		wait := s.o.Idle
		if next, ok, err := nextDue(ctx, s.db); err == nil && ok {
			wait = min(max(next.Sub(s.o.Now()), 10*time.Millisecond), s.o.Idle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// DeliverDue sends every due outbox row once (up to Parallel at a time)
// and returns how many it attempted.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	rows, err := dueRows(ctx, s.db, s.o.Now(), 100)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	chans := map[int64]Channel{}
	for _, r := range rows {
		if _, ok := chans[r.Channel]; !ok {
			c, err := getChannel(ctx, s.db, r.Channel)
			if err != nil {
				c = Channel{ID: r.Channel} // removed: the attempt records why
			}
			chans[r.Channel] = c
		}
	}
	sem := make(chan struct{}, s.o.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, r := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.deliver(ctx, r, chans[r.Channel]); err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(rows), firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// deliver makes one attempt for r and records it.
func (s *Service) deliver(ctx context.Context, r due, ch Channel) error {
	start := s.o.Now()
	var a Attempt
	if ch.URL == "" {
		a.Error = "channel removed"
	} else if m, err := Build(ch, r.Event, s.Link(r.Event.ChangeID), start); err != nil {
		a.Error = err.Error()
	} else {
		actx, cancel := context.WithTimeout(ctx, s.o.Timeout)
		a.Status, err = post(actx, s.o.Client, m)
		cancel()
		if err != nil {
			a.Error = err.Error()
		}
	}
	if ctx.Err() != nil {
		return nil // shutting down: the row stays pending and is sent again
	}
	a.At, a.Duration = s.o.Now().UTC(), s.o.Now().Sub(start)
	n := r.Attempts + 1
	state, next := StateDelivered, a.At
	if a.Error != "" {
		state, next = StatePending, a.At.Add(s.o.Backoff(n))
		if n >= s.o.MaxAttempts || ch.URL == "" {
			state = StateFailed
		}
		s.o.Logger.Warn("notification not delivered", "delivery", r.ID, "event", r.Event.ID, "channel", ch.ID,
			"url", ch.Redacted(), "attempt", n, "err", a.Error)
	}
	return store.InTx(context.WithoutCancel(ctx), s.db, func(tx *sql.Tx) error {
		return recordAttempt(ctx, tx, r.ID, n, a, state, next)
	})
}
