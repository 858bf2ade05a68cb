// Package hlc implements a hybrid logical clock: timestamps that follow wall
// time in milliseconds, never go backwards on one node, and move past any
// timestamp the node has observed from another, so that a change made after
// seeing another change always orders after it.
package hlc

import (
	"sync"
	"time"
)

// logicalBits is the width of the logical counter in the low bits.
const logicalBits = 16

// Clock hands out strictly increasing HLC timestamps. The zero Clock is not
// ready; use New.
type Clock struct {
	now func() time.Time

	mu   sync.Mutex // guards last
	last uint64
}

// New returns a clock reading wall time from now (time.Now when nil).
func New(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now}
}

// Physical is the millisecond wall-clock part of ts.
func Physical(ts uint64) int64 { return int64(ts >> logicalBits) }

// FromTime is the smallest timestamp at wall time t.
func FromTime(t time.Time) uint64 { return uint64(t.UnixMilli()) << logicalBits }

// Now returns a timestamp greater than every timestamp this clock returned
// or observed before.
func (c *Clock) Now() uint64 {
	wall := FromTime(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past ts, a timestamp seen in another node's record,
// so that the next Now orders after it.
func (c *Clock) Observe(ts uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts > c.last {
		c.last = ts
	}
}
