package savings

import (
	"sync"
	"time"
)

// Kind is what a Counter of a bucket counts.
type Kind int

const (
	// Memory counts reads of this node's bodies served from memory.
	Memory Kind = iota
	// MemoryPeer counts reads of peers' bodies held in this node's memory.
	MemoryPeer
	// Disk counts reads served from this node's disk.
	Disk
	// Peer counts reads streamed from the peer that holds the body.
	Peer
	// Origin counts reads that started an origin fill (each one origin GET).
	Origin
	// Coalesced counts reads that followed a fill started by another read
	// or by warm-up: served from the origin's bytes, at no GET of their own.
	Coalesced
	// Warm counts origin fills started by warm-up.
	Warm
	// NotModified counts revalidations the origin answered 304; bytes are
	// the size of the body kept.
	NotModified
	// Refetched counts revalidations that fetched a changed body in full.
	Refetched
	// Evicted counts bodies evicted from the disk and their bytes.
	Evicted
	// EvictedMemory counts bodies evicted from the memory cache and their
	// bytes (the disk may still hold them).
	EvictedMemory
	numKinds
)

// MaxBuckets is how many buckets are counted under their own name; the
// others share the counters of Other.
const MaxBuckets = 1000

// Other names the counters shared by buckets beyond MaxBuckets. An
// underscore is not allowed in S3 bucket names, so no bucket is called so.
const Other = "_other"

// Bucket is the counters of one bucket.
type Bucket struct{ c [numKinds]Counter }

// Counter returns the counter of kind k.
func (b *Bucket) Counter(k Kind) *Counter { return &b.c[k] }

// Tally is the counters of every bucket since the node started.
type Tally struct {
	since time.Time
	other Bucket

	mu      sync.RWMutex // guards buckets
	buckets map[string]*Bucket
}

// New returns an empty tally that starts now.
func New() *Tally { return &Tally{since: time.Now(), buckets: make(map[string]*Bucket)} }

// Bucket returns the counters of bucket name, creating them on first use
// (or Other's when MaxBuckets buckets are already counted, or name is
// Other: a caller that does not know the bucket).
func (t *Tally) Bucket(name string) *Bucket {
	if name == Other {
		return &t.other
	}
	t.mu.RLock()
	b := t.buckets[name]
	t.mu.RUnlock()
	if b != nil {
		return b
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.buckets[name]; b != nil {
		return b
	}
	if len(t.buckets) >= MaxBuckets {
		return &t.other
	}
	b = new(Bucket)
	t.buckets[name] = b
	return b
}

// Add counts one event of kind k of size bytes in bucket.
func (t *Tally) Add(bucket string, k Kind, size int64) { t.Bucket(bucket).c[k].Add(size) }

// The events that the revalidation and eviction code reports.

// NotModifiedAt counts a revalidation of a size-byte body that the origin
// answered 304 Not Modified.
func (t *Tally) NotModifiedAt(bucket string, size int64) { t.Add(bucket, NotModified, size) }

// RefetchedAt counts a revalidation that fetched a changed body of size
// bytes from the origin.
func (t *Tally) RefetchedAt(bucket string, size int64) { t.Add(bucket, Refetched, size) }

// EvictedAt counts a body of size bytes evicted from the disk.
func (t *Tally) EvictedAt(bucket string, size int64) { t.Add(bucket, Evicted, size) }

// EvictedMemoryAt counts a body of size bytes evicted from the memory cache.
func (t *Tally) EvictedMemoryAt(bucket string, size int64) { t.Add(bucket, EvictedMemory, size) }

// Counts is the value of every counter of one bucket, by Kind.
type Counts [numKinds]Count

// Get returns the count of kind k.
func (c Counts) Get(k Kind) Count { return c[k] }

func (c Counts) plus(o Counts) Counts {
	for k := range c {
		c[k] = c[k].plus(o[k])
	}
	return c
}

// Snapshot is the value of a tally at one moment.
type Snapshot struct {
	Since   time.Time
	Buckets map[string]Counts
}

// Snapshot returns the current counts of every bucket counted so far.
func (t *Tally) Snapshot() Snapshot {
	s := Snapshot{Since: t.since, Buckets: make(map[string]Counts)}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for name, b := range t.buckets {
		s.Buckets[name] = b.load()
	}
	if o := t.other.load(); o != (Counts{}) {
		s.Buckets[Other] = o
	}
	return s
}

func (b *Bucket) load() Counts {
	var c Counts
	for k := range b.c {
		c[k] = b.c[k].Load()
	}
	return c
}

// Total returns the counts of all buckets together.
func (s Snapshot) Total() Counts {
	var t Counts
	for _, c := range s.Buckets {
		t = t.plus(c)
	}
	return t
}
