package node

import (
	"strings"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
)

// Body names pack into 31-byte policy keys and back, exactly; names of
// another form pass through unchanged.
func TestPolicyKeysRoundTrip(t *testing.T) {
	store, err := disk.Open(t.TempDir(), disk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var k policyKeys
	for _, v := range []objstore.Version{
		{HLC: 0x0123456789abcdef, Node: "01J9ZQ00000000000000000000"},
		{HLC: 1, Node: ""}, // read through: no node
		{HLC: 1 << 63, Node: "n1"},
		{HLC: 7, Node: strings.Repeat("x", 200)}, // hashed version: kept as the name
	} {
		name := store.Name(objstore.Key{Bucket: "b", ID: "some/key"}, v)
		key := k.key(name)
		if got := k.name(key); got != name {
			t.Fatalf("version %v: name %q packs to %q, back to %q", v, name, key, got)
		}
		if packed := len(key) == packedLen; packed == (len(v.Node) > 100) {
			t.Fatalf("version %v: key %q of %d bytes", v, key, len(key))
		}
	}
	for _, name := range []string{"", "short", strings.Repeat("A", 40) + "." + strings.Repeat("0", 16) + "-n"} {
		if k.key(name) != name || k.name(name) != name {
			t.Fatalf("%q is not passed through", name)
		}
	}
	// A packed key whose node number is unknown names no body.
	if got := k.name(string(make([]byte, packedLen))); got != string(make([]byte, packedLen)) {
		t.Fatalf("unknown node number: %q", got)
	}
}
