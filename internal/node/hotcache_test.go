package node

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"sphere.software/objstore"
)

func TestHotCacheRefusesAnInsertRacedByAChange(t *testing.T) {
	c := newHotCache(1 << 20)
	rec := objstore.Record{Key: newKey()}
	ticket := c.ticket(rec.Key)
	c.invalidate(rec.Key) // a write lands between the reader's journal read and its insert
	c.put(ticket, rec, []byte("stale"), "")
	if _, ok := c.get(rec.Key); ok {
		t.Fatal("stale body inserted")
	}
	c.put(c.ticket(rec.Key), rec, []byte("fresh"), "")
	if e, ok := c.get(rec.Key); !ok || string(e.body) != "fresh" {
		t.Fatalf("fresh insert: %v", ok)
	}
}

func TestHotCacheKeepsTheReadEntryWithinBudget(t *testing.T) {
	c := newHotCache(16 * 4) // maxBody is budget/16 = 4 bytes
	var keys []objstore.Key
	for range 20 {
		k := newKey()
		keys = append(keys, k)
		c.put(c.ticket(k), objstore.Record{Key: k}, []byte("abcd"), "")
		c.get(keys[0]) // keeps the first one recent
	}
	if c.used() > c.budget {
		t.Fatalf("used %d over budget %d", c.used(), c.budget)
	}
	if _, ok := c.get(keys[0]); !ok {
		t.Fatal("the entry read again was evicted")
	}
	if _, ok := c.get(keys[1]); ok {
		t.Fatal("an old entry survived")
	}
	k := newKey()
	c.put(c.ticket(k), objstore.Record{Key: k}, []byte("too large"), "")
	if _, ok := c.get(k); ok {
		t.Fatal("a body over maxBody was held")
	}
}

func TestHotReadsSeeEveryChange(t *testing.T) {
	n := newTestNode(t, 0)
	key := newKey()
	check := func(want string) {
		t.Helper()
		for range 2 { // the second read is served from memory
			got, obj, err := read(t, n, key, false)
			if err != nil || string(got) != want || obj.Source != SourceLocal {
				t.Fatalf("read %q, %v, want %q", got, err, want)
			}
		}
	}
	put(t, n, key, []byte("one"), objstore.LevelLocal)
	check("one")
	put(t, n, key, []byte("two"), objstore.LevelLocal)
	check("two")
	if _, err := n.SetLevel(context.Background(), key, objstore.LevelS3); err != nil {
		t.Fatal(err)
	}
	if _, obj, _ := read(t, n, key, false); obj.Level != objstore.LevelS3 {
		t.Fatalf("cached record kept the old level: %d", obj.Level)
	}
	newer := objstore.Record{Key: key, Deleted: true, Version: n.newVersion()}
	if err := n.Apply(context.Background(), []objstore.Record{newer}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(t, n, key, false); err == nil {
		t.Fatal("a delete from a peer left the body in the hot cache")
	}
	big := strings.Repeat("x", 2<<20) // over maxBody: served from the file
	put(t, n, key, []byte(big), objstore.LevelLocal)
	got, _, err := read(t, n, key, false)
	if err != nil || !bytes.Equal(got, []byte(big)) {
		t.Fatalf("large body: %d bytes, %v", len(got), err)
	}
}

// TestHotCacheResistsAScan: a hot set that fits in memory, then a one-pass
// scan of 16 times the budget mixed in, three scanned bodies per hot read
// (an LRU would hold almost none of the hot set during it: each hot key is
// read again only after about 240 newer bodies, twice what the budget
// holds). The hot set's hit ratio must stay high during and after the scan,
// and the cache within its budget.
func TestHotCacheResistsAScan(t *testing.T) {
	const body, budget, hotKeys = 1 << 10, 128 << 10, 60
	c := newHotCache(budget)
	hot := make([]objstore.Key, hotKeys)
	for i := range hot {
		hot[i] = newKey()
	}
	// read is a GET of key: a hit, or a miss that inserts the body.
	read := func(key objstore.Key) bool {
		if _, ok := c.get(key); ok {
			return true
		}
		c.put(c.ticket(key), objstore.Record{Key: key}, make([]byte, body), "")
		return false
	}
	ratio := func(rounds, scanPer int) float64 {
		hits := 0
		for i := range rounds * hotKeys {
			if read(hot[i%hotKeys]) {
				hits++
			}
			for range scanPer {
				read(newKey())
			}
		}
		return float64(hits) / float64(rounds*hotKeys)
	}
	ratio(3, 0) // warm up
	before := ratio(3, 0)
	during := ratio(12, 3) // 12 × 60 × 3 KiB = 2,160 KiB scanned
	after := ratio(3, 0)
	t.Logf("hot hit ratio before %.3f during %.3f after %.3f", before, during, after)
	if before < 0.99 || during < 0.95 || after < 0.99 {
		t.Errorf("hot hit ratio before %.3f during %.3f after %.3f, want ≥ 0.99, 0.95, 0.99", before, during, after)
	}
	if c.used() > budget {
		t.Errorf("used %d over the budget %d", c.used(), budget)
	}
}

// TestHotCacheConcurrentHitsAndChanges: lock-free hits beside inserts and
// invalidations leave the map and the policy tracking the same keys, within
// the budget (run with -race).
func TestHotCacheConcurrentHitsAndChanges(t *testing.T) {
	c := newHotCache(64 << 10) // maxBody 4 KiB
	keys := make([]objstore.Key, 64)
	for i := range keys {
		keys[i] = newKey()
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := keys[(i*7+g)%len(keys)]
				switch {
				case i%5 == 0:
					c.invalidate(k)
				case i%2 == 0:
					c.put(c.ticket(k), objstore.Record{Key: k}, make([]byte, 1<<10+i%3000), "")
				default:
					if e, ok := c.get(k); ok && e.rec.Key != k {
						t.Errorf("get %v returned %v", k, e.rec.Key)
					}
				}
			}
		})
	}
	wg.Wait()
	held := 0
	c.entries.Range(func(k, v any) bool {
		held++
		if !c.policy.Has(hotName(k.(objstore.Key))) {
			t.Errorf("%v held but not tracked", k)
		}
		return true
	})
	if st := c.policy.Stats(); st.Entries != held || st.Bytes > c.budget {
		t.Fatalf("policy tracks %d entries, %d bytes; map holds %d; budget %d", st.Entries, st.Bytes, held, c.budget)
	}
}

func TestHotNameReadsBack(t *testing.T) {
	for _, k := range []objstore.Key{{}, {Bucket: "b", ID: "k"}, {Bucket: "a:1", ID: "2:x"}, {Bucket: "", ID: "7:z"}, {Bucket: "bb", ID: ""}} {
		if got := parseHotName(hotName(k)); got != k {
			t.Errorf("parseHotName(hotName(%q)) = %q", k, got)
		}
	}
	if got := parseHotName("9:ab"); got != (objstore.Key{}) {
		t.Errorf("a malformed name parsed as %q", got)
	}
}
