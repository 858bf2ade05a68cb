// Package evict decides which cached bodies to drop when a bounded cache is
// full. It is a pure policy: it tracks keys and sizes, never touches a file,
// and tells the caller which keys to delete.
//
// # Policy
//
// The default mode is S3-FIFO (Yang et al., SOSP'23) made size-aware: a
// small FIFO (10 % of the bytes) takes new objects; an object read again
// while in it moves to the main FIFO, the rest leave after one pass and
// their keys go to a ghost FIFO; a miss on a ghost key enters the main FIFO
// directly. The main FIFO gives each object a 2-bit read counter: at its
// tail an object with a non-zero counter is put back at the head with the
// counter decreased, others are evicted. A hit only bumps that counter (no
// list move), so a hit costs the caller no write; a one-pass scan passes
// through the small FIFO without flushing the main one. ModeLRU is kept as
// the reference to compare against.
//
// A caller whose hit path cannot afford Access's mutex counts reads itself
// (an atomic per entry) and hands them over through Options.TakeReads,
// which the policy calls when an entry reaches a FIFO's tail: the
// decisions are the same as with Access (TestPropertyTakeReads).
//
// # Admission
//
// Admit (a read-through after a miss) declines objects larger than
// Options.MaxObjectFraction of the capacity, and with Options.SecondMiss
// admits a key only on its second miss within the ghost's window (the ghost
// FIFO is the doorkeeper). Put (a write) stores whatever fits beside the
// pinned bytes.
//
// # Pins
//
// A pinned entry (Pin, or Put with pin set) is never evicted: the caller
// pins bodies that are the only copy or are being read. Pinned entries are
// taken out of the FIFOs, so eviction never walks over them, and go back to
// the head of their FIFO on the last Unpin.
//
// # Cost
//
// Every operation is O(1) amortised; evicting N entries is O(N) plus the
// counter decrements of earlier hits (at most 3 per hit). An entry costs
// about 136 bytes with a 26-byte key (BenchmarkBytesPerEntry).
//
// # Restart
//
// Snapshot writes the order, counters and ghost; Restore reads them back.
// Pins are not kept: the caller derives them again from its durable state.
//
// A Policy is safe for concurrent use: one mutex inside guards all state.
package evict
