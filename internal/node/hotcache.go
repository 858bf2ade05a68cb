package node

import (
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/evict"
	"sphere.software/objstore/internal/savings"
)

// hotCache keeps the records and bodies of small objects read recently, so
// that a hot GET costs neither a journal transaction nor a file open: for
// small bodies those, not the bytes, are the cost of a read.
//
// Which bodies stay is decided by an evict.Policy in S3-FIFO mode, the
// policy that bounds the disk: a one-pass scan of small objects goes
// through its small FIFO and does not flush the hot set. A hit must stay
// cheap, so it takes no lock: one lookup in a sync.Map and an atomic read
// count on the entry, which the policy takes when the entry reaches a
// FIFO's tail (evict.Options.TakeReads). Only inserts, invalidations and
// evictions take mu and call the policy.
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

	// entries maps a key to its *hotEntry. Reads are lock-free; every
	// change is made with mu held, so it tracks the policy's keys exactly.
	entries sync.Map
	seq     [256]atomic.Uint64 // changes per key stripe; bumped with mu held

	mu     sync.Mutex // guards changes to entries and the calls to policy
	policy *evict.Policy
}

type hotEntry struct {
	rec  objstore.Record
	body []byte
	// crc is the CRC-32C of body when it was put, checked on every serve
	// (intact).
	crc uint32
	// peer is the member the body was read from, for a body this node
	// does not hold; "" for its own.
	peer         string
	memo, s3memo Memo
	// served counts the reads of this entry (counterFor).
	served *savings.Counter
	// reads counts the hits since the policy last took them; it saturates
	// at 3, the ceiling of the policy's counter, so that a very hot entry
	// costs its readers an atomic load and no write.
	reads atomic.Uint32
}

// maxReads is where hotEntry.reads saturates: the policy's counter is 2 bits.
const maxReads = 3

// hit counts a read of e for the policy.
func (e *hotEntry) hit() {
	if e.reads.Load() < maxReads {
		e.reads.Add(1)
	}
}

// source is where the entry's body lives.
func (e *hotEntry) source() Source {
	if e.peer != "" {
		return SourcePeer
	}
	return SourceLocal
}

func newHotCache(budget int64) *hotCache {
	c := &hotCache{budget: budget, maxBody: min(1<<20, budget/16)}
	// Admission by size is fits' job (maxBody), so the policy admits all
	// that fit; the options are valid and the budget is not negative
	// (Config.Validate), so New cannot fail.
	p, err := evict.New(max(budget, 0), evict.Options{MaxObjectFraction: 1, TakeReads: c.takeReads})
	if err != nil {
		panic("node: hot cache policy: " + err.Error())
	}
	c.policy = p
	return c
}

// fits reports whether a body of size bytes may be held.
func (c *hotCache) fits(size int64) bool { return c.budget > 0 && size <= c.maxBody }

// get returns key's entry and counts the hit, without a lock.
func (c *hotCache) get(key objstore.Key) (*hotEntry, bool) {
	if c.budget == 0 {
		return nil, false
	}
	v, ok := c.entries.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*hotEntry)
	e.hit()
	return e, true
}

// ticket returns the change count of key's stripe, for put.
func (c *hotCache) ticket(key objstore.Key) uint64 {
	if c.budget == 0 {
		return 0 // put never holds anything
	}
	return c.stripeSeq(key).Load()
}

func (c *hotCache) stripeSeq(key objstore.Key) *atomic.Uint64 {
	return &c.seq[stripe(key)%uint32(len(c.seq))]
}

// put holds rec and its body unless key's stripe changed since ticket or
// the policy declines it. It returns the entry, held or not.
func (c *hotCache) put(ticket uint64, rec objstore.Record, body []byte, peer string) *hotEntry {
	e := &hotEntry{rec: rec, body: body, crc: crc32.Checksum(body, castagnoli), peer: peer, served: c.counterFor(rec.Key.Bucket, peer)}
	if !c.fits(int64(len(body))) {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stripeSeq(rec.Key).Load() != ticket {
		return e
	}
	// A key already held (two readers missed at once) keeps its place
	// and its reads in the policy: Admit of a tracked key only resizes it.
	evicted, admitted := c.policy.Admit(hotName(rec.Key), int64(len(body)))
	for _, v := range evicted {
		key := parseHotName(v.Key)
		c.entries.Delete(key)
		if c.tally != nil {
			c.tally.EvictedMemoryAt(key.Bucket, v.Size)
		}
	}
	if admitted {
		if old, held := c.entries.Swap(rec.Key, e); held {
			e.reads.Store(old.(*hotEntry).reads.Load())
		}
	}
	return e
}

// intact reports whether e's body still has the CRC-32C it was put with.
// Bodies enter the cache verified (block checks from the disk, the whole
// CRC-32C from a peer), so this guards the copy in memory itself: a stray
// write through a shared slice, or a bit flipped in RAM without ECC. It
// costs a hardware CRC of at most maxBody bytes (about 0.2 µs for 4 KiB).
func (e *hotEntry) intact() bool { return crc32.Checksum(e.body, castagnoli) == e.crc }

// drop removes e if it is still key's entry.
func (c *hotCache) drop(e *hotEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries.CompareAndDelete(e.rec.Key, e) {
		c.policy.Remove(hotName(e.rec.Key))
	}
}

// dropPeer drops the entries of bodies read from the member peer.
func (c *hotCache) dropPeer(peer string) {
	if c.budget == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries.Range(func(k, v any) bool {
		if v.(*hotEntry).peer == peer {
			c.removeLocked(k.(objstore.Key))
		}
		return true
	})
}

// invalidate drops key and fails the tickets of its stripe.
func (c *hotCache) invalidate(key objstore.Key) {
	if c.budget == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stripeSeq(key).Add(1)
	c.removeLocked(key)
}

func (c *hotCache) removeLocked(key objstore.Key) {
	if _, ok := c.entries.LoadAndDelete(key); ok {
		c.policy.Remove(hotName(key))
	}
}

// used is the bytes of the bodies held.
func (c *hotCache) used() int64 { return c.policy.Stats().Bytes }

// takeReads hands the reads of the entry named name to the policy
// (evict.Options.TakeReads). The policy calls it from put, under mu, so
// the entry is the one the policy tracks.
func (c *hotCache) takeReads(name string) int {
	v, ok := c.entries.Load(parseHotName(name))
	if !ok {
		return 0
	}
	return int(v.(*hotEntry).reads.Swap(0))
}

// hotName is key's name in the policy: the bucket's length first, so that
// any bucket and ID read back (parseHotName).
func hotName(key objstore.Key) string {
	return strconv.Itoa(len(key.Bucket)) + ":" + key.Bucket + key.ID
}

func parseHotName(name string) objstore.Key {
	n, rest, _ := strings.Cut(name, ":")
	l, err := strconv.Atoi(n)
	if err != nil || l > len(rest) {
		return objstore.Key{} // not a hotName: matches no entry
	}
	return objstore.Key{Bucket: rest[:l], ID: rest[l:]}
}
