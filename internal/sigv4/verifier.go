package sigv4

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

const (
	// DefaultRegion is the region a Verifier expects when given none.
	DefaultRegion = "us-east-1"
	// MaxSkew is how far a request's date may be from the server's clock.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the longest X-Amz-Expires a presigned URL may ask for.
	MaxExpires = 7 * 24 * time.Hour
)

// Credentials is one access key and its secret.
type Credentials struct {
	AccessKey, SecretKey string
}

// Secrets looks up the secret key of an access key. It must be safe for
// concurrent use. It may learn access keys over time, but must never change
// the secret of one it has answered for: a Verifier caches the signing keys
// it derives from secrets.
type Secrets interface {
	Secret(accessKey string) (secretKey string, ok bool)
}

// staticSecrets is a fixed set of credentials: access key → secret key.
type staticSecrets map[string]string

func (s staticSecrets) Secret(accessKey string) (string, bool) {
	secret, ok := s[accessKey]
	return secret, ok
}

// Verifier authenticates SigV4-signed S3 requests against a set of
// credentials. It is safe for concurrent use.
type Verifier struct {
	secrets Secrets
	region  string
	now     func() time.Time

	// keys caches derived signing keys: deriving one costs four HMACs, a
	// fifth of the work of verifying a small GET. Only keys of known
	// access keys and of scopes that passed the date checks are cached, so
	// the map holds a few entries per access key; it is emptied if it ever
	// grows past maxCachedKeys all the same.
	keysMu sync.Mutex
	keys   map[keyID][]byte
}

// keyID names a derived signing key.
type keyID struct {
	accessKey string
	scope     scope
}

const maxCachedKeys = 1024

// NewVerifier returns a Verifier for creds. Signatures must be scoped to
// region ("" means DefaultRegion) and the service s3. now is the clock
// request dates are checked against; nil means time.Now.
func NewVerifier(creds []Credentials, region string, now func() time.Time) *Verifier {
	secrets := make(staticSecrets, len(creds))
	for _, c := range creds {
		secrets[c.AccessKey] = c.SecretKey
	}
	return NewVerifierWith(secrets, region, now)
}

