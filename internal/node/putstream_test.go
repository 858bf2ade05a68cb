package node

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/hlc"
)

// streamOrigin is a condOrigin that takes streamed uploads: PutStream reads
// the body as it arrives, closes started at its first byte, checks the
// condition once the body is whole and answers the MD5 ETag of what it got
// (or badETag when set). Its metadata keeps no checksums, as s3's.
type streamOrigin struct {
	*condOrigin
	started   chan struct{}
	startOnce sync.Once
	badETag   bool
	refuse    error // fails every PutStream, after reading its body
	// beforeAnswer, when set, runs once the body is read and before the
	// answer: another write landing meanwhile, say.
	beforeAnswer func()
	streamedMu   sync.Mutex
	streamedNum  int
}

func newStreamOrigin() *streamOrigin {
	return &streamOrigin{condOrigin: &condOrigin{memRemote: newMemRemote()}, started: make(chan struct{})}
}

func (s *streamOrigin) StreamMax() int64 { return 64 << 20 }

func (s *streamOrigin) streamed() int {
	s.streamedMu.Lock()
	defer s.streamedMu.Unlock()
	return s.streamedNum
}

func (s *streamOrigin) PutStream(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) (string, error) {
	if rec.Sum.MD5 != (objstore.MD5{}) {
		return "", fmt.Errorf("a streamed upload with checksums known at its start: %+v", rec.Sum)
	}
	b := make([]byte, rec.Size())
	for off := int64(0); off < rec.Size(); {
		n := min(int64(32<<10), rec.Size()-off)
		if _, err := body.ReadAt(b[off:off+n], off); err != nil && err != io.EOF {
			return "", err // cut short: nothing lands
		}
		s.startOnce.Do(func() { close(s.started) })
		off += n
	}
	if s.beforeAnswer != nil {
		s.beforeAnswer()
	}
	if s.refuse != nil {
		return "", s.refuse
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := ""
	if o, err := s.lookup(rec.Key); err == nil {
		cur = o.rec.Version.String()
	}
	if cur != etag {
		return "", fmt.Errorf("mem: put %s: %w", rec.Key, objstore.ErrOriginChanged)
	}
	if err := s.memRemote.Put(ctx, rec, bytes.NewReader(b)); err != nil {
		return "", err
	}
	s.streamedMu.Lock()
	s.streamedNum++
	s.streamedMu.Unlock()
	sum := md5.Sum(b)
	if s.badETag {
		sum[0]++
	}
	return `"` + hex.EncodeToString(sum[:]) + `"`, nil
}

// halfway is a request body that hands out its first half, then waits for
// release before the rest; with fail set, it fails there instead.
type halfway struct {
	b       []byte
	off     int
	release chan struct{}
	fail    error
}

func (h *halfway) Read(p []byte) (int, error) {
	if h.off == len(h.b)/2 {
		<-h.release
		if h.fail != nil {
			return 0, h.fail
		}
	}
	end := len(h.b)
	if h.off < len(h.b)/2 {
		end = len(h.b) / 2
	}
	if h.off == len(h.b) {
		return 0, io.EOF
	}
	n := copy(p, h.b[h.off:end])
	h.off += n
	return n, nil
}

// putAsync starts a level-1 PUT of body (Read by r) and returns its answer.
func putAsync(on *testNode, key objstore.Key, size int, r io.Reader, verify func(objstore.Checksum) error) chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := on.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(size), Body: r, Verify: verify})
		errc <- err
	}()
	return errc
}

func waitStarted(t *testing.T, origin *streamOrigin) {
	t.Helper()
	select {
	case <-origin.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload did not start before the body was whole")
	}
}

// A large level-1 body is uploaded while it arrives: the origin reads its
// first half before the client has sent the second. The journal's record
// has the body's checksums, the origin's object the bytes. A body that one
// copy buffer holds is held in memory on its way (disk.Writer.Hold), a
// larger one is read back from its file.
func TestStreamedUploadStartsBeforeTheBodyEnds(t *testing.T) {
	for _, size := range []int{streamUploadMin, fullWriteSize, 3*fullWriteSize + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testStreamedUploadStarts(t, size) })
	}
}

