package objstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// genRecord draws records for one key from a small space of versions, so that
// ties on HLC and on the whole version happen often.
func genRecord() *rapid.Generator[Record] {
	return rapid.Custom(func(t *rapid.T) Record {
		r := Record{
			Key:     Key{Bucket: "b", ID: "k"},
			Name:    rapid.SampledFrom([]string{"", "a.txt", "b.bin"}).Draw(t, "name"),
			Level:   Level(rapid.IntRange(0, 2).Draw(t, "level")),
			Deleted: rapid.Bool().Draw(t, "deleted"),
			Version: Version{
				HLC:  rapid.Uint64Range(1, 4).Draw(t, "hlc"),
				Node: rapid.SampledFrom([]string{"n1", "n2", "n3"}).Draw(t, "node"),
			},
		}
		r.Sum.Size = rapid.Int64Range(0, 3).Draw(t, "size")
		if rapid.Bool().Draw(t, "meta") {
			r.UserMeta = json.RawMessage(`{"a":1}`)
		}
		return r
	})
}

func TestMergeIsCommutativeAssociativeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genRecord().Draw(t, "a"), genRecord().Draw(t, "b"), genRecord().Draw(t, "c")
		if got := Merge(a, a); !reflect.DeepEqual(got, a) {
			t.Fatalf("not idempotent: Merge(a,a)=%+v", got)
		}
		if ab, ba := Merge(a, b), Merge(b, a); !reflect.DeepEqual(ab, ba) {
			t.Fatalf("not commutative:\n%+v\n%+v", ab, ba)
		}
		if l, r := Merge(Merge(a, b), c), Merge(a, Merge(b, c)); !reflect.DeepEqual(l, r) {
			t.Fatalf("not associative:\n%+v\n%+v", l, r)
		}
	})
}

func TestMergeAnyDeliveryOrderConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := rapid.SliceOfN(genRecord(), 1, 8).Draw(t, "recs")
		perm := rapid.Permutation(recs).Draw(t, "perm")
		fold := func(rs []Record) Record {
			acc := rs[0]
			for _, r := range rs[1:] {
				acc = Merge(acc, r)
			}
			return acc
		}
		if x, y := fold(recs), fold(perm); !reflect.DeepEqual(x, y) {
			t.Fatalf("order changed the result:\n%+v\n%+v", x, y)
		}
	})
}

func TestMergeNewerVersionWinsEvenOverTombstone(t *testing.T) {
	old := Record{Key: Key{"b", "k"}, Deleted: true, Version: Version{HLC: 10, Node: "z"}}
	newer := Record{Key: Key{"b", "k"}, Name: "x", Version: Version{HLC: 11, Node: "a"}}
	if got := Merge(old, newer); got.Deleted {
		t.Fatalf("older tombstone beat a newer write")
	}
	tomb := Record{Key: Key{"b", "k"}, Deleted: true, Version: Version{HLC: 12, Node: "a"}}
	if got := Merge(newer, tomb); !got.Deleted {
		t.Fatalf("newer tombstone lost to an older write")
	}
	// Same HLC: the node ID breaks the tie.
	x := Record{Version: Version{HLC: 5, Node: "n2"}}
	y := Record{Version: Version{HLC: 5, Node: "n1"}, Deleted: true}
	if got := Merge(x, y); got.Version.Node != "n2" {
		t.Fatalf("tie not broken by node id: %+v", got)
	}
}

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Level
		ok   bool
	}{
		{"", LevelLocal, true}, {"0", LevelLocal, true}, {"1", LevelS3, true}, {" 2", LevelFull, true},
		{"3", 0, false}, {"-1", 0, false}, {"one", 0, false}, {"1.0", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLevel(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParseLevel(%q) = %v, %v", tc.in, got, err)
			}
			if err != nil && !errors.Is(err, ErrInvalidLevel) {
				t.Fatalf("error %v does not wrap ErrInvalidLevel", err)
			}
		})
	}
}

func TestChecksumJSONRoundTrip(t *testing.T) {
	c := Checksum{Size: 3, CRC32C: 0xdeadbeef, MD5: MD5{1, 2, 3}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Checksum
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Fatalf("round trip: %s -> %+v", b, back)
	}
	if c.ETag() != `"01020300000000000000000000000000"` {
		t.Fatalf("etag %s", c.ETag())
	}
}

func TestLeavesSpreadKeysAndRecordHashSeesEveryVersionField(t *testing.T) {
	seen := map[uint8]int{}
	for i := range 10000 {
		seen[GroupOf(LeafOf(Key{Bucket: "b", ID: string(rune('a'+i%26)) + strconv.Itoa(i)}))]++
	}
	if len(seen) < DigestGroups*9/10 {
		t.Fatalf("10000 keys fell in only %d of %d groups", len(seen), DigestGroups)
	}
	base := Record{Key: Key{"b", "k"}, Version: Version{HLC: 7, Node: "n1"}}
	variants := []Record{base, base, base, base}
	variants[1].Version.HLC = 8
	variants[2].Version.Node = "n2"
	variants[3].Deleted = true
	hashes := map[uint64]bool{}
	for _, r := range variants {
		hashes[RecordHash(r)] = true
	}
	if len(hashes) != 4 {
		t.Fatalf("record hashes collide: %d distinct of 4", len(hashes))
	}
}

// Settled comes right after its version: no other node's version, and no
// later one, sorts between them, and settling again keeps that.
func TestVersionSettled(t *testing.T) {
	v := Version{HLC: 1000 << 16, Node: "01M918N60D2KVM6GM0AQASPSJ4"}
	after := []Version{
		{HLC: v.HLC + 1, Node: "00000000000000000000000000"},
		{HLC: v.HLC, Node: "01M918N60D2KVM6GM0AQASPSJ5"},
		{HLC: v.HLC, Node: "01M918N60D2KVM6GM0AQASPSK0"},
		{HLC: v.HLC, Node: "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"},
	}
	before := []Version{
		{HLC: v.HLC - 1, Node: "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		{HLC: v.HLC, Node: "01M918N60D2KVM6GM0AQASPSJ3"},
		v,
	}
	for s, depth := v.Settled(), 1; depth <= 3; s, depth = s.Settled(), depth+1 {
		if s.Time() != v.Time() {
			t.Errorf("settled %d times: time %v, want %v", depth, s.Time(), v.Time())
		}
		for _, w := range after {
			if s.Compare(w) >= 0 {
				t.Errorf("settled %d times (%v) is not older than %v", depth, s, w)
			}
		}
		for _, w := range before {
			if s.Compare(w) <= 0 {
				t.Errorf("settled %d times (%v) is not newer than %v", depth, s, w)
			}
		}
		before = append(before, s)
	}
}
