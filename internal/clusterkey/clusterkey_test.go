package clusterkey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestDeriveDiffersPerUseKeyAndTag checks that each use, each cluster key
// and each tag gives its own key, and that the empty tag is DefaultTag.
func TestDeriveDiffersPerUseKeyAndTag(t *testing.T) {
	const secret = "0123456789abcdef-secret"
	seen := map[string]string{}
	for _, c := range []struct{ secret, tag, use string }{
		{secret, "", Gossip}, {secret, "", PrivateAPI}, {secret, "", Credentials},
		{secret, "blue", Gossip}, {secret, "blue", PrivateAPI}, {secret, "blue", Credentials},
		{secret + "x", "", Gossip}, {secret + "x", "", PrivateAPI}, {secret + "x", "", Credentials},
	} {
		k := Derive(c.secret, c.tag, c.use)
		if len(k) != KeySize {
			t.Fatalf("Derive(%+v): %d bytes, want %d", c, len(k), KeySize)
		}
		name := c.secret + "|" + c.tag + "|" + c.use
		if prev, ok := seen[string(k)]; ok {
			t.Errorf("Derive(%s) = Derive(%s)", name, prev)
		}
		seen[string(k)] = name
		if bytes.Contains(k, []byte(c.secret)) {
			t.Errorf("Derive(%s) holds the secret", name)
		}
	}
	if !bytes.Equal(Derive(secret, "", Gossip), Derive(secret, DefaultTag, Gossip)) {
		t.Error("the empty tag does not derive as DefaultTag")
	}
	if Derive("", "blue", Gossip) != nil {
		t.Error("Derive of an empty key is not nil")
	}
}

// TestDeriveIsHKDF pins the derivation: nodes of different builds must
// derive the same keys from the same cluster key and tag.
func TestDeriveIsHKDF(t *testing.T) {
	want, err := hkdf.Key(sha256.New, []byte("0123456789abcdef"), []byte("objstore-cluster-key/v2\x00blue"), PrivateAPI, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := Derive("0123456789abcdef", "blue", PrivateAPI); !bytes.Equal(got, want) {
		t.Errorf("Derive = %x, want HKDF-SHA256 %x", got, want)
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []string{"", strings.Repeat("k", MinLen), Generate()} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q): %v", ok, err)
		}
	}
	for _, short := range []string{"zq", "hunter2", strings.Repeat("z", MinLen-1)} {
		err := Check(short)
		if !errors.Is(err, ErrTooShort) || !strings.Contains(err.Error(), "objstore keygen") {
			t.Errorf("Check(%q) = %v, want ErrTooShort naming objstore keygen", short, err)
		}
		if err != nil && strings.Contains(err.Error(), short) {
			t.Errorf("Check(%q)'s error repeats the key: %v", short, err)
		}
	}
}

// TestGenerate checks that a generated key is 32 bytes, base64, passes
// Check, and is new each time.
func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 64 {
		k := Generate()
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != KeySize {
			t.Fatalf("Generate() = %q: %d bytes, %v; want %d bytes base64", k, len(b), err, KeySize)
		}
		if seen[k] {
			t.Fatalf("Generate() repeated %q", k)
		}
		seen[k] = true
	}
}
