package sigv4

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest joins the parts of a SigV4 canonical request. headers is
// the canonical header block, one "name:value\n" line per signed header.
func canonicalRequest(method, uri, query, headers string, signed []string, payloadHash string) string {
	return strings.Join([]string{method, uri, query, headers, strings.Join(signed, ";"), payloadHash}, "\n")
}

// canonicalURIs returns the canonical URI candidates for S3, which encodes
// each path segment once (no double encoding): first the decoded path
// re-encoded as AWS specifies, which is how SDKs sign; then, when it differs,
// the escaped path exactly as the client sent it, for clients that sign
// their own escaping of characters such as '+' or '!'.
func canonicalURIs(u *url.URL) []string {
	if u.Path == "" {
		return []string{"/"}
	}
	uris := []string{URIEncode(u.Path, false)}
	if raw := u.EscapedPath(); raw != uris[0] {
		uris = append(uris, raw)
	}
	return uris
}

// URIEncode percent-encodes every byte but the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/', unless encodeSlash), in uppercase hex.
func URIEncode(s string, encodeSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// queryParam is one decoded name=value pair of a query string.
type queryParam struct{ name, value string }

// parseQuery decodes a raw query string in order, keeping empty values and
// repeated names. Empty segments ("a=1&&b") are skipped; '+' means space, as
// url.ParseQuery has it. Errors wrap malformed.
func parseQuery(raw string, malformed error) ([]queryParam, error) {
	var params []queryParam
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("sigv4: query parameter %q: bad escape: %w", seg, malformed)
		}
		params = append(params, queryParam{name, value})
	}
	return params, nil
}

// canonicalQuery encodes each name and value, sorts by encoded name then
// encoded value, and joins them with '&'. skip names a parameter to leave
// out (X-Amz-Signature for presigned URLs), or is empty.
func canonicalQuery(params []queryParam, skip string) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skip != "" && p.name == skip {
			continue
		}
		enc = append(enc, queryParam{URIEncode(p.name, true), URIEncode(p.value, true)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// canonicalHeaders writes "name:value\n" for each signed header, in the
// signed order. Several values of one header are joined by ','; each value
// is trimmed and its runs of spaces collapsed.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// headerValues returns the values of a header as the client sent it. The
// server moves Host, and for chunked requests Transfer-Encoding, out of
// r.Header; Content-Length falls back to r.ContentLength.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		return []string{r.URL.Host}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	vs := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	if len(vs) == 0 && name == "content-length" && r.ContentLength > 0 {
		return []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	return vs
}

// trimAll trims leading and trailing whitespace and collapses each run of
// inner spaces to one, as the SigV4 "Trimall" step does.
func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// checkUnsignedHeaders returns ErrUnsignedHeader if an x-amz-* header is
// present but not signed: S3 requires every one of them to be signed.
func checkUnsignedHeaders(h http.Header, signed []string) error {
	for name := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "x-amz-") {
			continue
		}
		if _, ok := slices.BinarySearch(signed, lower); !ok {
			return fmt.Errorf("sigv4: header %s: %w", lower, ErrUnsignedHeader)
		}
	}
	return nil
}
