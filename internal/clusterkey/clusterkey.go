// Package clusterkey turns the operator's cluster key (--cluster-key) into
// the keys each part of the cluster uses, checks that the key is long
// enough to be a secret, and generates good keys (`objstore keygen`).
//
// Every key is HKDF-SHA256 (RFC 5869) of the cluster key, with a salt
// naming the scheme and the cluster tag and an info string naming the
// use, so that keys differ per use and per cluster and none can stand in
// for another. HKDF does not slow down guessing: what makes a captured
// private request useless for offline guessing is a key with enough
// entropy, which is why Check refuses short keys and Generate makes
// 256-bit ones.
package clusterkey

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Uses of the cluster key; each gets its own derived key.
const (
	// Gossip is memberlist's AES-256 SecretKey.
	Gossip = "objstore gossip AES-256 key"
	// PrivateAPI is the HMAC-SHA256 key that signs private HTTP requests.
	PrivateAPI = "objstore private API HMAC-SHA256 key"
	// Credentials is the AES-256-GCM key that seals shared S3 credentials.
	Credentials = "objstore S3 credentials AES-256-GCM key"
)

const (
	// DefaultTag is the cluster tag of a node started without one.
	DefaultTag = "default"
	// MinLen is the shortest cluster key Check accepts, in bytes.
	MinLen = 16
	// KeySize is the size of derived and generated keys, in bytes.
	KeySize = 32
	// saltPrefix versions the derivation: a new scheme gets a new prefix.
	saltPrefix = "objstore-cluster-key/v2\x00"
)

// ErrTooShort is wrapped by Check's error for a key under MinLen bytes.
var ErrTooShort = errors.New("cluster key too short")

// Derive returns the KeySize-byte key for use (Gossip, PrivateAPI or
// Credentials) from the cluster key secret of the cluster tagged tag (""
// is DefaultTag, as in internal/cluster); nil for an empty secret, which
// means the cluster runs without a key.
func Derive(secret, tag, use string) []byte {
	if secret == "" {
		return nil
	}
	if tag == "" {
		tag = DefaultTag
	}
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(saltPrefix+tag), use, KeySize)
	if err != nil { // only for a length HKDF-SHA256 cannot give; KeySize is fixed
		panic(fmt.Sprintf("clusterkey: hkdf: %v", err))
	}
	return k
}

// Check refuses a non-empty cluster key shorter than MinLen bytes: a key
// that short can be guessed offline from one captured private request. An
// empty key is accepted (the cluster then runs without one and
// internal/cluster warns at start).
func Check(secret string) error {
	if secret != "" && len(secret) < MinLen {
		return fmt.Errorf("%w: %d bytes, want at least %d (a random secret); generate one with `objstore keygen`", ErrTooShort, len(secret), MinLen)
	}
	return nil
}

// Generate returns a new cluster key: KeySize random bytes, base64 (std
// encoding, padded): 44 characters that pass through shells, flags and
// environment variables unquoted.
func Generate() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b) // crypto/rand never fails
	return base64.StdEncoding.EncodeToString(b)
}
