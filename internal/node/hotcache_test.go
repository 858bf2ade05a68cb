package node

import (
	"bytes"
	"context"
	"strings"
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

func TestHotCacheEvictsLeastRecentlyUsedWithinBudget(t *testing.T) {
	c := newHotCache(16 * 4) // maxBody is budget/16 = 4 bytes
	var keys []objstore.Key
	for range 20 {
		k := newKey()
		keys = append(keys, k)
		c.put(c.ticket(k), objstore.Record{Key: k}, []byte("abcd"), "")
		c.get(keys[0]) // keeps the first one recent
	}
	if c.used > c.budget {
		t.Fatalf("used %d over budget %d", c.used, c.budget)
	}
	if _, ok := c.get(keys[0]); !ok {
		t.Fatal("the most recently used entry was evicted")
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
