package node

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"sphere.software/objstore"
)

// streamUploadMin is the smallest body that a level-≥1 PUT uploads while it
// is still arriving (putStream): a smaller one is whole after a few reads,
// and its upload keeps its checksums in the origin's metadata.
const streamUploadMin = 256 << 10

// StreamingRemote is an origin that takes an upload of a body that is
// still arriving (internal/s3's PutStream): rec.Sum holds only the size, the
// body's reads wait for its bytes, and the answer is the origin's ETag of
// what it received, to be compared with the body's MD5 once known.
type StreamingRemote interface {
	ConditionalRemote
	PutStream(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) (string, error)
	// StreamMax is the largest body PutStream takes.
	StreamMax() int64
}

// streamingRemote returns the origin when req's upload can start before
// its body is whole: a synchronous remote level, a declared size of at
// least streamUploadMin and at most what one origin PUT takes.
func (n *Node) streamingRemote(req PutRequest) (StreamingRemote, bool) {
	if !req.Level.Remote() || req.WriteBack || req.Size < streamUploadMin {
		return nil, false
	}
	sr, ok := n.remote.(StreamingRemote)
	if !ok || req.Size > sr.StreamMax() || n.streamOff.Load() {
		return nil, false
	}
	return sr, true
}

// putStream is Put's path for a body whose upload starts with its first
// bytes rather than after its last (docs/DESIGN.md, "Streamed upload"):
// the client's bytes go to the local file and on to the origin at once, so
// a large level-1 PUT takes about as long as the origin's PUT alone. A body
// of at most fullWriteSize bytes is held in a pooled buffer on its way
// (disk.Writer.Hold; Put lends it, holdStreamed) and reaches the file only
// at its commit, beside the upload's end and around the page cache: its
// bytes take no page cache, where they used to take it twice on a machine
// that runs the origin too, and the upload reads them from memory. The
// guarantees of the whole-body path hold because the upload's last byte
// waits (tailGate) until:
//   - the body is complete and verified: a body cut short or failing its
//     Content-MD5 never reaches the origin whole, so the origin keeps
//     nothing;
//   - the upload's intent is durable ("No orphans");
//   - the write is admitted under the key lock. The record's version is
//     stamped when the body starts (the origin's metadata is sent first),
//     where the whole-body path stamps it at the end so that the write
//     that finishes last wins. So a write that finds a newer version of
//     its key in the journal or in the origin, one that finished first,
//     takes a new version and is uploaded again the whole-body way
//     (restamp): the last to finish still wins, and the origin and the
//     journals still agree on it ("One winner").
//
// The origin's metadata then carries no checksums (s3's PutStream); the
// ETag it answers is compared with the body's MD5, and a difference sends
// the body again the whole-body way. Once an ETag matched, the origin is
// trusted and the node no longer hashes streamed bodies with MD5, the
// larger part of its CPU per byte: it takes the origin's (takeETag).
func (n *Node) putStream(ctx context.Context, req PutRequest, v objstore.Version, w BodyWriter, sr StreamingRemote) (objstore.Record, error) {
	if skip, ok := w.(md5Skipper); ok && req.Verify == nil && n.streamTrusted.Load() {
		skip.SkipMD5()
	}
	s := n.startStream(ctx, req, v, w, sr)
	sniff, err := n.copyBody(s.body, req, nil, true)
	s.body.finish(err)
	var sum objstore.Checksum
	if err == nil {
		sum = w.Sum()
		if req.Verify != nil {
			err = req.Verify(sum)
		}
	}
	if err != nil {
		n.abortStream(ctx, s, err)
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err) // Close discards the body
	}
	rec := objstore.Record{
		Key: req.Key, Name: req.Name, UserMeta: req.UserMeta, Headers: req.Headers, Level: req.Level,
		ContentType: contentType(req.ContentType, req.Name, sniff),
		Sum:         sum, Version: v, BodyVersion: v,
	}
	got, restamp := n.publishStream(ctx, rec, w, s, req.LevelIsFloor)
	if !errors.Is(restamp, errRestamp) {
		return got, restamp
	}
	rec.Version = n.newVersion()
	if rec.Sum.MD5 == (objstore.MD5{}) {
		// Skipped (takeETag): the whole-body upload sends it, and the
		// record keeps it.
		if rec.Sum.MD5, err = readMD5(w, rec.Sum.Size); err != nil {
			return n.discard(rec, fmt.Errorf("node: put %s: read back the body: %w", rec.Key, err))
		}
	}
	got, err = n.publish(ctx, rec, w, nil, req.LevelIsFloor)
	if err == nil && errors.Is(restamp, errStreamRefused) && !n.streamOff.Swap(true) {
		// The origin took the body whole but not streamed: it does not
		// do the framing (or stores it as the object's bytes, which the
		// ETag showed). Whole-body uploads from now on, as before.
		n.log.Warn("the origin refused a streamed upload that it took whole; large uploads start after their body from now on", "key", rec.Key, "err", restamp)
	}
	return got, err
}

