package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Redacted replaces the value of every secret key in Details.
const Redacted = "[REDACTED]"

// secretExact are normalised keys that are secrets only when they are the
// whole key ("sk" is Huawei's secret key; "desk" is not a secret).
var secretExact = map[string]bool{
	"sk": true, "pwd": true, "pass": true, "otp": true, "pin": true, "auth": true,
}

// secretParts are normalised key fragments that mark a secret at any position.
var secretParts = []string{
	"password", "passwd", "passphrase", "secret", "token", "authorization",
	"cookie", "credential", "privatekey", "apikey", "signature", "session",
}

// IsSecretKey reports whether a Details key names a secret. Keys are compared
// lower-case with '-', '_', '.' and spaces removed ("X-Auth-Token",
// "secret_access_key", "Set-Cookie").
func IsSecretKey(key string) bool {
	k := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(key))
	if secretExact[k] {
		return true
	}
	for _, p := range secretParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

// canonicalDetails validates raw as JSON, redacts secrets at any depth
// (including inside strings that hold a JSON object) and re-encodes it
// compactly with sorted keys and no HTML escaping. Empty means {}.
func canonicalDetails(raw json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}"), nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, &ValidationError{Field: "details", Problem: "not valid JSON: " + err.Error()}
	}
	if _, ok := v.(map[string]any); !ok && v != nil {
		return nil, &ValidationError{Field: "details", Problem: "must be a JSON object"}
	}
	if v == nil {
		return []byte("{}"), nil
	}
	var n int
	return encodeJSON(redact(v, &n))
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep numbers exactly as written
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, &ValidationError{Field: "details", Problem: "trailing data after JSON value"}
	}
	return v, nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// redact replaces secret values in v in place, counting them in n.
func redact(v any, n *int) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsSecretKey(k) {
				t[k] = Redacted
				*n++
			} else {
				t[k] = redact(x, n)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = redact(x, n)
		}
	case string:
		return redactEmbedded(t, n)
	}
	return v
}

// redactEmbedded redacts a string holding a JSON object (a logged request
// body, say), keeping it a string; strings without secrets are left as is.
func redactEmbedded(s string, n *int) string {
	trim := strings.TrimSpace(s)
	if len(trim) < 2 || trim[0] != '{' || !utf8.ValidString(trim) {
		return s
	}
	inner, err := decodeJSON([]byte(trim))
	if err != nil {
		return s
	}
	var found int
	inner = redact(inner, &found)
	if found == 0 {
		return s
	}
	out, err := encodeJSON(inner)
	if err != nil {
		return s
	}
	*n += found
	return string(out)
}
