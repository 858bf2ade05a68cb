package node

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"time"

	"sphere.software/objstore"
)

// Small bodies: a level-0 or write-back PUT must be durable on this node
// before it is acknowledged. A large body pays for that with a sync of its
// file (a group sync of the file system, see internal/durable's Barrier);
// for a small one that sync costs more than everything else the PUT does,
// so its bytes go into the journal instead, in the commit of its record:
// one group commit of the journal makes record and body durable together.
// Its file is renamed into place without a sync (BodyWriter.CommitCopy) and
// serves every read as any body does. smallBodyLoop then makes the files
// durable in bulk, every smallBodySyncEvery, with one sync of the file
// system, and drops their bytes from the journal. After a crash,
// restoreSmallBodies writes again, before the node serves, every body the
// journal still holds whose record still names it, whatever the crash left
// of its file.

// smallBodySyncEvery is how often the files of small bodies are synced and
// their copies in the journal dropped (a variable for tests);
// smallBodyBatch journaled bodies start a sync sooner.
var smallBodySyncEvery = time.Second

const smallBodyBatch = 4096

// smallBodies keeps the books of the small bodies journaled since the last
// sync of their files.
type smallBodies struct {
	max  int64 // the largest small body; 0 when off
	wake chan struct{}

	mu      sync.Mutex
	pending []objstore.BodyRef // journaled, files not yet synced
}

// journaled notes a small body whose record and bytes are committed.
func (s *smallBodies) journaled(ref objstore.BodyRef) {
	s.mu.Lock()
	s.pending = append(s.pending, ref)
	full := len(s.pending) >= smallBodyBatch
	s.mu.Unlock()
	if full {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// take returns the pending bodies and forgets them.
func (s *smallBodies) take() []objstore.BodyRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	refs := s.pending
	s.pending = nil
	return refs
}

// putBack returns refs whose files could not be synced to the pending.
func (s *smallBodies) putBack(refs []objstore.BodyRef) {
	s.mu.Lock()
	s.pending = append(refs, s.pending...)
	s.mu.Unlock()
}

// smallCapture keeps a copy of a body as it streams in (Node.copyBody), the
// very bytes the body store hashes, while it is no longer than max; past
// max it lets go of them and the body is committed with a sync of its own.
type smallCapture struct {
	buf  []byte
	max  int64
	over bool
}

// capture returns a smallCapture for a new body only this node will hold
// (a level-0 or write-back PUT's), or nil when small bodies are off.
func (n *Node) capture() *smallCapture {
	if n.small.max <= 0 {
		return nil
	}
	return &smallCapture{max: n.small.max}
}

func (c *smallCapture) Write(p []byte) (int, error) {
	switch {
	case c.over:
	case int64(len(c.buf)+len(p)) > c.max:
		putSmallBuf(c.buf)
		c.buf, c.over = nil, true
	default:
		if c.buf == nil {
			c.buf = getSmallBuf()
		}
		c.buf = append(c.buf, p...)
	}
	return len(p), nil
}

// release gives the buffer back; the PUT calls it once the journal
// commit of its record, which copies the bytes, has returned.
func (c *smallCapture) release() {
	if c != nil {
		putSmallBuf(c.buf)
		c.buf = nil
	}
}

// body returns the bytes captured, or nil when there are none to keep
// (no capture, or a body past max). An empty body is a non-nil empty slice.
func (c *smallCapture) body() []byte {
	if c == nil || c.over {
		return nil
	}
	if c.buf == nil {
		c.buf = getSmallBuf()
	}
	return c.buf
}

// commitLocal commits a new body that only this node holds (a level-0 or
// write-back PUT's). A small one, whose bytes c captured, is only renamed
// into place, and those bytes are returned (c keeps them until release):
// the caller must journal its record with mergeBody, which makes the body
// durable. Any other body is committed durably here and small is nil.
func (n *Node) commitLocal(w BodyWriter, c *smallCapture) (small []byte, err error) {
	body := c.body()
	if body == nil {
		_, err := w.Commit()
		return nil, err
	}
	if _, err := w.CommitCopy(); err != nil {
		return nil, err
	}
	return body, nil
}

// smallBufs holds the buffers of small bodies between PUTs: the journal
// has copied a body into its pages once the commit of its record returns.
var smallBufs = sync.Pool{New: func() any { b := make([]byte, 0, DefaultSmallBodyMax); return &b }}

// getSmallBuf returns an empty buffer with room for a default-size small
// body (append grows it for a larger --small-body-max).
func getSmallBuf() []byte { return (*smallBufs.Get().(*[]byte))[:0] }

// putSmallBuf gives back a buffer from getSmallBuf, nil being none, once
// nothing refers to it; one grown past the default is left to the GC.
func putSmallBuf(b []byte) {
	if b != nil && cap(b) == DefaultSmallBodyMax {
		smallBufs.Put(&b)
	}
}

// smallBodyLoop syncs the files of journaled small bodies and drops their
// bytes from the journal, until Close; then once more.
func (n *Node) smallBodyLoop() {
	defer n.wg.Done()
	t := time.NewTicker(smallBodySyncEvery)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			n.syncSmallBodies(context.Background())
			return
		case <-t.C:
		case <-n.small.wake:
		}
		n.syncSmallBodies(n.ctx)
	}
}

