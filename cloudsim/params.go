package cloudsim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("invalid %s %q: must be an integer within %d..%d", name, q.Get(name), lo, hi)
	}
	return n, nil
}

// boolParam parses an optional "true"/"false" query parameter.
func boolParam(q url.Values, name string) (bool, error) {
	switch v := q.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("invalid %s %q: must be true or false", name, v)
	}
}

// decodeBody strictly decodes a JSON request body into v.
func decodeBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return fmt.Errorf("request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("invalid request body: %v", err)
	}
	return nil
}

// page returns the [offset, offset+limit) window of n items.
func page(n, offset, limit int) (int, int) {
	lo := min(offset, n)
	return lo, min(lo+limit, n)
}

const maxInt = int(^uint(0) >> 1)
