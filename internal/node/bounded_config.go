package node

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"sphere.software/objstore/internal/evict"
)

// CacheConfig bounds the bodies a node keeps on disk. The zero value
// bounds nothing.
type CacheConfig struct {
	// Capacity is the bytes of bodies kept before the policy evicts; set
	// it to the body store's quota, which staged multipart parts share (a
	// write past the quota evicts for them too). 0 means no fixed
	// capacity: the watermarks below, if set, bound the disk instead.
	Capacity int64
	// HighWatermark and LowWatermark, fractions in (0, 1), apply when
	// Capacity is 0: once the files dir's file system is fuller than
	// HighWatermark, the node evicts until it is at LowWatermark. 0 means
	// no watermark.
	HighWatermark, LowWatermark float64
	// Policy is the eviction algorithm and admission rules.
	Policy evict.Options
	// StateFile keeps the policy's state across restarts; "" keeps none.
	StateFile string
	// SnapshotInterval is how often StateFile is written (and at Close);
	// 0 means DefaultSnapshotInterval.
	SnapshotInterval time.Duration
}

// Defaults for CacheConfig.
const (
	DefaultSnapshotInterval = time.Minute
	// watermarkInterval is how often the file system's fill is checked
	// against the watermarks: a statfs, cheap enough to run often.
	watermarkInterval = time.Second
)

// enabled reports whether the config bounds anything.
func (c CacheConfig) enabled() bool { return c.Capacity > 0 || c.HighWatermark > 0 }

// Validate reports a configuration that cannot work.
func (c CacheConfig) Validate() error {
	var errs []error
	if c.Capacity < 0 || c.SnapshotInterval < 0 {
		errs = append(errs, errors.New("node: cache: Capacity and SnapshotInterval must not be negative"))
	}
	if c.HighWatermark != 0 {
		if !(0 < c.LowWatermark && c.LowWatermark < c.HighWatermark && c.HighWatermark < 1) {
			errs = append(errs, fmt.Errorf("node: cache: watermarks want 0 < low (%g) < high (%g) < 1", c.LowWatermark, c.HighWatermark))
		}
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newPolicy returns the policy the config asks for, or nil for none. With
// watermarks its capacity starts unbounded and follows the file system.
func (c CacheConfig) newPolicy() (*evict.Policy, error) {
	if !c.enabled() {
		return nil, nil
	}
	capacity := c.Capacity
	if capacity == 0 {
		capacity = math.MaxInt64 / 4
	}
	p, err := evict.New(capacity, c.Policy)
	if err != nil {
		return nil, fmt.Errorf("node: cache: %w", err)
	}
	return p, nil
}

// startCacheLoops starts the snapshot loop and, with watermarks, the
// watermark loop, on the node's wait group.
func (n *Node) startCacheLoops() {
	if n.bounded.p == nil {
		return
	}
	every := n.cfg.Cache.SnapshotInterval
	if every == 0 {
		every = DefaultSnapshotInterval
	}
	if n.cfg.Cache.StateFile != "" {
		n.runEvery(every, func() {
			if err := n.bounded.snapshot(n.cfg.Cache.StateFile); err != nil {
				n.log.Warn("cannot save the cache state", "err", err)
			}
		})
	}
	if n.cfg.Cache.Capacity == 0 && n.cfg.Cache.HighWatermark > 0 {
		n.checkWatermarks()
		n.runEvery(watermarkInterval, n.checkWatermarks)
	}
}

// runEvery calls fn every interval until the node closes.
func (n *Node) runEvery(interval time.Duration, fn func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// checkWatermarks keeps the bodies within what the high watermark leaves
// beside the file system's other files, and evicts down to the low
// watermark once the file system is past the high one.
func (n *Node) checkWatermarks() {
	u, err := n.blobs.Usage()
	if err != nil || u.Total <= 0 {
		return
	}
	used := int64(u.Used)
	high := int64(n.cfg.Cache.HighWatermark * float64(u.Total))
	other := max(used-u.Bodies, 0)
	n.bounded.remove(n.bounded.p.Resize(max(high-other, 0)))
	if used > high {
		low := int64(n.cfg.Cache.LowWatermark * float64(u.Total))
		n.bounded.makeRoom(used - low)
	}
}

// saveCacheState writes the policy's snapshot at shutdown.
func (n *Node) saveCacheState(_ context.Context) error {
	return n.bounded.snapshot(n.cfg.Cache.StateFile)
}
