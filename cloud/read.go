package cloud

import (
	"context"
	"errors"
	"fmt"
)

// ListInstances lists every instance of svc in one project, paging to the
// end at the largest page size (DMS with include_failure=true; ROMA
// instances; CloudDC by marker).
func (c *Client) ListInstances(ctx context.Context, account, project string, svc Service) ([]Resource, error) {
	s, err := c.session(account, project, svc)
	if err != nil {
		return nil, err
	}
	switch svc {
	case RocketMQ, RabbitMQ:
		items, _, _, err := c.listDMS(ctx, s, dmsFilter{})
		if err != nil {
			return nil, err
		}
		out := make([]Resource, 0, len(items))
		seen := make(map[string]bool, len(items))
		for _, in := range items {
			if !seen[in.ID] { // offset paging repeats items when instances are created meanwhile
				seen[in.ID] = true
				out = append(out, s.dmsResource(in, c.now))
			}
		}
		return out, nil
	case ROMA:
		return c.listROMAInstances(ctx, s)
	case CloudDC:
		return c.listCloudDC(ctx, s, nil)
	}
	return nil, errUnsupported("list", svc)
}

// checkRef rejects references that cannot name a resource.
func checkRef(ref Ref) error {
	switch {
	case ref.ID == "":
		return &Error{
			Class:     ErrPermanent,
			Account:   ref.Account,
			Service:   ref.Service,
			Operation: "read",
			Message:   "empty resource ID",
		}
	case (ref.Kind == KindApp || ref.Kind == KindTask) && (ref.Service != ROMA || ref.Parent == ""):
		return &Error{Class: ErrPermanent, Account: ref.Account, Service: ref.Service, Operation: "read",
			Message: "ROMA apps and tasks need the ROMA instance as Parent"}
	}
	return nil
}

func notFound(s *session, op string, ref Ref) error {
	return &Error{Class: ErrNotFound, Account: s.account.Name, Service: s.svc, Operation: op,
		Message: fmt.Sprintf("%s %s not found", ref.Kind, ref.ID)}
}

// Read reads one resource's current state. A resource that no longer exists
// gives an error wrapping ErrNotFound; a CloudDC instance still visible as
// terminated comes back with Class ClassGone.
func (c *Client) Read(ctx context.Context, ref Ref) (Resource, error) {
	s, err := c.session(ref.Account, ref.Project, ref.Service)
	if err != nil {
		return Resource{}, err
	}
	if err := checkRef(ref); err != nil {
		return Resource{}, err
	}
	var found []Resource
	switch {
	case ref.Service == RocketMQ || ref.Service == RabbitMQ:
		in, err := c.showDMS(ctx, s, ref.ID)
		if err != nil {
			return Resource{}, err
		}
		return s.dmsResource(in, c.now), nil
	case ref.Service == CloudDC:
		found, err = c.listCloudDC(ctx, s, []string{ref.ID})
	case ref.Kind == KindApp:
		found, err = c.listApps(ctx, s, ref.Parent)
	case ref.Kind == KindTask:
		found, err = c.listTasks(ctx, s, ref.Parent, ref.ID)
	default:
		found, err = c.listROMAInstances(ctx, s)
	}
	if err != nil {
		return Resource{}, err
	}
	for _, r := range found {
		if r.ID == ref.ID {
			return r, nil
		}
	}
	return Resource{}, notFound(s, "read", ref)
}

