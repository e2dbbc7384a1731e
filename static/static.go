// Package static holds the vendored front-end files (htmx, Pico CSS) and
// decom's own small CSS and JS, embedded into the binary and served under
// content-hashed names so browsers may cache them for a year.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// FS holds every static file. Vendored files come from the npm registry at the
// pinned versions listed in static/VENDOR.md.
//
//go:embed *.js *.css
var FS embed.FS

// Prefix is the URL path under which Handler serves the files.
const Prefix = "/static/"

type asset struct {
	body        []byte
	gzipped     []byte // body gzip-compressed once, when loaded
	contentType string
}

// Assets are the embedded files under their content-hashed names. Load
// builds them once, when the console's server is built; other subcommands
// never pay for the hashing and compression.
type Assets struct {
	hashedName map[string]string // "app.css" -> "app.3f2a9c1b.css"
	byHashed   map[string]asset  // "app.3f2a9c1b.css" -> body
}

// Load hashes and compresses every embedded file.
func Load() (*Assets, error) {
	names, err := fs.Glob(FS, "*")
	if err != nil {
		return nil, fmt.Errorf("static: list files: %w", err)
	}
	a := &Assets{hashedName: map[string]string{}, byHashed: map[string]asset{}}
	for _, name := range names {
		body, err := FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("static: read %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		a.hashedName[name] = h
		a.byHashed[h] = asset{body: body, gzipped: gzipBytes(body), contentType: mime.TypeByExtension(ext)}
	}
	return a, nil
}

// URL returns the content-hashed URL of a file, e.g. URL("app.css") ==
// "/static/app.3f2a9c1b4d5e.css". It panics on a name that is not embedded,
// which tests catch at once.
func (a *Assets) URL(name string) string {
	h, ok := a.hashedName[name]
	if !ok {
		panic("static: no file " + name)
	}
	return Prefix + h
}

// ServeHTTP serves the files by their hashed names with immutable, year-long
// cache headers. Unhashed or unknown names are 404, so a stale page can never
// pair with a newer file.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.byHashed[strings.TrimPrefix(r.URL.Path, Prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Vary", "Accept-Encoding")
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
