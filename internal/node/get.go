package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

// Source says where a read was served from.
type Source int

const (
	// SourceLocal is this node's disk.
	SourceLocal Source = iota
	// SourcePeer is another node of the cluster.
	SourcePeer
	// SourceRemote is the origin, copied to the local disk as it streams.
	SourceRemote
)

// Object is an open object: its record and a body positioned at 0.
// Close it when done.
type Object struct {
	objstore.Record
	// Body is a BodyReader for local hits (serve it with WriteBody, or
	// httpbody.Serve, to copy verified blocks straight to the client), or a
	// reader that follows a body still arriving.
	Body   io.ReadSeeker
	Source Source
	// Bytes is the whole body when it is served from memory, else nil.
	Bytes []byte
	// Memo, for a body served from memory, is a slot that lives as long as
	// the cached entry: the HTTP layer keeps its prepared headers there.
	Memo *Memo
	// S3Memo is a second such slot, for the S3 API's headers.
	S3Memo *Memo
	// Stale reports a body served although the origin could not be asked
	// whether it is still current (stale-if-error; see OriginTTL).
	Stale bool
	// peer is the member a SourcePeer body comes from.
	peer  string
	close func() error
}

// Memo holds one value for the life of a hot-cache entry.
type Memo struct{ v atomic.Value }

// Load returns the value stored, or nil.
func (m *Memo) Load() any { return m.v.Load() }

// Store sets the value; all values stored must have the same type.
func (m *Memo) Store(v any) { m.v.Store(v) }

// Close releases the body.
func (o *Object) Close() error { return o.close() }

// Err returns the error that cut a followed body short, if any, so that an
// HTTP handler can abort a response that ServeContent ended early.
func (o *Object) Err() error {
	switch r := o.Body.(type) {
	case *follower:
		if r.direct != nil {
			return r.direct.err
		}
		r.f.mu.Lock()
		defer r.f.mu.Unlock()
		return r.f.err
	case *originStream:
		return r.err
	case *peerBody:
		return r.Err()
	case BodyReader:
		return r.Err()
	}
	return nil
}

// WriteBody writes n bytes of obj's body from offset start into w: a local
// body through its own verifying copy (BodyReader.WriteN), any other with
// io.Copy. It returns the bytes written; fewer than n means the response
// must be cut (see Err).
func (o *Object) WriteBody(w io.Writer, start, n int64) (int64, error) {
	if o.Bytes != nil {
		k, err := w.Write(o.Bytes[start : start+n])
		return int64(k), err
	}
	if _, err := o.Body.Seek(start, io.SeekStart); err != nil {
		return 0, err
	}
	if r, ok := o.Body.(BodyReader); ok {
		return r.WriteN(w, n)
	}
	return io.Copy(w, io.LimitReader(o.Body, n))
}

// Get opens an object: from the local disk when the body is here, else from
// the origin. An object whose record this node holds is always read through
// from the origin when its body is there (the body may have been evicted or
// dropped as corrupt); an unknown key is looked up in the origin only when
// fetch is set, as in the original design. Errors wrap objstore.ErrNotFound,
// objstore.ErrDeleted or objstore.ErrNoRemote.
func (n *Node) Get(ctx context.Context, key objstore.Key, fetch bool) (*Object, error) {
	if obj, ok := n.GetHot(key); ok {
		return obj, nil
	}
	ticket := n.hot.ticket(key)
	rec, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		if !fetch {
			n.stats.misses.Add(1)
			return nil, fmt.Errorf("node: get %s: %w", key, err)
		}
		return n.fetch(ctx, key)
	case err != nil:
		return nil, fmt.Errorf("node: get %s: %w", key, err)
	case rec.Deleted:
		n.stats.misses.Add(1)
		return nil, fmt.Errorf("node: get %s: %w", key, objstore.ErrDeleted)
	}
	if n.fresh.due(rec) {
		return n.revalidate(ctx, ticket, rec)
	}
	return n.getHeld(ctx, ticket, rec)
}

// getHeld opens the body of rec, a live record: from the local disk when
// it is here, else from a peer or the origin.
func (n *Node) getHeld(ctx context.Context, ticket uint64, rec objstore.Record) (*Object, error) {
	key := rec.Key
	if rec.Lost {
		return nil, fmt.Errorf("node: get %s: %w", key, objstore.ErrLost)
	}
	obj, err := n.openLocal(ticket, rec)
	if err == nil {
		return obj, nil
	}
	if !errors.Is(err, objstore.ErrNotFound) && !errors.Is(err, objstore.ErrChecksum) {
		return nil, fmt.Errorf("node: get %s: %w", key, err)
	}
	if errors.Is(err, objstore.ErrChecksum) {
		return n.getRotted(ctx, ticket, rec, err)
	}
	return n.getElsewhere(ctx, ticket, rec)
}

