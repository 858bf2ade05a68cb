package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"sphere.software/objstore"
)

// Revalidator is an origin that can answer a conditional GET. Both origin
// adapters implement it; a Remote that does not makes OriginTTL inert.
type Revalidator interface {
	// GetIfNoneMatch is Remote.Get made conditional on the object's ETag:
	// when the origin's ETag is etag, the error wraps
	// objstore.ErrNotModified and no body is returned.
	GetIfNoneMatch(ctx context.Context, key objstore.Key, etag string) (io.ReadCloser, objstore.Record, error)
}

// freshness keeps objects read through from the origin in step with it:
// when each was last seen current there, and the counts of what
// revalidation found. Objects written through objstore are authoritative
// and never revalidated by TTL; see docs/DESIGN.md, "Freshness".
type freshness struct {
	ttl      time.Duration // 0: never revalidate
	staleFor time.Duration // how long past ttl a body may be served when the origin is down
	rv       Revalidator   // nil: the origin cannot revalidate
	start    time.Time     // a body not seen since start counts as checked then, for stale-if-error
	now      func() time.Time

	mu      sync.Mutex // guards checked
	checked map[objstore.Key]time.Time

	notModified, replaced, removed, stale atomic.Int64
}

func newFreshness(cfg Config, r Remote) *freshness {
	f := &freshness{ttl: cfg.OriginTTL, staleFor: cfg.StaleIfError, start: time.Now(), now: time.Now, checked: make(map[objstore.Key]time.Time)}
	f.rv, _ = r.(Revalidator)
	return f
}

// FreshStats counts what TTL revalidations found since the node started.
type FreshStats struct {
	NotModified int64 `json:"revalidated_not_modified"`
	Replaced    int64 `json:"revalidated_replaced"`
	Removed     int64 `json:"revalidated_removed"`
	Stale       int64 `json:"served_stale"`
}

// FreshStats returns the revalidation counters.
func (n *Node) FreshStats() FreshStats {
	f := n.fresh
	return FreshStats{NotModified: f.notModified.Load(), Replaced: f.replaced.Load(), Removed: f.removed.Load(), Stale: f.stale.Load()}
}

// revalidated reports whether rec is subject to TTL revalidation: a live
// object read through from the origin whose body has been fetched.
func (f *freshness) revalidated(rec objstore.Record) bool {
	return f.ttl > 0 && f.rv != nil && !rec.Deleted && rec.InRemote && rec.Version.IsForeign() && !isMark(rec)
}

// due reports whether rec must be revalidated before it is served. A body
// not checked since this process started is due: the check time is kept in
// memory only, so a restart costs one conditional GET per object read.
func (f *freshness) due(rec objstore.Record) bool {
	if !f.revalidated(rec) {
		return false
	}
	f.mu.Lock()
	at, ok := f.checked[rec.Key]
	f.mu.Unlock()
	return !ok || f.now().Sub(at) >= f.ttl
}

// seen records that key's body was current in the origin now.
func (f *freshness) seen(key objstore.Key) {
	if f.ttl == 0 {
		return
	}
	f.mu.Lock()
	f.checked[key] = f.now()
	f.mu.Unlock()
}

// forget drops key's check time, when its record goes.
func (f *freshness) forget(key objstore.Key) {
	f.mu.Lock()
	delete(f.checked, key)
	f.mu.Unlock()
}

// staleOK reports whether key's body may still be served while the origin
// cannot be asked: it was last seen current at most ttl+staleFor ago.
func (f *freshness) staleOK(key objstore.Key) bool {
	f.mu.Lock()
	at, ok := f.checked[key]
	f.mu.Unlock()
	if !ok {
		at = f.start
	}
	return f.now().Sub(at) < f.ttl+f.staleFor
}

