package node

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
	"sphere.software/objstore/internal/evict"
	"sphere.software/objstore/internal/savings"
)

// bounded keeps the bodies on disk within a capacity: it tells the
// eviction policy about every body committed, read and dropped, and
// removes the bodies the policy gives up. Bodies that are the only copy
// (not in the origin) stay pinned, so they are never evicted; bodies being
// written are not tracked until committed, so they are never evicted
// either. Policy keys are body names (Blobs.Name), which is what the store
// removes by. A nil policy bounds nothing and every method is a no-op.
type bounded struct {
	p     *evict.Policy
	blobs Blobs
	log   *slog.Logger
	// tally, when set, counts each eviction under its body's bucket: the
	// policy's entries carry the bucket's tag (evict.Entry.Tag).
	tally   *savings.Tally
	buckets bucketTags
	// keys packs body names into the policy's keys (policyKeys): every
	// method below takes names and speaks keys to the policy.
	keys policyKeys

	// mu guards filling and since, and orders pin changes with policy
	// calls. Which bodies are pinned the policy alone knows (SetPin): a
	// set of names here would cost every only copy a map entry.
	mu sync.Mutex
	// filling is the bodies being read through into the cache, by name,
	// with their sizes; fillBytes is their sum. Read-throughs may hold at
	// most half the capacity in flight, so that they never take all the
	// room writes need: a read can always stream through uncached, a
	// write cannot.
	filling   map[string]int64
	fillBytes int64
	// since, until the start-up sweep reconciles the policy with the
	// disk, records the bodies tracked (true) or dropped (false) since
	// start: the sweep's view of them may be out of date. nil after.
	since map[string]bool

	evictions    atomic.Int64
	evictedBytes atomic.Int64
	restored     atomic.Int64
}

// CacheStats are the disk cache's figures, in Stats.
type CacheStats struct {
	Policy       string `json:"policy"`
	Capacity     int64  `json:"capacity"`
	Entries      int    `json:"entries"`
	Bytes        int64  `json:"bytes"`
	Pinned       int    `json:"pinned"`
	PinnedBytes  int64  `json:"pinned_bytes"`
	Evictions    int64  `json:"evictions"`
	EvictedBytes int64  `json:"evicted_bytes"`
	// Restored is how many entries the policy's snapshot brought back at
	// start.
	Restored int64 `json:"restored"`
}

func newBounded(p *evict.Policy, blobs Blobs, log *slog.Logger) *bounded {
	return &bounded{p: p, blobs: blobs, log: log, filling: make(map[string]int64), since: make(map[string]bool)}
}

// admit asks the policy whether a body read through from the origin may
// be cached, evicting what it says to. An admitted body stays pinned until
// track or untrack: it is being written.
func (b *bounded) admit(bucket, name string, size int64) bool {
	if b.p == nil {
		return true
	}
	name = b.keys.key(name)
	b.mu.Lock()
	if _, dup := b.filling[name]; dup || b.fillBytes+size > b.p.Stats().Capacity/2 {
		b.mu.Unlock()
		return false
	}
	victims, ok := b.p.AdmitTagged(name, size, b.buckets.tag(bucket))
	if ok {
		b.sinceLocked(name, true)
		b.p.SetPin(name, true)
		b.filling[name] = size
		b.fillBytes += size
	}
	b.mu.Unlock()
	b.remove(victims)
	return ok
}

// track records a committed, journaled body of rec: pinned while it is
// the only copy, evictable once it is in the origin.
func (b *bounded) track(rec objstore.Record) {
	if b.p == nil {
		return
	}
	name := b.keys.key(b.blobs.Name(rec.Key, rec.BodyVersion))
	b.mu.Lock()
	b.filledLocked(name)
	b.sinceLocked(name, true)
	tracked, victims := b.p.SetPin(name, !rec.InRemote)
	if !tracked {
		var err error
		victims, err = b.p.PutTagged(name, rec.Size(), !rec.InRemote, b.buckets.tag(rec.Key.Bucket))
		if err != nil {
			b.log.Warn("body kept beyond the disk cache's capacity", "key", rec.Key, "err", err)
		}
	}
	b.mu.Unlock()
	b.remove(victims)
}

// update follows a journal change of a body already tracked: a body
// uploaded since (a level raised here or on a peer) becomes evictable.
func (b *bounded) update(rec objstore.Record) {
	if b.p == nil || rec.Deleted {
		return
	}
	name := b.keys.key(b.blobs.Name(rec.Key, rec.BodyVersion))
	b.mu.Lock()
	_, victims := b.p.SetPin(name, !rec.InRemote)
	b.mu.Unlock()
	b.remove(victims)
}

// untrack forgets a body that was dropped (deleted, overwritten, failed).
func (b *bounded) untrack(name string) {
	if b.p == nil {
		return
	}
	name = b.keys.key(name)
	b.mu.Lock()
	b.filledLocked(name)
	b.sinceLocked(name, false)
	b.p.Remove(name)
	b.mu.Unlock()
}

// sinceLocked records, until the start-up reconcile, that name was
// tracked or dropped.
func (b *bounded) sinceLocked(name string, tracked bool) {
	if b.since != nil {
		b.since[name] = tracked
	}
}

