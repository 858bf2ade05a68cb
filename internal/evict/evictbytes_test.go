package evict

import (
	"slices"
	"testing"
)

func TestEvictFreesAtLeastNeedAndSkipsPins(t *testing.T) {
	for _, mode := range []Mode{ModeS3FIFO, ModeLRU} {
		t.Run(mode.String(), func(t *testing.T) {
			p := newPolicy(t, 100, Options{Mode: mode})
			for _, k := range []string{"a", "b", "c"} {
				if _, err := p.Put(k, 10, false); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Put("pinned", 10, true); err != nil {
				t.Fatal(err)
			}
			got := keys(p.Evict(15))
			if !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("Evict(15) = %v, want the two oldest [a b]", got)
			}
			got = keys(p.Evict(1000))
			if !slices.Equal(got, []string{"c"}) {
				t.Fatalf("Evict(1000) = %v, want [c]: the pinned entry stays", got)
			}
			if !p.Has("pinned") || p.Has("a") {
				t.Fatalf("Has: pinned %v, a %v; want true, false", p.Has("pinned"), p.Has("a"))
			}
			if st := p.Stats(); st.Bytes != 10 || st.Entries != 1 {
				t.Fatalf("stats after Evict: %+v, want one pinned entry of 10 bytes", st)
			}
		})
	}
}

func TestPruneDropsRejectedKeys(t *testing.T) {
	p := newPolicy(t, 100, Options{})
	for _, k := range []string{"keep", "gone", "gonepinned"} {
		if _, err := p.Put(k, 10, k == "gonepinned"); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Prune(func(k string) bool { return k == "keep" }); n != 2 {
		t.Fatalf("Prune dropped %d, want 2", n)
	}
	if st := p.Stats(); st.Entries != 1 || st.Bytes != 10 || st.Pinned != 0 || !p.Has("keep") {
		t.Fatalf("after Prune: %+v, want only keep", st)
	}
}