// revalidate asks the origin whether rec's body is still current and
// serves the answer: the held body on 304, the new body on 200, not found
// (after a tombstone for every node) on 404, and the held body marked
// stale when the origin cannot answer and the bound allows it.
func (n *Node) revalidate(ctx context.Context, ticket uint64, rec objstore.Record) (*Object, error) {
	f := n.fresh
	body, orec, err := f.rv.GetIfNoneMatch(ctx, rec.Key, rec.Sum.ETag())
	switch {
	case errors.Is(err, objstore.ErrNotModified):
		f.notModified.Add(1)
		n.savings.NotModifiedAt(rec.Key.Bucket, rec.Size())
		f.seen(rec.Key)
		return n.getHeld(ctx, ticket, rec)
	case errors.Is(err, objstore.ErrNotFound):
		f.removed.Add(1)
		if err := n.originRemoved(ctx, rec.Key, f.now()); err != nil {
			return nil, fmt.Errorf("node: get %s: %w", rec.Key, err)
		}
		n.stats.misses.Add(1)
		return nil, fmt.Errorf("node: get %s: removed from the origin: %w", rec.Key, objstore.ErrNotFound)
	case err != nil && ctx.Err() == nil && f.staleOK(rec.Key):
		n.log.WarnContext(ctx, "origin unreachable at revalidation; serving the cached body stale", "key", rec.Key, "err", err)
		obj, gerr := n.getHeld(ctx, ticket, rec)
		if gerr != nil {
			return nil, gerr
		}
		f.stale.Add(1)
		obj.Stale = true
		return obj, nil
	case err != nil:
		return nil, fmt.Errorf("node: get %s: revalidate: %w", rec.Key, err)
	}
	f.replaced.Add(1)
	n.savings.RefetchedAt(rec.Key.Bucket, orec.Size())
	return n.fetchOpened(ctx, rec.Key, &originBody{body: body, rec: orec})
}

// SetStaleHeaders marks a response whose body was served stale: the
// objstore header and HTTP's Warning 110, as caches have said it.
func SetStaleHeaders(h http.Header) {
	h.Set("X-Objstore-Stale", "true")
	h.Set("Warning", `110 objstore "Response is Stale"`)
}

// isMark reports whether rec marks an origin change whose body no node has
// fetched yet: a foreign record made from the origin's HEAD, which has no
// CRC-32C (a fetched body always has one, but the empty body's is zero).
func isMark(rec objstore.Record) bool {
	return rec.Version.IsForeign() && rec.Sum.CRC32C == 0 && rec.Sum.Size > 0
}

// successor is the foreign version that supersedes v and nothing newer:
// an origin change seen after v, when the origin's own clock (seconds, in
// S3's Last-Modified) cannot order the two.
func successor(v objstore.Version) objstore.Version {
	return objstore.Version{HLC: v.HLC + 1}
}

// successorFor is the foreign version that supersedes v for the origin body
// orec describes (a record read from the origin, before it is placed). It
// is past v by 1 to 4096 logical ticks taken from a hash of orec's MD5,
// size and Last-Modified, so that nodes that read the same body name it
// alike, and two nodes that read different bodies over the same record
// (the origin changed again between their reads) name them differently:
// with successor alone both would be v+1, and one body version would name
// two bodies, which peers then serve each other and fail at the checksum.
// Which of two such bodies wins is arbitrary; both were the origin's.
func successorFor(v objstore.Version, orec objstore.Record) objstore.Version {
	h := fnv.New64a()
	var b [8]byte
	_, _ = h.Write(orec.Sum.MD5[:]) // hash writes never fail
	binary.LittleEndian.PutUint64(b[:], uint64(orec.Sum.Size))
	_, _ = h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], orec.Version.HLC)
	_, _ = h.Write(b[:])
	return objstore.Version{HLC: v.HLC + 1 + h.Sum64()%4096}
}

