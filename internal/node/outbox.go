package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sphere.software/objstore"
)

// The outbox holds the write-back uploads (writeback.go) that the origin has
// not received yet. It is not a store of its own: a pending upload is a
// journal record at level ≥ 1 whose body is not in the origin (isPending),
// so the journal commit that acknowledges a write-back PUT is also what makes
// its upload survive a crash. The outbox is the in-memory index of those
// records, kept by every merge (Node.merge calls observe) and rebuilt from
// the journal at start; the drain loop uploads them. docs/DESIGN.md,
// "Write-back".

// Retry delays of the outbox drain after an origin error.
var (
	outboxRetryMin = time.Second
	outboxRetryMax = 15 * time.Second
)

// outboxCheckEvery is how often the drain looks again at the uploads of
// other nodes while some are pending (for takeovers).
var outboxCheckEvery = 5 * time.Second

// OutboxConfig bounds the write-back outbox.
type OutboxConfig struct {
	// MaxBytes bounds the bytes of this node's own pending uploads; a
	// write-back PUT past it fails with objstore.ErrInsufficientStorage.
	// 0 means DefaultOutboxMaxBytes.
	MaxBytes int64
	// TakeoverAfter is how long the node that wrote a pending upload must
	// be seen down before a surviving holder uploads the body in its place;
	// 0 means DefaultTakeoverAfter.
	TakeoverAfter time.Duration
	// MaxDefer is how long uploads may wait for write-back PUTs to pause
	// (see outbox.deferFor); 0 means DefaultOutboxMaxDefer, a negative
	// value uploads at once.
	MaxDefer time.Duration
}

// Defaults for OutboxConfig.
const (
	DefaultOutboxMaxBytes = 1 << 30
	DefaultTakeoverAfter  = 5 * time.Minute
	DefaultOutboxMaxDefer = 5 * time.Second
)

// outboxQuiet is the pause in write-back PUTs that lets a deferred drain
// start.
const outboxQuiet = 100 * time.Millisecond

// Validate reports a configuration that cannot work.
func (c OutboxConfig) Validate() error {
	if c.MaxBytes < 0 || c.TakeoverAfter < 0 {
		return errors.New("node: config: outbox MaxBytes and TakeoverAfter must not be negative")
	}
	return nil
}

func (c OutboxConfig) withDefaults() OutboxConfig {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultOutboxMaxBytes
	}
	if c.TakeoverAfter == 0 {
		c.TakeoverAfter = DefaultTakeoverAfter
	}
	if c.MaxDefer == 0 {
		c.MaxDefer = DefaultOutboxMaxDefer
	}
	return c
}

// isPending reports whether rec is a live version whose body is owed to
// the origin: a write-back PUT not uploaded yet.
func isPending(rec objstore.Record) bool {
	return !rec.Deleted && !rec.Lost && rec.Level.Remote() && !rec.InRemote
}

// isPendingDelete reports whether rec is a tombstone that owes the origin
// a delete: a write-back delete not done there yet. On a tombstone,
// InRemote says the origin may still hold the object; every other
// tombstone leaves it false (through deletes remove the origin's copy
// before they journal theirs).
func isPendingDelete(rec objstore.Record) bool { return rec.Deleted && rec.InRemote }

// owesOrigin reports whether rec is an entry of the outbox.
func owesOrigin(rec objstore.Record) bool { return isPending(rec) || isPendingDelete(rec) }

// UploadState is an object's upload state as the APIs show it: "pending"
// (write-back, not in the origin yet; for a tombstone, its delete not done
// in the origin yet), "uploaded", or "" for a version kept on nodes only
// (level 0) and for other tombstones.
func UploadState(rec objstore.Record) string {
	switch {
	case isPendingDelete(rec):
		return "pending"
	case rec.Deleted:
		return ""
	case rec.InRemote:
		return "uploaded"
	case isPending(rec):
		return "pending"
	}
	return ""
}

// pendingUpload is one entry of the outbox: an upload, or a delete.
type pendingUpload struct {
	key     objstore.Key
	version objstore.Version
	size    int64 // 0 for a delete
	level   objstore.Level
	delete  bool
	// writer is the node whose upload it is: the one that took the PUT.
	writer string
}