// errStreamRefused marks a restamp after the origin failed a streamed
// upload, or landed other bytes than the body's (putStream).
var errStreamRefused = errors.New("streamed upload refused")

// errRestamp stops a streamed upload that must take a new version and go
// the whole-body way (putStream).
var errRestamp = errors.New("streamed upload restamped")

// errBucketDeleting cuts the streamed uploads into a bucket being deleted
// (streamSet.cutBucket).
var errBucketDeleting = errors.New("the bucket is being deleted")

// stream is one upload of a body that is still arriving.
type stream struct {
	body   *bodyFollower
	gate   *tailGate
	cancel context.CancelCauseFunc
	// cut is set when the bucket's delete stopped the upload: the write
	// goes again the whole-body way, which finds the bucket gone.
	cut    atomic.Bool
	ended  chan struct{} // closed when the upload is over
	intent chan error    // PutIntent's answer
	up     chan streamResult
	origin StreamingRemote
	key    objstore.Key
	v      objstore.Version
	// condETag is the ETag the upload was conditional on, "" for none
	// there; set by streamOrigin before the upload, read after s.up.
	condETag string
}

type streamResult struct {
	etag string
	err  error
}

// startStream records the upload intent of version v and starts the upload
// of the body that w is about to receive, as rec will hold it: it waits
// for the body's first bytes, which the content type may be sniffed from.
func (n *Node) startStream(ctx context.Context, req PutRequest, v objstore.Version, w BodyWriter, sr StreamingRemote) *stream {
	upCtx, cancel := context.WithCancelCause(ctx)
	body := newBodyFollower(upCtx, w, req.Size)
	s := &stream{
		body: body, gate: newTailGate(upCtx, body, req.Size), cancel: cancel, ended: make(chan struct{}),
		intent: make(chan error, 1), up: make(chan streamResult, 1), origin: sr, key: req.Key, v: v,
	}
	n.streams.add(s)
	go func() { s.intent <- n.journal.PutIntent(ctx, req.Key, v) }()
	go func() {
		etag, err := n.streamOrigin(upCtx, req, v, s, sr)
		n.streams.remove(s)
		close(s.ended)
		s.up <- streamResult{etag, err}
	}()
	return s
}

// streamOrigin is the upload of a stream: conditional on the object the
// origin holds, as putOrigin's, but with one try; a newer version there
// fails it with errRestamp before it starts.
func (n *Node) streamOrigin(ctx context.Context, req PutRequest, v objstore.Version, s *stream, sr StreamingRemote) (string, error) {
	sniff := make([]byte, min(req.Size, 512))
	if _, err := s.body.ReadAt(sniff, 0); err != nil {
		return "", err
	}
	rec := objstore.Record{
		Key: req.Key, Name: req.Name, UserMeta: req.UserMeta, Headers: req.Headers, Level: req.Level,
		ContentType: contentType(req.ContentType, req.Name, sniff),
		Sum:         objstore.Checksum{Size: req.Size}, Version: v, BodyVersion: v,
	}
	var etag string
	if prev, err := n.journal.Get(ctx, req.Key); err == nil && !prev.Deleted {
		got, e, err := sr.StatETag(ctx, req.Key)
		switch {
		case errors.Is(err, objstore.ErrNotFound):
		case err != nil:
			return "", err
		case decideUpload(v, got, true) != stepPut:
			n.clock.Observe(got.Version.HLC)
			return "", errRestamp
		default:
			etag = e
		}
	}
	s.condETag = etag
	return sr.PutStream(ctx, rec, s.gate, etag)
}

// abortStream stops a stream before its last byte: the upload fails with
// err, so nothing lands, and its intent has nothing to settle.
func (n *Node) abortStream(ctx context.Context, s *stream, err error) {
	s.cancel(err)
	s.gate.open(err)
	<-s.up
	if <-s.intent == nil {
		n.dropIntent(ctx, objstore.Record{Key: s.key, Version: s.v})
	}
}

