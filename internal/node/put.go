package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sync"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// PutRequest is one object write.
type PutRequest struct {
	Key  objstore.Key
	Name string
	// ContentType is stored as given; empty means: from Name's extension,
	// else sniffed from the first bytes of the body.
	ContentType string
	// UserMeta is a JSON object of at most objstore.MaxUserMeta bytes, or nil.
	UserMeta json.RawMessage
	// Headers are stored response headers (objstore.StoredHeaders), or nil.
	Headers map[string]string
	Level   objstore.Level
	// LevelIsFloor makes Level a default rather than a demand: the write
	// gets Level or the object's current level, whichever is higher, so a
	// client that knows nothing of levels never lowers one. Without it, a
	// Level below the current one fails with objstore.ErrLevelLowered.
	LevelIsFloor bool
	// Size is the declared body length, or -1 when unknown (chunked).
	Size int64
	Body io.Reader
	// Verify, when set, is called with the checksum of the body once it is
	// on disk and before anything is published; an error from it discards
	// the body and fails the write (a client's Content-MD5, say).
	Verify func(objstore.Checksum) error
	// WriteBack acknowledges the write once it is durable on this node
	// (at level 2, on the alive peers too) and uploads it to the origin
	// later, from the outbox (writeback.go); level 0 becomes level 1.
	WriteBack bool
}

func (req PutRequest) validate(maxSize int64) error {
	if req.Level > objstore.MaxLevel {
		return fmt.Errorf("%w: %d", objstore.ErrInvalidLevel, req.Level)
	}
	if err := ValidateUserMeta(req.UserMeta); err != nil {
		return err
	}
	if maxSize > 0 && req.Size > maxSize {
		return fmt.Errorf("%w: %d bytes declared, limit is %d", objstore.ErrTooLarge, req.Size, maxSize)
	}
	return nil
}

// ValidateUserMeta checks that meta is empty or a JSON object small enough to
// travel with the object to S3.
func ValidateUserMeta(meta json.RawMessage) error {
	if len(meta) == 0 {
		return nil
	}
	if len(meta) > objstore.MaxUserMeta {
		return fmt.Errorf("%w: %d bytes, limit is %d", objstore.ErrInvalidUserMeta, len(meta), objstore.MaxUserMeta)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(meta, &obj); err != nil || obj == nil {
		return fmt.Errorf("%w: want a JSON object", objstore.ErrInvalidUserMeta)
	}
	return nil
}

// Put stores a new version of an object. The body goes to disk first (and is
// durable there), then to the origin when the level asks for it, and last the
// record to the journal: when Put returns without error, the object survives
// a crash of this process, and at level ≥ 1 it is in the origin.
func (n *Node) Put(ctx context.Context, req PutRequest) (objstore.Record, error) {
	if err := req.validate(n.cfg.MaxObjectSize); err != nil {
		return objstore.Record{}, err
	}
	if req.WriteBack {
		return n.putBack(ctx, req)
	}
	level, err := n.levelFor(ctx, req.Key, req.Level, req.LevelIsFloor)
	if err != nil {
		return objstore.Record{}, err
	}
	req.Level = level
	v := n.newVersion()
	w, err := n.blobs.Create(req.Key, v)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	var held *[]byte // a streamed body's buffer (holdStreamed)
	defer func() {
		// Closed before the held buffer goes back to the pool, so that no
		// late read of the upload's reaches it.
		_ = w.Close()
		if held != nil {
			fullWriteBufs.put(held)
		}
	}()
	if sr, ok := n.streamingRemote(req); ok {
		held = holdStreamed(w, req.Size)
		return n.putStream(ctx, req, v, w, sr)
	}
	var capture *smallCapture
	if !req.Level.Remote() {
		capture = n.capture()
		defer capture.release() // after publish's journal commit
		expectCommit(w, req.Size)
	}
	sniff, err := n.copyBody(w, req, capture, false)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	sum := w.Sum()
	if req.Verify != nil {
		if err := req.Verify(sum); err != nil {
			return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err) // Close discards the body
		}
	}
	var small []byte
	if !req.Level.Remote() {
		// A remote level commits the body beside its upload (putoverlap.go).
		if small, err = n.commitLocal(w, capture); err != nil {
			return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
		}
	}
	// The body keeps the version it was created under (its file name), but
	// the record is stamped now that the body is complete: of two writes of
	// one key, the one that finishes last wins, as on S3, even when it
	// started first (s3-tests test_atomic_dual_write_*).
	rec := objstore.Record{
		Key: req.Key, Name: req.Name, UserMeta: req.UserMeta, Headers: req.Headers, Level: req.Level,
		ContentType: contentType(req.ContentType, req.Name, sniff),
		Sum:         sum, Version: n.newVersion(), BodyVersion: v,
	}
	return n.publish(ctx, rec, w, small, req.LevelIsFloor)
}

