package peerapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore/internal/clusterkey"
)

// Headers and values of the private API's request signature (see the
// package doc, "Authentication").
const (
	HeaderNode = "X-Objstore-Node"
	HeaderDate = "X-Objstore-Date"
	// HeaderNonce carries 128 random bits, hex, new for each request and
	// covered by the signature: a receiver refuses a nonce it has seen
	// (see replayGuard), so a captured request cannot be replayed.
	HeaderNonce = "X-Objstore-Nonce"
	// HeaderTo names the node a request is for, and is signed: a node
	// refuses a request for another, so one captured on its way to a node
	// cannot be replayed to the others, which have not seen its nonce.
	HeaderTo            = "X-Objstore-To"
	HeaderContentSHA256 = "X-Objstore-Content-Sha256"
	HeaderAuthorization = "Authorization"
	// AuthScheme starts the Authorization header's value.
	AuthScheme = "OBJSTORE-HMAC-SHA256"
	// UnsignedPayload stands for the body hash of a request without a body.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload stands for the body hash of a request whose body is
	// streamed unhashed because it carries its own proof of integrity: a
	// client's S3 request forwarded to the node that must answer it, whose
	// SigV4 signature that node checks. Only requests under
	// StreamingPathPrefix may use it, and a caller asks for it with the
	// request header HeaderStreaming.
	StreamingPayload = "STREAMING-UNHASHED-PAYLOAD"
	// StreamingPathPrefix is the one path prefix that accepts StreamingPayload.
	StreamingPathPrefix = "/private/v1/forward/"
	// HeaderStreaming, set to "1" on a request to the client, makes Sign
	// use StreamingPayload and leave the body as it is.
	HeaderStreaming = "X-Objstore-Streaming"
	// MaxBodySize caps a private request's body: it is buffered to be hashed.
	MaxBodySize = 64 << 20
	// MaxClockSkew is how far a request's date may be from the receiver's clock.
	MaxClockSkew = 5 * time.Minute
	// maxNodeLen bounds the sender's node id.
	maxNodeLen = 256
	// nonceSize is the size of a request's nonce in bytes.
	nonceSize = 16
)

var (
	// ErrUnauthorized is wrapped by Verify's errors for a request that is
	// not signed, or not signed right, with the cluster key.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTooLarge is wrapped by errors for a body above MaxBodySize.
	ErrTooLarge = errors.New("request body too large")
	// ErrReplayed is wrapped by the error for a signed request whose nonce
	// was seen before: a replay. It also wraps ErrUnauthorized.
	ErrReplayed = fmt.Errorf("%w: replayed", ErrUnauthorized)
	// ErrNoncesFull is wrapped by the error for a signed request refused
	// because the receiver holds as many unexpired nonces as it may.
	ErrNoncesFull = errors.New("too many private requests in the replay window")
)

// Sign signs req as node nodeID with the private API key: it sets the date,
// nonce, body hash and Authorization headers. A body (anything but nil or
// http.NoBody) is read, up to MaxBodySize, closed, and replaced by a
// replayable copy of the bytes that were hashed.
func Sign(req *http.Request, nodeID string, key []byte) error {
	return signAt(req, nodeID, key, time.Now())
}

func signAt(req *http.Request, nodeID string, key []byte, now time.Time) error {
	var sum string
	if req.Header.Get(HeaderStreaming) == "1" {
		req.Header.Del(HeaderStreaming)
		sum = StreamingPayload
	} else {
		var err error
		if sum, err = bufferBody(req); err != nil {
			return err
		}
	}
	date := strconv.FormatInt(now.UnixMilli(), 10)
	var n [nonceSize]byte
	_, _ = rand.Read(n[:]) // crypto/rand never fails
	nonce := hex.EncodeToString(n[:])
	req.Header.Set(HeaderNode, nodeID)
	req.Header.Set(HeaderDate, date)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderContentSHA256, sum)
	mac := signature(key, req.Method, req.URL.EscapedPath(), req.URL.RawQuery, date, nodeID, req.Header.Get(HeaderTo), nonce, sum)
	req.Header.Set(HeaderAuthorization, AuthScheme+" "+hex.EncodeToString(mac))
	return nil
}