// publishStream is publish for a stream: under the key lock it admits the
// write, commits the local copy, lets the upload's last byte go once the
// intent is durable and journals the record when the upload landed. It
// fails with errRestamp, after dropping whatever the stream started, when
// the write must take a new version and be uploaded again (putStream).
func (n *Node) publishStream(ctx context.Context, rec objstore.Record, w BodyWriter, s *stream, levelIsFloor bool) (objstore.Record, error) {
	unlock := n.lockKey(rec.Key)
	defer unlock()
	level := rec.Level
	prev, hadBody, err := n.admit(ctx, &rec, levelIsFloor)
	switch {
	case errors.Is(err, errOverwritten) || err == nil && rec.Level != level:
		// A write that started after this one finished first, or raised
		// the level that the origin's metadata was sent with.
		n.abortStream(ctx, s, errRestamp)
		return rec, errRestamp
	case err != nil:
		n.abortStream(ctx, s, err)
		return n.discard(rec, err)
	}
	committed := make(chan error, 1)
	go func() {
		_, err := w.CommitCopy()
		if err != nil {
			s.cancel(err) // the PUT fails: better the upload does not land
		}
		committed <- err
	}()
	intentErr := <-s.intent
	s.gate.open(intentErr)
	up := <-s.up
	commitErr := <-committed
	switch {
	case intentErr != nil:
		// Nothing landed: the body's last byte never left.
		return n.discard(rec, fmt.Errorf("node: put %s: record upload intent: %w", rec.Key, intentErr))
	case commitErr != nil:
		n.wakeOrphans() // the upload was canceled, or landed unrecorded
		return n.discard(rec, fmt.Errorf("node: put %s: %w", rec.Key, commitErr))
	case up.err != nil || !n.takeETag(&rec.Sum, up.etag, w):
		// Refused, or lost to a write that landed meanwhile, or the origin
		// got other bytes: the whole-body upload reads the origin again and
		// settles it. This intent stays, for the reconciler to settle
		// should this upload have landed after all.
		n.wakeOrphans()
		switch {
		case errors.Is(up.err, errRestamp):
			return rec, up.err
		case s.cut.Load():
			return rec, fmt.Errorf("%w: %w", errRestamp, errBucketDeleting)
		case n.lostRace(ctx, s, rec, up.err):
			// Not the framing's fault: streaming stays on.
			return rec, fmt.Errorf("%w: %w", errRestamp, up.err)
		case up.err == nil:
			return rec, fmt.Errorf("%w: %w: the origin's ETag is %s, the body's MD5 %s", errRestamp, errStreamRefused, up.etag, rec.Sum.ETag())
		}
		return rec, fmt.Errorf("%w: %w: %w", errRestamp, errStreamRefused, up.err)
	}
	rec.InRemote = true
	return n.record(ctx, rec, prev, hadBody, nil)
}

// lostRace reports whether the stream's upload of rec, which failed with
// err, lost to a write that landed meanwhile: with a 412, or without a
// clear answer while the object in the origin changed (an origin that
// refuses a condition before the body may drop the connection: a transport
// error, or a proxy's 502; originMoved). The clock then observes the
// version the origin holds, so that the restamped write is newer than it.
func (n *Node) lostRace(ctx context.Context, s *stream, rec objstore.Record, err error) bool {
	var got objstore.Record
	switch {
	case errors.Is(err, objstore.ErrOriginChanged):
		if now, _, err := s.origin.StatETag(ctx, rec.Key); err == nil {
			got = now
		}
	case err != nil:
		var moved bool
		if got, moved = n.originMoved(ctx, s.origin, rec, s.condETag != "", s.condETag); !moved {
			return false
		}
	default:
		return false
	}
	n.clock.Observe(got.Version.HLC)
	return true
}

// holdStreamed has w hold a streamed body of size bytes in a buffer from
// fullWriteBufs when one holds it whole (disk.Writer's Hold) and returns
// that buffer, which the caller puts back once w is closed; else nil.
func holdStreamed(w BodyWriter, size int64) *[]byte {
	h, ok := w.(bodyHolder)
	if !ok || size < 0 || size > fullWriteSize {
		return nil
	}
	buf := fullWriteBufs.get()
	h.Hold((*buf)[:size])
	return buf
}

// md5Skipper is a BodyWriter that can leave the MD5 to someone else
// (disk.Writer's SkipMD5).
type md5Skipper interface{ SkipMD5() }

// bodyHolder is a BodyWriter that can keep a body in memory until its
// commit (disk.Writer's Hold).
type bodyHolder interface{ Hold(buf []byte) }

// takeETag checks the origin's ETag of a streamed upload against sum, the
// body's: the ETag of a single PUT is the MD5 of what the origin got. Once
// one upload's ETag matched the MD5 computed here, the origin is trusted
// to frame streamed uploads right (it checks their trailing CRC-32C), and
// later bodies skip their own MD5 (putStream): then sum takes the ETag's,
// or, when the origin's ETags are not MD5s, one read back from body.
func (n *Node) takeETag(sum *objstore.Checksum, etag string, body io.ReaderAt) bool {
	var got objstore.MD5
	parsed := got.UnmarshalText([]byte(strings.Trim(etag, `"`))) == nil
	if sum.MD5 != (objstore.MD5{}) {
		if parsed && got == sum.MD5 {
			n.streamTrusted.Store(true)
		}
		return parsed && got == sum.MD5
	}
	if parsed {
		sum.MD5 = got
		return true
	}
	var err error
	sum.MD5, err = readMD5(body, sum.Size)
	return err == nil
}

