package node

import (
	"context"
	"fmt"
	"io"

	"sphere.software/objstore"
)

// commitAndUpload is a level-≥1 PUT's upload: it puts the body in place on
// this disk, records the upload intent and uploads the body to the origin,
// all three at once, where they used to run one after the other (docs/
// DESIGN.md, "Overlapped upload"). What keeps the guarantees of the serial
// order:
//   - the upload's last byte waits for the intent to be durable (tailGate),
//     so no upload can land in the origin that a crash would leave without
//     an intent ("No orphans"); a failed intent fails the upload before it
//     is complete, and an origin does not keep an object whose body was cut
//     short of its Content-Length;
//   - the local body is not fsynced (CommitCopy): its durable copy is the
//     origin's, which the record, journaled only after the upload, points
//     to; a body a machine crash lost or tore is read from the origin again;
//   - the local commit only has to precede the journal merge, which the
//     caller runs after this returns; a failed commit cancels the upload,
//     and when the upload landed anyway its intent stays for the reconciler,
//     as for any upload whose record failed to commit;
//   - the upload is putOrigin's conditional write, unchanged ("One winner").
//
// It returns once all three are over, so the caller may drop or close the
// body; superseded is upload's; fresh is putOrigin's.
func (n *Node) commitAndUpload(ctx context.Context, rec objstore.Record, body BodyWriter, fresh bool) (superseded bool, err error) {
	fresh = fresh && rec.Size() <= maxHeadlessUpload
	upCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	committed := make(chan error, 1)
	go func() {
		_, err := body.CommitCopy()
		if err != nil {
			cancel() // the PUT fails: better the upload does not land
		}
		committed <- err
	}()
	gate := newTailGate(upCtx, body, rec.Size())
	go func() {
		gate.open(n.journal.PutIntent(ctx, rec.Key, rec.Version))
	}()
	var landed bool
	upErr := gate.waitIfEmpty()
	if upErr == nil {
		landed, upErr = n.putOrigin(upCtx, rec, gate, fresh)
	}
	intentErr := gate.wait()
	commitErr := <-committed
	switch {
	case intentErr != nil:
		// Nothing landed: the body's last byte never left (or, when the
		// upload had nothing to send, it did not start).
		return false, fmt.Errorf("record upload intent: %w", intentErr)
	case upErr == nil && !landed:
		n.dropIntent(ctx, rec)
		return true, nil
	case commitErr != nil:
		// The upload was canceled, or landed: then the origin holds what
		// the journal will not, and the reconciler removes it.
		n.wakeOrphans()
		return false, commitErr
	case upErr != nil:
		n.wakeOrphans() // a failed upload may still have landed
		return false, upErr
	}
	return false, nil
}

// maxHeadlessUpload is the largest body a new key's upload sends without
// reading the origin first (putOrigin's fresh): when the origin does hold an
// object there (one written around objstore), the body is sent in vain
// before the HEAD, and a multipart upload would send every part.
const maxHeadlessUpload = 8 << 20

// tailGate reads a body of size bytes for an upload, but holds any read
// that reaches its last byte until open is called, and fails it when open
// got an error: the origin then never sees the whole body and keeps
// nothing. Reads before the tail pass at once, so the request and most of
// the body are on their way while the intent is being fsynced.
type tailGate struct {
	ctx   context.Context
	body  io.ReaderAt
	size  int64
	ready chan struct{}
	err   error // set before ready is closed
}

func newTailGate(ctx context.Context, body io.ReaderAt, size int64) *tailGate {
	return &tailGate{ctx: ctx, body: body, size: size, ready: make(chan struct{})}
}

// open lets the tail pass, or with err fails every read of it.
func (g *tailGate) open(err error) {
	g.err = err
	close(g.ready)
}

// wait returns open's error once open was called.
func (g *tailGate) wait() error {
	<-g.ready
	return g.err
}

// waitIfEmpty waits for open before an upload of an empty body, which has
// no tail to hold; a canceled upload stops waiting.
func (g *tailGate) waitIfEmpty() error {
	if g.size > 0 {
		return nil
	}
	select {
	case <-g.ready:
		return g.err
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
}

// ReadAt reads from the body, holding a read that reaches the tail.
func (g *tailGate) ReadAt(p []byte, off int64) (int, error) {
	if off < g.size && off+int64(len(p)) >= g.size {
		select {
		case <-g.ready:
			if g.err != nil {
				return 0, fmt.Errorf("upload held back: %w", g.err)
			}
		case <-g.ctx.Done():
			return 0, fmt.Errorf("upload held back: %w", g.ctx.Err())
		}
	}
	return g.body.ReadAt(p, off)
}
