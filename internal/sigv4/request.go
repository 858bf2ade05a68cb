package sigv4

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The x-amz-content-sha256 values other than a hex SHA-256 of the payload.
const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// parseHeaderRequest reads a request signed in its Authorization header.
// Errors wrap ErrMalformedAuth.
func parseHeaderRequest(r *http.Request, header string, query []queryParam) (*request, error) {
	auth, err := parseAuthorization(header)
	if err != nil {
		return nil, err
	}
	date, amzDate, err := headerDate(r.Header)
	if err != nil {
		return nil, err
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if !validPayloadHash(hash) {
		return nil, fmt.Errorf("sigv4: x-amz-content-sha256 %q: %w", hash, ErrMalformedAuth)
	}
	return &request{auth: auth, date: date, amzDate: amzDate, payloadHash: hash, query: query}, nil
}

// headerDate returns the request time from x-amz-date, or else from Date,
// with the timestamp the string to sign carries.
func headerDate(h http.Header) (time.Time, string, error) {
	if v := h.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateLayout, v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("sigv4: x-amz-date %q: %w", v, ErrMalformedAuth)
		}
		return t, v, nil
	}
	if v := h.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("sigv4: date %q: %w", v, ErrMalformedAuth)
		}
		t = t.UTC()
		return t, t.Format(amzDateLayout), nil
	}
	return time.Time{}, "", fmt.Errorf("sigv4: neither x-amz-date nor date is set: %w", ErrMalformedAuth)
}

// validPayloadHash reports whether v is a hex SHA-256 or one of the special
// values S3 accepts in x-amz-content-sha256.
func validPayloadHash(v string) bool {
	switch v {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		return true
	}
	return isHexSHA256(v)
}

// The query parameters of a presigned URL.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qContentSHA256 = "X-Amz-Content-Sha256"
)

// hasPresignParams reports whether a query carries any of the parameters
// that mark a presigned URL.
func hasPresignParams(params []queryParam) bool {
	for _, p := range params {
		switch p.name {
		case qAlgorithm, qCredential, qSignature:
			return true
		}
	}
	return false
}

// parsePresignedRequest reads a request signed in its query string. Errors
// wrap ErrMalformedQuery.
func parsePresignedRequest(query []queryParam) (*request, error) {
	p, err := presignParams(query)
	if err != nil {
		return nil, err
	}
	if p[qAlgorithm] != algorithm {
		return nil, fmt.Errorf("sigv4: %s %q: %w", qAlgorithm, p[qAlgorithm], ErrMalformedQuery)
	}
	auth, err := newAuthorization(p[qCredential], p[qSignedHeaders], p[qSignature], ErrMalformedQuery)
	if err != nil {
		return nil, err
	}
	date, err := time.Parse(amzDateLayout, p[qDate])
	if err != nil {
		return nil, fmt.Errorf("sigv4: %s %q: %w", qDate, p[qDate], ErrMalformedQuery)
	}
	expires, err := parseExpires(p[qExpires])
	if err != nil {
		return nil, err
	}
	hash := unsignedPayload
	if v, ok := p[qContentSHA256]; ok {
		if !validPayloadHash(v) {
			return nil, fmt.Errorf("sigv4: %s %q: %w", qContentSHA256, v, ErrMalformedQuery)
		}
		hash = v
	}
	return &request{auth: auth, date: date, amzDate: p[qDate], payloadHash: hash,
		query: query, presigned: true, expires: expires}, nil
}

// presignParams collects the presigning parameters; each must appear once,
// and all but X-Amz-Content-Sha256 must appear.
func presignParams(query []queryParam) (map[string]string, error) {
	p := make(map[string]string, 7)
	for _, q := range query {
		switch q.name {
		case qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature, qContentSHA256:
		default:
			continue
		}
		if _, dup := p[q.name]; dup {
			return nil, fmt.Errorf("sigv4: %s repeated: %w", q.name, ErrMalformedQuery)
		}
		p[q.name] = q.value
	}
	for _, name := range []string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature} {
		if _, ok := p[name]; !ok {
			return nil, fmt.Errorf("sigv4: %s missing: %w", name, ErrMalformedQuery)
		}
	}
	return p, nil
}

// parseExpires reads X-Amz-Expires: whole seconds from 1 to 604800 (7 days).
func parseExpires(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > int64(MaxExpires/time.Second) {
		return 0, fmt.Errorf("sigv4: %s %q: want 1 to %d seconds: %w", qExpires, v, int64(MaxExpires/time.Second), ErrMalformedQuery)
	}
	return time.Duration(n) * time.Second, nil
}
