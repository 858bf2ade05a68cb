package node

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// counters are the node's read figures since start.
type counters struct {
	hitsLocal  atomic.Int64
	hitsPeer   atomic.Int64
	hitsRemote atomic.Int64
	misses     atomic.Int64
	// originFills and originStreams count this node's origin GETs: one
	// per fill, and one per origin stream opened beside a fill (a reader
	// going on after the fill's local copy failed, a second reader of a
	// body not cached, a seek backwards).
	originFills   atomic.Int64
	originStreams atomic.Int64

	// Rot: bodies found corrupt, restored, lost, and not repaired for now.
	corruptFound atomic.Int64
	repaired     atomic.Int64
	lost         atomic.Int64
	repairFailed atomic.Int64

	// Anti-entropy passes this node started (sync.go), and what they moved.
	syncPasses, syncFailed    atomic.Int64
	syncSent, syncReceived    atomic.Int64
	syncBytesOut, syncBytesIn atomic.Int64
}

// AntiEntropyStats count the anti-entropy passes this node started since
// start, whether they failed, and the records and body bytes they moved
// (both ways; the peer's passes with this node are counted there).
type AntiEntropyStats struct {
	Passes   int64 `json:"passes"`
	Failed   int64 `json:"failed"`
	Sent     int64 `json:"records_sent"`
	Received int64 `json:"records_received"`
	BytesOut int64 `json:"bytes_out"`
	BytesIn  int64 `json:"bytes_in"`
}

// IntegrityStats are the rot figures since start: what was found, what
// came back, what is gone, and the scrubber's progress.
type IntegrityStats struct {
	// CorruptFound counts bodies found failing their checksum (each body
	// once while its repair runs).
	CorruptFound int64 `json:"corrupt_found"`
	// Repaired counts those restored from a peer or the origin.
	Repaired int64 `json:"repaired"`
	// Lost counts level-0 bodies whose only copy rotted (logged at ERROR).
	Lost int64 `json:"lost"`
	// RepairFailed counts repairs that could not reach a copy for now.
	RepairFailed int64 `json:"repair_failed"`
	// Scrub is the background scrubber's figures; nil when it is off.
	Scrub *ScrubStats `json:"scrub,omitempty"`
}

// Stats is a snapshot of what the node holds and how reads were served.
type Stats struct {
	NodeID  string             `json:"node_id"`
	Disk    objstore.DiskUsage `json:"disk"`
	Objects objstore.Counts    `json:"objects"`
	// Hits count reads served, by where the body came from.
	Hits struct {
		Local  int64 `json:"local"`
		Peer   int64 `json:"peer"`
		Remote int64 `json:"remote"`
	} `json:"hits"`
	// Misses count reads answered 404 (unknown, deleted or lost).
	Misses int64 `json:"misses"`
	// OriginGets are the GETs of object bodies this node sent the origin
	// (conditional GETs of revalidations are counted in the savings).
	OriginGets OriginGets `json:"origin_gets"`
	// Origin is the origin's state, when the origin reports one.
	Origin *objstore.OriginHealth `json:"origin,omitempty"`
	// Savings are the per-bucket read counts since start, unpriced.
	Savings savings.Snapshot `json:"-"`
	// Cache is the bounded disk cache's figures, when the disk is bounded.
	Cache *CacheStats `json:"cache,omitempty"`
	// Sweep is the start-up sweep's state: it runs in the background
	// after the node serves, and what it holds (the journal scan's
	// working set) is released when it ends.
	Sweep SweepStats `json:"startup_sweep"`
	// Integrity is what rot was found and repaired, and the scrubber.
	Integrity IntegrityStats `json:"integrity"`
	// AntiEntropy is the passes this node started and what they moved.
	AntiEntropy AntiEntropyStats `json:"anti_entropy"`
	// Outbox is the write-back uploads not in the origin yet (outbox.go).
	Outbox OutboxStats `json:"outbox"`
}

// OriginGets count a node's origin GETs by why they were made: Fills are
// one per miss that fetched a body (cached or streamed); Streams are the
// extra ones, each a body fetched again beside a fill. A counting proxy in
// front of the origin that sees more than their sum saw retries below the
// node (the SDK's, or the HTTP transport's).
type OriginGets struct {
	Fills   int64 `json:"fills"`
	Streams int64 `json:"streams"`
}

// SweepStats tell whether the start-up sweep has finished.
type SweepStats struct {
	Done bool `json:"done"`
	// Seconds is how long it took, once done.
	Seconds float64 `json:"seconds,omitempty"`
}

// originHealth is what an origin that keeps its state offers: both origin
// adapters implement it.
type originHealth interface {
	Health() objstore.OriginHealth
}

// Stats returns the node's current figures.
func (n *Node) Stats(ctx context.Context) (Stats, error) {
	s := Stats{NodeID: n.cfg.NodeID}
	var err error
	if s.Disk, err = n.blobs.Usage(); err != nil {
		return s, fmt.Errorf("node: stats: %w", err)
	}
	if s.Objects, err = n.journal.Counts(ctx); err != nil {
		return s, fmt.Errorf("node: stats: %w", err)
	}
	// Reads served from memory are counted only in the savings tally
	// (one atomic add on the hot path).
	s.Savings = n.savings.Snapshot()
	mem := s.Savings.Total()
	s.Hits.Local = n.stats.hitsLocal.Load() + mem.Get(savings.Memory).Requests
	s.Hits.Peer = n.stats.hitsPeer.Load() + mem.Get(savings.MemoryPeer).Requests
	s.Hits.Remote = n.stats.hitsRemote.Load()
	s.Misses = n.stats.misses.Load()
	s.OriginGets = OriginGets{Fills: n.stats.originFills.Load(), Streams: n.stats.originStreams.Load()}
	s.Cache = n.bounded.stats(n.cfg.Cache.Policy.Mode)
	if took := n.sweepTook.Load(); took > 0 {
		s.Sweep = SweepStats{Done: true, Seconds: time.Duration(took).Seconds()}
	}
	s.Integrity = n.integrityStats()
	s.AntiEntropy = n.antiEntropyStats()
	s.Outbox = n.OutboxStats()
	if o, ok := n.remote.(originHealth); ok {
		h := o.Health()
		s.Origin = &h
	}
	return s, nil
}

func (n *Node) integrityStats() IntegrityStats {
	s := IntegrityStats{CorruptFound: n.stats.corruptFound.Load(), Repaired: n.stats.repaired.Load(),
		Lost: n.stats.lost.Load(), RepairFailed: n.stats.repairFailed.Load()}
	if n.scrub != nil {
		st := n.scrub.stats()
		s.Scrub = &st
	}
	return s
}

func (n *Node) antiEntropyStats() AntiEntropyStats {
	c := &n.stats
	return AntiEntropyStats{Passes: c.syncPasses.Load(), Failed: c.syncFailed.Load(), Sent: c.syncSent.Load(),
		Received: c.syncReceived.Load(), BytesOut: c.syncBytesOut.Load(), BytesIn: c.syncBytesIn.Load()}
}

// countSync adds one anti-entropy pass, and what it moved, to the figures.
func (c *counters) countSync(st objstore.SyncStats, err error) {
	c.syncPasses.Add(1)
	if err != nil {
		c.syncFailed.Add(1)
	}
	c.syncSent.Add(int64(st.Sent))
	c.syncReceived.Add(int64(st.Received))
	c.syncBytesOut.Add(st.BytesOut)
	c.syncBytesIn.Add(st.BytesIn)
}