func testStreamedUploadStarts(t *testing.T, size int) {
	origin := newStreamOrigin()
	on := newOverlapNode(t, nil, origin)
	key, body := newKey(), randomBody(size)
	h := &halfway{b: body, release: make(chan struct{})}
	errc := putAsync(on, key, len(body), h, nil)
	waitStarted(t, origin)
	close(h.release)
	if err := <-errc; err != nil {
		t.Fatalf("PUT: %v", err)
	}
	rec, err := on.journal.Get(context.Background(), key)
	if err != nil || !rec.InRemote || rec.Sum.MD5 != md5.Sum(body) || rec.Sum.Size != int64(len(body)) {
		t.Fatalf("record after a streamed PUT: %+v (%v)", rec, err)
	}
	o, err := origin.lookup(key)
	if err != nil || !bytes.Equal(o.body, body) || o.rec.Version != rec.Version {
		t.Fatalf("origin after a streamed PUT: version %v, same bytes %v (%v); journal %v", o.rec.Version, bytes.Equal(o.body, body), err, rec.Version)
	}
	if local, _, err := read(t, on, key, false); err != nil || !bytes.Equal(local, body) {
		t.Fatalf("local read: %v", err)
	}
	if n := countIntents(t, on); n != 0 {
		t.Errorf("%d upload intents left after a streamed PUT", n)
	}
}

func countIntents(t *testing.T, on *testNode) int {
	t.Helper()
	n := 0
	if err := on.journal.Intents(context.Background(), func(objstore.Key, objstore.Version) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A streamed body that the client cuts short, or whose Content-MD5 fails,
// leaves nothing: no record, no body, nothing in the origin, no intent.
func TestStreamedUploadOfAFailedBodyLeavesNothing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fail   error
		verify func(objstore.Checksum) error
	}{
		{"cut", io.ErrUnexpectedEOF, nil},
		{"content-md5", nil, func(objstore.Checksum) error { return errors.New("content-md5 mismatch") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			origin := newStreamOrigin()
			on := newOverlapNode(t, nil, origin)
			key, body := newKey(), randomBody(600_000)
			h := &halfway{b: body, release: make(chan struct{}), fail: tt.fail}
			errc := putAsync(on, key, len(body), h, tt.verify)
			waitStarted(t, origin)
			close(h.release)
			if err := <-errc; err == nil {
				t.Fatal("PUT of a failed body: no error")
			}
			assertNothingVisible(t, on, key, origin.memRemote)
			if n := countIntents(t, on); n != 0 {
				t.Errorf("%d upload intents left", n)
			}
		})
	}
}

// Of two streamed PUTs of one key, the one that started first and finished
// last wins, as on S3: it finds the other's newer version in the journal
// and is uploaded again under a new one.
func TestStreamedUploadFinishingLastWins(t *testing.T) {
	origin := newStreamOrigin()
	on := newOverlapNode(t, nil, origin)
	key, first := finishLastStreamed(t, on, origin)
	o, err := origin.lookup(key)
	if err != nil || !bytes.Equal(o.body, first) {
		t.Fatalf("the origin holds the body that finished first (%v)", err)
	}
	rec, err := on.journal.Get(context.Background(), key)
	if err != nil || rec.Version != o.rec.Version || rec.Sum.MD5 != md5.Sum(first) {
		t.Fatalf("journal %v (%v), origin %v", rec.Version, err, o.rec.Version)
	}
	if local, _, err := read(t, on, key, false); err != nil || !bytes.Equal(local, first) {
		t.Fatalf("local read after the race: %v", err)
	}
}

