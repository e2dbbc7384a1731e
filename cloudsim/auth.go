package cloudsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

const (
	sdkDateFormat = "20060102T150405Z"
	maxClockSkew  = 15 * time.Minute
)

func unauthorized(msg string) reply {
	return errReply(svcGateway, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: "+msg)
}

// authenticate checks the Authorization (AK/SK) or X-Auth-Token header, then
// the path project against the credential's projects (cloud-api.md §1.3).
func (s *Sim) authenticate(c *call, f Faults) (*Credential, reply, bool) {
	r := c.r
	var cred *Credential
	if h := r.Header.Get("Authorization"); h != "" {
		var msg string
		cred, msg = s.verifySignature(r, h, c.body, f.CheckSignatures)
		if cred == nil {
			return nil, unauthorized(msg), false
		}
	} else if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		cred = s.credByToken(tok)
		if cred == nil {
			return nil, unauthorized("token is invalid or expired"), false
		}
	} else {
		return nil, unauthorized("no Authorization or X-Auth-Token header"), false
	}
	if !slices.Contains(cred.Projects, c.project) {
		return nil, errReply(svcGateway, http.StatusForbidden, "APIGW.0302",
			"The IAM or enterprise project policy does not allow access to project "+c.project), false
	}
	return cred, reply{}, true
}

// sdkAuth is a parsed "SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…".
type sdkAuth struct {
	access, signedHeaders, signature string
}

func parseSDKAuth(h string) (sdkAuth, bool) {
	rest, ok := strings.CutPrefix(h, "SDK-HMAC-SHA256 ")
	if !ok {
		return sdkAuth{}, false
	}
	var a sdkAuth
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sdkAuth{}, false
		}
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a, a.access != "" && a.signedHeaders != "" && a.signature != ""
}

// verifySignature returns the credential when the request's signature
// verifies, or nil and the reason.
func (s *Sim) verifySignature(r *http.Request, h string, body []byte, check bool) (*Credential, string) {
	a, ok := parseSDKAuth(h)
	if !ok {
		return nil, "malformed Authorization header"
	}
	cred := s.credByAK(a.access)
	if cred == nil {
		return nil, "unknown access key"
	}
	if cred.SecurityToken != "" &&
		!hmac.Equal([]byte(r.Header.Get("X-Security-Token")), []byte(cred.SecurityToken)) {
		return nil, "temporary credentials need their security token"
	}
	if !cred.Expires.IsZero() && time.Now().After(cred.Expires) {
		return nil, "the temporary credentials have expired"
	}
	if !check {
		return cred, ""
	}
	date := r.Header.Get("X-Sdk-Date")
	t, err := time.Parse(sdkDateFormat, date)
	if err != nil {
		return nil, "missing or malformed X-Sdk-Date"
	}
	// The wall clock, not Options.Now: the SDK signs with the real time, and
	// a test clock must not make every signature stale.
	if d := time.Since(t); d > maxClockSkew || d < -maxClockSkew {
		return nil, "X-Sdk-Date is more than 15 minutes from server time"
	}
	want := signature(r, a.signedHeaders, body, date, cred.SK)
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return nil, "signature does not match"
	}
	return cred, ""
}

// signature computes the SDK-HMAC-SHA256 signature of r (cloud-api.md §1.3).
func signature(r *http.Request, signedHeaders string, body []byte, date, sk string) []byte {
	payload := r.Header.Get("X-Sdk-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	var cr strings.Builder
	cr.WriteString(r.Method + "\n")
	cr.WriteString(canonicalURI(r.URL.Path) + "\n")
	cr.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, name := range strings.Split(signedHeaders, ";") {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			vals = slices.Clone(r.Header.Values(name))
		}
		sort.Strings(vals)
		for _, v := range vals {
			cr.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	cr.WriteString("\n" + signedHeaders + "\n" + payload)
	crSum := sha256.Sum256([]byte(cr.String()))
	sts := "SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(crSum[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(sts))
	return mac.Sum(nil)
}

func canonicalURI(path string) string {
	seg := strings.Split(path, "/")
	for i, p := range seg {
		seg[i] = sigEscape(p)
	}
	u := strings.Join(seg, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, sigEscape(k)+"="+sigEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// sigEscape keeps A–Z a–z 0–9 - _ . ~ and percent-encodes every other byte.
func sigEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' ||
			c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}
