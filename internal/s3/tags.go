package s3

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// S3's object tag limits.
const (
	maxTags        = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// encodeTags returns the user metadata as an S3 Tagging header value
// (URL-encoded key=value pairs) and true, or false when it does not fit S3's
// tag limits; see the package doc.
func encodeTags(userMeta []byte) (string, bool) {
	tags, ok := userMetaTags(userMeta)
	if !ok || len(tags) == 0 {
		return "", false
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(tagEscape(k))
		b.WriteByte('=')
		b.WriteString(tagEscape(tags[k]))
	}
	return b.String(), true
}

// userMetaTags returns the tags the user metadata becomes, or false when it
// is not a JSON object or any entry breaks a tag limit.
func userMetaTags(userMeta []byte) (map[string]string, bool) {
	var obj map[string]json.RawMessage
	if len(userMeta) == 0 || json.Unmarshal(userMeta, &obj) != nil || obj == nil || len(obj) > maxTags {
		return nil, false
	}
	tags := make(map[string]string, len(obj))
	for k, raw := range obj {
		v, ok := tagValue(raw)
		if !ok || !validTagKey(k) || !validTagValue(v) {
			return nil, false
		}
		tags[k] = v
	}
	return tags, true
}

// tagValue is a JSON value as a tag value: a string as it is, anything else
// as its compact JSON text.
func tagValue(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "", false
	}
	return b.String(), true
}

func validTagKey(k string) bool {
	n := utf8.RuneCountInString(k)
	return n >= 1 && n <= maxTagKeyLen && !strings.HasPrefix(k, "aws:") && validTagChars(k)
}

func validTagValue(v string) bool {
	return utf8.RuneCountInString(v) <= maxTagValueLen && validTagChars(v)
}

// validTagChars reports whether s holds only the characters S3 allows in
// tags: letters, digits, white space and + - = . _ : / @. It follows AWS's
// pattern ^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$, so white space means Unicode
// separators (spaces), not control characters such as tab or newline.
func validTagChars(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsNumber(r), unicode.Is(unicode.Z, r):
		case strings.ContainsRune("+-=._:/@", r):
		default:
			return false
		}
	}
	return true
}

// tagEscape URL-encodes s for the Tagging header, with spaces as %20.
func tagEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
