package cloud

import (
	"context"
	"strconv"
)

// dmsScan is one pass over a DMS engine's list with offset paging.
//
// When instances before the offset vanish between two page requests, the
// later ones move up and the next page starts past some of them. With the
// list ordered by created_at descending, then instance_id, such a skipped
// instance lies strictly between the last item of one page and the first
// item of the next, at a page boundary where instance_num changed. Those
// open intervals of the list order are the scan's gaps: an instance that
// was live throughout the scan and is not in it lies in a gap. A scan
// without gaps is consistent, and an instance it lacks is gone.
type dmsScan struct {
	items   []dmsInstance
	total   int // instance_num of the last page
	next    int // offset of the next page
	pages   int
	done    bool
	ordered bool // every page came in list order, so the gaps can be trusted
	gaps    []dmsGap
}

// dmsKey is an instance's place in the list order.
type dmsKey struct {
	ms int64 // created_at
	id string
}

// before reports whether k comes before o in the list.
func (k dmsKey) before(o dmsKey) bool { return k.ms > o.ms || (k.ms == o.ms && k.id < o.id) }

func keyOf(in dmsInstance) (dmsKey, bool) {
	ms, err := strconv.ParseInt(in.CreatedAt, 10, 64)
	return dmsKey{ms: ms, id: in.ID}, err == nil && in.ID != ""
}

// dmsGap is an open interval of the list order; a nil bound is open-ended.
type dmsGap struct{ from, to *dmsKey }

func (g dmsGap) holds(k dmsKey) bool {
	return (g.from == nil || g.from.before(k)) && (g.to == nil || k.before(*g.to))
}

// everywhere is the gap of a scan whose order cannot be trusted.
var everywhere = []dmsGap{{}}

// dmsRepairs bounds the attempts to close one gap by re-reading its page.
const dmsRepairs = 2

// scanDMS reads up to maxPages more pages of sc (0 = to the end) at the
// largest page size. When the total changed since the last page, the page
// is read again from earlier, by the change and one more, so that it
// overlaps what was read: one page is one consistent snapshot, so if it
// starts at or before the last item read, nothing between was skipped.
// Gaps that stay open are recorded.
func (c *Client) scanDMS(ctx context.Context, s *session, sc *dmsScan, maxPages int) error {
	for n := 0; !sc.done && (maxPages == 0 || n < maxPages); n++ {
		offset := sc.next
		got, num, err := c.dmsPage(ctx, s, offset, dmsPageSize, false)
		for try := 0; err == nil && sc.open(offset, got, num) && try < dmsRepairs; try++ {
			offset = max(0, sc.next-max(sc.total-num, 0)-1)
			got, num, err = c.dmsPage(ctx, s, offset, dmsPageSize, false)
		}
		if err != nil {
			return err
		}
		sc.add(offset, got, num)
	}
	if sc.done {
		c.rememberDMSCount(s, sc.total)
	}
	return nil
}

// last is the place of the last item read, nil if unknown.
func (sc *dmsScan) last() *dmsKey {
	if len(sc.items) == 0 {
		return nil
	}
	if k, ok := keyOf(sc.items[len(sc.items)-1]); ok {
		return &k
	}
	return nil
}

// open reports whether a page read at offset may have skipped instances
// after the last item read: the total changed (or the page was re-read)
// and the page does not start at or before that item.
func (sc *dmsScan) open(offset int, got []dmsInstance, num int) bool {
	if sc.pages == 0 || (num == sc.total && offset == sc.next) || offset == 0 {
		return false
	}
	last := sc.last()
	if last == nil || len(got) == 0 {
		return true
	}
	first, ok := keyOf(got[0])
	return !ok || last.before(first)
}

// add appends one page read at offset.
func (sc *dmsScan) add(offset int, got []dmsInstance, num int) {
	if sc.open(offset, got, num) {
		g := dmsGap{from: sc.last()}
		if len(got) > 0 {
			k, _ := keyOf(got[0])
			g.to = &k
		}
		if g.from == nil {
			sc.ordered = false
		}
		sc.gaps = append(sc.gaps, g)
	}
	for i, in := range got {
		k, ok := keyOf(in)
		if !ok || (i > 0 && !mustKey(got[i-1]).before(k)) {
			sc.ordered = false
		}
	}
	sc.items = append(sc.items, got...)
	sc.total = num
	sc.next = offset + len(got)
	sc.pages++
	sc.done = len(got) == 0 || sc.next >= num
}

func mustKey(in dmsInstance) dmsKey {
	k, _ := keyOf(in)
	return k
}

// hideouts are where a live instance the scan missed may be.
func (sc *dmsScan) hideouts() []dmsGap {
	if len(sc.gaps) > 0 && !sc.ordered {
		return everywhere
	}
	return sc.gaps
}

// mayHide reports whether a live instance with key k may be missing from
// the scan.
func (sc *dmsScan) mayHide(k dmsKey) bool {
	for _, g := range sc.hideouts() {
		if g.holds(k) {
			return true
		}
	}
	return false
}

// intersect returns the intervals that lie in both a and b.
func intersect(a, b []dmsGap) []dmsGap {
	var out []dmsGap
	for _, x := range a {
		for _, y := range b {
			g := dmsGap{from: x.from, to: x.to}
			if g.from == nil || (y.from != nil && g.from.before(*y.from)) {
				g.from = y.from
			}
			if g.to == nil || (y.to != nil && y.to.before(*g.to)) {
				g.to = y.to
			}
			if g.from == nil || g.to == nil || g.from.before(*g.to) {
				out = append(out, g)
			}
		}
	}
	return out
}