// outbox indexes the pending uploads this node's journal holds.
type outbox struct {
	self string
	cfg  OutboxConfig
	wake chan struct{}

	mu sync.Mutex // guards the fields below
	// byKey holds one entry per key: its journal record is pending.
	byKey map[objstore.Key]pendingUpload
	// ownBytes are the bytes of this node's own entries; reserved are
	// those of write-back PUTs admitted and not journaled yet.
	ownBytes, reserved int64
	// downSince is when each writer of a foreign entry was first seen not
	// alive, for takeovers.
	downSince map[string]time.Time
	// uploaded and failed count drain uploads since start, deleted the
	// deletes done in the origin; superseded counts entries dropped
	// because a newer version replaced them.
	uploaded, deleted, failed, superseded, takenOver int64
	// lastWrite is when the last write-back PUT was journaled here, and
	// deferSince when the first one that the drain has not started on yet
	// was (zero when none): see deferFor.
	lastWrite, deferSince time.Time
}

func newOutbox(self string, cfg OutboxConfig) *outbox {
	return &outbox{
		self: self, cfg: cfg.withDefaults(), wake: make(chan struct{}, 1),
		byKey: map[objstore.Key]pendingUpload{}, downSince: map[string]time.Time{},
	}
}

// observe keeps the index in step with a record that won a merge.
func (o *outbox) observe(rec objstore.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.byKey[rec.Key]; ok {
		if old.version.Compare(rec.Version) > 0 {
			return // a stale observation (the start-up scan)
		}
		o.removeLocked(old)
	}
	if owesOrigin(rec) {
		e := pendingUpload{key: rec.Key, version: rec.Version, level: rec.Level, delete: rec.Deleted, writer: rec.Version.Node}
		if !e.delete {
			e.size = rec.Size()
		}
		o.addLocked(e)
		o.poke() // another node's upload is watched from now on
	}
}

func (o *outbox) addLocked(e pendingUpload) {
	o.byKey[e.key] = e
	if e.writer == o.self {
		o.ownBytes += e.size
	}
}

func (o *outbox) removeLocked(e pendingUpload) {
	delete(o.byKey, e.key)
	if e.writer == o.self {
		o.ownBytes -= e.size
	}
}

// drop removes the entry of e's key when it is still e.
func (o *outbox) drop(e pendingUpload) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cur, ok := o.byKey[e.key]; ok && cur.version == e.version {
		o.removeLocked(cur)
	}
}

// reserve books size bytes for a write-back PUT, or fails with
// objstore.ErrInsufficientStorage when the outbox would pass its bound.
// The caller releases the booking once the record is journaled (observe
// then counts it) or the write failed.
func (o *outbox) reserve(size int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ownBytes+o.reserved+size > o.cfg.MaxBytes {
		return fmt.Errorf("write-back outbox full: %d bytes pending, %d more would pass the bound of %d: %w",
			o.ownBytes+o.reserved, size, o.cfg.MaxBytes, objstore.ErrInsufficientStorage)
	}
	o.reserved += size
	return nil
}

func (o *outbox) release(size int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reserved -= size
}

// snapshot returns the entries, oldest first.
func (o *outbox) snapshot() []pendingUpload {
	o.mu.Lock()
	out := make([]pendingUpload, 0, len(o.byKey))
	for _, e := range o.byKey {
		out = append(out, e)
	}
	o.mu.Unlock()
	slices.SortFunc(out, func(a, b pendingUpload) int { return a.version.Compare(b.version) })
	return out
}

func (o *outbox) count(field *int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	*field++
}

// wrote notes a write-back PUT journaled at now and asks for a drain.
func (o *outbox) wrote(now time.Time) {
	o.mu.Lock()
	o.lastWrite = now
	if o.deferSince.IsZero() {
		o.deferSince = now
	}
	o.mu.Unlock()
	o.poke()
}

