package fastpath

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"

	"sphere.software/objstore/internal/requestid"
)

// Request is a parsed request head, valid only during Answer: its byte
// slices point into the connection's read buffer.
type Request struct {
	head     bool   // HEAD, not GET
	target   []byte // origin form: path and query
	path     []byte
	rawQuery []byte
	host     []byte
	lines    [][]byte // the header lines, "Name: value"
	sentID   []byte   // the value of the first X-Request-Id line, if any
	id       []byte   // the request ID, once ID has made it
	idBuf    [24]byte // holds a new ID
}

// Method is GET or HEAD.
func (r *Request) Method() string {
	if r.head {
		return http.MethodHead
	}
	return http.MethodGet
}

// Path is the request target's path. It holds no '%' escape: it is the
// path as net/http would decode it.
func (r *Request) Path() []byte { return r.path }

// RawQuery is the request target's query, without the '?'.
func (r *Request) RawQuery() []byte { return r.rawQuery }

// Host is the value of the request's one Host header.
func (r *Request) Host() []byte { return r.host }

// Lines are the header lines as sent, "Name: value", Host's included.
func (r *Request) Lines() [][]byte { return r.lines }

// ID is the request's ID (internal/requestid): the X-Request-Id it sent
// when that is valid, else a new one, made on the first call. The fast
// path sends it back in X-Request-Id; an API may put it in its own headers.
func (r *Request) ID() []byte {
	if r.id == nil {
		if requestid.Valid(r.sentID) {
			r.id = r.sentID
		} else {
			r.id = requestid.Append(r.idBuf[:0])
		}
	}
	return r.id
}

// Header returns the value of the first header line called name (ASCII
// case-insensitive), trimmed of spaces and tabs.
func (r *Request) Header(name string) ([]byte, bool) {
	for _, line := range r.lines {
		k, v, _ := bytes.Cut(line, colon)
		if equalFold(k, name) {
			return bytes.Trim(v, " \t"), true
		}
	}
	return nil, false
}

// HTTPRequest returns the request as net/http would give it to a handler,
// for code that wants one (signature checks): method, URL, Host, headers
// under their canonical names with their values trimmed, no body. It
// copies what it keeps.
func (r *Request) HTTPRequest() (*http.Request, error) {
	u, err := url.ParseRequestURI(string(r.target))
	if err != nil {
		return nil, err
	}
	h := make(http.Header, len(r.lines))
	for _, line := range r.lines {
		k, v, _ := bytes.Cut(line, colon)
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		if key == "Host" {
			continue // net/http moves it to Request.Host
		}
		h[key] = append(h[key], string(bytes.Trim(v, " \t")))
	}
	return &http.Request{
		Method: r.Method(), URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: string(r.host), RequestURI: string(r.target), Body: http.NoBody,
	}, nil
}

var (
	crlf  = []byte("\r\n")
	sp    = []byte(" ")
	colon = []byte(":")
)

// parse parses a request head that ends with an empty line into r. It
// reports false for anything the fast path does not serve, and for
// anything that is not a well-formed request: net/http answers those.
func (r *Request) parse(head []byte) bool {
	*r = Request{lines: r.lines[:0]}
	line, rest, ok := bytes.Cut(head, crlf)
	if !ok {
		return false
	}
	method, line, ok := bytes.Cut(line, sp)
	if !ok {
		return false
	}
	switch string(method) {
	case http.MethodGet:
	case http.MethodHead:
		r.head = true
	default:
		return false
	}
	target, proto, ok := bytes.Cut(line, sp)
	if !ok || string(proto) != "HTTP/1.1" || len(target) == 0 || target[0] != '/' {
		return false
	}
	r.target = target
	r.path, r.rawQuery, _ = bytes.Cut(target, []byte("?"))
	for _, b := range r.path {
		if !isPathChar(b) {
			return false
		}
	}
	for _, b := range r.rawQuery {
		if b <= ' ' || b >= 0x7f || b == '#' {
			return false
		}
	}
	hosts := 0
	for len(rest) > 0 {
		line, rest, ok = bytes.Cut(rest, crlf)
		if !ok {
			return false
		}
		if len(line) == 0 {
			break // the empty line that ends the head
		}
		name, value, ok := bytes.Cut(line, colon)
		if !ok || !validName(name) || !validValue(value) {
			return false // also obs-fold: a line starting with a space
		}
		value = bytes.Trim(value, " \t")
		switch {
		case equalFold(name, "Host"):
			if !validHost(value) {
				return false
			}
			r.host = value
			hosts++
		case equalFold(name, "Connection"):
			if !equalFold(value, "keep-alive") {
				return false
			}
		case equalFold(name, "Content-Length"), equalFold(name, "Transfer-Encoding"),
			equalFold(name, "Expect"), equalFold(name, "Upgrade"), equalFold(name, "Range"),
			equalFold(name, "If-Match"), equalFold(name, "If-None-Match"), equalFold(name, "If-Modified-Since"),
			equalFold(name, "If-Unmodified-Since"), equalFold(name, "If-Range"),
			equalFold(name, "Pragma"): // net/http may add a Cache-Control for it
			return false
		case equalFold(name, requestid.Header):
			if r.sentID == nil {
				r.sentID = value
			}
		}
		r.lines = append(r.lines, line)
	}
	return hosts == 1
}

// isPathChar reports whether b may appear in a path served here: the
// unreserved characters, the sub-delimiters, ':', '@' and '/' (RFC 3986),
// so that no byte needs unescaping and dot segments are the only thing
// left for the API to refuse.
func isPathChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// equalFold is an ASCII case-insensitive comparison of b with s.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validName reports whether b is an HTTP token (RFC 9110, section 5.6.2).
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validHost reports whether b has only the bytes net/http accepts in a
// Host header (httpguts.ValidHostHeader): the bytes of a URI's host and
// port, '%' for IPv6 zones, and nothing else.
func validHost(b []byte) bool {
	for _, c := range b {
		if !validHostByte[c] {
			return false
		}
	}
	return true
}

var validHostByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!$%&'()*+,-.:;=[]_~" {
		t[c] = true
	}
	return t
}()

// validValue reports whether b holds no control characters but tab.
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// headLen finds the end of the request head at the start of buf where
// net/http does, at the first empty line (lines end in LF, with or
// without CR). It returns the head's length when that line ends a head of
// CRLF lines, -1 when it ends one the fast path leaves to net/http (a bare
// LF), and 0 when buf holds no empty line yet.
func headLen(buf []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1 // the start of the next line
		switch {
		case i < len(buf) && buf[i] == '\n':
			return -1
		case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
			if i >= 2 && buf[i-2] == '\r' {
				return i + 2
			}
			return -1
		case i+1 >= len(buf) && (i == len(buf) || buf[i] == '\r'):
			return 0 // the next line may still be empty
		}
	}
}