// ReadMany reads many resources with the fewest calls the API allows, one
// group per account, project, service, kind and parent: CloudDC lists with
// instance_id filters of up to 100; DMS pages the engine's list at 50 when
// that takes fewer calls than one show per ID (if the list moves while it
// is paged, absences are confirmed with the fewest re-reads, re-lists or
// shows); ROMA lists the instance's apps and/or tasks once. The map is keyed by Ref.Key(); a ref missing from
// it no longer exists.
func (c *Client) ReadMany(ctx context.Context, refs []Ref) (map[string]Resource, error) {
	type group struct {
		first Ref
		refs  []Ref
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range refs {
		k := r.Account + "|" + r.Project + "|" + string(r.Service) + "|" + string(r.Kind) + "|" + r.Parent
		g, ok := groups[k]
		if !ok {
			g = &group{first: r}
			groups[k] = g
			order = append(order, k)
		}
		g.refs = append(g.refs, r)
	}
	out := make(map[string]Resource, len(refs))
	for _, k := range order {
		g := groups[k]
		s, err := c.session(g.first.Account, g.first.Project, g.first.Service)
		if err != nil {
			return nil, err
		}
		if err := checkRef(g.first); err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(g.refs))
		for _, r := range g.refs {
			ids = append(ids, r.ID)
		}
		got, err := c.readGroup(ctx, s, g.first, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range g.refs {
			if res, ok := got[r.ID]; ok {
				out[r.Key()] = res
			}
		}
	}
	return out, nil
}

// readGroup reads ids of one kind in one session, keyed by ID.
func (c *Client) readGroup(ctx context.Context, s *session, like Ref, ids []string) (map[string]Resource, error) {
	var list []Resource
	var err error
	switch {
	case s.svc == RocketMQ || s.svc == RabbitMQ || s.svc == CloudDC:
		return c.readInstances(ctx, s, ids)
	case like.Kind == KindApp:
		list, err = c.listApps(ctx, s, like.Parent)
	case like.Kind == KindTask:
		if len(ids) == 1 {
			list, err = c.listTasks(ctx, s, like.Parent, ids[0])
		} else {
			list, err = c.listTasks(ctx, s, like.Parent, "")
		}
	default:
		list, err = c.listROMAInstances(ctx, s)
	}
	if errors.Is(err, ErrNotFound) && like.Kind != KindInstance {
		return map[string]Resource{}, nil // the ROMA instance is gone, so are its assets
	}
	if err != nil {
		return nil, err
	}
	return pick(list, ids), nil
}

func pick(list []Resource, ids []string) map[string]Resource {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]Resource{}
	for _, r := range list {
		if want[r.ID] {
			out[r.ID] = r
		}
	}
	return out
}

// readInstances reads DMS or CloudDC instances by ID with the fewest calls.
func (c *Client) readInstances(ctx context.Context, s *session, ids []string) (map[string]Resource, error) {
	ids = uniq(ids)
	if s.svc == CloudDC {
		out := map[string]Resource{}
		for _, chunk := range Chunk(ids, maxCloudDCIDs) {
			list, err := c.listCloudDC(ctx, s, chunk)
			if err != nil {
				return nil, err
			}
			for id, r := range pick(list, chunk) {
				out[id] = r
			}
		}
		return out, nil
	}
	return c.readDMS(ctx, s, ids)
}

// readDMS chooses between one show per ID and paging the engine's list at
// 50, whichever takes fewer calls. The instance count comes from the last
// full list, or from probing the first page.
func (c *Client) readDMS(ctx context.Context, s *session, ids []string) (map[string]Resource, error) {
	c.mu.Lock()
	known, ok := c.dmsCounts[s.account.Name+"|"+s.project+"|"+string(s.svc)]
	c.mu.Unlock()
	sc := &dmsScan{ordered: true}
	switch {
	case len(ids) == 0:
		return map[string]Resource{}, nil
	case ok && dmsPages(known) < len(ids):
		if err := c.scanDMS(ctx, s, sc, 0); err != nil {
			return nil, err
		}
		return c.resolveDMS(ctx, s, ids, sc)
	case !ok && len(ids) > 1:
		if err := c.scanDMS(ctx, s, sc, 1); err != nil {
			return nil, err
		}
		c.rememberDMSCount(s, sc.total)
		if out := pick(c.dmsResources(s, sc.items), ids); !sc.done && dmsPages(sc.total)-1 < len(ids)-len(out) {
			if err := c.scanDMS(ctx, s, sc, 0); err != nil {
				return nil, err
			}
		}
		if sc.done {
			return c.resolveDMS(ctx, s, ids, sc)
		}
	}
	// One show per ID not listed: fewer calls than listing.
	out := pick(c.dmsResources(s, sc.items), ids)
	seen := c.knownPlaces(s, ids)
	notePlaces(seen, sc.items, out)
	if err := c.showDMSInto(ctx, s, ids, out, seen); err != nil {
		return nil, err
	}
	c.keepDMSPlaces(s, ids, out, seen)
	return out, nil
}

// dmsMaxScans bounds the listings of one read: a scan that moved is
// followed by another only while that takes fewer calls than one show per
// ID still in doubt.
const dmsMaxScans = 2