// finishLastStreamed races two level-1 PUTs of a new key on on: a streamed
// one that starts first and is held halfway until a second, smaller one
// has finished. It returns the key and the first PUT's body, the one that
// finished last and must win.
func finishLastStreamed(t *testing.T, on *testNode, origin *streamOrigin) (objstore.Key, []byte) {
	t.Helper()
	key := newKey()
	first, second := randomBody(700_000), randomBody(500_000)
	h := &halfway{b: first, release: make(chan struct{})}
	errc := putAsync(on, key, len(first), h, nil)
	waitStarted(t, origin)
	put(t, on, key, second, objstore.LevelS3)
	close(h.release)
	if err := <-errc; err != nil {
		t.Fatalf("first PUT: %v", err)
	}
	return key, first
}

// An origin that answers a streamed upload with an ETag other than the
// body's MD5 (it stored other bytes), or refuses it, gets the body again
// whole; streaming is then off for the node. So it is when the refusal
// comes after streamed uploads that landed, once the node takes the
// origin's ETags instead of computing MD5s (tests/integration,
// TestStreamedUpload, found it left on then).
func TestStreamedUploadRefusedGoesWhole(t *testing.T) {
	refusal := fmt.Errorf("InvalidArgument: %w", objstore.ErrNoRemote)
	for _, tt := range []struct {
		name   string
		origin func() *streamOrigin
		// landed: a streamed upload lands before the origin turns bad.
		landed bool
	}{
		{"etag", func() *streamOrigin { o := newStreamOrigin(); o.badETag = true; return o }, false},
		{"refused", func() *streamOrigin { o := newStreamOrigin(); o.refuse = refusal; return o }, false},
		{"refused once trusted", newStreamOrigin, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			origin := tt.origin()
			on := newOverlapNode(t, nil, origin)
			if tt.landed {
				put(t, on, newKey(), randomBody(300_000), objstore.LevelS3)
				if origin.streamed() != 1 || !on.streamTrusted.Load() {
					t.Fatalf("%d streamed uploads, trusted %v; want 1 that the node trusts", origin.streamed(), on.streamTrusted.Load())
				}
				origin.refuse = refusal
			}
			key, body := newKey(), randomBody(400_000)
			put(t, on, key, body, objstore.LevelS3)
			o, err := origin.lookup(key)
			rec, jerr := on.journal.Get(context.Background(), key)
			if err != nil || jerr != nil || !bytes.Equal(o.body, body) || o.rec.Version != rec.Version {
				t.Fatalf("after the fallback: origin %v (%v), journal %v (%v)", o.rec.Version, err, rec.Version, jerr)
			}
			if o.rec.Sum.MD5 != md5.Sum(body) {
				t.Error("the whole-body upload carries no MD5")
			}
			if !on.streamOff.Load() {
				t.Error("streaming still on after the origin refused it")
			}
			before := origin.streamed()
			put(t, on, newKey(), body, objstore.LevelS3)
			if origin.streamed() != before {
				t.Error("a PUT streamed after streaming was turned off")
			}
		})
	}
}

// A streamed upload that fails with a 412, or without a clear answer (a
// proxy's 502 for an origin that refused its condition and dropped the
// connection) while another write landed in the origin, lost a race: the
// write goes again whole and wins, and streaming stays on. (Turning it off
// here was seen in tests/integration's TestOneWinner.) The other write's
// version is an hour ahead of this node's clock, from a peer whose clock
// runs fast: the write that finished last still wins because the node's
// clock observed it.
func TestStreamedUploadLostRaceKeepsStreaming(t *testing.T) {
	for name, answer := range map[string]error{
		"no clear answer": errors.New("502 Bad Gateway"),
		"412":             fmt.Errorf("mem: put: %w", objstore.ErrOriginChanged),
	} {
		t.Run(name, func(t *testing.T) { lostRaceKeepsStreaming(t, answer) })
	}
}