// PUT bodies are copied with buffers from pools rather than io.Copy's
// 32 KiB per request, which was half of what a 4 KiB PUT allocated, and
// each buffer is filled before it is written. A body of at least
// fullWritesMin bytes that nothing reads while it arrives is written in
// writes of fullWriteSize bytes rather than one per read of the
// connection: a write(2) costs per call on ext4 (a journal handle for the
// inode's times, the page cache's bookkeeping), and a 1 MiB level-0 PUT
// took 15-20 % less of the node's CPU this way (docs/DESIGN.md, "Write
// path"). Such a body, when it is a level-0 or write-back one, goes to the
// disk around the page cache (expectCommit), one synchronous write per
// buffer, so the buffer is 1 MiB: in 256 KiB writes the node paid more CPU
// per PUT and took fewer PUTs a second. A streamed upload follows the file
// as it grows and reads it in whole chunks of followedWriteSize bytes
// (internal/s3's aws-chunked framing), so its body is written in writes of
// that size: the upload waits for nothing more than it did, and the origin
// is fed as the bytes arrive.
const (
	copyBufSize       = 32 << 10
	fullWritesMin     = 512 << 10
	fullWriteSize     = 1 << 20
	followedWriteSize = 64 << 10
)

var (
	copyBufs          = newBufPool(copyBufSize)
	fullWriteBufs     = newBufPool(fullWriteSize)
	followedWriteBufs = newBufPool(followedWriteSize)
)

// bufPool is a pool of buffers of one size.
type bufPool struct{ p sync.Pool }

// newBufPool's buffers are aligned for writes around the page cache
// (expectCommit).
func newBufPool(size int) *bufPool {
	return &bufPool{p: sync.Pool{New: func() any { b := durable.AlignedBytes(size); return &b }}}
}

func (b *bufPool) get() *[]byte  { return b.p.Get().(*[]byte) }
func (b *bufPool) put(p *[]byte) { b.p.Put(p) }

// expectCommit tells w, when it can be told (disk.Writer.ExpectCommit),
// that a body of size bytes follows that commitLocal will make durable. A
// body that large is copied in writes of fullWriteSize aligned bytes, which
// the writer may send around the page cache.
func expectCommit(w BodyWriter, size int64) {
	if c, ok := w.(commitExpecter); ok && size >= fullWritesMin {
		c.ExpectCommit(size)
	}
}

// commitExpecter is a BodyWriter that can prepare for a durable commit.
type commitExpecter interface{ ExpectCommit(size int64) }

// copyBody streams the request body into w, and into capture when it is
// set, and returns its first bytes for content sniffing. It enforces the
// size limit and the declared length. followed says something reads w
// while the body arrives (a streamed upload).
func (n *Node) copyBody(w io.Writer, req PutRequest, capture *smallCapture, followed bool) ([]byte, error) {
	body := req.Body
	if n.cfg.MaxObjectSize > 0 {
		body = io.LimitReader(body, n.cfg.MaxObjectSize+1)
	}
	sniff := &prefixWriter{max: 512}
	dst := io.MultiWriter(w, sniff)
	if capture != nil {
		dst = io.MultiWriter(w, sniff, capture)
	}
	pool := copyBufs
	switch {
	case followed:
		pool = followedWriteBufs
	case req.Size >= fullWritesMin:
		pool = fullWriteBufs
	}
	buf := pool.get()
	written, err := copyFullWrites(dst, body, *buf)
	pool.put(buf)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("%w: limit is %d bytes", objstore.ErrTooLarge, tooBig.Limit)
		}
		return nil, err
	}
	if n.cfg.MaxObjectSize > 0 && written > n.cfg.MaxObjectSize {
		return nil, fmt.Errorf("%w: limit is %d bytes", objstore.ErrTooLarge, n.cfg.MaxObjectSize)
	}
	if req.Size >= 0 && written != req.Size {
		return nil, fmt.Errorf("%w: got %d of %d bytes", objstore.ErrIncomplete, written, req.Size)
	}
	return sniff.buf.Bytes(), nil
}

