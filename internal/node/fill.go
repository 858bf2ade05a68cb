package node

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"sphere.software/objstore"
)

// fillGroup tracks the origin reads in flight, one per key, so that any
// number of concurrent misses of one object cost one origin GET.
type fillGroup struct {
	mu sync.Mutex // guards m
	m  map[objstore.Key]*fill
}

func (g *fillGroup) init() { g.m = make(map[objstore.Key]*fill) }

// join returns the fill of key, starting a new one when none is in flight;
// leader reports that the caller must run it. The caller holds a reference
// and must release it.
func (g *fillGroup) join(key objstore.Key) (f *fill, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		f.acquire()
		return f, false
	}
	f = newFill()
	f.acquire() // the caller's
	f.acquire() // the leader goroutine's
	g.m[key] = f
	return f, true
}

// forget removes f from the group so that later misses start afresh.
func (g *fillGroup) forget(key objstore.Key, f *fill) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m[key] == f {
		delete(g.m, key)
	}
}

// fill is one body being copied from the origin to the local disk while any
// number of readers follow it. Readers see every byte as soon as it is on
// disk except the last one, which they get only after the whole body has
// passed its checksum: a response that completes is always verified.
type fill struct {
	ready chan struct{} // closed once rec and w are set, or startErr
	rec   objstore.Record
	w     BodyWriter
	// startErr is why the fill never started; set before ready closes.
	startErr error
	// direct is set, before ready closes, when the cache declined the
	// body: readers stream it from the origin, the first one on body.
	direct bool
	body   io.ReadCloser // guarded by mu once ready is closed

	mu      sync.Mutex // guards the fields below
	changed *sync.Cond // signalled when written, done or err change
	written int64
	done    bool // the body is complete and verified
	// sum is set once the body is committed to disk and has passed its
	// checksum (before its record is merged): followers then read the
	// committed file through the store's block checks, not the writer's
	// unchecked handle, so a byte that rots in it after the commit is
	// never handed on.
	sum   *objstore.Checksum
	err   error // the fill failed after it started
	refs  int
	ended bool // done or err is set
}

func newFill() *fill {
	f := &fill{ready: make(chan struct{})}
	f.changed = sync.NewCond(&f.mu)
	return f
}

func (f *fill) acquire() {
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
}

// release drops a reference; the last one after the fill ended closes the
// body writer (which discards the temp file of a failed fill).
func (f *fill) release() {
	f.mu.Lock()
	f.refs--
	closeNow := f.refs == 0 && f.ended && f.w != nil
	var body io.ReadCloser
	if f.refs == 0 {
		body, f.body = f.body, nil // no reader took it
	}
	f.mu.Unlock()
	if closeNow {
		_ = f.w.Close() // a close error of a read-only handle changes nothing
	}
	if body != nil {
		_ = body.Close() // an unread origin response; nothing to report
	}
}

// startDirect publishes the record of a body the cache declined, with the
// origin response the first reader takes.
func (f *fill) startDirect(rec objstore.Record, body io.ReadCloser) {
	f.rec, f.direct = rec, true
	f.mu.Lock()
	f.body, f.ended = body, true
	f.mu.Unlock()
	close(f.ready)
}

// takeBody returns the origin response of a direct fill to the first
// caller, nil to the others (they open their own).
func (f *fill) takeBody() io.ReadCloser {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.body
	f.body = nil
	return b
}

// start publishes the record and writer of a fill that has begun.
func (f *fill) start(rec objstore.Record, w BodyWriter) {
	f.rec, f.w = rec, w
	close(f.ready)
}

// abort ends a fill that never started.
func (f *fill) abort(err error) {
	f.startErr = err
	f.mu.Lock()
	f.ended = true
	f.mu.Unlock()
	close(f.ready)
}

// advance records n more bytes on disk.
func (f *fill) advance(n int) {
	f.mu.Lock()
	f.written += int64(n)
	f.mu.Unlock()
	f.changed.Broadcast()
}

// commit records that the body is on disk and verified against sum. The
// last byte is still held back until the fill ends (its record merged).
func (f *fill) commit(sum objstore.Checksum) {
	f.mu.Lock()
	f.sum = &sum
	f.mu.Unlock()
}

// committed returns the checksum of a committed body, or nil before.
func (f *fill) committed() *objstore.Checksum {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sum
}

// end marks the fill complete (err == nil) or failed.
func (f *fill) end(err error) {
	f.mu.Lock()
	f.ended = true
	if err != nil {
		f.err = err
	} else {
		f.done = true
	}
	f.mu.Unlock()
	f.changed.Broadcast()
}

// waitReadable blocks until byte off can be read and returns how many bytes
// from off are readable, or io.EOF past the end, or the fill's error.
func (f *fill) waitReadable(off int64) (int64, error) {
	size := f.rec.Sum.Size
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		switch {
		case f.err != nil:
			return 0, f.err
		case f.done && off >= size:
			return 0, io.EOF
		case f.done:
			return size - off, nil
		}
		// Hold back the last byte until the body is verified.
		if avail := min(f.written, size-1); off < avail {
			return avail - off, nil
		}
		f.changed.Wait()
	}
}

// follower reads a fill from the start; it is an io.ReadSeeker over the
// whole body, so http.ServeContent can serve ranges from it.
// When the fill's local copy fails (a full disk), the follower goes on
// from the origin at its offset: a full disk never fails a read.
type follower struct {
	f      *fill
	n      *Node
	off    int64
	direct *originStream // set once the fill's local copy failed
	disk   BodyReader    // the committed body, once the fill committed it
}

func (r *follower) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.direct != nil {
		k, err := r.direct.Read(p)
		r.off += int64(k)
		return k, err
	}
	avail, err := r.f.waitReadable(r.off)
	if errors.Is(err, errLocalCopy) {
		r.n.log.Info("local copy failed, reading on from the origin", "key", r.f.rec.Key, "err", err)
		r.direct = newOriginStream(r.n, r.f.rec, nil, r.off)
		return r.Read(p)
	}
	if err != nil {
		return 0, err
	}
	if sum := r.f.committed(); sum != nil && r.disk == nil {
		b, err := r.n.blobs.Open(r.f.rec.Key, r.f.rec.BodyVersion, *sum)
		if err != nil {
			// Gone or rotted since the commit (reported by the store):
			// the origin still has it.
			r.n.log.Info("committed fill unreadable, reading on from the origin", "key", r.f.rec.Key, "err", err)
			r.direct = newOriginStream(r.n, r.f.rec, nil, r.off)
			return r.Read(p)
		}
		r.disk = b
	}
	src := io.ReaderAt(r.f.w)
	if r.disk != nil {
		src = r.disk
	}
	n, err := src.ReadAt(p[:min(int64(len(p)), avail)], r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

func (r *follower) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.f.rec.Sum.Size
	default:
		return 0, fmt.Errorf("node: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("node: seek: negative offset %d", offset)
	}
	r.off = offset
	if r.direct != nil {
		return r.direct.Seek(offset, io.SeekStart)
	}
	return offset, nil
}

// close releases the fill and the origin stream, if one was opened.
func (r *follower) close() error {
	r.f.release()
	if r.disk != nil {
		_ = r.disk.Close() // read-only
	}
	if r.direct != nil {
		return r.direct.Close()
	}
	return nil
}
