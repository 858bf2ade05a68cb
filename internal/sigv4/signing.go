package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

const (
	algorithm        = "AWS4-HMAC-SHA256"
	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	service          = "s3"
	terminator       = "aws4_request"
	amzDateLayout    = "20060102T150405Z"
	scopeDateLayout  = "20060102"

	// emptySHA256 is the hex SHA-256 of no bytes.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// scope is the credential scope a signature is bound to:
// date/region/service/aws4_request.
type scope struct {
	date, region, service string
}

func (s scope) String() string {
	return s.date + "/" + s.region + "/" + s.service + "/" + terminator
}

// signer holds what every signature of one request chains from: the derived
// key, the request's timestamp and its scope.
type signer struct {
	key     []byte
	amzDate string // ISO 8601 basic, as in the string to sign
	scope   string
}

func newSigner(key []byte, amzDate string, sc scope) signer {
	return signer{key: key, amzDate: amzDate, scope: sc.String()}
}

// signingKey derives HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
// service), "aws4_request").
func signingKey(secret string, sc scope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), sc.date)
	k = hmacSHA256(k, sc.region)
	k = hmacSHA256(k, sc.service)
	return hmacSHA256(k, terminator)
}

// sign returns the hex signature of the string to sign made of alg, the
// timestamp, the scope and lines.
func (s signer) sign(alg string, lines ...string) string {
	parts := append([]string{alg, s.amzDate, s.scope}, lines...)
	return hex.EncodeToString(hmacSHA256(s.key, strings.Join(parts, "\n")))
}

// signRequest signs a canonical request (the seed signature).
func (s signer) signRequest(canonical string) string {
	return s.sign(algorithm, hashHex([]byte(canonical)))
}

// signChunk signs one aws-chunked chunk whose data hashes to dataHash,
// chained from the previous signature.
func (s signer) signChunk(prev, dataHash string) string {
	return s.sign(chunkAlgorithm, prev, emptySHA256, dataHash)
}

// signTrailer signs the canonical trailer block, chained from the final
// chunk's signature.
func (s signer) signTrailer(prev, trailerHash string) string {
	return s.sign(trailerAlgorithm, prev, trailerHash)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// equalSig compares two hex signatures in constant time.
func equalSig(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// isHexSHA256 reports whether s is 64 lowercase hex digits.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
