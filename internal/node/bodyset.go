package node

import (
	"hash/maphash"
	"slices"
)

// bodySet is the set of body names the start-up sweep keeps, held as
// sorted 64-bit hashes rather than strings: 8 bytes per object instead of
// a map entry and a 60-byte name. A name that is not in the set may hash
// like one that is (about one chance in 10^7 with a million names), and is
// then kept; a name in the set is always found.
type bodySet struct {
	seed   maphash.Seed
	hashes []uint64
}

func newBodySet() *bodySet { return &bodySet{seed: maphash.MakeSeed()} }

// add puts name in the set; call seal before has.
func (b *bodySet) add(name string) { b.hashes = append(b.hashes, maphash.String(b.seed, name)) }

// seal sorts the set for has.
func (b *bodySet) seal() {
	slices.Sort(b.hashes)
	b.hashes = slices.Compact(b.hashes)
}

// has reports whether name may be in the set: always true for a name
// added, false for all but a rare other name.
func (b *bodySet) has(name string) bool {
	_, ok := slices.BinarySearch(b.hashes, maphash.String(b.seed, name))
	return ok
}

// len is how many distinct hashes the set holds.
func (b *bodySet) len() int { return len(b.hashes) }

// nameHash is a 128-bit hash of a body's name: two names share one with
// a chance of about 2^-128 per pair, so it stands in for the name in a
// map that must not hold a string per object.
type nameHash [2]uint64

// nameHasher hashes names with two independent seeds.
type nameHasher struct{ a, b maphash.Seed }

func newNameHasher() nameHasher { return nameHasher{maphash.MakeSeed(), maphash.MakeSeed()} }

func (h nameHasher) of(name string) nameHash {
	return nameHash{maphash.String(h.a, name), maphash.String(h.b, name)}
}
