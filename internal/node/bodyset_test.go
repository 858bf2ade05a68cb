package node

import (
	"fmt"
	"testing"
)

func TestBodySetFindsEveryNameAdded(t *testing.T) {
	const n = 100_000
	b := newBodySet()
	for i := range n {
		b.add(fmt.Sprintf("name-%d", i))
	}
	b.add("name-7") // a duplicate counts once
	b.seal()
	if b.len() != n {
		t.Fatalf("len = %d, want %d", b.len(), n)
	}
	for i := range n {
		if name := fmt.Sprintf("name-%d", i); !b.has(name) {
			t.Fatalf("%s added but not found", name)
		}
	}
	// Names never added collide with probability n/2^64 each: none of
	// these may be found.
	for i := range n {
		if name := fmt.Sprintf("other-%d", i); b.has(name) {
			t.Fatalf("%s found but never added", name)
		}
	}
}

func TestBodySetEmpty(t *testing.T) {
	b := newBodySet()
	b.seal()
	if b.has("x") || b.len() != 0 {
		t.Fatal("an empty set holds something")
	}
}