// openLocal opens the local body of rec and counts the hit.
func (n *Node) openLocal(ticket uint64, rec objstore.Record) (*Object, error) {
	f, err := n.blobs.Open(rec.Key, rec.BodyVersion, rec.Sum)
	if err != nil {
		return nil, err
	}
	obj, err := n.localObject(ticket, rec, f)
	if err != nil {
		return nil, err
	}
	n.stats.hitsLocal.Add(1)
	n.countRead(rec.Key.Bucket, savings.Disk, rec.Size())
	n.bounded.hit(rec.Key, rec.BodyVersion)
	return obj, nil
}

// getElsewhere opens a body this node does not hold: from a peer that
// holds it, else from the origin when it is there.
func (n *Node) getElsewhere(ctx context.Context, ticket uint64, rec objstore.Record) (*Object, error) {
	obj, peerErr := n.openFromPeer(ctx, rec)
	if peerErr == nil {
		if n.hot.fits(rec.Size()) {
			return n.holdPeerBody(ticket, obj)
		}
		return obj, nil
	}
	if rec.InRemote {
		return n.fetch(ctx, rec.Key)
	}
	if len(n.alivePeers()) > 0 || rec.BodyVersion.Node != n.cfg.NodeID {
		n.log.WarnContext(ctx, "no reachable node holds the body", "key", rec.Key, "writer", rec.BodyVersion.Node, "err", peerErr)
		return nil, fmt.Errorf("node: get %s: held by node %s: %w", rec.Key, rec.BodyVersion.Node, objstore.ErrUnavailable)
	}
	n.stats.misses.Add(1)
	return nil, fmt.Errorf("node: get %s: local body lost and not in origin: %w", rec.Key, objstore.ErrNotFound)
}

// localObject serves a local body: from memory when it is small enough for
// the hot cache (which it then joins), else from the open file. The bytes
// that fill the cache are read through f's block checks, so an entry never
// holds a rotted byte; a body that fails them gives an error wrapping
// objstore.ErrChecksum.
func (n *Node) localObject(ticket uint64, rec objstore.Record, f BodyReader) (*Object, error) {
	if !n.hot.fits(rec.Size()) {
		return &Object{Record: rec, Body: f, Source: SourceLocal, close: f.Close}, nil
	}
	defer f.Close()
	body := make([]byte, rec.Size())
	if _, err := io.ReadFull(f, body); err != nil {
		return nil, fmt.Errorf("node: get %s: %w", rec.Key, err)
	}
	return cachedObject(n.hot.put(ticket, rec, body, "")), nil
}

// holdPeerBody reads a small body streaming from a peer into memory
// (checked against its CRC-32C on the way) and keeps it in the hot cache,
// so that the next reads of a hot object this node does not hold cost no
// round trip to the peer. The cache entry goes with any change to the key's
// record, as every entry does, and when the peer leaves the cluster or is
// seen down: the body stays the peer's, served here only while it is up.
func (n *Node) holdPeerBody(ticket uint64, obj *Object) (*Object, error) {
	defer obj.Close()
	body := make([]byte, obj.Size())
	if _, err := io.ReadFull(obj.Body, body); err != nil {
		return nil, fmt.Errorf("node: get %s from a peer: %w", obj.Key, err)
	}
	return cachedObject(n.hot.put(ticket, obj.Record, body, obj.peer)), nil
}

func cachedObject(e *hotEntry) *Object {
	return &Object{Record: e.rec, Body: bytes.NewReader(e.body), Bytes: e.body, Memo: &e.memo, S3Memo: &e.s3memo,
		Source: e.source(), peer: e.peer, close: func() error { return nil }}
}

// GetHot returns key's object when its body is in the hot cache, and
// nothing else: no journal read, no disk, no origin, and no miss counted
// when it is not there. It is Get's first step, for callers that have a
// faster way to serve bodies held in memory and fall back to Get otherwise.
func (n *Node) GetHot(key objstore.Key) (*Object, bool) {
	e, ok := n.hot.get(key)
	if !ok || n.fresh.due(e.rec) {
		return nil, false
	}
	if !e.intact() {
		// The copy in memory changed: drop it; Get reads the disk's,
		// which its own checks cover.
		n.hot.drop(e)
		n.log.Error("memory cache entry failed its checksum: dropped", "key", key)
		return nil, false
	}
	e.served.Add(int64(len(e.body))) // the one count of a hot read; Stats adds it to the hits
	return cachedObject(e), true
}

