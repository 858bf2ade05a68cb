package evict

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"unsafe"
)

// Tags come back with the entries evicted, whichever call evicts them.
func TestTagsOnEviction(t *testing.T) {
	p := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	p.AdmitTagged("a", 40, 1)
	if _, err := p.PutTagged("b", 40, false, 2); err != nil {
		t.Fatal(err)
	}
	p.Admit("c", 10) // untagged: 0
	if !p.SetTag("c", 3) || p.SetTag("missing", 3) {
		t.Fatal("SetTag: want true for a tracked key only")
	}
	got := map[string]uint16{}
	for _, e := range p.Evict(100) {
		got[e.Key] = e.Tag
	}
	if want := map[string]uint16{"a": 1, "b": 2, "c": 3}; !equalTags(got, want) {
		t.Fatalf("evicted tags %v, want %v", got, want)
	}
	// Re-admitting a tracked key relabels it; insertion evicts with tags.
	p.AdmitTagged("d", 60, 4)
	p.AdmitTagged("d", 60, 5)
	ev, _ := p.AdmitTagged("e", 60, 6)
	if len(ev) != 1 || ev[0].Key != "d" || ev[0].Tag != 5 {
		t.Fatalf("evicted %+v, want d with tag 5", ev)
	}
}

func equalTags(a, b map[string]uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The tag lives in the entry's padding: an entry costs what it did.
func TestTagCostsNoMemory(t *testing.T) {
	if got := unsafe.Sizeof(entry{}); got != 48 {
		t.Fatalf("entry is %d bytes, want 48", got)
	}
}

// Tags survive a snapshot, and a version-1 snapshot (before tags) still
// restores, with tags 0.
func TestTagsSnapshot(t *testing.T) {
	p := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	p.AdmitTagged("a", 10, 300)
	p.AdmitTagged("b", 10, 65535)
	var buf bytes.Buffer
	if err := p.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	q := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	if _, err := q.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint16{}
	for _, e := range q.Evict(100) {
		got[e.Key] = e.Tag
	}
	if want := map[string]uint16{"a": 300, "b": 65535}; !equalTags(got, want) {
		t.Fatalf("restored tags %v, want %v", got, want)
	}

	v1 := v1Snapshot([]string{"x", "y"}, 7)
	r := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	if _, err := r.Restore(bytes.NewReader(v1)); err != nil {
		t.Fatalf("restore a version-1 snapshot: %v", err)
	}
	ev := r.Evict(100)
	if len(ev) != 2 || ev[0].Tag != 0 || ev[1].Tag != 0 || ev[0].Size != 7 {
		t.Fatalf("version-1 entries %+v, want two of size 7, untagged", ev)
	}
}

// v1Snapshot writes a snapshot in format 1 (no tags) of keys in the small
// FIFO, each of size bytes, with no ghosts.
func v1Snapshot(keys []string, size uint64) []byte {
	var b []byte
	b = append(b, snapshotMagicV1...)
	b = binary.AppendUvarint(b, uint64(ModeS3FIFO))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, size)
		b = append(b, byte(queueSmall))
	}
	b = binary.AppendUvarint(b, 0)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// SetPin pins once and unpins fully, whatever pins the key held.
func TestSetPin(t *testing.T) {
	p := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	p.Admit("a", 30)
	if ok, _ := p.SetPin("missing", true); ok {
		t.Fatal("SetPin of an untracked key reports it tracked")
	}
	for range 2 { // idempotent
		if ok, _ := p.SetPin("a", true); !ok {
			t.Fatal("SetPin of a tracked key reports it untracked")
		}
	}
	if st := p.Stats(); st.Pinned != 1 || st.PinnedBytes != 30 {
		t.Fatalf("after SetPin twice: %+v, want one pinned entry of 30 bytes", st)
	}
	if ev := p.Evict(100); len(ev) != 0 {
		t.Fatalf("evicted a pinned entry: %v", ev)
	}
	p.Pin("a") // a second pin, as a caller mixing Pin and SetPin might
	p.SetPin("a", false)
	if st := p.Stats(); st.Pinned != 0 || st.PinnedBytes != 0 {
		t.Fatalf("after SetPin false: %+v, want nothing pinned", st)
	}
	if ev := p.Evict(100); len(ev) != 1 || ev[0].Key != "a" {
		t.Fatalf("evicted %v, want a", ev)
	}
}
