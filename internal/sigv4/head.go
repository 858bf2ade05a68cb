package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"
)

// Head is a GET or HEAD request as it came off the wire, for VerifyHead:
// the bytes are the client's, nothing is decoded.
type Head struct {
	Method string // GET or HEAD
	// Path is the path as sent. VerifyHead proves nothing for a path with
	// a '%' escape or a byte net/url would escape (see plainPath).
	Path     []byte
	RawQuery []byte   // without the '?'
	Host     []byte   // the one Host header's value
	Lines    [][]byte // the header lines, "Name: value", in order (Host's is not read)
}

// VerifyHead authenticates a bodiless request from its raw head, the way
// Verify does, without an *http.Request: for a server that answers hot
// GETs straight from the connection, where building the request, its
// header map and its parsed query would cost more than the signature.
//
// It reports ok only for a request that Verify accepts too, with the same
// access key. ok false proves nothing either way: the request is not
// authentic, or it has a form this path leaves to Verify (an escaped path,
// a Date header instead of x-amz-date, a streaming payload, several
// Authorization headers, SigV2), and the caller must ask Verify.
func (v *Verifier) VerifyHead(h *Head) (accessKey string, ok bool) {
	if !plainPath(h.Path) || (h.Method != "GET" && h.Method != "HEAD") {
		return "", false
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	if !sc.parseQuery(h.RawQuery) {
		return "", false
	}
	req, ok := sc.request(h)
	if !ok {
		return "", false
	}
	secret, ok := v.secrets.Secret(req.auth.accessKey)
	if !ok || v.checkScope(req) != nil || v.checkTime(req) != nil || !signedAllAmz(h.Lines, req.auth.signedHeaders) {
		return "", false
	}
	key := v.signingKey(req.auth.accessKey, secret, req.auth.scope)
	skip := ""
	if req.presigned {
		skip = qSignature
	}
	uri := appendURIEncode(sc.uri[:0], h.Path, false)
	sc.uri = uri
	if sc.signatureMatches(h, req, key, uri, skip) ||
		!bytes.Equal(uri, h.Path) && sc.signatureMatches(h, req, key, h.Path, skip) {
		return req.auth.accessKey, true
	}
	return "", false
}

// plainPath reports whether p is a path that net/url decodes to itself
// and gives back as its escaped form: '/' first, then only the bytes
// url.URL.EscapedPath keeps as they are, no '%'. Verify signs both forms;
// for such a path they are p.
func plainPath(p []byte) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	for _, c := range p {
		if !isUnreserved(c) && strings.IndexByte("/!$&'()*+,;=:@[]", c) < 0 {
			return false
		}
	}
	return true
}

// scratch is the reusable memory of one VerifyHead call.
type scratch struct {
	arena  []byte     // decoded and encoded query names and values
	params []rawParam // the query, in order
	sorted []rawParam
	uri    []byte
	buf    []byte // the canonical request, then the string to sign
	mac    []byte // HMAC input
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// rawParam is one query parameter: arena offsets of its decoded name and
// value and of their canonical encodings.
type rawParam struct {
	name, value, encName, encValue span
}

type span struct{ start, end int }

func (sc *scratch) bytes(s span) []byte { return sc.arena[s.start:s.end] }

// str returns the bytes of s as a string (a copy).
func (sc *scratch) str(s span) string { return string(sc.arena[s.start:s.end]) }

// parseQuery decodes the query as parseQuery does, and encodes each name
// and value as canonicalQuery does. It reports false for a bad escape.
func (sc *scratch) parseQuery(raw []byte) bool {
	sc.arena, sc.params = sc.arena[:0], sc.params[:0]
	for len(raw) > 0 {
		var seg []byte
		seg, raw, _ = bytes.Cut(raw, []byte("&"))
		if len(seg) == 0 {
			continue
		}
		k, val, _ := bytes.Cut(seg, []byte("="))
		var p rawParam
		var ok1, ok2 bool
		p.name, ok1 = sc.unescape(k)
		p.value, ok2 = sc.unescape(val)
		if !ok1 || !ok2 {
			return false
		}
		p.encName = sc.encode(p.name)
		p.encValue = sc.encode(p.value)
		sc.params = append(sc.params, p)
	}
	return true
}

// unescape appends the query-unescaped b to the arena ('+' is a space), as
// url.QueryUnescape decodes it.
func (sc *scratch) unescape(b []byte) (span, bool) {
	start := len(sc.arena)
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '%' && b[i] != '+' {
			i++
		}
		sc.arena = append(sc.arena, b[:i]...)
		b = b[i:]
		switch {
		case len(b) == 0:
		case b[0] == '+':
			sc.arena = append(sc.arena, ' ')
			b = b[1:]
		case len(b) < 3 || !isHex(b[1]) || !isHex(b[2]):
			return span{}, false
		default:
			sc.arena = append(sc.arena, unhex(b[1])<<4|unhex(b[2]))
			b = b[3:]
		}
	}
	return span{start, len(sc.arena)}, true
}

// encode appends URIEncode(s, true) to the arena. The arena may grow, so
// s is read by offsets.
func (sc *scratch) encode(s span) span {
	start := len(sc.arena)
	for i := s.start; i < s.end; {
		j := i
		for j < s.end && unreserved[sc.arena[j]] {
			j++
		}
		sc.arena = append(sc.arena, sc.arena[i:j]...)
		if j < s.end {
			sc.arena = appendURIByte(sc.arena, sc.arena[j], true)
			j++
		}
		i = j
	}
	return span{start, len(sc.arena)}
}

// unreserved is isUnreserved as a table.
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isUnreserved(byte(c))
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func appendURIEncode(dst, s []byte, encodeSlash bool) []byte {
	for _, c := range s {
		dst = appendURIByte(dst, c, encodeSlash)
	}
	return dst
}

func appendURIByte(dst []byte, c byte, encodeSlash bool) []byte {
	const hex = "0123456789ABCDEF"
	if isUnreserved(c) || (c == '/' && !encodeSlash) {
		return append(dst, c)
	}
	return append(dst, '%', hex[c>>4], hex[c&15])
}

// request reads the signature from the Authorization header or the
// presigning parameters, as parseRequest does; it reports false for
// anything parseRequest would refuse and for the forms VerifyHead leaves to
// Verify.
func (sc *scratch) request(h *Head) (*request, bool) {
	header, n := headerValue(h.Lines, "Authorization")
	presigned := sc.hasPresignParams()
	switch {
	case n > 1 || len(header) > 0 && presigned:
		return nil, false
	case len(header) > 0:
		return sc.headerRequest(h, header)
	case presigned:
		return sc.presignedRequest()
	}
	return nil, false
}

func (sc *scratch) hasPresignParams() bool {
	for _, p := range sc.params {
		switch string(sc.bytes(p.name)) {
		case qAlgorithm, qCredential, qSignature:
			return true
		}
	}
	return false
}

// headerRequest is parseHeaderRequest on the raw head; a request dated by
// Date rather than x-amz-date, and streaming payloads, are left to Verify.
func (sc *scratch) headerRequest(h *Head, header []byte) (*request, bool) {
	auth, err := parseAuthorization(string(header))
	if err != nil {
		return nil, false
	}
	amzDate, _ := headerValue(h.Lines, "X-Amz-Date")
	date, ok := parseAmzDate(amzDate)
	if !ok {
		return nil, false
	}
	hash, _ := headerValue(h.Lines, "X-Amz-Content-Sha256")
	if string(hash) != unsignedPayload && !isHexSHA256(string(hash)) {
		return nil, false
	}
	return &request{auth: auth, date: date, amzDate: string(amzDate), payloadHash: string(hash)}, true
}

// presignedRequest is parsePresignedRequest on the parsed query.
func (sc *scratch) presignedRequest() (*request, bool) {
	names := [...]string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature, qContentSHA256}
	var vals [len(names)]span
	var seen [len(names)]bool
	for _, p := range sc.params {
		i := slices.Index(names[:], string(sc.bytes(p.name)))
		if i < 0 {
			continue
		}
		if seen[i] {
			return nil, false
		}
		seen[i], vals[i] = true, p.value
	}
	for i := range len(names) - 1 { // all but X-Amz-Content-Sha256
		if !seen[i] {
			return nil, false
		}
	}
	if string(sc.bytes(vals[0])) != algorithm {
		return nil, false
	}
	auth, err := newAuthorization(sc.str(vals[1]), sc.str(vals[4]), sc.str(vals[5]), ErrMalformedQuery)
	if err != nil {
		return nil, false
	}
	amzDate := sc.bytes(vals[2])
	date, ok := parseAmzDate(amzDate)
	if !ok {
		return nil, false
	}
	expires, err := parseExpires(sc.str(vals[3]))
	if err != nil {
		return nil, false
	}
	hash := unsignedPayload
	if seen[6] {
		// A hex hash: the request has no body to check it against, as
		// Verify's hashing reader finds when it is never read.
		hash = sc.str(vals[6])
		if hash != unsignedPayload && !isHexSHA256(hash) {
			return nil, false
		}
	}
	return &request{auth: auth, date: date, amzDate: string(amzDate), payloadHash: hash,
		presigned: true, expires: expires}, true
}

// parseAmzDate parses an ISO 8601 basic timestamp as time.Parse does with
// amzDateLayout, without making a string of it.
func parseAmzDate(b []byte) (time.Time, bool) {
	if len(b) != len(amzDateLayout) || b[8] != 'T' || b[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var f [6]int
	for i, r := range [6][2]int{{0, 4}, {4, 6}, {6, 8}, {9, 11}, {11, 13}, {13, 15}} {
		n, ok := num(b[r[0]:r[1]])
		if !ok {
			return time.Time{}, false
		}
		f[i] = n
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC)
	// time.Date normalises what time.Parse refuses (month 13, day 31 of
	// June, second 60): a date that does not come back as written is one
	// of those.
	if t.Year() != f[0] || int(t.Month()) != f[1] || t.Day() != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, false
	}
	return t, true
}

// headerValue returns the first value of the header name (trimmed of
// spaces and tabs, as net/http has it) and how many lines carry it.
func headerValue(lines [][]byte, name string) ([]byte, int) {
	var v []byte
	n := 0
	for _, line := range lines {
		k, val, _ := bytes.Cut(line, []byte(":"))
		if equalFold(k, name) {
			if n == 0 {
				v = bytes.Trim(val, " \t")
			}
			n++
		}
	}
	return v, n
}

// signedAllAmz is checkUnsignedHeaders on the raw lines.
func signedAllAmz(lines [][]byte, signed []string) bool {
	for _, line := range lines {
		k, _, _ := bytes.Cut(line, []byte(":"))
		if len(k) < 6 || !equalFold(k[:6], "x-amz-") {
			continue
		}
		if !slices.ContainsFunc(signed, func(s string) bool { return equalFold(k, s) }) {
			return false
		}
	}
	return true
}

// signatureMatches builds the canonical request for uri and compares its
// signature with the request's in constant time.
func (sc *scratch) signatureMatches(h *Head, req *request, key, uri []byte, skip string) bool {
	b := append(sc.buf[:0], h.Method...)
	b = append(b, '\n')
	b = append(b, uri...)
	b = append(b, '\n')
	b = sc.appendCanonicalQuery(b, skip)
	b = append(b, '\n')
	for _, name := range req.auth.signedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValues(b, h, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range req.auth.signedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	b = append(b, req.payloadHash...)
	sum := sha256.Sum256(b)

	// The string to sign, then its HMAC with the derived key.
	b = append(b[:0], algorithm+"\n"...)
	b = append(b, req.amzDate...)
	b = append(b, '\n')
	b = append(b, req.auth.scope.date...)
	b = append(b, '/')
	b = append(b, req.auth.scope.region...)
	b = append(b, '/')
	b = append(b, req.auth.scope.service...)
	b = append(b, "/"+terminator+"\n"...)
	b = hex.AppendEncode(b, sum[:])
	sc.buf = b
	mac := sc.hmac(key, b)
	var got [2 * sha256.Size]byte
	hex.Encode(got[:], mac[:])
	return hmac.Equal(got[:], []byte(req.auth.signature))
}

// hmac is HMAC-SHA256 of msg under key (at most a block long), in
// reused memory: hmac.New allocates a pair of hashes on every call.
func (sc *scratch) hmac(key, msg []byte) [sha256.Size]byte {
	var pad [sha256.BlockSize]byte
	copy(pad[:], key)
	b := sc.mac[:0]
	for _, c := range pad {
		b = append(b, c^0x36)
	}
	b = append(b, msg...)
	inner := sha256.Sum256(b)
	b = b[:0]
	for _, c := range pad {
		b = append(b, c^0x5c)
	}
	b = append(b, inner[:]...)
	sc.mac = b
	return sha256.Sum256(b)
}

// appendCanonicalQuery is canonicalQuery on the parsed query.
func (sc *scratch) appendCanonicalQuery(b []byte, skip string) []byte {
	sc.sorted = sc.sorted[:0]
	for _, p := range sc.params {
		if skip == "" || string(sc.bytes(p.name)) != skip {
			sc.sorted = append(sc.sorted, p)
		}
	}
	slices.SortFunc(sc.sorted, func(x, y rawParam) int {
		if c := bytes.Compare(sc.bytes(x.encName), sc.bytes(y.encName)); c != 0 {
			return c
		}
		return bytes.Compare(sc.bytes(x.encValue), sc.bytes(y.encValue))
	})
	for i, p := range sc.sorted {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, sc.bytes(p.encName)...)
		b = append(b, '=')
		b = append(b, sc.bytes(p.encValue)...)
	}
	return b
}

// appendHeaderValues appends the canonical value of the signed header
// name, as canonicalHeaders makes it: the values of its lines joined by
// ',', each trimmed with its runs of spaces collapsed; host's is Host.
func appendHeaderValues(b []byte, h *Head, name string) []byte {
	if name == "host" {
		return appendTrimAll(b, h.Host)
	}
	first := true
	for _, line := range h.Lines {
		k, v, _ := bytes.Cut(line, []byte(":"))
		if !equalFold(k, name) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendTrimAll(b, v)
	}
	return b
}

// appendTrimAll is trimAll on bytes.
func appendTrimAll(b, v []byte) []byte {
	v = bytes.TrimSpace(v)
	for i, c := range v {
		if c == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, c)
	}
	return b
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