// syncSmallBodies makes the files of the pending small bodies durable and
// drops their copies from the journal. A failed sync keeps them pending
// (their bytes stay in the journal); a failed drop leaves copies that the
// next start writes again, which is only wasted work.
func (n *Node) syncSmallBodies(ctx context.Context) {
	refs := n.small.take()
	if len(refs) == 0 {
		return
	}
	if err := n.blobs.SyncAll(); err != nil {
		n.small.putBack(refs)
		n.log.Warn("small bodies: sync of their files failed; their copies stay in the journal", "bodies", len(refs), "err", err)
		return
	}
	if err := n.journal.DropBodies(ctx, refs); err != nil && ctx.Err() == nil {
		n.log.Warn("small bodies: cannot drop their copies from the journal", "bodies", len(refs), "err", err)
	}
}

// newSmallBodies returns the books of small bodies up to max bytes
// (Config.SmallBodyMax: 0 the default, negative none), off when the body
// store cannot sync all its files at once.
func newSmallBodies(max int64, b Blobs) *smallBodies {
	s := &smallBodies{max: max, wake: make(chan struct{}, 1)}
	if s.max == 0 {
		s.max = DefaultSmallBodyMax
	}
	if s.max < 0 || errors.Is(b.SyncAll(), errors.ErrUnsupported) {
		s.max = 0
	}
	return s
}

// restoreSmallBodies writes again the bodies that the journal still holds,
// when their record still names them, whatever a crash left of their files,
// then drops them from the journal. It runs before the node serves, with
// small bodies on or off: a node started with them off still owes the
// copies a previous run left.
func (n *Node) restoreSmallBodies(ctx context.Context) error {
	type kept struct {
		ref  objstore.BodyRef
		body []byte
	}
	var all []kept
	err := n.journal.Bodies(ctx, func(ref objstore.BodyRef, body []byte) bool {
		all = append(all, kept{ref, append([]byte(nil), body...)})
		return true
	})
	if err != nil || len(all) == 0 {
		return err
	}
	refs := make([]objstore.BodyRef, 0, len(all))
	restored := 0
	for _, k := range all {
		refs = append(refs, k.ref)
		rec, err := n.journal.Get(ctx, k.ref.Key)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if rec.Deleted || rec.BodyVersion != k.ref.Version {
			continue // overwritten or deleted since: the body is not needed
		}
		if err := n.rewriteBody(rec, k.body); err != nil {
			// Its file may still be whole: the first Open verifies it.
			n.log.Error("small body: cannot write it again from the journal", "key", rec.Key, "err", err)
			continue
		}
		restored++
	}
	if err := n.journal.DropBodies(ctx, refs); err != nil {
		return err
	}
	n.log.Info("small bodies written again from the journal after a crash", "restored", restored, "kept", len(all))
	return nil
}

// rewriteBody writes body as the durable file of rec's body, replacing
// whatever is there.
func (n *Node) rewriteBody(rec objstore.Record, body []byte) error {
	if int64(len(body)) != rec.Sum.Size || crc32.Checksum(body, castagnoli) != rec.Sum.CRC32C {
		return fmt.Errorf("small body of %s in the journal does not match its record: %w", rec.Key, objstore.ErrChecksum)
	}
	w, err := n.blobs.Create(rec.Key, rec.BodyVersion)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := w.Write(body); err != nil {
		return err
	}
	if _, err := w.Commit(); err != nil {
		return err
	}
	return nil
}