// publish uploads a body to the origin when its level asks for it and then
// records it in the journal, under the key's writer lock so that the origin
// sees the versions of one key in journal order. Put has committed a
// level-0 body already (its fsyncs outside the key lock); at a remote level
// the commit runs beside the upload, so a level raised here is covered too.
// With levelIsFloor, a level raised by a write that landed meanwhile is kept
// rather than refused. small is the bytes of a small level-0 body
// (commitLocal), which the journal keeps beside the record.
func (n *Node) publish(ctx context.Context, rec objstore.Record, body BodyWriter, small []byte, levelIsFloor bool) (objstore.Record, error) {
	unlock := n.lockKey(rec.Key)
	defer unlock()
	prev, hadBody, err := n.admit(ctx, &rec, levelIsFloor)
	switch {
	case errors.Is(err, errOverwritten):
		// A newer write of this key landed while our body was arriving: ours
		// happened, and was overwritten at once.
		n.dropBody(rec)
		return rec, nil
	case err != nil:
		return n.discard(rec, err)
	}
	if rec.Level.Remote() {
		superseded, err := n.commitAndUpload(ctx, rec, body, !hadBody)
		if err != nil {
			return n.discard(rec, fmt.Errorf("node: put %s: %w", rec.Key, err))
		}
		if superseded {
			// A newer write of this key on another node is in the origin
			// already, and its record is on its way here: as above, ours
			// happened and was overwritten at once.
			n.dropBody(rec)
			return rec, nil
		}
		rec.InRemote = true
		small = nil // the origin holds the body now
	}
	return n.record(ctx, rec, prev, hadBody, small)
}

// errOverwritten is admit's answer for a write that a newer one of its key
// overtook while its body was arriving.
var errOverwritten = errors.New("overwritten by a newer write")

// admit decides, under the key lock, whether the write rec may go on: it
// fails with errOverwritten when the journal holds a newer version of the
// key, and with objstore.ErrLevelLowered when the write would lower the
// object's level, unless levelIsFloor, which raises rec.Level instead. It
// returns the journal's record of the key and whether that is a live one.
func (n *Node) admit(ctx context.Context, rec *objstore.Record, levelIsFloor bool) (prev objstore.Record, hadBody bool, err error) {
	prev, err = n.journal.Get(ctx, rec.Key)
	hadBody = err == nil && !prev.Deleted
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return prev, false, nil
	case err != nil:
		return prev, false, fmt.Errorf("node: put %s: %w", rec.Key, err)
	case prev.Version.Compare(rec.Version) > 0:
		return prev, hadBody, errOverwritten
	case hadBody && prev.Level > rec.Level && levelIsFloor:
		rec.Level = prev.Level
	case hadBody && prev.Level > rec.Level:
		return prev, hadBody, fmt.Errorf("%w: %s has level %d", objstore.ErrLevelLowered, rec.Key, prev.Level)
	}
	return prev, hadBody, nil
}

// record journals rec, a write admitted over prev whose body is in place
// (and in the origin at a remote level), and tells the peers.
func (n *Node) record(ctx context.Context, rec, prev objstore.Record, hadBody bool, small []byte) (objstore.Record, error) {
	if _, _, err := n.mergeBody(ctx, rec, small); err != nil {
		if rec.InRemote {
			n.wakeOrphans() // the origin holds what the journal lacks
		}
		return n.discard(rec, fmt.Errorf("node: put %s: %w", rec.Key, err))
	}
	n.bounded.track(rec)
	if hadBody && prev.BodyVersion != rec.BodyVersion {
		n.dropBody(prev)
	}
	n.replicate(rec)
	return rec, nil
}

// discard removes the body of a write that failed and returns err.
func (n *Node) discard(rec objstore.Record, err error) (objstore.Record, error) {
	n.dropBody(rec)
	return objstore.Record{}, err
}

// dropBody removes the local body of rec, logging a failure: a body left
// behind is only wasted space, swept at the next start.
func (n *Node) dropBody(rec objstore.Record) {
	n.bounded.untrack(n.blobs.Name(rec.Key, rec.BodyVersion))
	if err := n.blobs.Remove(rec.Key, rec.BodyVersion); err != nil {
		n.log.Warn("cannot remove body", "key", rec.Key, "err", err)
	}
}