// NewVerifierWith is NewVerifier over a set of secrets that may grow while
// the Verifier is in use.
func NewVerifierWith(secrets Secrets, region string, now func() time.Time) *Verifier {
	if region == "" {
		region = DefaultRegion
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{secrets: secrets, region: region, now: now, keys: make(map[keyID][]byte)}
}

// request is a parsed signed request: its signature and the values the
// canonical request and the string to sign are made of.
type request struct {
	auth        authorization
	date        time.Time
	amzDate     string // the timestamp as it appears in the string to sign
	payloadHash string // last line of the canonical request
	query       []queryParam
	presigned   bool
	expires     time.Duration // presigned only
}

// Verify authenticates r by its Authorization header or its presigned query
// parameters and returns the access key that signed it.
//
// On success it replaces r.Body, unless the payload is unsigned, with a
// reader that checks the payload as it is read: a mismatch surfaces as an
// error from Read (never io.EOF), so a caller must not act on a body it has
// not read to io.EOF. For aws-chunked payloads the reader yields the decoded
// bytes; Verify then sets r.ContentLength to x-amz-decoded-content-length
// (or -1), drops aws-chunked from Content-Encoding, and the reader fills
// r.Trailer with the trailers once it returns io.EOF.
//
// Errors wrap this package's sentinel errors; Code maps them to S3 codes.
func (v *Verifier) Verify(r *http.Request) (accessKey string, err error) {
	req, err := parseRequest(r)
	if err != nil {
		return "", err
	}
	secret, ok := v.secrets.Secret(req.auth.accessKey)
	if !ok {
		return "", fmt.Errorf("sigv4: access key %q: %w", req.auth.accessKey, ErrInvalidAccessKey)
	}
	if err := v.checkScope(req); err != nil {
		return "", err
	}
	if err := v.checkTime(req); err != nil {
		return "", err
	}
	if err := checkUnsignedHeaders(r.Header, req.auth.signedHeaders); err != nil {
		return "", err
	}
	s := newSigner(v.signingKey(req.auth.accessKey, secret, req.auth.scope), req.amzDate, req.auth.scope)
	if !req.signatureMatches(r, s) {
		return "", fmt.Errorf("sigv4: %s %s: %w", r.Method, r.URL.Path, ErrSignatureMismatch)
	}
	if err := wrapBody(r, req, s); err != nil {
		return "", err
	}
	return req.auth.accessKey, nil
}

// signingKey returns the derived key for accessKey in sc, from the cache
// when it can. The returned slice is shared and must not be modified.
func (v *Verifier) signingKey(accessKey, secret string, sc scope) []byte {
	id := keyID{accessKey, sc}
	v.keysMu.Lock()
	k, ok := v.keys[id]
	v.keysMu.Unlock()
	if ok {
		return k
	}
	k = signingKey(secret, sc)
	v.keysMu.Lock()
	if len(v.keys) >= maxCachedKeys {
		clear(v.keys)
	}
	v.keys[id] = k
	v.keysMu.Unlock()
	return k
}

// parseRequest reads the signature from the header or the query, not both.
// The query is parsed once, with the error code of a header-signed request:
// a query that does not parse cannot carry presigning parameters.
func parseRequest(r *http.Request) (*request, error) {
	header := r.Header.Get("Authorization")
	query, qerr := parseQuery(r.URL.RawQuery, ErrMalformedAuth)
	presigned := qerr == nil && hasPresignParams(query)
	if header != "" && presigned {
		return nil, fmt.Errorf("sigv4: both an Authorization header and presigned query parameters: %w", ErrMalformedAuth)
	}
	if err := checkSigV2(header, query, presigned); err != nil {
		return nil, err
	}
	switch {
	case header != "":
		if qerr != nil {
			return nil, qerr
		}
		return parseHeaderRequest(r, header, query)
	case presigned:
		return parsePresignedRequest(query)
	}
	return nil, fmt.Errorf("sigv4: %w", ErrMissingAuth)
}

// checkScope requires the credential scope's region to be the Verifier's and
// its date to be the request's.
func (v *Verifier) checkScope(req *request) error {
	malformed := ErrMalformedAuth
	if req.presigned {
		malformed = ErrMalformedQuery
	}
	sc := req.auth.scope
	if sc.region != v.region {
		return &RegionError{Got: sc.region, Want: v.region, Err: malformed}
	}
	if sc.date != req.date.Format(scopeDateLayout) {
		return fmt.Errorf("sigv4: credential date %s is not the request date %s: %w", sc.date, req.amzDate, malformed)
	}
	return nil
}

// checkTime enforces the clock skew, and a presigned URL's validity window.
func (v *Verifier) checkTime(req *request) error {
	now := v.now()
	if !req.presigned {
		if d := now.Sub(req.date); d > MaxSkew || d < -MaxSkew {
			return fmt.Errorf("sigv4: request time %s is %s from server time: %w", req.amzDate, d.Round(time.Second), ErrTimeSkewed)
		}
		return nil
	}
	if req.date.Sub(now) > MaxSkew {
		return fmt.Errorf("sigv4: presigned at %s: %w", req.amzDate, ErrNotYetValid)
	}
	if now.After(req.date.Add(req.expires)) {
		return fmt.Errorf("sigv4: presigned at %s for %s: %w", req.amzDate, req.expires, ErrRequestExpired)
	}
	return nil
}

// signatureMatches computes the seed signature for each canonical URI
// candidate and compares it with the request's in constant time.
func (req *request) signatureMatches(r *http.Request, s signer) bool {
	skip := ""
	if req.presigned {
		skip = "X-Amz-Signature"
	}
	query := canonicalQuery(req.query, skip)
	headers := canonicalHeaders(r, req.auth.signedHeaders)
	for _, uri := range canonicalURIs(r.URL) {
		c := canonicalRequest(r.Method, uri, query, headers, req.auth.signedHeaders, req.payloadHash)
		if equalSig(s.signRequest(c), req.auth.signature) {
			return true
		}
	}
	return false
}
