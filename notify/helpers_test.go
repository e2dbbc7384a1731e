package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/decom/decom/migrations"
	"github.com/decom/decom/notify"
	"github.com/decom/decom/store"
)

// loopback is what tests allowlist: the receivers listen on 127.0.0.1.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background(), db, migrations.FS); err != nil {
		t.Fatal(err)
	}
	return db
}

func newDB(t testing.TB) *sql.DB {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "decom.db"))
	t.Cleanup(func() { db.Close() })
	return db
}

// request is one request a receiver got.
type request struct {
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver records requests and answers with status() (200 by default).
type receiver struct {
	mu     sync.Mutex
	got    []request
	status func() int          // set with setStatus
	after  func(*http.Request) // runs before the handler returns (holds the answer); set with setAfter
	notify chan request
	srv    *httptest.Server
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{notify: make(chan request, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		rq := request{Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: b, At: time.Now()}
		r.mu.Lock()
		st := http.StatusOK
		if r.status != nil {
			st = r.status()
		}
		r.got = append(r.got, rq)
		after := r.after
		r.mu.Unlock()
		r.notify <- rq
		w.WriteHeader(st)
		if after != nil {
			after(req)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setStatus(f func() int) { r.mu.Lock(); r.status = f; r.mu.Unlock() }

func (r *receiver) setAfter(f func(*http.Request)) { r.mu.Lock(); r.after = f; r.mu.Unlock() }

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// enqueue commits one event for change id in the projects, as a state
// change would.
func enqueue(t testing.TB, db *sql.DB, ev notify.Event) notify.Event {
	t.Helper()
	if ev.ID == "" {
		ev.ID = notify.NewID()
	}
	err := store.InTx(context.Background(), db, func(tx *sql.Tx) error {
		_, err := notify.Enqueue(context.Background(), tx, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func sampleEvent(id int64) notify.Event {
	return notify.Event{Kind: notify.KindApproved, At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), ChangeID: id,
		ChangeName: "CR-" + itoa(id), State: "approved", Actor: "bob", Requester: "alice",
		Reason: "retire <orders> & co", Resources: 3, Projects: []string{"p1"}, Text: "looks right"}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func bufLogger(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }
