// Package requestid gives every request a node answers an ID: the one the
// client sent in X-Request-Id when it is sane, else a new one. The ID goes
// back in the X-Request-Id response header, travels in the request's
// context, and is added to every log record written with that context
// (Handler), so an operator can find the access line, the error answer and
// the node's own log lines about one request by one string.
//
// New IDs are 16 upper-case hex digits, as S3's request IDs look: 8 drawn
// at random when the process starts, then a counter (more digits once it
// passes 2^32). Making one is an atomic add and a few shifts, cheap enough
// for the hot GET fast path; IDs of one process never repeat, and two
// processes share a prefix with odds of 1 in 2^32.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net/http"
	"sync/atomic"
)

// Header is the request and response header that carries the ID.
const Header = "X-Request-Id"

// Attr is the name of the log attribute that carries the ID.
const Attr = "request_id"

// MaxLen is the longest incoming ID accepted; a longer one is replaced.
const MaxLen = 128

const hexDigits = "0123456789ABCDEF"

// prefix is this process's 8 random hex digits; counter numbers its IDs.
var (
	prefix  [8]byte
	counter atomic.Uint64
)

func init() {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (it panics instead)
	n := binary.BigEndian.Uint32(b[:])
	for i := range prefix {
		prefix[i] = hexDigits[n>>(28-4*uint(i))&15]
	}
}

// Append appends a new ID to b.
func Append(b []byte) []byte {
	n := counter.Add(1)
	b = append(b, prefix[:]...)
	digits := 8
	for v := n >> 32; v != 0; v >>= 4 {
		digits++
	}
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[n>>(4*uint(i))&15])
	}
	return b
}

// New returns a new ID.
func New() string {
	var buf [24]byte
	return string(Append(buf[:0]))
}

// Valid reports whether id, sent by a client, may be used as the request's
// ID: 1 to MaxLen characters, each a letter, a digit or one of "-_.:+=/@".
// That admits UUIDs, W3C trace IDs, S3 and AWS trace IDs, and nothing
// that could break a log line, a header or an XML body.
func Valid[T ~string | ~[]byte](id T) bool {
	if len(id) == 0 || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return false
		}
	}
	return true
}

func idChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', ':', '+', '=', '/', '@':
		return true
	}
	return false
}

// FromHeader returns the incoming ID of a request with header h when it is
// Valid, else a new one.
func FromHeader(h http.Header) string {
	if v := h.Get(Header); Valid(v) {
		return v
	}
	return New()
}

type ctxKey struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the ID ctx carries, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Middleware gives every request an ID before next sees it: in the
// context (From) and in the X-Request-Id response header.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := FromHeader(r.Header)
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}
