package handlers

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// bindQuery fills dst's string fields from q by their `form:` tags, as
// Echo binds posted forms. A repeated, non-UTF-8 or NUL-carrying parameter
// is a 400; unknown parameters are ignored.
func bindQuery(dst any, q url.Values) error {
	v := reflect.ValueOf(dst).Elem()
	for i := range v.NumField() {
		key := v.Type().Field(i).Tag.Get("form")
		if key == "" {
			continue
		}
		if len(q[key]) > 1 {
			return echo.NewHTTPError(http.StatusBadRequest, "Repeated parameter "+key+".")
		}
		val := q.Get(key)
		if !utf8.ValidString(val) || slices.Contains([]byte(val), 0) {
			return echo.NewHTTPError(http.StatusBadRequest, "Malformed parameter "+key+".")
		}
		v.Field(i).SetString(val)
	}
	return nil
}

// encodeQuery is bindQuery's inverse: the non-empty tagged fields of src,
// except the keys in skip.
func encodeQuery(src any, skip ...string) url.Values {
	v := reflect.ValueOf(src)
	out := url.Values{}
	for i := range v.NumField() {
		key := v.Type().Field(i).Tag.Get("form")
		if val := v.Field(i).String(); key != "" && val != "" && !slices.Contains(skip, key) {
			out.Set(key, val)
		}
	}
	return out
}
