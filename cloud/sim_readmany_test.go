package cloud

import (
	"testing"
	"time"

	"github.com/decom/decom/cloudsim"
)

// TestSimReadManyWhileDMSVanishes reads DMS instances again and again while
// every other one vanishes, a few at a time, in the middle of the listings:
// offset pages then shift, so a live instance can fall between two pages.
// No live instance may be reported gone, every instance reported gone must
// be gone, and absences must be settled by listing, not one show per ID.
func TestSimReadManyWhileDMSVanishes(t *testing.T) {
	const n = 300
	env := newSim(t, "empty", func(f *cloudsim.Faults) { f.DMSDeleteDelayMS = 300 })
	fast, acct := env.client(authAKSK, Options{})
	env.createN(n, spec{Service: "rocketmq"})
	listed, err := fast.ListInstances(ctxBG, acct, simProject, RocketMQ)
	if err != nil || len(listed) != n {
		t.Fatalf("listed %d, %v", len(listed), err)
	}
	var refs, keep, del []Ref
	for i, r := range listed { // in list order, so kept and deleted interleave
		refs = append(refs, r.Ref)
		if i%2 == 0 {
			keep = append(keep, r.Ref)
		} else {
			del = append(del, r.Ref)
		}
	}
	slowClient := func() *Client { // 200 calls/s: one listing of 6 pages spans ~30 ms
		a := env.account(authAKSK)
		a.RateLimit, a.Burst = 200, 1
		c, err := New(Config{Accounts: []Account{a}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cached := slowClient()
	if _, err := cached.ReadMany(ctxBG, refs); err != nil { // learns the count and the places
		t.Fatal(err)
	}

	deleted := make(chan error, 1)
	go func() {
		for _, r := range del {
			if err := fast.DeleteDMSInstance(ctxBG, r); err != nil {
				deleted <- err
				return
			}
			time.Sleep(2 * time.Millisecond) // they vanish one by one, 300 ms later
		}
		deleted <- nil
	}()

	// Generous: each of dmsMaxScans listings may re-read every page twice.
	maxLists := dmsMaxScans * (1 + dmsRepairs) * (pages(n, dmsPageSize) + 1)
	var moved int // reads that listed more pages than a still list needs
	check := func(name string, c *Client) (shows int, goneAll bool) {
		t.Helper()
		before := env.stats()
		got, err := c.ReadMany(ctxBG, refs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		calls := env.callsSince(before)
		if calls["dms.list"] > maxLists {
			t.Errorf("%s: calls %v, want at most %d dms.list", name, calls, maxLists)
		}
		if calls["dms.list"] > pages(n, dmsPageSize) {
			moved++
		}
		shows = calls["dms.show"]
		for _, r := range keep {
			if _, ok := got[r.Key()]; !ok {
				t.Fatalf("%s: live instance %s reported gone", name, r.ID)
			}
		}
		exists := env.dmsIDs()
		goneAll = true
		for _, r := range del {
			_, ok := got[r.Key()]
			if !ok && exists[r.ID] {
				t.Fatalf("%s: instance %s reported gone but still exists", name, r.ID)
			}
			goneAll = goneAll && !ok
		}
		return shows, goneAll
	}
	var reads, cachedShows, freshShows int
	for deadline := time.Now().Add(20 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("deleted instances never all reported gone")
		}
		s1, done := check("cached", cached)
		s2, _ := check("fresh", slowClient()) // no known count or places: probes, then lists
		reads, cachedShows, freshShows = reads+1, cachedShows+s1, freshShows+s2
		if done {
			break
		}
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rounds, %d reads saw the list move; dms.show calls: %d with known places, %d without",
		reads, moved, cachedShows, freshShows)
	// Confirming each vanished ID with a show would take 150 shows or more.
	if cachedShows+freshShows > 40 {
		t.Errorf("%d dms.show calls, want few", cachedShows+freshShows)
	}
}

// dmsIDs returns the IDs of the DMS instances that exist now.
func (e *simEnv) dmsIDs() map[string]bool {
	var out struct {
		Resources []struct {
			Service, Kind, ID string
		} `json:"resources"`
	}
	e.control("GET", "/_sim/resources", nil, &out)
	ids := map[string]bool{}
	for _, r := range out.Resources {
		if r.Service == "rocketmq" || r.Service == "rabbitmq" {
			ids[r.ID] = true
		}
	}
	return ids
}
