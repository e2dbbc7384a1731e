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
	gzipped     []byte // body gzip-compressed once at start
	contentType string
}

var (
	hashedName = map[string]string{} // "app.css" -> "app.3f2a9c1b.css"
	byHashed   = map[string]asset{}  // "app.3f2a9c1b.css" -> body
)

func init() {
	names, err := fs.Glob(FS, "*")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		body, err := FS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		hashedName[name] = h
		byHashed[h] = asset{body: body, gzipped: gzipBytes(body), contentType: mime.TypeByExtension(ext)}
	}
}

// URL returns the content-hashed URL of a file, e.g. URL("app.css") ==
// "/static/app.3f2a9c1b4d5e.css". It panics on a name that is not embedded,
// which tests catch at once.
func URL(name string) string {
	h, ok := hashedName[name]
	if !ok {
		panic("static: no file " + name)
	}
	return Prefix + h
}

// Handler serves the files by their hashed names with immutable, year-long
// cache headers. Unhashed or unknown names are 404, so a stale page can never
// pair with a newer file.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := byHashed[strings.TrimPrefix(r.URL.Path, Prefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Vary", "Accept-Encoding")
		body := a.body
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			body = a.gzipped
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