// bufferBody reads req's body into memory and returns its hex SHA-256, or
// UnsignedPayload when there is no body.
func bufferBody(req *http.Request) (string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return UnsignedPayload, nil
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, MaxBodySize+1))
	_ = req.Body.Close() // read to the end or failed: the error that matters is err
	if err != nil {
		return "", fmt.Errorf("peerapi: sign: read body: %w", err)
	}
	if len(b) > MaxBodySize {
		return "", fmt.Errorf("peerapi: sign: %w (over %d bytes)", ErrTooLarge, MaxBodySize)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// signature is HMAC-SHA256(key, method \n path?query \n date \n node \n
// to \n nonce \n sum). No field can hold a newline: net/http refuses them
// in methods, header values and escaped paths.
func signature(key []byte, method, path, query, date, node, to, nonce, sum string) []byte {
	m := hmac.New(sha256.New, key)
	_, _ = io.WriteString(m, method+"\n"+path+"?"+query+"\n"+date+"\n"+node+"\n"+to+"\n"+nonce+"\n"+sum) // hashes never fail
	return m.Sum(nil)
}

// Verify checks r's signature against key at time now. On success the body
// has been read, checked against the signed hash and replaced by a reader
// over the verified bytes. Verify keeps no state: refusing a replayed
// nonce is the middleware's job (Authenticate). Errors wrap ErrUnauthorized, or ErrTooLarge for
// a body above MaxBodySize, and carry a one-line reason without the
// request's own bytes.
func Verify(r *http.Request, key []byte, now time.Time) error {
	h, err := readAuthHeaders(r)
	if err != nil {
		return err
	}
	if err := checkDate(h.date, now); err != nil {
		return err
	}
	want := signature(key, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, h.date, h.node, h.to, h.nonce, h.sum)
	if !hmac.Equal(h.mac, want) {
		return fmt.Errorf("%w: bad signature (wrong cluster key?)", ErrUnauthorized)
	}
	return verifyBody(r, h.sum)
}

// authHeaders are the signature headers of one request.
type authHeaders struct {
	node, date, to, nonce, sum string
	mac                        []byte
}

func readAuthHeaders(r *http.Request) (authHeaders, error) {
	var h authHeaders
	var auth string
	for _, f := range []struct {
		name string
		dst  *string
	}{{HeaderNode, &h.node}, {HeaderDate, &h.date}, {HeaderNonce, &h.nonce}, {HeaderContentSHA256, &h.sum}, {HeaderAuthorization, &auth}} {
		vs := r.Header.Values(f.name)
		if len(vs) != 1 || vs[0] == "" {
			return h, fmt.Errorf("%w: want exactly one %s header", ErrUnauthorized, f.name)
		}
		*f.dst = vs[0]
	}
	if len(h.node) > maxNodeLen {
		return h, fmt.Errorf("%w: %s header too long", ErrUnauthorized, HeaderNode)
	}
	if tos := r.Header.Values(HeaderTo); len(tos) > 1 {
		return h, fmt.Errorf("%w: more than one %s header", ErrUnauthorized, HeaderTo)
	} else if len(tos) == 1 {
		h.to = tos[0]
	}
	if _, err := parseNonce(h.nonce); err != nil {
		return h, err
	}
	switch {
	case h.sum == StreamingPayload:
		if !strings.HasPrefix(r.URL.Path, StreamingPathPrefix) {
			return h, fmt.Errorf("%w: %s outside %s", ErrUnauthorized, StreamingPayload, StreamingPathPrefix)
		}
	case h.sum != UnsignedPayload && !isHexSHA256(h.sum):
		return h, fmt.Errorf("%w: %s is neither 64 hex digits nor %s", ErrUnauthorized, HeaderContentSHA256, UnsignedPayload)
	}
	mac, ok := strings.CutPrefix(auth, AuthScheme+" ")
	if !ok || !isHexSHA256(mac) {
		return h, fmt.Errorf("%w: Authorization is not %q followed by 64 hex digits", ErrUnauthorized, AuthScheme)
	}
	h.mac, _ = hex.DecodeString(mac) // isHexSHA256 checked it
	return h, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// parseNonce decodes a nonce header: 32 hex digits.
func parseNonce(s string) ([nonceSize]byte, error) {
	var n [nonceSize]byte
	if len(s) != 2*nonceSize {
		return n, fmt.Errorf("%w: %s is not %d hex digits", ErrUnauthorized, HeaderNonce, 2*nonceSize)
	}
	if _, err := hex.Decode(n[:], []byte(s)); err != nil {
		return n, fmt.Errorf("%w: %s is not %d hex digits", ErrUnauthorized, HeaderNonce, 2*nonceSize)
	}
	return n, nil
}

// parseDate decodes a date header: Unix milliseconds.
func parseDate(date string) (int64, error) {
	ms, err := strconv.ParseInt(date, 10, 64)
	if err != nil || len(date) > 16 {
		return 0, fmt.Errorf("%w: %s is not Unix milliseconds", ErrUnauthorized, HeaderDate)
	}
	return ms, nil
}

func checkDate(date string, now time.Time) error {
	ms, err := parseDate(date)
	if err != nil {
		return err
	}
	skew := now.UnixMilli() - ms
	if skew > MaxClockSkew.Milliseconds() || -skew > MaxClockSkew.Milliseconds() {
		return fmt.Errorf("%w: %s is more than %v from this node's clock", ErrUnauthorized, HeaderDate, MaxClockSkew)
	}
	return nil
}

// verifyBody reads r's body and checks it against the signed hash sum.
func verifyBody(r *http.Request, sum string) error {
	switch sum {
	case UnsignedPayload:
		return verifyNoBody(r)
	case StreamingPayload:
		return nil // the handler checks the body (readAuthHeaders checked the path)
	}
	if r.ContentLength > MaxBodySize {
		return fmt.Errorf("%w (over %d bytes)", ErrTooLarge, MaxBodySize)
	}
	var b []byte
	if r.Body != nil {
		var err error
		if b, err = io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1)); err != nil {
			return fmt.Errorf("read body: %w", err)
		}
	}
	if len(b) > MaxBodySize {
		return fmt.Errorf("%w (over %d bytes)", ErrTooLarge, MaxBodySize)
	}
	got := sha256.Sum256(b)
	want, _ := hex.DecodeString(sum) // readAuthHeaders checked it
	if !hmac.Equal(got[:], want) {
		return fmt.Errorf("%w: body does not match %s", ErrUnauthorized, HeaderContentSHA256)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return nil
}

// verifyNoBody checks that a request signed UnsignedPayload has no body.
func verifyNoBody(r *http.Request) error {
	if r.ContentLength > 0 {
		return fmt.Errorf("%w: a body with %s %s", ErrUnauthorized, HeaderContentSHA256, UnsignedPayload)
	}
	if r.Body != nil && r.Body != http.NoBody {
		var one [1]byte
		if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
			return fmt.Errorf("%w: a body with %s %s", ErrUnauthorized, HeaderContentSHA256, UnsignedPayload)
		}
	}
	r.Body = http.NoBody
	r.ContentLength = 0
	return nil
}

