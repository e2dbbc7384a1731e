package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// movingDMS serves a DMS list (one created_at, so ordered by ID) that
// loses its first instance before each list request after the first
// `moves` times, and shows instances by ID.
type movingDMS struct {
	mu    sync.Mutex
	ids   []string
	lists int
	moves int // -1 = before every request
	reqs  []string
}

func (m *movingDMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	item := func(id string) map[string]any {
		return map[string]any{"instance_id": id, "name": id, "status": "RUNNING", "created_at": "1700000000000"}
	}
	w.Header().Set("Content-Type", "application/json")
	if id, ok := strings.CutPrefix(r.URL.Path, "/v2/p1/instances/"); ok {
		m.reqs = append(m.reqs, "show "+id)
		if !slices.Contains(m.ids, id) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":"DMS.00404022","error_msg":"not found","request_id":"r"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(item(id))
		return
	}
	if m.lists++; m.lists > 1 && m.moves != 0 {
		m.ids, m.moves = m.ids[1:], m.moves-1
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	m.reqs = append(m.reqs, fmt.Sprintf("list %d", offset))
	items := []map[string]any{}
	for i := offset; i < min(offset+limit, len(m.ids)); i++ {
		items = append(items, item(m.ids[i]))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"instances": items, "instance_num": len(m.ids)})
}

func TestReadManyWhenListMoves(t *testing.T) {
	tests := []struct {
		name  string
		moves int
		want  []string // requests
	}{
		// i000 vanishes after the first page, so i050 moves to offset 49:
		// the page at 50 misses it, and is read again from 48.
		{"pages re-read until they meet", 1, []string{"list 0", "list 50", "list 48", "list 98"}},
		// The list moves before every request, so two gaps stay open: an ID
		// no listing had is shown, the ones listed are not.
		{"open gaps confirmed by show", -1, []string{"list 0", "list 50", "list 48", "list 47",
			"list 97", "list 95", "list 94", "show x-missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &movingDMS{moves: tt.moves}
			for i := range 120 {
				m.ids = append(m.ids, fmt.Sprintf("i%03d", i))
			}
			c := fakeClient(t, m, newFakeClock(), nil)
			var refs []Ref
			for _, id := range []string{"i050", "i119", "x-missing"} {
				refs = append(refs, Ref{Account: "acct", Project: "p1", Service: RabbitMQ, Kind: KindInstance, ID: id})
			}
			got, err := c.ReadMany(ctxBG, refs)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got[refs[0].Key()]; !ok || len(got) != 2 {
				t.Errorf("found %v, want i050 and i119", got)
			}
			if !slices.Equal(m.reqs, tt.want) {
				t.Errorf("requests %q, want %q", m.reqs, tt.want)
			}
		})
	}
}

func TestDMSGaps(t *testing.T) {
	k := func(ms int64, id string) *dmsKey { return &dmsKey{ms: ms, id: id} }
	a, b, c, d := k(9, "a"), k(9, "b"), k(5, "a"), k(1, "z") // list order: a, b, c, d
	tests := []struct {
		name string
		x, y []dmsGap
		want int
	}{
		{"disjoint", []dmsGap{{a, b}}, []dmsGap{{c, d}}, 0},
		{"touching", []dmsGap{{a, b}}, []dmsGap{{b, d}}, 0},
		{"overlap", []dmsGap{{a, c}}, []dmsGap{{b, d}}, 1},
		{"open ends", []dmsGap{{nil, b}}, []dmsGap{{a, nil}}, 1},
		{"everywhere", everywhere, []dmsGap{{c, d}, {a, b}}, 2},
		{"none", nil, everywhere, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := intersect(tt.x, tt.y); len(got) != tt.want {
				t.Errorf("intersect = %d gaps, want %d", len(got), tt.want)
			}
		})
	}
	if g := (dmsGap{a, c}); !g.holds(*b) || g.holds(*a) || g.holds(*d) {
		t.Error("holds is not the open interval")
	}
}