// filledLocked ends the read-through of name, if one was in flight.
func (b *bounded) filledLocked(name string) {
	if size, ok := b.filling[name]; ok {
		delete(b.filling, name)
		b.fillBytes -= size
	}
}

// hit counts a read of a local body: a counter bump, no write.
func (b *bounded) hit(key objstore.Key, v objstore.Version) {
	if b.p != nil {
		b.p.Access(b.keys.key(b.blobs.Name(key, v)))
	}
}

// makeRoom evicts bodies until need bytes are free, or nothing evictable
// is left, and returns the bytes it freed. The body store calls it when a
// write would pass the quota.
func (b *bounded) makeRoom(need int64) int64 {
	if b.p == nil {
		return 0
	}
	return b.remove(b.p.Evict(need))
}

// remove deletes the bodies of evicted entries and returns the bytes freed.
// A reader that has a body open keeps reading it: only the name goes.
func (b *bounded) remove(victims []evict.Entry) int64 {
	var freed int64
	for _, e := range victims {
		name := b.keys.name(e.Key)
		n, err := b.blobs.RemoveName(name)
		if err != nil {
			b.log.Warn("cannot remove evicted body", "name", name, "err", err)
			continue
		}
		freed += n
		b.evictions.Add(1)
		b.evictedBytes.Add(n)
		if b.tally != nil {
			b.tally.Add(b.buckets.name(e.Tag), savings.Evicted, n)
		}
	}
	return freed
}

// diskBody is what start-up knows of a body found on disk.
type diskBody struct {
	size int64
	pin  bool   // not in the origin: the only copy
	tag  uint16 // its bucket's (bucketTags)
}

// start restores the policy from the snapshot in file, if there is one,
// before the node serves. Until reconcile, the policy knows only what the
// snapshot and the changes since say: a body whose upload finished just
// before a crash may still be pinned (kept, never lost), and bodies not in
// the snapshot are not evictable yet.
func (b *bounded) start(file string) error {
	if b.p == nil || file == "" {
		return nil
	}
	return b.readSnapshot(file)
}

// reconcile brings the policy in step with the bodies the start-up sweep
// found on disk (onDisk, by policy key, as the journal scan saw them): entries
// whose body is gone are dropped, bodies missing are added, and the only
// copies pinned again. Bodies tracked or dropped since start are left as
// those changes made them.
func (b *bounded) reconcile(onDisk map[string]diskBody) {
	if b.p == nil {
		return
	}
	b.mu.Lock()
	since := b.since
	b.since = nil
	b.p.Prune(func(name string) bool {
		if tracked, ok := since[name]; ok {
			return tracked
		}
		_, ok := onDisk[name]
		return ok
	})
	var victims []evict.Entry
	for name, d := range onDisk {
		if _, changed := since[name]; changed {
			continue
		}
		victims = append(victims, b.addLocked(name, d)...)
	}
	b.mu.Unlock()
	b.remove(victims)
}

// addLocked adds a body found on disk at start, or pins it again when the
// snapshot had it.
func (b *bounded) addLocked(name string, d diskBody) []evict.Entry {
	// A snapshot written before entries had tags restores them untagged.
	if b.p.SetTag(name, d.tag) {
		if d.pin {
			b.p.SetPin(name, true)
		}
		return nil
	}
	ev, err := b.p.PutTagged(name, d.size, d.pin, d.tag)
	if err != nil {
		b.log.Warn("only copies exceed the disk cache's capacity", "name", name, "err", err)
		return nil
	}
	return ev
}

func (b *bounded) readSnapshot(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node: read cache state: %w", err)
	}
	snap, err := b.buckets.decode(data)
	if err == nil {
		snap, err = b.keys.nodes.decode(snap)
	}
	var victims []evict.Entry
	if err == nil {
		victims, err = b.p.Restore(bytes.NewReader(snap))
	}
	if err != nil {
		// A corrupt snapshot only costs the policy's memory: start cold.
		b.log.Warn("cache state unreadable, starting cold", "file", file, "err", err)
		return nil
	}
	b.restored.Store(int64(b.p.Stats().Entries))
	b.remove(victims)
	return nil
}

// snapshot writes the bucket tags, the node numbers of packed keys and
// the policy's state to file durably. The tables go first in the file but
// are taken after the policy, so that every number in the policy's
// snapshot is in them: a bucket or node is numbered before its first
// entry enters the policy.
func (b *bounded) snapshot(file string) error {
	if b.p == nil || file == "" {
		return nil
	}
	var policy, buf bytes.Buffer
	if err := b.p.Snapshot(&policy); err != nil {
		return fmt.Errorf("node: snapshot cache state: %w", err)
	}
	b.buckets.encode(&buf)
	b.keys.nodes.encode(&buf)
	buf.Write(policy.Bytes())
	if err := durable.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("node: write cache state: %w", err)
	}
	return nil
}

// stats returns the cache's figures, or nil when nothing is bounded.
func (b *bounded) stats(mode evict.Mode) *CacheStats {
	if b.p == nil {
		return nil
	}
	st := b.p.Stats()
	return &CacheStats{Policy: mode.String(), Capacity: st.Capacity, Entries: st.Entries, Bytes: st.Bytes,
		Pinned: st.Pinned, PinnedBytes: st.PinnedBytes, Evictions: b.evictions.Load(),
		EvictedBytes: b.evictedBytes.Load(), Restored: b.restored.Load()}
}
