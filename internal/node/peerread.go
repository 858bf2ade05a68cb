package node

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/savings"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openFromPeer finds an alive peer that holds rec's body (the node that
// wrote it first) and returns an object that streams from it.
func (n *Node) openFromPeer(ctx context.Context, rec objstore.Record) (*Object, error) {
	var errs []error
	for _, m := range n.holdersFirst(rec) {
		if n.badPeerBodies.has(rec, m.ID) {
			errs = append(errs, fmt.Errorf("peer %s: its body of %s failed its checksum lately", m.ID, rec.Key))
			continue
		}
		body, err := n.peers().OpenBody(ctx, m, rec.Key, rec.BodyVersion, 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := &peerBody{ctx: ctx, n: n, m: m, rec: rec, body: body, crc: crc32.New(castagnoli)}
		n.stats.hitsPeer.Add(1)
		n.countRead(rec.Key.Bucket, savings.Peer, rec.Size())
		return &Object{Record: rec, Body: r, Source: SourcePeer, peer: m.ID, close: r.Close}, nil
	}
	return nil, errors.Join(append(errs, objstore.ErrNotFound)...)
}

// peerBody streams a body from a peer as an io.ReadSeeker. A seek closes
// the stream and the next read reopens it at the new offset (a Range
// request to the peer). A read from the start to the end is checked
// against the record's CRC-32C, and the read that completes the body
// returns an error instead of its bytes when the check fails, so a
// response that completes is a verified body.
type peerBody struct {
	// ctx is the request's: the body is read while its handler runs.
	ctx  context.Context
	n    *Node
	m    objstore.Member
	rec  objstore.Record
	body io.ReadCloser
	// off is the read position; bodyOff is where the open body stream is.
	off, bodyOff int64
	// crc covers bytes [0, off) while the reads have been sequential from 0.
	crc      hash.Hash32
	verifies bool
	err      error
}

func (r *peerBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.bodyOff >= r.rec.Sum.Size {
		return 0, io.EOF
	}
	if r.body != nil && r.bodyOff != r.off {
		r.closeBody() // a seek moved us: reopen at the new offset
	}
	if r.body == nil {
		body, err := r.n.peers().OpenBody(r.ctx, r.m, r.rec.Key, r.rec.BodyVersion, r.off)
		if err != nil {
			r.err = err
			return 0, err
		}
		r.body, r.bodyOff = body, r.off
	}
	if r.off == 0 {
		r.verifies = true
		r.crc.Reset()
	}
	k, err := r.body.Read(p[:min(int64(len(p)), r.rec.Sum.Size-r.off)])
	if r.verifies {
		r.crc.Write(p[:k])
	}
	r.off += int64(k)
	r.bodyOff = r.off
	if r.off == r.rec.Sum.Size && r.verifies && r.crc.Sum32() != r.rec.Sum.CRC32C {
		r.err = fmt.Errorf("%w: body of %s from peer %s", objstore.ErrChecksum, r.rec.Key, r.m.ID)
		r.n.badPeerBodies.add(r.rec, r.m.ID)
		return 0, r.err
	}
	if errors.Is(err, io.EOF) && r.off < r.rec.Sum.Size {
		r.err = fmt.Errorf("peer %s ended the body of %s at %d of %d bytes: %w", r.m.ID, r.rec.Key, r.off, r.rec.Sum.Size, io.ErrUnexpectedEOF)
		return k, r.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return k, r.err
}

func (r *peerBody) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.rec.Sum.Size
	default:
		return 0, fmt.Errorf("node: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("node: seek: negative offset %d", offset)
	}
	if offset != r.off {
		// The stream is reopened at the next Read, if any: http.ServeContent
		// seeks to the end and back to learn the size before it reads.
		r.off, r.verifies = offset, false
	}
	return offset, nil
}

// Err is the error that cut the body short, if any.
func (r *peerBody) Err() error { return r.err }

func (r *peerBody) closeBody() {
	if r.body == nil {
		return
	}
	if r.bodyOff >= r.rec.Sum.Size {
		// Read the end of a fully read body so the HTTP client sees EOF and
		// keeps the connection to the peer for the next read.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.body, 512)) // best effort; Close follows
	}
	_ = r.body.Close() // closing a response body we stopped reading
	r.body = nil
}

func (r *peerBody) Close() error {
	r.closeBody()
	return nil
}

// badPeerBodyTTL is how long a peer whose body of a record failed its
// checksum is passed over for that body: reads go to another holder or
// the origin meanwhile, instead of streaming the same wrong body again.
const badPeerBodyTTL = time.Minute

// badPeerBodies remembers, for a while, which peers sent a body that did
// not match its record (a peer that holds other bytes under the same body
// version, for example after the object changed in the origin).
type badPeerBodies struct {
	mu sync.Mutex
	m  map[badPeerBody]time.Time // until when the peer is passed over
}

type badPeerBody struct {
	key  objstore.Key
	v    objstore.Version
	peer string
}

func (b *badPeerBodies) add(rec objstore.Record, peer string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[badPeerBody]time.Time)
	}
	now := time.Now()
	for k, until := range b.m { // few entries: one per rotted body lately
		if now.After(until) {
			delete(b.m, k)
		}
	}
	b.m[badPeerBody{rec.Key, rec.BodyVersion, peer}] = now.Add(badPeerBodyTTL)
}

func (b *badPeerBodies) has(rec objstore.Record, peer string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.m[badPeerBody{rec.Key, rec.BodyVersion, peer}]
	return ok && time.Now().Before(until)
}
