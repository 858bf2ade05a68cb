package evict

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// model is what a caller knows: the tracked keys with their sizes, and the
// pins it holds.
type model struct {
	tracked map[string]int64
	pins    map[string]int
}

// op is one random call; result is everything it returned, to compare two
// policies' decisions.
type op struct {
	kind int
	key  string
	size int64
}

type result struct {
	hit     bool
	evicted []Entry
	err     bool
}

func drawOp(t *rapid.T, label string) op {
	return op{
		kind: rapid.IntRange(0, 7).Draw(t, label+"kind"),
		key:  fmt.Sprintf("k%d", rapid.IntRange(0, 24).Draw(t, label+"key")),
		size: rapid.Int64Range(0, 60).Draw(t, label+"size"),
	}
}

// apply runs o on p, keeps m in step, and checks the invariants.
func apply(t *rapid.T, p *Policy, m *model, o op) result {
	var r result
	switch o.kind {
	case 0, 1:
		r.hit = p.Access(o.key)
		if _, ok := m.tracked[o.key]; r.hit != ok {
			t.Fatalf("Access(%s) = %v, tracked %v", o.key, r.hit, ok)
		}
	case 2, 3:
		r.evicted, r.hit = p.Admit(o.key, o.size)
		m.evict(t, r.evicted)
		if r.hit {
			m.tracked[o.key] = o.size
		}
	case 4:
		pin := o.size%2 == 0
		ev, err := p.Put(o.key, o.size, pin)
		r.evicted, r.err = ev, err != nil
		m.evict(t, ev)
		if err == nil {
			m.tracked[o.key] = o.size
			if pin {
				m.pins[o.key]++
			}
		}
	case 5:
		r.hit = p.Pin(o.key)
		if r.hit {
			m.pins[o.key]++
		}
	case 6:
		r.evicted = p.Unpin(o.key)
		if m.pins[o.key] > 0 {
			m.pins[o.key]--
		}
		m.evict(t, r.evicted)
	case 7:
		if o.size < 5 {
			r.evicted = p.Resize(o.size * 40)
			m.evict(t, r.evicted)
		} else {
			r.hit = p.Remove(o.key)
			delete(m.tracked, o.key)
			delete(m.pins, o.key)
		}
	}
	m.check(t, p)
	return r
}

func (m *model) evict(t *rapid.T, ev []Entry) {
	for _, e := range ev {
		if m.pins[e.Key] > 0 {
			t.Fatalf("evicted pinned %s", e.Key)
		}
		if _, ok := m.tracked[e.Key]; !ok {
			t.Fatalf("evicted untracked %s", e.Key)
		}
		delete(m.tracked, e.Key)
	}
}

// check: the policy tracks exactly the model's keys, and its bytes exceed
// the capacity only by what is pinned.
func (m *model) check(t *rapid.T, p *Policy) {
	st := p.Stats()
	var used, pinned int64
	for k, size := range m.tracked {
		used += size
		if m.pins[k] > 0 {
			pinned += size
		}
	}
	if st.Entries != len(m.tracked) || st.Bytes != used || st.PinnedBytes != pinned {
		t.Fatalf("stats %+v, model %d entries, %d bytes, %d pinned", st, len(m.tracked), used, pinned)
	}
	if st.Bytes > max(st.Capacity, st.PinnedBytes) {
		t.Fatalf("used %d over capacity %d with %d pinned", st.Bytes, st.Capacity, st.PinnedBytes)
	}
}

func drawPolicy(t *rapid.T) (*Policy, int64, Options) {
	opts := Options{
		Mode:              Mode(rapid.IntRange(0, 1).Draw(t, "mode")),
		MaxObjectFraction: rapid.SampledFrom([]float64{0, 0.5, 1}).Draw(t, "maxfrac"),
		SecondMiss:        rapid.Bool().Draw(t, "secondmiss"),
	}
	capacity := rapid.Int64Range(0, 200).Draw(t, "capacity")
	p, err := New(capacity, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, capacity, opts
}

// TestPropertyInvariants: under any sequence of calls, used bytes never
// exceed the capacity except by the pinned set, and a pinned entry is
// never evicted.
func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, _, _ := drawPolicy(t)
		m := &model{tracked: map[string]int64{}, pins: map[string]int{}}
		for i := range rapid.IntRange(1, 300).Draw(t, "n") {
			apply(t, p, m, drawOp(t, fmt.Sprint(i)))
		}
	})
}

// TestPropertySnapshot: a policy restored from a snapshot makes the same
// decisions as the one it was taken from.
func TestPropertySnapshot(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p, _, opts := drawPolicy(t)
		m := &model{tracked: map[string]int64{}, pins: map[string]int{}}
		for i := range rapid.IntRange(0, 200).Draw(t, "n") {
			apply(t, p, m, drawOp(t, fmt.Sprint(i)))
		}
		// Pins are not kept by a snapshot: release them first, in a fixed
		// order, as a caller would re-derive them.
		for _, k := range slices.Sorted(maps.Keys(m.pins)) {
			for m.pins[k] > 0 {
				m.pins[k]--
				m.evict(t, p.Unpin(k))
			}
		}
		var buf bytes.Buffer
		if err := p.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		q, err := New(p.Stats().Capacity, opts) // Resize may have changed it
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := q.Restore(&buf); err != nil || len(ev) > 0 {
			t.Fatalf("Restore = %v, %v", ev, err)
		}
		m2 := &model{tracked: maps.Clone(m.tracked), pins: map[string]int{}}
		m2.check(t, q)
		for i := range rapid.IntRange(1, 200).Draw(t, "after") {
			o := drawOp(t, fmt.Sprint("after", i))
			a, b := apply(t, p, m, o), apply(t, q, m2, o)
			if a.hit != b.hit || a.err != b.err || !slices.Equal(a.evicted, b.evicted) {
				t.Fatalf("op %d %+v: original %+v, restored %+v", i, o, a, b)
			}
		}
	})
}
