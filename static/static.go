// Package static holds the vendored front-end files (htmx, Pico CSS) and
// decom's own small CSS and JS, embedded into the binary.
package static

import "embed"

// FS holds every static file. Vendored files come from the npm registry at the
// pinned versions listed in static/VENDOR.md.
//
//go:embed *.js *.css
var FS embed.FS