// deferFor is how long the drain should wait before it starts, at now: a
// write-back cache is there to take bursts at the speed of this node's
// disk, so while write-back PUTs keep coming (none for outboxQuiet yet)
// their uploads wait rather than take CPU, network and origin time from
// them; but for no longer than MaxDefer since the first of them, and not
// at all once the outbox holds half its bound. rclone's VFS waits 5 s
// likewise (--vfs-write-back) before it uploads a file written.
func (o *outbox) deferFor(now time.Time) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cfg.MaxDefer < 0 || o.deferSince.IsZero() || 2*o.ownBytes >= o.cfg.MaxBytes {
		return 0
	}
	left := o.cfg.MaxDefer - now.Sub(o.deferSince)
	quiet := outboxQuiet - now.Sub(o.lastWrite)
	if left <= 0 || quiet <= 0 {
		return 0
	}
	return min(left, quiet)
}

// draining notes that a drain starts: the writes so far are no longer
// deferred.
func (o *outbox) draining() {
	o.mu.Lock()
	o.deferSince = time.Time{}
	o.mu.Unlock()
}

// poke asks the drain loop for a pass.
func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// OutboxStats are the write-back outbox's figures.
type OutboxStats struct {
	// Depth and Bytes are this node's own pending uploads (write-back
	// deletes count in Depth, with no bytes); OldestAge is how long the
	// oldest of them has waited, in seconds (0 when none).
	Depth     int     `json:"depth"`
	Bytes     int64   `json:"bytes"`
	MaxBytes  int64   `json:"max_bytes"`
	OldestAge float64 `json:"oldest_age_seconds"`
	// Others counts pending uploads of other nodes held in this journal:
	// this node uploads them if their writer is gone (takeover).
	Others int `json:"others"`
	// Uploaded, Deleted (write-back deletes done in the origin), Failed,
	// Superseded and TakenOver count drain outcomes since start.
	Uploaded   int64 `json:"uploaded"`
	Deleted    int64 `json:"deleted"`
	Failed     int64 `json:"failed"`
	Superseded int64 `json:"superseded"`
	TakenOver  int64 `json:"taken_over"`
}

func (o *outbox) stats(now time.Time) OutboxStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := OutboxStats{Bytes: o.ownBytes, MaxBytes: o.cfg.MaxBytes, Uploaded: o.uploaded, Deleted: o.deleted, Failed: o.failed,
		Superseded: o.superseded, TakenOver: o.takenOver}
	var oldest time.Time
	for _, e := range o.byKey {
		if e.writer != o.self {
			s.Others++
			continue
		}
		s.Depth++
		if t := e.version.Time(); oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	if !oldest.IsZero() {
		s.OldestAge = max(now.Sub(oldest).Seconds(), 0)
	}
	return s
}

// load fills the index from the journal: the pending uploads a previous
// run left.
func (o *outbox) load(ctx context.Context, j Journal) error {
	return j.Range(ctx, func(rec objstore.Record) bool {
		if owesOrigin(rec) {
			o.observe(rec)
		}
		return true
	})
}

// takeoverDue reports whether this node uploads e in its writer's place:
// e is a level-2 upload (its body is on every node; a level-1 body lives
// on its writer alone, which must come back) or a delete (which needs no
// body), the writer has been seen not alive for TakeoverAfter and this node is
// the alive member with the lowest ID, so that one node does it (two that
// disagree on the members both upload, and the conditional writes keep
// the result one version). It also tracks when writers went down.
func (o *outbox) takeoverDue(e pendingUpload, members []objstore.Member, now time.Time) bool {
	alive := map[string]bool{}
	lowest := ""
	for _, m := range members {
		if m.State != "alive" {
			continue
		}
		alive[m.ID] = true
		if lowest == "" || m.ID < lowest {
			lowest = m.ID
		}
	}
	if e.level != objstore.LevelFull && !e.delete {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if alive[e.writer] {
		delete(o.downSince, e.writer)
		return false
	}
	since, ok := o.downSince[e.writer]
	if !ok {
		o.downSince[e.writer] = now
		return false
	}
	return now.Sub(since) >= o.cfg.TakeoverAfter && lowest == o.self
}
