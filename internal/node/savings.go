package node

import "sphere.software/objstore/internal/savings"

// Savings returns the node's savings counters: reads count there by where
// they were served from; the code that evicts bodies and revalidates them
// reports there too (Tally.EvictedAt, NotModifiedAt, RefetchedAt).
func (n *Node) Savings() *savings.Tally { return n.savings }

// countRead counts a read of a size-byte body of bucket served from k.
func (n *Node) countRead(bucket string, k savings.Kind, size int64) {
	n.savings.Add(bucket, k, size)
}

// counterFor is the counter that reads of a body held in memory add to,
// resolved once when the body enters the cache so that a hot read pays a
// single atomic add: Memory for this node's bodies, MemoryPeer for a
// peer's.
func (c *hotCache) counterFor(bucket, peer string) *savings.Counter {
	if c.tally == nil {
		return new(savings.Counter) // a cache without a tally (unit tests)
	}
	k := savings.Memory
	if peer != "" {
		k = savings.MemoryPeer
	}
	return c.tally.Bucket(bucket).Counter(k)
}

// fillKind is how a read served by an origin fill counts: the read that
// started the fill made the origin GET, the others shared it.
func fillKind(leader bool) savings.Kind {
	if leader {
		return savings.Origin
	}
	return savings.Coalesced
}