// readMD5 is the MD5 of the size bytes of body, for a body written without
// one (md5Skipper).
func readMD5(body io.ReaderAt, size int64) (objstore.MD5, error) {
	var sum objstore.MD5
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(body, 0, size)); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// streamSet is the streamed uploads in flight, by bucket. An upload
// started before its bucket was deleted can bring the bucket back: an
// origin such as versitygw checks the bucket when the upload starts and
// creates the object's directories when it ends. So a bucket's delete
// cuts its streams first, and the writes go again the whole-body way,
// which finds the bucket gone (s3-tests test_atomic_write_bucket_gone).
type streamSet struct {
	mu       sync.Mutex
	byBucket map[string]map[*stream]struct{}
	deleting map[string]int
}

// add registers s; a stream into a bucket being deleted is cut at once.
func (ss *streamSet) add(s *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	b := s.key.Bucket
	if ss.deleting[b] > 0 {
		s.cutOff()
		return
	}
	if ss.byBucket == nil {
		ss.byBucket = make(map[string]map[*stream]struct{})
	}
	if ss.byBucket[b] == nil {
		ss.byBucket[b] = make(map[*stream]struct{})
	}
	ss.byBucket[b][s] = struct{}{}
}

func (ss *streamSet) remove(s *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	b := s.key.Bucket
	delete(ss.byBucket[b], s)
	if len(ss.byBucket[b]) == 0 {
		delete(ss.byBucket, b)
	}
}

// cutBucket cuts the streams into bucket and waits until their uploads
// are over (one whose last byte had left may have landed: the bucket's
// delete then finds it); streams that start before done is called are cut
// as they start.
func (ss *streamSet) cutBucket(ctx context.Context, bucket string) (done func(), err error) {
	ss.mu.Lock()
	if ss.deleting == nil {
		ss.deleting = make(map[string]int)
	}
	ss.deleting[bucket]++
	var ended []chan struct{}
	for s := range ss.byBucket[bucket] {
		s.cutOff()
		ended = append(ended, s.ended)
	}
	ss.mu.Unlock()
	done = func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.deleting[bucket]--; ss.deleting[bucket] == 0 {
			delete(ss.deleting, bucket)
		}
	}
	for _, e := range ended {
		select {
		case <-e:
		case <-ctx.Done():
			done()
			return nil, ctx.Err()
		}
	}
	return done, nil
}

func (s *stream) cutOff() {
	s.cut.Store(true)
	s.cancel(errBucketDeleting)
}

// bodyFollower is a body being written that can be read while it arrives:
// a read past the bytes written so far waits for them. Write and finish
// are called by the writer; ReadAt by anyone.
type bodyFollower struct {
	w    BodyWriter
	ctx  context.Context
	size int64

	mu      sync.Mutex
	written int64
	done    bool
	err     error
	more    chan struct{} // closed at the next Write or finish
}

func newBodyFollower(ctx context.Context, w BodyWriter, size int64) *bodyFollower {
	return &bodyFollower{w: w, ctx: ctx, size: size, more: make(chan struct{})}
}

func (f *bodyFollower) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.mu.Lock()
	f.written += int64(n)
	f.wakeLocked()
	f.mu.Unlock()
	return n, err
}

// finish says the body is over, with the error that ended it if any.
func (f *bodyFollower) finish(err error) {
	f.mu.Lock()
	f.done, f.err = true, err
	f.wakeLocked()
	f.mu.Unlock()
}

func (f *bodyFollower) wakeLocked() {
	close(f.more)
	f.more = make(chan struct{})
}

// ReadAt reads p from off once those bytes are written (or the body is
// over), like the file's ReadAt; a failed body fails the read.
func (f *bodyFollower) ReadAt(p []byte, off int64) (int, error) {
	want := min(off+int64(len(p)), f.size)
	for {
		f.mu.Lock()
		written, done, err, more := f.written, f.done, f.err, f.more
		f.mu.Unlock()
		switch {
		case err != nil:
			return 0, fmt.Errorf("body: %w", err)
		case written >= want || done:
			return f.w.ReadAt(p, off)
		}
		select {
		case <-more:
		case <-f.ctx.Done():
			return 0, f.ctx.Err()
		}
	}
}
