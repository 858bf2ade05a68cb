package sigv4

import (
	"fmt"
	"strings"
)

// authorization is what the Authorization header or the presigned query
// parameters say about a signature.
type authorization struct {
	accessKey     string
	scope         scope
	signedHeaders []string // lowercase, sorted, unique
	signature     string   // 64 lowercase hex digits
}

// parseAuthorization parses an Authorization header value of the form
//
//	AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// The three fields may come in any order, separated by commas with optional
// spaces; each must appear exactly once. Errors wrap ErrMalformedAuth.
func parseAuthorization(v string) (authorization, error) {
	rest, ok := strings.CutPrefix(v, algorithm+" ")
	if !ok {
		return authorization{}, fmt.Errorf("sigv4: authorization: unsupported algorithm: %w", ErrMalformedAuth)
	}
	fields, err := authFields(rest)
	if err != nil {
		return authorization{}, err
	}
	return newAuthorization(fields["Credential"], fields["SignedHeaders"], fields["Signature"], ErrMalformedAuth)
}

// authFields splits "K=V, K=V, K=V" into the three known fields.
func authFields(s string) (map[string]string, error) {
	fields := make(map[string]string, 3)
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential", "SignedHeaders", "Signature":
		default:
			ok = false
		}
		if _, dup := fields[k]; !ok || dup {
			return nil, fmt.Errorf("sigv4: authorization: bad field %q: %w", k, ErrMalformedAuth)
		}
		fields[k] = v
	}
	if len(fields) != 3 {
		return nil, fmt.Errorf("sigv4: authorization: want Credential, SignedHeaders and Signature: %w", ErrMalformedAuth)
	}
	return fields, nil
}

// newAuthorization validates the three parts of a signature, for either the
// header or the query; errors wrap malformed.
func newAuthorization(credential, signedHeaders, signature string, malformed error) (authorization, error) {
	accessKey, sc, err := parseCredential(credential, malformed)
	if err != nil {
		return authorization{}, err
	}
	headers, err := parseSignedHeaders(signedHeaders, malformed)
	if err != nil {
		return authorization{}, err
	}
	if !isHexSHA256(signature) {
		return authorization{}, fmt.Errorf("sigv4: signature is not 64 lowercase hex digits: %w", malformed)
	}
	return authorization{accessKey: accessKey, scope: sc, signedHeaders: headers, signature: signature}, nil
}

// parseCredential splits "<access key>/<yyyymmdd>/<region>/<service>/aws4_request".
func parseCredential(c string, malformed error) (string, scope, error) {
	parts := strings.Split(c, "/")
	n := len(parts)
	if n < 5 {
		return "", scope{}, fmt.Errorf("sigv4: credential %q: want 5 parts: %w", c, malformed)
	}
	accessKey := strings.Join(parts[:n-4], "/")
	sc := scope{date: parts[n-4], region: parts[n-3], service: parts[n-2]}
	switch {
	case accessKey == "":
		return "", scope{}, fmt.Errorf("sigv4: credential: empty access key: %w", malformed)
	case parts[n-1] != terminator:
		return "", scope{}, fmt.Errorf("sigv4: credential: terminator %q: %w", parts[n-1], malformed)
	case !isScopeDate(sc.date):
		return "", scope{}, fmt.Errorf("sigv4: credential: date %q: %w", sc.date, malformed)
	case sc.region == "":
		return "", scope{}, fmt.Errorf("sigv4: credential: empty region: %w", malformed)
	case sc.service != service:
		return "", scope{}, fmt.Errorf("sigv4: credential: service %q, want %q: %w", sc.service, service, malformed)
	}
	return accessKey, sc, nil
}

func isScopeDate(s string) bool {
	if len(s) != len(scopeDateLayout) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSignedHeaders splits "host;range;x-amz-date". Names must be
// lowercase, sorted and unique, and include host.
func parseSignedHeaders(s string, malformed error) ([]string, error) {
	names := strings.Split(s, ";")
	host := false
	for i, name := range names {
		if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t:") {
			return nil, fmt.Errorf("sigv4: signed header %q: %w", name, malformed)
		}
		if i > 0 && names[i-1] >= name {
			return nil, fmt.Errorf("sigv4: signed headers %q not sorted and unique: %w", s, malformed)
		}
		host = host || name == "host"
	}
	if !host {
		return nil, fmt.Errorf("sigv4: signed headers %q: host must be signed: %w", s, malformed)
	}
	return names, nil
}
