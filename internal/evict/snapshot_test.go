package evict

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestSnapshotRestore(t *testing.T) {
	p := newPolicy(t, 100, Options{MaxObjectFraction: 1})
	for _, k := range []string{"a", "b", "c"} {
		p.Admit(k, 20)
	}
	p.Access("a")
	if _, err := p.Put("pinned", 10, true); err != nil {
		t.Fatal(err)
	}
	p.Admit("big", 50) // a (reread) moves to main, b leaves for the ghost
	var buf bytes.Buffer
	if err := p.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()

	t.Run("round trip", func(t *testing.T) {
		q := newPolicy(t, 100, Options{MaxObjectFraction: 1})
		ev, err := q.Restore(bytes.NewReader(snap))
		if err != nil || len(ev) != 0 {
			t.Fatalf("Restore = %v, %v", ev, err)
		}
		want := p.Stats()
		want.Pinned, want.PinnedBytes = 0, 0 // pins are not kept
		want.SmallBytes += 10                // pinned is back at the head of the small FIFO
		if got := q.Stats(); got != want {
			t.Fatalf("Stats = %+v, want %+v", got, want)
		}
		// b is a ghost: its next admission enters the main FIFO.
		q.Admit("b", 20)
		if got := q.Stats().MainBytes; got != 40 {
			t.Fatalf("main bytes after ghost hit = %d, want 40", got)
		}
	})
	t.Run("smaller capacity evicts", func(t *testing.T) {
		q := newPolicy(t, 60, Options{})
		ev, err := q.Restore(bytes.NewReader(snap))
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(ev); !slices.Equal(got, []string{"c", "big"}) {
			t.Fatalf("evicted %v, want [c big]", got)
		}
	})
	t.Run("other mode", func(t *testing.T) {
		q := newPolicy(t, 100, Options{Mode: ModeLRU})
		if _, err := q.Restore(bytes.NewReader(snap)); err != nil {
			t.Fatal(err)
		}
		if st := q.Stats(); st.Entries != 4 || st.MainBytes != 100 {
			t.Fatalf("Stats = %+v", st)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		q := newPolicy(t, 100, Options{})
		q.Admit("keep", 1)
		for name, bad := range map[string][]byte{
			"empty":     nil,
			"truncated": snap[:len(snap)-1],
			"flipped":   flip(snap, len(snap)/2),
			"magic":     flip(snap, 0),
		} {
			if _, err := q.Restore(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: Restore error %v, want ErrCorrupt", name, err)
			}
		}
		if !q.Access("keep") {
			t.Fatal("a failed Restore changed the state")
		}
	})
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x40
	return c
}

// FuzzRestore: no input makes Restore panic, and whatever it accepts
// snapshots back to an equal state.
func FuzzRestore(f *testing.F) {
	p, _ := New(100, Options{})
	p.Admit("a", 10)
	p.Admit("b", 95)
	var buf bytes.Buffer
	_ = p.Snapshot(&buf) // a bytes.Buffer never fails
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		q, _ := New(1000, Options{})
		if _, err := q.Restore(bytes.NewReader(data)); err != nil {
			return
		}
		var out bytes.Buffer
		if err := q.Snapshot(&out); err != nil {
			t.Fatal(err)
		}
		r, _ := New(1000, Options{})
		if _, err := r.Restore(&out); err != nil || r.Stats() != q.Stats() {
			t.Fatalf("second restore: %v, %+v vs %+v", err, r.Stats(), q.Stats())
		}
	})
}