// later returns the newer of two versions.
func later(a, b objstore.Version) objstore.Version {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// sameBody reports whether an origin record describes the body cur holds:
// the same size and MD5 or, when the origin's ETag is no MD5 (a multipart
// upload), the same size and no newer modification time.
func sameBody(cur, origin objstore.Record) bool {
	if cur.Deleted || cur.Size() != origin.Size() {
		return false
	}
	if origin.Sum.MD5 != (objstore.MD5{}) {
		return origin.Sum.MD5 == cur.Sum.MD5
	}
	return origin.Version.Compare(cur.Version) <= 0
}

// placeOrigin gives a record read from the origin its place among the
// journal's versions, or refuses it. The origin wins over a record it holds
// (cur.InRemote) when it shows another body: an object changed in the
// origin behind the cache is newer than what the cache holds, even when
// the origin's clock says otherwise. An origin copy older than a record
// the origin does not hold (a tombstone, a write not yet uploaded) is
// refused, as before.
func (n *Node) placeOrigin(ctx context.Context, rec objstore.Record) (objstore.Record, error) {
	cur, err := n.journal.Get(ctx, rec.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if cur.Version.Compare(rec.Version) <= 0 {
		return rec, nil
	}
	if rec.Version.IsForeign() && !cur.Deleted && cur.InRemote {
		if sameBody(cur, rec) && !isMark(cur) {
			rec.Version = cur.Version
		} else {
			rec.Version = successorFor(cur.Version, rec)
		}
		rec.BodyVersion = rec.Version
		return rec, nil
	}
	if cur.Deleted {
		return rec, objstore.ErrDeleted
	}
	return rec, fmt.Errorf("origin holds an older version than the journal: %w", objstore.ErrNotFound)
}

// OriginChanged invalidates key on every node after news that it changed
// in the origin: an S3 event notification. It asks the origin what the key
// holds now, so a late or repeated event, or the echo of objstore's own
// upload, changes nothing, and never removes a newer write. A created or
// changed object becomes a mark that every node re-fetches on its next
// GET; a removed one becomes a tombstone. It reports whether the cluster's
// record changed. Errors wrap objstore.ErrNoRemote when the origin cannot
// be asked (the sender should retry).
func (n *Node) OriginChanged(ctx context.Context, key objstore.Key, at time.Time) (bool, error) {
	orec, err := n.remote.Stat(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return n.originRemovedChanged(ctx, key, at)
	}
	if err != nil {
		return false, fmt.Errorf("node: origin changed %s: %w", key, err)
	}
	unlock := n.lockKey(key)
	defer unlock()
	cur, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return false, nil // nothing cached, nothing to invalidate
	case err != nil:
		return false, fmt.Errorf("node: origin changed %s: %w", key, err)
	}
	mark := originRecord(key, orec)
	if !mark.Version.IsForeign() && cur.Version.Compare(mark.Version) >= 0 {
		return false, nil // objstore's own upload, or an older one
	}
	if mark.Version.IsForeign() {
		if sameBody(cur, mark) {
			return false, nil
		}
		mark.Sum = objstore.Checksum{Size: mark.Sum.Size, MD5: mark.Sum.MD5}
		mark.Version = later(mark.Version, successorFor(cur.Version, mark))
		mark.BodyVersion = mark.Version
	}
	return n.mergeOriginChange(ctx, cur, mark)
}

// originRemoved journals and replicates a tombstone for key after the
// origin was seen without it at time at.
func (n *Node) originRemoved(ctx context.Context, key objstore.Key, at time.Time) error {
	_, err := n.originRemovedChanged(ctx, key, at)
	return err
}

func (n *Node) originRemovedChanged(ctx context.Context, key objstore.Key, at time.Time) (bool, error) {
	unlock := n.lockKey(key)
	defer unlock()
	cur, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("node: origin removed %s: %w", key, err)
	case cur.Deleted || !cur.InRemote:
		// Already gone, or a version the origin never held (level 0, or an
		// upload still under way): the removal was of something older.
		return false, nil
	}
	tomb := objstore.Record{Key: key, Name: cur.Name, Level: cur.Level, Deleted: true,
		Version: later(objstore.ForeignVersion(at), successor(cur.Version))}
	return n.mergeOriginChange(ctx, cur, tomb)
}

// mergeOriginChange journals rec, a change seen in the origin, over cur,
// drops the body it replaces and sends it to every node.
func (n *Node) mergeOriginChange(ctx context.Context, cur, rec objstore.Record) (bool, error) {
	n.clock.Observe(rec.Version.HLC)
	winner, changed, err := n.merge(ctx, rec)
	if err != nil {
		return false, fmt.Errorf("node: origin change %s: %w", rec.Key, err)
	}
	if !changed {
		return false, nil
	}
	n.fresh.forget(rec.Key)
	if !cur.Deleted && (winner.Deleted || winner.BodyVersion != cur.BodyVersion) {
		n.dropBody(cur)
	}
	n.replicate(winner)
	return true, nil
}