// lostRaceKeepsStreaming is TestStreamedUploadLostRaceKeepsStreaming with
// the origin answering the streamed upload with answer.
func lostRaceKeepsStreaming(t *testing.T, answer error) {
	origin := newStreamOrigin()
	on := newOverlapNode(t, nil, origin)
	key, body := newKey(), randomBody(400_000)
	origin.refuse = answer
	origin.beforeAnswer = func() {
		origin.beforeAnswer = nil
		other := []byte("another node's write")
		rec := objstore.Record{Key: key, Level: objstore.LevelS3, Sum: objstore.Checksum{Size: int64(len(other))},
			Version: objstore.Version{HLC: hlc.FromTime(time.Now().Add(time.Hour)), Node: "01HZX3K9V7Q2M8N4P6R1S5T0ZZ"}}
		rec.BodyVersion = rec.Version
		if err := origin.memRemote.Put(context.Background(), rec, bytes.NewReader(other)); err != nil {
			t.Error(err)
		}
	}
	put(t, on, key, body, objstore.LevelS3)
	o, err := origin.lookup(key)
	rec, jerr := on.journal.Get(context.Background(), key)
	if err != nil || jerr != nil || !bytes.Equal(o.body, body) || o.rec.Version != rec.Version {
		t.Fatalf("after the lost race: origin %v (%v), journal %v (%v)", o.rec.Version, err, rec.Version, jerr)
	}
	if on.streamOff.Load() {
		t.Fatal("streaming turned off by a lost race")
	}
	// One HEAD tells the lost race (originMoved) or reads the version that
	// won, one more the whole-body upload's condition after its
	// If-None-Match failed.
	if heads := origin.heads.Load(); heads != 2 {
		t.Errorf("the lost race read the origin %d times, want 2", heads)
	}
	origin.refuse = nil
	put(t, on, newKey(), body, objstore.LevelS3)
	if origin.streamed() != 1 {
		t.Fatalf("%d streamed uploads after the lost race, want 1", origin.streamed())
	}
}

// Concurrent streamed and whole-body PUTs of one key leave the origin and
// the journal on the same version and bytes.
func TestStreamedUploadsOneWinner(t *testing.T) {
	origin := newStreamOrigin()
	putConcurrentlyOneWinner(t, newOverlapNode(t, nil, origin), origin.lookup, 10, func(round, w int) int {
		return 100_000 + (round*7919+w*104729)%500_000
	})
}

// Once a streamed upload's ETag matched the MD5 computed here, later
// streamed bodies skip their own MD5 and take the origin's: the record's
// ETag is still the body's MD5. A PUT with a Content-MD5 to check still
// computes it.
func TestStreamedUploadTakesTheMD5FromTheOrigin(t *testing.T) {
	origin := newStreamOrigin()
	on := newOverlapNode(t, nil, origin)
	put(t, on, newKey(), randomBody(300_000), objstore.LevelS3)
	if !on.streamTrusted.Load() {
		t.Fatal("the origin's ETag matched the body's MD5, and the node does not trust it")
	}
	key, body := newKey(), randomBody(500_000)
	if rec := put(t, on, key, body, objstore.LevelS3); rec.Sum.MD5 != md5.Sum(body) {
		t.Fatalf("record of a body that skipped its MD5: %s, want %x", rec.Sum.MD5, md5.Sum(body))
	}
	if rec, err := on.journal.Get(context.Background(), key); err != nil || rec.Sum.MD5 != md5.Sum(body) {
		t.Fatalf("journal record %s (%v), want MD5 %x", rec.Sum.MD5, err, md5.Sum(body))
	}
	var checked objstore.MD5
	_, err := on.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body),
		Verify: func(sum objstore.Checksum) error { checked = sum.MD5; return nil }})
	if err != nil || checked != md5.Sum(body) {
		t.Fatalf("Verify saw MD5 %s (PUT: %v), want %x", checked, err, md5.Sum(body))
	}
	if origin.streamed() != 3 {
		t.Errorf("%d of 3 PUTs streamed", origin.streamed())
	}
}