// Head returns the journal record of key, tombstones included.
func (n *Node) Head(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	rec, err := n.journal.Get(ctx, key)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: head %s: %w", key, err)
	}
	return rec, nil
}

// fetch reads key from the origin through the key's fill: the first caller
// starts it, the others follow it.
func (n *Node) fetch(ctx context.Context, key objstore.Key) (*Object, error) {
	return n.fetchOpened(ctx, key, nil)
}

// originBody is an origin response already in hand (a conditional GET that
// answered 200), for a fill to copy instead of asking again.
type originBody struct {
	body io.ReadCloser
	rec  objstore.Record
}

// fetchOpened is fetch with the origin's response, when opened is not nil,
// already in hand; a fill of the key already in flight is followed instead
// and opened is closed.
func (n *Node) fetchOpened(ctx context.Context, key objstore.Key, opened *originBody) (*Object, error) {
	f, leader := n.fills.join(key)
	switch {
	case leader:
		n.wg.Add(1)
		go n.runFill(key, f, opened)
	case opened != nil:
		_ = opened.body.Close() // the fill in flight reads the same object
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		f.release()
		return nil, fmt.Errorf("node: get %s: %w", key, ctx.Err())
	}
	if f.startErr != nil {
		f.release()
		if errors.Is(f.startErr, objstore.ErrNotFound) || errors.Is(f.startErr, objstore.ErrDeleted) {
			n.stats.misses.Add(1)
		}
		return nil, fmt.Errorf("node: get %s: %w", key, f.startErr)
	}
	n.stats.hitsRemote.Add(1)
	n.countRead(key.Bucket, fillKind(leader), f.rec.Size())
	if f.direct {
		// Not cached: each reader streams from the origin, the first one
		// on the fill's own origin response.
		s := newOriginStream(n, f.rec, f.takeBody(), 0)
		f.release()
		return &Object{Record: f.rec, Body: s, Source: SourceRemote, close: s.Close}, nil
	}
	r := &follower{f: f, n: n}
	return &Object{Record: f.rec, Body: r, Source: SourceRemote, close: r.close}, nil
}

// runFill copies key from the origin to the local disk for everyone who
// follows f. It runs on the node's context, not a request's, so the copy
// completes (and the cache fills) even if the first reader goes away.
//
// The fill leaves the group before it publishes its outcome: a miss that
// comes once the fill has failed starts a new one instead of joining it
// and taking its error, and one that comes once it is done finds the
// committed record.
func (n *Node) runFill(key objstore.Key, f *fill, opened *originBody) {
	defer n.wg.Done()
	defer f.release()
	body, rec, w, err := n.openFill(key, opened)
	if err != nil {
		n.fills.forget(key, f)
		f.abort(err)
		return
	}
	if w == nil {
		n.fills.forget(key, f)
		f.startDirect(rec, body)
		return
	}
	defer body.Close()
	f.start(rec, w)
	err = n.copyFill(rec, body, w, f)
	n.fills.forget(key, f)
	f.end(err)
}

// openFill opens the origin object, unless opened holds it already, and a
// local body to copy it into; with no local body (nil writer) when the
// cache declines the object, which then streams through uncached.
func (n *Node) openFill(key objstore.Key, opened *originBody) (io.ReadCloser, objstore.Record, BodyWriter, error) {
	var (
		body io.ReadCloser
		rec  objstore.Record
		err  error
	)
	if opened != nil {
		body, rec = opened.body, opened.rec
	} else {
		n.stats.originFills.Add(1)
		if body, rec, err = n.remote.Get(n.ctx, key); err != nil {
			return nil, rec, nil, err
		}
	}
	rec, err = n.placeOrigin(n.ctx, originRecord(key, rec))
	if err != nil {
		body.Close()
		return nil, rec, nil, err
	}
	name := n.blobs.Name(key, rec.BodyVersion)
	if !n.bounded.admit(rec.Key.Bucket, name, rec.Size()) {
		return body, rec, nil, nil
	}
	w, err := n.blobs.Create(key, rec.BodyVersion)
	if err != nil {
		n.bounded.untrack(name)
		body.Close()
		return nil, rec, nil, err
	}
	return body, rec, w, nil
}

