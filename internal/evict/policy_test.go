package evict

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func newPolicy(t testing.TB, capacity int64, opts Options) *Policy {
	t.Helper()
	p, err := New(capacity, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func keys(es []Entry) []string {
	var ks []string
	for _, e := range es {
		ks = append(ks, e.Key)
	}
	return ks
}

// step is one call in a table test, with what it must return.
type step struct {
	op      string // access, admit, put, pin, unpin, remove, resize
	key     string
	size    int64
	want    bool     // hit / admitted / tracked
	evicted []string // keys evicted, in order
	err     error
}

func run(t *testing.T, p *Policy, steps []step) {
	t.Helper()
	for i, s := range steps {
		var got bool
		var ev []Entry
		var err error
		switch s.op {
		case "access":
			got = p.Access(s.key)
		case "admit":
			ev, got = p.Admit(s.key, s.size)
		case "put", "putpin":
			ev, err = p.Put(s.key, s.size, s.op == "putpin")
			got = err == nil
		case "pin":
			got = p.Pin(s.key)
		case "unpin":
			ev, got = p.Unpin(s.key), s.want
		case "remove":
			got = p.Remove(s.key)
		case "resize":
			ev, got = p.Resize(s.size), s.want
		default:
			t.Fatalf("step %d: unknown op %q", i, s.op)
		}
		if got != s.want || !slices.Equal(keys(ev), s.evicted) || !errors.Is(err, s.err) {
			t.Fatalf("step %d %s(%s, %d) = %v, evicted %v, err %v; want %v, %v, %v",
				i, s.op, s.key, s.size, got, keys(ev), err, s.want, s.evicted, s.err)
		}
	}
}

func TestPolicyTable(t *testing.T) {
	s3 := Options{MaxObjectFraction: 1}
	tests := []struct {
		name     string
		capacity int64
		opts     Options
		steps    []step
	}{
		{"lru evicts least recently used", 30, Options{Mode: ModeLRU, MaxObjectFraction: 1}, []step{
			{op: "admit", key: "a", size: 10, want: true},
			{op: "admit", key: "b", size: 10, want: true},
			{op: "admit", key: "c", size: 10, want: true},
			{op: "access", key: "a", want: true},
			{op: "admit", key: "d", size: 10, want: true, evicted: []string{"b"}},
			{op: "access", key: "b"},
		}},
		{"s3fifo evicts one-hit wonders first and keeps the reread", 100, s3, []step{
			{op: "admit", key: "hot", size: 10, want: true},
			{op: "access", key: "hot", want: true},
			{op: "admit", key: "x", size: 40, want: true},
			{op: "admit", key: "y", size: 40, want: true},
			// small holds hot, x, y (90 > 10): hot was reread so moves to
			// main; x leaves for the ghost.
			{op: "admit", key: "z", size: 20, want: true, evicted: []string{"x"}},
			{op: "admit", key: "w", size: 40, want: true, evicted: []string{"y"}},
			{op: "access", key: "hot", want: true},
		}},
		{"a ghost hit enters main", 100, s3, []step{
			{op: "admit", key: "a", size: 60, want: true},
			{op: "admit", key: "b", size: 60, want: true, evicted: []string{"a"}},
			{op: "admit", key: "a", size: 60, want: true, evicted: []string{"b"}},
			{op: "admit", key: "c", size: 30, want: true},
			// c (small, over its target) goes before a (main).
			{op: "admit", key: "d", size: 30, want: true, evicted: []string{"c"}},
		}},
		{"too large for admission", 100, Options{MaxObjectFraction: 0.25}, []step{
			{op: "admit", key: "big", size: 26},
			{op: "admit", key: "ok", size: 25, want: true},
			{op: "put", key: "big", size: 26, want: true},
		}},
		{"second miss admits", 100, Options{SecondMiss: true}, []step{
			{op: "admit", key: "a", size: 10},
			{op: "access", key: "a"},
			{op: "admit", key: "a", size: 10, want: true},
			{op: "access", key: "a", want: true},
		}},
		{"pinned is never evicted", 30, s3, []step{
			{op: "putpin", key: "only", size: 20, want: true},
			{op: "admit", key: "a", size: 10, want: true},
			{op: "admit", key: "b", size: 10, want: true, evicted: []string{"a"}},
			{op: "admit", key: "c", size: 11},
			{op: "put", key: "c", size: 11, err: ErrNoRoom},
			{op: "unpin", key: "only", want: true},
			// only is back at the head of the small FIFO, b at its tail.
			{op: "admit", key: "c", size: 11, want: true, evicted: []string{"b", "only"}},
		}},
		{"pin counts nest", 20, s3, []step{
			{op: "admit", key: "a", size: 10, want: true},
			{op: "pin", key: "a", want: true},
			{op: "pin", key: "a", want: true},
			{op: "unpin", key: "a"},
			{op: "put", key: "b", size: 10, want: true},
			{op: "put", key: "c", size: 10, want: true, evicted: []string{"b"}},
			{op: "unpin", key: "a"},
			{op: "put", key: "d", size: 10, want: true, evicted: []string{"c"}},
			{op: "pin", key: "nope"},
		}},
		{"remove frees room", 20, s3, []step{
			{op: "admit", key: "a", size: 10, want: true},
			{op: "admit", key: "b", size: 10, want: true},
			{op: "remove", key: "a", want: true},
			{op: "remove", key: "a"},
			{op: "admit", key: "c", size: 10, want: true},
		}},
		{"resize evicts, keeps pinned", 40, s3, []step{
			{op: "putpin", key: "p", size: 20, want: true},
			{op: "admit", key: "a", size: 10, want: true},
			{op: "admit", key: "b", size: 10, want: true},
			{op: "resize", size: 10, evicted: []string{"a", "b"}},
			{op: "resize", size: 40},
			{op: "admit", key: "c", size: 20, want: true},
		}},
		{"re-admit updates the size", 25, s3, []step{
			{op: "admit", key: "a", size: 10, want: true},
			{op: "admit", key: "b", size: 10, want: true},
			{op: "admit", key: "a", size: 20, want: true, evicted: []string{"b"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, newPolicy(t, tt.capacity, tt.opts), tt.steps)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Mode: 7}, {SmallFraction: 1}, {SmallFraction: -0.1}, {MaxObjectFraction: 1.5}} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
		if _, err := New(10, o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("DefaultOptions: %v", err)
	}
	for _, m := range []Mode{ModeS3FIFO, ModeLRU} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%s) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("arc"); err == nil {
		t.Error("ParseMode(arc) = nil error")
	}
}

func TestStats(t *testing.T) {
	p := newPolicy(t, 100, Options{})
	if _, err := p.Put("a", 10, true); err != nil {
		t.Fatal(err)
	}
	p.Admit("b", 20)
	got := p.Stats()
	want := Stats{Capacity: 100, Entries: 2, Bytes: 30, Pinned: 1, PinnedBytes: 10, SmallBytes: 20}
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

// TestGhostBounded checks that the ghost FIFO stays within its count bound
// when many tiny objects pass through.
func TestGhostBounded(t *testing.T) {
	p := newPolicy(t, 1<<20, Options{SecondMiss: true})
	for i := range 100_000 {
		p.Admit(fmt.Sprintf("k%d", i), 1)
	}
	if g := p.Stats().Ghosts; g > p.ghost.minEntries {
		t.Fatalf("ghosts = %d, want ≤ %d", g, p.ghost.minEntries)
	}
	if n := len(p.ghost.ring); n > 4*p.ghost.minEntries {
		t.Fatalf("ghost ring holds %d slots", n)
	}
}