// resolveDMS reads ids from a full scan. An ID the scan missed is gone
// unless it may hide in one of the scan's gaps: if its place in the list is
// known (from this or an earlier read), that place must lie in a gap; if
// not, some place must lie in a gap of every scan so far. IDs in doubt are
// re-listed while that takes fewer calls than one show each, then shown.
func (c *Client) resolveDMS(ctx context.Context, s *session, ids []string, sc *dmsScan) (map[string]Resource, error) {
	seen := c.knownPlaces(s, ids)
	gone := map[string]bool{}
	hideout := everywhere // where an ID with no known place may be
	for n := 1; ; n++ {
		out := pick(c.dmsResources(s, sc.items), ids)
		hideout = intersect(hideout, sc.hideouts())
		var doubt []string
		for _, id := range ids {
			if _, ok := out[id]; ok || gone[id] {
				continue
			}
			k, placed := seen[id]
			if (placed && !sc.mayHide(k)) || (!placed && len(hideout) == 0) {
				gone[id] = true // deletion is final
				continue
			}
			doubt = append(doubt, id)
		}
		notePlaces(seen, sc.items, out)
		if len(doubt) == 0 || n == dmsMaxScans || dmsPages(sc.total) >= len(doubt) {
			if err := c.showDMSInto(ctx, s, doubt, out, seen); err != nil {
				return nil, err
			}
			c.keepDMSPlaces(s, ids, out, seen)
			return out, nil
		}
		sc = &dmsScan{ordered: true}
		if err := c.scanDMS(ctx, s, sc, 0); err != nil {
			return nil, err
		}
	}
}

// showDMSInto shows each of ids not yet in out, adding those that exist to
// out and their places to seen.
func (c *Client) showDMSInto(
	ctx context.Context,
	s *session,
	ids []string,
	out map[string]Resource,
	seen map[string]dmsKey,
) error {
	for _, id := range ids {
		if _, done := out[id]; done {
			continue
		}
		in, err := c.showDMS(ctx, s, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out[id] = s.dmsResource(in, c.now)
		if k, ok := keyOf(in); ok {
			seen[id] = k
		}
	}
	return nil
}

// notePlaces records in seen the places of the listed items found.
func notePlaces(seen map[string]dmsKey, items []dmsInstance, found map[string]Resource) {
	for _, in := range items {
		if k, ok := keyOf(in); ok {
			if _, want := found[in.ID]; want {
				seen[in.ID] = k
			}
		}
	}
}

// knownPlaces returns the known list places of ids.
func (c *Client) knownPlaces(s *session, ids []string) map[string]dmsKey {
	prefix := s.account.Name + "|" + s.project + "|" + string(s.svc) + "|"
	out := map[string]dmsKey{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if k, ok := c.dmsPlaces[prefix+id]; ok {
			out[id] = k
		}
	}
	return out
}

// keepDMSPlaces remembers the places of the ids found and forgets the rest,
// which are gone.
func (c *Client) keepDMSPlaces(s *session, ids []string, found map[string]Resource, seen map[string]dmsKey) {
	prefix := s.account.Name + "|" + s.project + "|" + string(s.svc) + "|"
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		k, placed := seen[id]
		if _, ok := found[id]; ok && placed {
			c.dmsPlaces[prefix+id] = k
		} else {
			delete(c.dmsPlaces, prefix+id)
		}
	}
}

func dmsPages(n int) int { return max(1, (n+dmsPageSize-1)/dmsPageSize) }

func (c *Client) dmsResources(s *session, items []dmsInstance) []Resource {
	out := make([]Resource, 0, len(items))
	for _, in := range items {
		out = append(out, s.dmsResource(in, c.now))
	}
	return out
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// explainRejected orders outcomes as ids and re-reads the IDs the cloud did
// not accept: one already deleting or gone counts as accepted, the others
// get an error naming their current status.
func (c *Client) explainRejected(ctx context.Context, s *session, ids []string, result map[string]Outcome) []Outcome {
	var rejected []string
	for _, id := range ids {
		if o, ok := result[id]; !ok || (!o.Accepted && o.Err == "") {
			rejected = append(rejected, id)
		}
	}
	var cur map[string]Resource
	var rerr error
	if len(rejected) > 0 {
		cur, rerr = c.readInstances(ctx, s, rejected)
	}
	out := make([]Outcome, 0, len(ids))
	for _, id := range ids {
		o, ok := result[id]
		if !ok {
			o = Outcome{Ref: s.ref(id)}
		}
		if !o.Accepted && o.Err == "" {
			r, found := cur[id]
			switch {
			case rerr != nil:
				o.Err = "refused by the cloud"
			case !found || r.Class == ClassDeleting || r.Class == ClassGone:
				o.Accepted = true
			default:
				o.Err = "refused by the cloud (status " + r.Status + ")"
			}
		}
		out = append(out, o)
	}
	return out
}
