package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/sigv4"
)

// MinTokenLength is the shortest bearer token NewAuth accepts: a token is
// a shared secret, and a short one is guessed.
const MinTokenLength = 16

// Auth authenticates native API requests when the node requires it
// (--native-api-auth on): a request passes with an AWS SigV4 signature by
// one of the S3 API's access keys (header or presigned URL, service s3), or
// with "Authorization: Bearer TOKEN". GET /api/v1/ping and
// /api/v1/version stay open: health checks and version probes carry no
// data; so do the status page's static files (its figures, at
// /api/v1/status, are authenticated). It is safe for concurrent use.
type Auth struct {
	verifier *sigv4.Verifier // nil: no signature is accepted
	token    [sha256.Size]byte
	hasToken bool
}

// NewAuth returns an Auth that accepts signatures verifier proves (nil
// accepts none) and the bearer token ("" accepts none). It needs at least
// one of them, and a token of MinTokenLength bytes or more.
func NewAuth(verifier *sigv4.Verifier, token string) (*Auth, error) {
	if verifier == nil && token == "" {
		return nil, errors.New("native API auth needs the S3 API's keys or a token")
	}
	if token != "" && len(token) < MinTokenLength {
		return nil, fmt.Errorf("native API token is %d bytes; it must be at least %d", len(token), MinTokenLength)
	}
	a := &Auth{verifier: verifier, hasToken: token != ""}
	if a.hasToken {
		a.token = sha256.Sum256([]byte(token))
	}
	return a, nil
}

// open reports whether path is served without authentication: ping and
// version, and the status page's static files (not its figures).
func open(path string) bool {
	return path == "/api/v1/ping" || path == "/api/v1/version" || openStatic(path)
}

// bearerPrefix starts a bearer token's Authorization header (RFC 6750).
const bearerPrefix = "Bearer "

// check authenticates r. It returns the status and the one-line reason to
// refuse it with, or 0. A signed request's body is replaced by one that
// fails its reads if the payload does not match its signed hash (see
// sigv4.Verifier.Verify).
func (a *Auth) check(r *http.Request) (int, string) {
	if open(r.URL.Path) {
		return 0, ""
	}
	authz := r.Header.Get("Authorization")
	if tok, ok := cutBearer(authz); ok {
		switch {
		case !a.hasToken:
			return http.StatusUnauthorized, "bearer tokens are not accepted here; " + a.missing()
		case !a.tokenMatches([]byte(tok)):
			return http.StatusForbidden, "wrong bearer token"
		}
		return 0, ""
	}
	if a.verifier == nil {
		return http.StatusUnauthorized, "authentication required: send Authorization: Bearer <token>"
	}
	_, err := a.verifier.Verify(r)
	switch {
	case err == nil:
		return 0, ""
	case errors.Is(err, sigv4.ErrMissingAuth):
		return http.StatusUnauthorized, a.missing()
	}
	_, status := sigv4.Code(err)
	if status == http.StatusInternalServerError {
		status = http.StatusForbidden // not one of sigv4's errors: refuse all the same
	}
	return status, strings.TrimPrefix(err.Error(), "sigv4: ")
}

// missing is the reason given to a request with no credentials at all.
func (a *Auth) missing() string {
	if a.hasToken {
		return "authentication required: sign the request with AWS SigV4 (an S3 API access key, service s3) or send Authorization: Bearer <token>"
	}
	return "authentication required: sign the request with AWS SigV4 (an S3 API access key, service s3)"
}

// checkHead reports whether the fast path may answer req: it carries the
// token, or a signature VerifyHead proves from the raw head. Anything else
// goes to net/http, which answers with the reason.
func (a *Auth) checkHead(req *fastpath.Request) bool {
	authz, _ := req.Header("Authorization")
	if tok, ok := cutBearer(string(authz)); ok {
		return a.tokenMatches([]byte(tok))
	}
	if a.verifier == nil {
		return false
	}
	h := sigv4.Head{Method: req.Method(), Path: req.Path(), RawQuery: req.RawQuery(), Host: req.Host(), Lines: req.Lines()}
	_, ok := a.verifier.VerifyHead(&h)
	return ok
}

// cutBearer returns the token of a bearer Authorization header.
func cutBearer(authz string) (string, bool) {
	if len(authz) < len(bearerPrefix) || !strings.EqualFold(authz[:len(bearerPrefix)], bearerPrefix) {
		return "", false
	}
	return strings.TrimSpace(authz[len(bearerPrefix):]), true
}

// tokenMatches compares hashes, so the time taken says nothing about the
// token, its length included.
func (a *Auth) tokenMatches(tok []byte) bool {
	if !a.hasToken {
		return false
	}
	sum := sha256.Sum256(tok)
	return subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1
}