// Authenticate wraps next so that it only sees requests signed with the
// cluster key clusterKey of the cluster tagged tag (see the package doc,
// "Authentication"), each once, and addressed (HeaderTo) to this node,
// nodeID: the others get 401 (413 for a body too
// large, 400 for a body that could not be read, 503 when the replay guard
// is full) with a one-line reason. Without a key it returns next: the
// private API then accepts unauthenticated requests, as internal/cluster
// warns at start. A nil logger discards the log.
func Authenticate(clusterKey, tag, nodeID string, next http.Handler, logger *slog.Logger) http.Handler {
	key := apiKey(clusterKey, tag)
	if key == nil {
		return next
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return authenticate(key, nodeID, next, logger.With("component", "peerapi"))
}

// authenticate is Authenticate with the derived key; an empty nodeID
// leaves HeaderTo unchecked (tests of the rest).
func authenticate(key []byte, nodeID string, next http.Handler, log *slog.Logger) http.Handler {
	guard := newReplayGuard(maxNonces)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		err := Verify(r, key, now)
		if to := r.Header.Get(HeaderTo); err == nil && nodeID != "" && to != nodeID {
			err = fmt.Errorf("%w: addressed to node %.64q, this is %s", ErrUnauthorized, to, nodeID)
		}
		if err == nil {
			err = guard.admit(r.Header.Get(HeaderNonce), r.Header.Get(HeaderDate), now)
		}
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrNoncesFull):
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "1")
		case errors.Is(err, ErrTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, ErrUnauthorized):
			status = http.StatusUnauthorized
			w.Header().Set("WWW-Authenticate", AuthScheme)
		}
		log.WarnContext(r.Context(), "private request rejected", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		httpError(w, status, err.Error())
	})
}

// apiKey derives the HMAC key of private HTTP requests from the cluster
// key and tag; nil without a key. internal/cluster derives the gossip key
// the same way for another use, so the keys cannot be confused (see
// internal/clusterkey).
func apiKey(clusterKey, tag string) []byte {
	return clusterkey.Derive(clusterKey, tag, clusterkey.PrivateAPI)
}