// A streamed write that must go again whole after MD5 skipping was on (it
// lost a race) uploads and records the body's MD5, never a zero one.
func TestStreamedUploadGoingWholeKeepsItsMD5(t *testing.T) {
	origin := newStreamOrigin()
	on := newOverlapNode(t, nil, origin)
	on.streamTrusted.Store(true)
	key, first := finishLastStreamed(t, on, origin)
	o, err := origin.lookup(key)
	if err != nil || !bytes.Equal(o.body, first) || o.rec.Sum.MD5 != md5.Sum(first) {
		t.Fatalf("origin: same bytes %v, MD5 %s (%v), want %x", bytes.Equal(o.body, first), o.rec.Sum.MD5, err, md5.Sum(first))
	}
	rec, err := on.journal.Get(context.Background(), key)
	if err != nil || rec.Sum.MD5 != md5.Sum(first) {
		t.Fatalf("journal MD5 %s (%v), want %x", rec.Sum.MD5, err, md5.Sum(first))
	}
}

// bucketOrigin is a streamOrigin with a bucket that can be deleted: a
// whole-body upload into a deleted bucket fails, and a streamed one that
// started before the delete lands and brings the bucket back, as with
// versitygw (it checks the bucket when an upload starts and creates the
// object's directories when it ends).
type bucketOrigin struct {
	*streamOrigin
	gone atomic.Bool
}

func (b *bucketOrigin) ListBuckets(context.Context) ([]objstore.Bucket, error) { return nil, nil }
func (b *bucketOrigin) CreateBucket(context.Context, string) error             { return nil }
func (b *bucketOrigin) HeadBucket(context.Context, string) error               { return nil }
func (b *bucketOrigin) List(context.Context, string, objstore.ListQuery) (objstore.ListPage, error) {
	return objstore.ListPage{}, nil
}

func (b *bucketOrigin) DeleteBucket(context.Context, string) error {
	b.gone.Store(true)
	return nil
}

func (b *bucketOrigin) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	if b.gone.Load() {
		return fmt.Errorf("NoSuchBucket: %w", objstore.ErrNoRemote)
	}
	return b.streamOrigin.Put(ctx, rec, body)
}

func (b *bucketOrigin) PutIf(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) error {
	if b.gone.Load() {
		return fmt.Errorf("NoSuchBucket: %w", objstore.ErrNoRemote)
	}
	return b.streamOrigin.PutIf(ctx, rec, body, etag)
}

func (b *bucketOrigin) PutStream(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) (string, error) {
	etag, err := b.streamOrigin.PutStream(ctx, rec, body, etag)
	if err == nil {
		b.gone.Store(false)
	}
	return etag, err
}

// Deleting a bucket while a streamed upload into it is under way cuts the
// upload, and the write fails as a whole-body one would: the bucket is not
// brought back and the object lands nowhere (s3-tests
// test_atomic_write_bucket_gone).
func TestDeleteBucketCutsItsStreamedUploads(t *testing.T) {
	origin := &bucketOrigin{streamOrigin: newStreamOrigin()}
	on := newOverlapNode(t, nil, origin)
	key, body := newKey(), randomBody(1<<20)
	h := &halfway{b: body, release: make(chan struct{})}
	errc := putAsync(on, key, len(body), h, nil)
	waitStarted(t, origin.streamOrigin)
	if err := on.DeleteBucket(context.Background(), key.Bucket); err != nil {
		t.Fatalf("DeleteBucket during a streamed PUT: %v", err)
	}
	close(h.release)
	err := <-errc
	if !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("PUT into a bucket deleted meanwhile: %v, want the origin's refusal", err)
	}
	if !origin.gone.Load() {
		t.Error("the streamed upload brought the deleted bucket back")
	}
	assertNothingVisible(t, on, key, origin.memRemote)
	if on.streamOff.Load() {
		t.Error("a bucket's delete turned streaming off")
	}
	// Once the delete is over, streams into other buckets go on.
	other := objstore.Key{Bucket: key.Bucket + "-other", ID: "x"}
	before := origin.streamed()
	put(t, on, other, randomBody(400_000), objstore.LevelS3)
	if origin.streamed() != before+1 {
		t.Error("a PUT after the delete did not stream")
	}
}
