// Package warm runs warm-up jobs: each prefetches a list of keys, or every
// key under a prefix of a bucket, into a node's cache with bounded
// concurrency, and reports its progress (keys listed, done, failed, bytes
// fetched from the origin).
//
// A Manager owns its jobs: each runs in goroutines the Manager started,
// Close cancels them all and waits. At most Config.MaxRunning jobs run at
// once, and the Manager remembers the last Config.MaxKept jobs, so a
// client can poll a job for a while after it ended.
package warm
