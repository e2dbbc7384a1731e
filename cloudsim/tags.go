package cloudsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tag is one key/value resource tag as DMS and CloudDC send it: both keys
// always present, value "" when the tag has none.
type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Tag limits (cloud-api.md §2.11, §4.7).
const (
	maxDMSTags     = 20
	maxTagKeyLen   = 128
	maxTagValueLen = 255
)

// checkTags validates a whole tag list of a resource of service: DMS
// applies the documented key rules and at most 20 tags; CloudDC only the
// lengths; ROMA has no resource tags. Keys must be unique.
func checkTags(service string, tags []tag) error {
	switch service {
	case "roma":
		if len(tags) > 0 {
			return fmt.Errorf("ROMA resources have no tags (cloud-api.md §3.13)")
		}
	case "rocketmq", "rabbitmq":
		if len(tags) > maxDMSTags {
			return fmt.Errorf("at most %d tags per instance, got %d", maxDMSTags, len(tags))
		}
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if err := checkTag(service, t); err != nil {
			return err
		}
		if seen[t.Key] {
			return fmt.Errorf("tag key %q appears twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// checkTag validates one tag's key and value.
func checkTag(service string, t tag) error {
	n := utf8.RuneCountInString(t.Key)
	switch {
	case n == 0 || n > maxTagKeyLen:
		return fmt.Errorf("tag key %q must be 1 to %d characters", t.Key, maxTagKeyLen)
	case utf8.RuneCountInString(t.Value) > maxTagValueLen:
		return fmt.Errorf("tag value of %q must be at most %d characters", t.Key, maxTagValueLen)
	case service == "clouddc":
		return nil
	case strings.TrimSpace(t.Key) != t.Key:
		return fmt.Errorf("tag key %q must not start or end with a space", t.Key)
	case strings.HasPrefix(t.Key, "_sys_"):
		return fmt.Errorf("tag key %q must not start with _sys_", t.Key)
	}
	for _, r := range t.Key {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" _.:=+-@", r) {
			return fmt.Errorf("tag key %q: character %q is not allowed", t.Key, r)
		}
	}
	return nil
}

// tagList returns tags sorted by key, never nil, so that JSON has "[]".
func tagList(tags []tag) []tag {
	out := append([]tag{}, tags...)
	slices.SortFunc(out, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// tagRoutes are the DMS tag operations of one engine.
type tagRoutes struct{ show, project, action route }

var dmsTagRoutes = map[string]tagRoutes{}

func init() {
	for _, e := range []string{"rocketmq", "rabbitmq"} {
		dmsTagRoutes[e] = tagRoutes{
			show:    route{op: "dms.tags", svc: svcDMS, handle: dmsTags(e)},
			project: route{op: "dms.project_tags", svc: svcDMS, handle: dmsProjectTags(e)},
			action:  route{op: "dms.tags_action", svc: svcDMS, handle: dmsTagAction(e)},
		}
	}
}

// matchDMSTags routes /v2/{p}/{rocketmq|rabbitmq}/... (rest starts with the
// engine segment).
func matchDMSTags(m string, rest []string) (route, []string) {
	rts, ok := dmsTagRoutes[rest[0]]
	switch {
	case !ok:
	case len(rest) == 2 && rest[1] == "tags" && m == http.MethodGet:
		return rts.project, nil
	case len(rest) == 3 && rest[2] == "tags" && m == http.MethodGet:
		return rts.show, rest[1:2]
	case len(rest) == 4 && rest[2] == "tags" && rest[3] == "action" && m == http.MethodPost:
		return rts.action, rest[1:2]
	}
	return route{}, nil
}

// dmsTagged finds a live instance for a per-instance tag call: the engine
// segment of the path must match its engine; s.mu held.
func (s *Sim) dmsTagged(c *call, engine string) (*dmsInst, reply, bool) {
	d, _, ok := s.dmsLookup(c, c.args[0], false)
	if !ok || d.service() != engine {
		return nil, dmsNotFound(c.args[0]), false
	}
	return d, reply{}, true
}

// dmsTags is GET /v2/{p}/{engine}/{id}/tags (cloud-api.md §2.11).
// RocketMQ pages the tags sorted by key; RabbitMQ returns them all.
func dmsTags(engine string) func(*Sim, *call) reply {
	return func(s *Sim, c *call) reply {
		d, rep, ok := s.dmsTagged(c, engine)
		if !ok {
			return rep
		}
		tags := tagList(d.tags)
		if engine == "rocketmq" {
			q := c.r.URL.Query()
			offset, err := intParam(q, "offset", 0, 0, maxInt)
			if err != nil {
				return svcDMS.badRequest(err.Error())
			}
			limit, err := intParam(q, "limit", 10, 1, maxInt)
			if err != nil {
				return svcDMS.badRequest(err.Error())
			}
			lo, hi := page(len(tags), offset, limit)
			return jsonReply(http.StatusOK, map[string]any{"total": len(tags), "tags": tags[lo:hi]})
		}
		return jsonReply(http.StatusOK, map[string]any{"total": len(tags), "tags": tags})
	}
}

// projectTag is one key with its values, for the project tag pick-list.
type projectTag struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// dmsProjectTags is GET /v2/{p}/{engine}/tags: the keys of the engine's
// live instances with their de-duplicated values, sorted.
func dmsProjectTags(engine string) func(*Sim, *call) reply {
	return func(s *Sim, c *call) reply {
		values := map[string][]string{}
		for _, d := range slices.Clone(s.st.dmsBy[c.project]) {
			if _, _, ok := s.dmsLookup(c, d.id, false); !ok || d.service() != engine {
				continue
			}
			for _, t := range d.tags {
				if !slices.Contains(values[t.Key], t.Value) {
					values[t.Key] = append(values[t.Key], t.Value)
				}
			}
		}
		out := make([]projectTag, 0, len(values))
		for _, k := range sortedKeys(values) {
			vs := values[k]
			slices.Sort(vs)
			out = append(out, projectTag{k, vs})
		}
		total := len(out)
		if engine == "rocketmq" {
			q := c.r.URL.Query()
			offset, err := intParam(q, "offset", 0, 0, maxInt)
			if err != nil {
				return svcDMS.badRequest(err.Error())
			}
			limit, err := intParam(q, "limit", 10, 1, maxInt)
			if err != nil {
				return svcDMS.badRequest(err.Error())
			}
			lo, hi := page(len(out), offset, limit)
			out = out[lo:hi]
		}
		return jsonReply(http.StatusOK, map[string]any{"total": total, "tags": out})
	}
}

// dmsTagAction is POST /v2/{p}/{engine}/{id}/tags/action: create (replacing
// the value of an existing key) or delete (by key) tags; 204.
func dmsTagAction(engine string) func(*Sim, *call) reply {
	return func(s *Sim, c *call) reply {
		d, rep, ok := s.dmsTagged(c, engine)
		if !ok {
			return rep
		}
		var b struct {
			Action *string `json:"action"`
			Tags   *[]tag  `json:"tags"`
		}
		if err := decodeBody(c.body, &b); err != nil {
			return svcDMS.badRequest(err.Error())
		}
		if b.Tags == nil || len(*b.Tags) == 0 {
			return svcDMS.badRequest("tags must hold at least one tag")
		}
		next := slices.Clone(d.tags)
		switch {
		case b.Action != nil && *b.Action == "create":
			for _, t := range *b.Tags {
				if i := slices.IndexFunc(next, func(x tag) bool { return x.Key == t.Key }); i >= 0 {
					next[i] = t
				} else {
					next = append(next, t)
				}
			}
		case b.Action != nil && *b.Action == "delete":
			for _, t := range *b.Tags {
				next = slices.DeleteFunc(next, func(x tag) bool { return x.Key == t.Key })
			}
		default:
			return svcDMS.badRequest(`action must be "create" or "delete"`)
		}
		if err := checkTags(engine, next); err != nil {
			return svcDMS.badRequest(err.Error())
		}
		d.tags = next
		return emptyReply(http.StatusNoContent)
	}
}
