package handlers

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// valuesJSON serializes session values as JSON. Gob, gorilla's default,
// rebuilds its type information on every decode: a third of the cost of
// reading a cookie on each request. Our values are string-keyed strings and
// flash lists, which JSON keeps.
type valuesJSON struct{}

// Serialize encodes session values (gorilla/sessions passes the map) whose
// keys are strings.
func (valuesJSON) Serialize(src any) ([]byte, error) {
	vals, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session values: unexpected %T", src)
	}
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("session values: key %v is not a string", k)
		}
		m[ks] = v
	}
	return json.Marshal(m)
}

// Deserialize decodes into a *map[any]any.
func (valuesJSON) Deserialize(b []byte, dst any) error {
	p, ok := dst.(*map[any]any)
	if !ok {
		return errors.New("session values: unexpected destination")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if *p == nil {
		*p = make(map[any]any, len(m))
	}
	for k, v := range m {
		(*p)[k] = v
	}
	return nil
}

// useJSON switches every codec of cs to valuesJSON.
func useJSON(cs *sessions.CookieStore) {
	for _, c := range cs.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(valuesJSON{})
		}
	}
}
