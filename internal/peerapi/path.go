package peerapi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"sphere.software/objstore"
)

// Route paths.
const (
	pathPing        = "/private/v1/ping"
	pathRecords     = "/private/v1/records"
	pathDigests     = "/private/v1/digests"
	pathLeafDigests = "/private/v1/digests/leaves"
	pathLeaves      = "/private/v1/leaves"
	pathBody        = "/private/v1/body/"
)

// ParseVersion parses the form objstore.Version.String writes: 16 lowercase
// hex digits of the HLC, a dash, then the node ID (any string, even empty).
// Other input gets an error wrapping ErrMalformed.
func ParseVersion(s string) (objstore.Version, error) {
	const digits = 16
	if len(s) < digits+1 || s[digits] != '-' || strings.ToLower(s[:digits]) != s[:digits] {
		return objstore.Version{}, fmt.Errorf("peerapi: version %q: %w: want 16 lowercase hex digits, '-', node", truncate(s, 80), ErrMalformed)
	}
	hlc, err := strconv.ParseUint(s[:digits], 16, 64)
	if err != nil {
		return objstore.Version{}, fmt.Errorf("peerapi: version %q: %w: %w", truncate(s, 80), ErrMalformed, err)
	}
	return objstore.Version{HLC: hlc, Node: s[digits+1:]}, nil
}

// bodyURL is the URL of the body route for key at version v on addr.
func bodyURL(addr string, key objstore.Key, v objstore.Version) string {
	return "http://" + addr + pathBody + escapeSegment(key.Bucket) + "/" + escapeSegment(key.ID) +
		"?v=" + url.QueryEscape(v.String())
}

// escapeSegment percent-encodes every byte of s but ASCII letters, digits,
// '-', '_' and '~', so that s becomes one path segment that path cleaning
// leaves alone: '/', '.' and '%' are encoded too.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~'
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
