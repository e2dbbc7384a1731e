// Package views holds decom's templ pages, htmx fragments, components and
// their view models. It does no I/O and imports nothing of decom's.
package views

import "context"

// Meta is what every page's layout needs, built by handlers for each request.
type Meta struct {
	Title     string
	Active    string // key of the current nav entry, e.g. "inventory"
	User      *UserInfo
	Nav       []NavItem // entries the user may open
	CSRFToken string
	Flashes   []Flash
	Simulated bool   // the cloud is cloudsim: show the banner
	SimURL    string // the simulator's base URL, for its /_sim/ control API
	Assets    Assets
	RequestID string
}

// UserInfo is the signed-in user as the layout shows them.
type UserInfo struct {
	Username string
	Roles    []string
}

// NavItem is one entry of the top navigation.
type NavItem struct {
	Key   string
	Label string
	URL   string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "info", "success" or "error"
	Message string
}

// Assets are the content-hashed URLs of the static files.
type Assets struct {
	PicoCSS string
	AppCSS  string
	HTMX    string
	AppJS   string
}

type csrfKey struct{}

// WithCSRF stores the request's CSRF token in ctx for CSRFField.
func WithCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// CSRFToken returns the token stored by WithCSRF, or "".
func CSRFToken(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey{}).(string)
	return s
}

// htmxConfig: indicator styles off (the CSP forbids inline style), no eval,
// no script tags in swapped content, error responses swapped (the error
// handler retargets them to #flash), history always re-fetched from the server.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"historyCacheSize":0,"refreshOnHistoryMiss":true,"selfRequestsOnly":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"[45]..","swap":true,"error":true}]}`
