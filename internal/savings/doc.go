// Package savings counts what a node's cache saves: per bucket, the reads
// served from memory, disk, peers and the origin, the origin GETs and bytes
// those reads avoided, revalidations, evictions and the origin traffic the
// cache itself caused (warm-up), and prices them.
//
// # Cost
//
// The counters are atomics. A bucket's counters are created on its first
// use and found through a map guarded by a RWMutex; at most MaxBuckets
// buckets are named, the rest are counted under Other. The hot path (a
// body served from memory) holds a *Counter resolved when the body entered
// memory and pays one atomic add: requests and bytes share one 64-bit word
// (see Counter).
//
// # Money
//
// Every read served from memory, disk or a peer is an origin GET that a
// client without the cache would have made, with the body's bytes as
// egress. The origin traffic the cache makes on its own (warm-up fetches,
// conditional GETs answered 304) is subtracted, so usd_saved is net and
// can be negative (a warm-up of objects nobody reads costs money).
package savings
