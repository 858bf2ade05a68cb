package node

import (
	"container/list"
	"sync"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// hotCache keeps the records and bodies of small objects read recently, so
// that a hot GET costs neither a journal transaction nor a file open: for
// small bodies those, not the bytes, are the cost of a read. Entries are
// evicted least recently used first.
//
// A reader that misses takes a ticket before it reads the journal and may
// insert only if no change to the key's stripe happened since: a write that
// lands between the reader's journal read and its insert invalidates the
// stripe, so a stale body is never inserted.
type hotCache struct {
	budget  int64 // bytes of bodies held at most; 0 disables the cache
	maxBody int64 // larger bodies are never held
	// tally counts the reads of held bodies; set before the cache is used.
	tally *savings.Tally

	mu      sync.Mutex // guards the fields below
	entries map[objstore.Key]*list.Element
	lru     *list.List // of *hotEntry, most recent first
	used    int64
	seq     [256]uint64 // changes per key stripe
}

type hotEntry struct {
	rec  objstore.Record
	body []byte
	// peer is the member the body was read from, for a body this node
	// does not hold; "" for its own.
	peer         string
	memo, s3memo Memo
	// served counts the reads of this entry (counterFor).
	served *savings.Counter
}

// source is where the entry's body lives.
func (e *hotEntry) source() Source {
	if e.peer != "" {
		return SourcePeer
	}
	return SourceLocal
}

func newHotCache(budget int64) *hotCache {
	return &hotCache{
		budget:  budget,
		maxBody: min(1<<20, budget/16),
		entries: make(map[objstore.Key]*list.Element),
		lru:     list.New(),
	}
}

// fits reports whether a body of size bytes may be held.
func (c *hotCache) fits(size int64) bool { return c.budget > 0 && size <= c.maxBody }

func (c *hotCache) get(key objstore.Key) (*hotEntry, bool) {
	if c.budget == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*hotEntry), true
}

// ticket returns the change count of key's stripe, for put.
func (c *hotCache) ticket(key objstore.Key) uint64 {
	if c.budget == 0 {
		return 0 // put never holds anything: no lock on the read path
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq[stripe(key)%uint32(len(c.seq))]
}

// put holds rec and its body unless key's stripe changed since ticket. It
// returns the entry, held or not.
func (c *hotCache) put(ticket uint64, rec objstore.Record, body []byte, peer string) *hotEntry {
	e := &hotEntry{rec: rec, body: body, peer: peer, served: c.counterFor(rec.Key.Bucket, peer)}
	if !c.fits(int64(len(body))) {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq[stripe(rec.Key)%uint32(len(c.seq))] != ticket {
		return e
	}
	c.removeLocked(rec.Key)
	c.entries[rec.Key] = c.lru.PushFront(e)
	c.used += int64(len(body))
	for c.used > c.budget {
		c.removeLocked(c.lru.Back().Value.(*hotEntry).rec.Key)
	}
	return e
}

// dropPeer drops the entries of bodies read from the member peer.
func (c *hotCache) dropPeer(peer string) {
	if c.budget == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, el := range c.entries {
		if el.Value.(*hotEntry).peer == peer {
			c.removeLocked(key)
		}
	}
}

// invalidate drops key and fails the tickets of its stripe.
func (c *hotCache) invalidate(key objstore.Key) {
	if c.budget == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq[stripe(key)%uint32(len(c.seq))]++
	c.removeLocked(key)
}

func (c *hotCache) removeLocked(key objstore.Key) {
	if el, ok := c.entries[key]; ok {
		c.used -= int64(len(el.Value.(*hotEntry).body))
		c.lru.Remove(el)
		delete(c.entries, key)
	}
}