// originRecord completes a record restored from the origin: an object that
// objstore did not write gets the oldest possible version, so that any write
// through objstore supersedes it. A body version the origin kept stays: a
// PUT stamps its record after its body (see Put), so the two differ, and
// the restored record must equal the journal's for the same version.
func originRecord(key objstore.Key, rec objstore.Record) objstore.Record {
	rec.Key, rec.InRemote, rec.Deleted = key, true, false
	if rec.Version.IsZero() {
		rec.Version.HLC = 1
	}
	if rec.BodyVersion.IsZero() || rec.Version.HLC == 1 {
		rec.BodyVersion = rec.Version
	}
	return rec
}

// copyFill streams the origin body to disk, verifies it, commits it and
// records it in the journal. A failure of the local copy is marked
// errLocalCopy: the fill's readers then go on from the origin.
func (n *Node) copyFill(rec objstore.Record, body io.Reader, w BodyWriter, f *fill) error {
	err := n.copyFillBody(rec, body, w, f)
	if err != nil {
		n.bounded.untrack(n.blobs.Name(rec.Key, rec.BodyVersion))
	}
	return err
}

func (n *Node) copyFillBody(rec objstore.Record, body io.Reader, w BodyWriter, f *fill) error {
	buf := make([]byte, 256<<10)
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return fmt.Errorf("%w: %w", errLocalCopy, err)
			}
			f.advance(k)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("origin read: %w: %w", objstore.ErrNoRemote, rerr)
		}
	}
	sum, err := w.Commit()
	if err != nil {
		return fmt.Errorf("%w: %w", errLocalCopy, err)
	}
	if err := verifyOrigin(rec.Sum, sum); err != nil {
		n.dropBody(rec)
		n.log.Warn("origin body failed its checksum", "key", rec.Key, "err", err)
		return err
	}
	rec.Sum = sum
	f.commit(sum)
	prev, perr := n.journal.Get(n.ctx, rec.Key)
	winner, changed, err := n.merge(n.ctx, rec)
	if err != nil {
		n.dropBody(rec)
		return err
	}
	n.bounded.track(rec)
	if changed && perr == nil && !prev.Deleted && prev.BodyVersion != winner.BodyVersion {
		n.dropBody(prev) // the origin changed: the old body is not current
	}
	if rec.Version.IsForeign() {
		n.fresh.seen(rec.Key)
	}
	return nil
}

// verifyOrigin compares what arrived with what the origin's record promised:
// the size always, the CRC-32C when objstore wrote it, else the MD5 when the
// origin's ETag was one.
func verifyOrigin(want, got objstore.Checksum) error {
	switch {
	case want.Size != got.Size:
		return fmt.Errorf("%w: %d bytes, want %d", objstore.ErrChecksum, got.Size, want.Size)
	case want.CRC32C != 0 && want.CRC32C != got.CRC32C:
		return fmt.Errorf("%w: crc32c %08x, want %08x", objstore.ErrChecksum, got.CRC32C, want.CRC32C)
	case want.CRC32C == 0 && want.MD5 != (objstore.MD5{}) && want.MD5 != got.MD5:
		return fmt.Errorf("%w: md5 %s, want %s", objstore.ErrChecksum, got.MD5, want.MD5)
	}
	return nil
}

// Scan calls fn for the journal records of bucket whose IDs sort at or
// after from, tombstones included, in ID order, until fn returns false: the
// cluster's side of a merged listing.
func (n *Node) Scan(ctx context.Context, bucket, from string, fn func(objstore.Record) bool) error {
	if err := n.journal.Scan(ctx, bucket, from, fn); err != nil {
		return fmt.Errorf("node: scan %s: %w", bucket, err)
	}
	return nil
}

// Stat returns the record of a live object without opening its body: the
// journal's when the cluster knows the key, else the origin's (as a fetch
// would restore it). Errors wrap objstore.ErrNotFound, objstore.ErrDeleted
// or objstore.ErrNoRemote.
func (n *Node) Stat(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	rec, err := n.journal.Get(ctx, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		rec, err = n.remote.Stat(ctx, key)
		if err != nil {
			return objstore.Record{}, fmt.Errorf("node: stat %s: %w", key, err)
		}
		return originRecord(key, rec), nil
	case err != nil:
		return objstore.Record{}, fmt.Errorf("node: stat %s: %w", key, err)
	case rec.Deleted:
		return rec, fmt.Errorf("node: stat %s: %w", key, objstore.ErrDeleted)
	case rec.Lost:
		return rec, fmt.Errorf("node: stat %s: %w", key, objstore.ErrLost)
	}
	return rec, nil
}
