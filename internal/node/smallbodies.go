package node

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
// their copies in the journal dropped; smallBodyBatch journaled bodies
// start a sync sooner.
const (
	smallBodySyncEvery = time.Second
	smallBodyBatch     = 4096
)

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

// commitLocal commits a new body that only this node holds (a level-0 or
// write-back PUT's) and returns its bytes when it is small: the caller
// must then journal its record with mergeBody, which makes the body
// durable. A larger body, or any when small bodies are off, is committed
// durably here and small is nil. The caller gives small back with
// putSmallBuf once the journal commit has returned.
func (n *Node) commitLocal(w BodyWriter) (small []byte, err error) {
	size := w.Sum().Size
	if n.small.max <= 0 || size > n.small.max {
		_, err := w.Commit()
		return nil, err
	}
	body := getSmallBuf(size)
	if _, err := w.ReadAt(body, 0); err != nil && !errors.Is(err, io.EOF) {
		putSmallBuf(body)
		return nil, err
	}
	// The bytes read back are the ones hashed on the way in, or the
	// journal would keep a body its record's checksum does not match.
	if crc32.Checksum(body, castagnoli) != w.Sum().CRC32C {
		putSmallBuf(body)
		return nil, fmt.Errorf("%w: body read back from its file differs", objstore.ErrChecksum)
	}
	if _, err := w.CommitCopy(); err != nil {
		putSmallBuf(body)
		return nil, err
	}
	return body, nil
}

// smallBufs holds the buffers of small bodies between PUTs: the journal
// has copied a body into its pages once the commit of its record returns.
var smallBufs sync.Pool

// getSmallBuf returns a buffer of size bytes.
func getSmallBuf(size int64) []byte {
	if b, ok := smallBufs.Get().(*[]byte); ok && int64(cap(*b)) >= size {
		return (*b)[:size]
	}
	return make([]byte, size)
}

// putSmallBuf gives back a buffer from commitLocal, nil being none, once
// nothing refers to it.
func putSmallBuf(b []byte) {
	if b != nil && cap(b) <= DefaultSmallBodyMax {
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

// restoreSmallBodies writes again the bodies that the journal still holds,
// when their record still names them, whatever a crash left of their files,
// then drops them from the journal; it also decides whether small bodies
// are on (Config.SmallBodyMax, and a store that can sync all its files).
func (n *Node) restoreSmallBodies(ctx context.Context) error {
	n.small.wake = make(chan struct{}, 1)
	n.small.max = n.cfg.SmallBodyMax
	if n.small.max == 0 {
		n.small.max = DefaultSmallBodyMax
	}
	if n.small.max > 0 && errors.Is(n.blobs.SyncAll(), errors.ErrUnsupported) {
		n.small.max = 0
	}
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
