package node

import (
	"context"
	"fmt"
	"sync/atomic"

	"sphere.software/objstore"
)

// counters are the node's read figures since start.
type counters struct {
	hitsLocal  atomic.Int64
	hitsPeer   atomic.Int64
	hitsRemote atomic.Int64
	misses     atomic.Int64
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
	// Origin is the origin's state, when the origin reports one.
	Origin *objstore.OriginHealth `json:"origin,omitempty"`
	// Cache is the bounded disk cache's figures, when the disk is bounded.
	Cache *CacheStats `json:"cache,omitempty"`
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
	s.Hits.Local = n.stats.hitsLocal.Load()
	s.Hits.Peer = n.stats.hitsPeer.Load()
	s.Hits.Remote = n.stats.hitsRemote.Load()
	s.Misses = n.stats.misses.Load()
	s.Cache = n.bounded.stats(n.cfg.Cache.Policy.Mode)
	if o, ok := n.remote.(originHealth); ok {
		h := o.Health()
		s.Origin = &h
	}
	return s, nil
}