// levelFor is the level a write of key at level gets, decided before the
// body is read: level, or the object's current level when that is higher
// and level is only a floor; a demand for a lower level fails early.
// publish decides again under the key lock.
func (n *Node) levelFor(ctx context.Context, key objstore.Key, level objstore.Level, isFloor bool) (objstore.Level, error) {
	prev, err := n.journal.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return level, nil
	}
	if err != nil {
		return 0, fmt.Errorf("node: put %s: %w", key, err)
	}
	if prev.Deleted || prev.Level <= level {
		return level, nil
	}
	if isFloor {
		return prev.Level, nil
	}
	return 0, fmt.Errorf("%w: %s has level %d", objstore.ErrLevelLowered, key, prev.Level)
}

// SetLevel raises the consistency level of an existing object: at level ≥ 1
// the body is uploaded to the origin before the new record is journaled.
// Asking for the current level changes nothing; a lower one fails with
// objstore.ErrLevelLowered.
func (n *Node) SetLevel(ctx context.Context, key objstore.Key, level objstore.Level) (objstore.Record, error) {
	if level > objstore.MaxLevel {
		return objstore.Record{}, fmt.Errorf("%w: %d", objstore.ErrInvalidLevel, level)
	}
	unlock := n.lockKey(key)
	defer unlock()
	rec, err := n.liveRecord(ctx, key)
	if err != nil {
		return objstore.Record{}, err
	}
	switch {
	case rec.Lost:
		return objstore.Record{}, fmt.Errorf("node: set level %s: %w", key, objstore.ErrLost)
	case level < rec.Level:
		return objstore.Record{}, fmt.Errorf("%w: %s has level %d", objstore.ErrLevelLowered, key, rec.Level)
	case level == rec.Level:
		return rec, nil
	}
	rec.Level, rec.Version = level, n.newVersion()
	if level.Remote() {
		superseded, err := n.uploadExisting(ctx, rec)
		if err != nil {
			return objstore.Record{}, err
		}
		if superseded {
			return rec, nil // a newer write elsewhere replaces this one, as in publish
		}
		rec.InRemote = true
	}
	if _, _, err := n.merge(ctx, rec); err != nil {
		if rec.InRemote {
			n.wakeOrphans()
		}
		return objstore.Record{}, fmt.Errorf("node: set level %s: %w", key, err)
	}
	n.replicate(rec)
	return rec, nil
}

// uploadExisting sends the local body of rec to the origin with rec's
// metadata (the origin copy, if any, gets the new record's version), under
// an intent like a PUT's upload; superseded as upload reports it.
func (n *Node) uploadExisting(ctx context.Context, rec objstore.Record) (superseded bool, err error) {
	f, err := n.blobs.Open(rec.Key, rec.BodyVersion, rec.Sum)
	if err != nil {
		return false, fmt.Errorf("node: set level %s: local body: %w", rec.Key, err)
	}
	defer f.Close()
	superseded, err = n.upload(ctx, rec, f)
	if err != nil {
		return false, fmt.Errorf("node: set level %s: %w", rec.Key, err)
	}
	return superseded, nil
}

// liveRecord returns the journal record of key, or an error wrapping
// objstore.ErrNotFound or objstore.ErrDeleted.
func (n *Node) liveRecord(ctx context.Context, key objstore.Key) (objstore.Record, error) {
	rec, err := n.journal.Get(ctx, key)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: %s: %w", key, err)
	}
	if rec.Deleted {
		return rec, fmt.Errorf("node: %s: %w", key, objstore.ErrDeleted)
	}
	return rec, nil
}

// contentType picks the stored Content-Type: the one given, else by the
// name's extension, else sniffed from the body's first bytes.
func contentType(given, name string, sniff []byte) string {
	if given != "" {
		return given
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(sniff)
}

// prefixWriter keeps the first max bytes written to it.
type prefixWriter struct {
	buf bytes.Buffer
	max int
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// copyFullWrites copies src to dst as io.Copy does, but fills buf before
// each write: every write is len(buf) bytes but the last.
func copyFullWrites(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var written int64
	for {
		n, rerr := readFull(src, buf)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			written += int64(w)
			if werr != nil {
				return written, werr
			}
			if w != n {
				return written, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

// readFull reads from src until buf is full or a read fails, and returns the
// bytes read and that failure (io.EOF at the end). Unlike io.ReadFull it
// passes src's errors on as they are: a body cut short is the reader's
// io.ErrUnexpectedEOF, not the end.
func readFull(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := src.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
