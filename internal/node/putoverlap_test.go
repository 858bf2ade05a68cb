package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
)

// newOverlapNode is a node over origin whose journal wrap wraps (nil: none).
func newOverlapNode(t *testing.T, wrap func(Journal) Journal, origin Remote) *testNode {
	t.Helper()
	return openNode(t, t.TempDir(), nil, nodeSetup{origin: origin, journal: wrap})
}

// assertNothingVisible checks that a failed PUT of key left no record, no
// body on disk and nothing in origin.
func assertNothingVisible(t *testing.T, on *testNode, key objstore.Key, origin *memRemote) {
	t.Helper()
	if _, err := on.Head(context.Background(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("record after a failed PUT: %v", err)
	}
	if u, _ := on.blobs.Usage(); u.Bodies != 0 {
		t.Errorf("%d bodies left on disk after a failed PUT", u.Bodies)
	}
	if origin.has(key) {
		t.Error("the origin holds the object of a failed PUT")
	}
}

// cutOrigin reads the first half of each upload's body and then fails, as
// an origin whose connection breaks mid-body.
type cutOrigin struct{ *memRemote }

func (c cutOrigin) Put(_ context.Context, rec objstore.Record, body io.ReaderAt) error {
	half := make([]byte, rec.Size()/2)
	if _, err := body.ReadAt(half, 0); err != nil {
		return err
	}
	return fmt.Errorf("cut mid-body: %w", objstore.ErrNoRemote)
}

func TestOverlappedUploadCutMidBodyLeavesNothing(t *testing.T) {
	origin := newMemRemote()
	on := newOverlapNode(t, nil, cutOrigin{origin})
	key, body := newKey(), randomBody(300_000)
	_, err := on.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body)})
	if !errors.Is(err, objstore.ErrNoRemote) {
		t.Fatalf("PUT through an origin cut mid-body: %v, want ErrNoRemote", err)
	}
	assertNothingVisible(t, on, key, origin)
}

// countingOrigin counts the uploads it is asked for.
type countingOrigin struct {
	*memRemote
	puts atomic.Int64
}

func (c *countingOrigin) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	c.puts.Add(1)
	return c.memRemote.Put(ctx, rec, body)
}

// A body whose checksum the client's Verify refuses is never uploaded:
// the check runs on the body's sum before the upload starts.
func TestOverlappedUploadChecksumMismatchUploadsNothing(t *testing.T) {
	origin := &countingOrigin{memRemote: newMemRemote()}
	on := newOverlapNode(t, nil, origin)
	key, body := newKey(), randomBody(100_000)
	bad := errors.New("content-md5 mismatch")
	_, err := on.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body),
		Verify: func(objstore.Checksum) error { return bad }})
	if !errors.Is(err, bad) {
		t.Fatalf("PUT with a refused checksum: %v", err)
	}
	if n := origin.puts.Load(); n != 0 {
		t.Errorf("%d uploads of a body whose checksum was refused", n)
	}
	assertNothingVisible(t, on, key, origin.memRemote)
	intents := 0
	if err := on.j.Intents(context.Background(), func(objstore.Key, objstore.Version) bool { intents++; return true }); err != nil {
		t.Fatal(err)
	}
	if intents != 0 {
		t.Errorf("%d upload intents left by a PUT that uploaded nothing", intents)
	}
}

// heldIntents is a journal whose PutIntent waits for release, then fails
// with fail (nil: succeeds), and marks done when it has returned.
type heldIntents struct {
	Journal
	release chan struct{}
	fail    error
	done    atomic.Bool
}

func (h *heldIntents) PutIntent(ctx context.Context, key objstore.Key, v objstore.Version) error {
	<-h.release
	err := h.fail
	if err == nil {
		err = h.Journal.PutIntent(ctx, key, v)
	}
	h.done.Store(true)
	return err
}

// tailOrigin reads each upload's body in two reads, all but the last byte
// and then the last byte, reporting each step.
type tailOrigin struct {
	*memRemote
	head    chan struct{} // closed once all but the tail was read
	tailErr error         // the last byte's read error
	tailAt  bool          // whether the intent was durable when the tail came
	intents *heldIntents
}

func (o *tailOrigin) Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error {
	b := make([]byte, rec.Size())
	if _, err := body.ReadAt(b[:len(b)-1], 0); err != nil {
		return err
	}
	close(o.head)
	_, o.tailErr = body.ReadAt(b[len(b)-1:], int64(len(b)-1))
	o.tailAt = o.intents.done.Load()
	if o.tailErr != nil && o.tailErr != io.EOF {
		return o.tailErr
	}
	return o.memRemote.Put(ctx, rec, bytes.NewReader(b))
}

// The upload runs while the intent is being recorded, but its last byte
// leaves only once the intent is durable: no upload can land without one.
func TestOverlappedUploadHoldsTailUntilIntent(t *testing.T) {
	for _, fail := range []error{nil, errors.New("journal full")} {
		t.Run(fmt.Sprintf("intent error %v", fail), func(t *testing.T) {
			held := &heldIntents{release: make(chan struct{}), fail: fail}
			origin := &tailOrigin{memRemote: newMemRemote(), head: make(chan struct{}), intents: held}
			on := newOverlapNode(t, func(j Journal) Journal { held.Journal = j; return held }, origin)
			key, body := newKey(), randomBody(200_000)
			errc := make(chan error, 1)
			go func() {
				_, err := on.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body)})
				errc <- err
			}()
			select {
			case <-origin.head:
			case <-time.After(10 * time.Second):
				t.Fatal("the upload did not start while the intent was being recorded")
			}
			close(held.release)
			err := <-errc
			if !origin.tailAt {
				t.Error("the body's last byte was read before the intent was durable")
			}
			if fail == nil {
				if err != nil {
					t.Fatalf("PUT: %v", err)
				}
				got, err := on.journal.Get(context.Background(), key)
				if err != nil || !got.InRemote || !origin.has(key) {
					t.Fatalf("after the PUT: record %+v (%v), origin has it %v", got, err, origin.has(key))
				}
				return
			}
			if !errors.Is(err, fail) {
				t.Fatalf("PUT with a failing intent: %v, want %v", err, fail)
			}
			if origin.tailErr == nil {
				t.Error("the body's last byte was sent though the intent failed")
			}
			assertNothingVisible(t, on, key, origin.memRemote)
		})
	}
}

// condOrigin is a memRemote with conditional writes: the ETag of an object
// is its version, and PutIf lands only when the object is still the one
// named, checked and stored in one step after the body has arrived.
type condOrigin struct {
	*memRemote
	mu    sync.Mutex   // makes PutIf's check and store one step
	heads atomic.Int32 // StatETag calls
}

func (c *condOrigin) StatETag(_ context.Context, key objstore.Key) (objstore.Record, string, error) {
	c.heads.Add(1)
	o, err := c.lookup(key)
	return o.rec, o.rec.Version.String(), err
}

func (c *condOrigin) PutIf(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) error {
	b := make([]byte, rec.Size())
	if _, err := body.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := ""
	if o, err := c.lookup(rec.Key); err == nil {
		cur = o.rec.Version.String()
	}
	if cur != etag {
		return fmt.Errorf("mem: put %s: %w", rec.Key, objstore.ErrOriginChanged)
	}
	return c.memRemote.Put(ctx, rec, bytes.NewReader(b))
}

// Concurrent level-1 PUTs of one key, whose uploads now overlap their
// local commits, still leave the origin holding the version and the bytes
// the journal holds.
func TestOverlappedUploadsOneWinner(t *testing.T) {
	origin := &condOrigin{memRemote: newMemRemote()}
	putConcurrentlyOneWinner(t, newOverlapNode(t, nil, origin), origin.lookup, 20, func(round, w int) int {
		return 1 + (round*7919+w*104729)%200_000
	})
}

// putConcurrentlyOneWinner PUTs, rounds times, three bodies of one key at
// once (sizes from size), at level 1, and checks after each round that the
// origin (lookup) holds the version the journal holds, and the bytes the
// node serves.
func putConcurrentlyOneWinner(t *testing.T, on *testNode, lookup func(objstore.Key) (memObject, error), rounds int, size func(round, w int) int) {
	t.Helper()
	key := newKey()
	for round := range rounds {
		var wg sync.WaitGroup
		for w := range 3 {
			body := randomBody(size(round, w))
			wg.Go(func() {
				if _, err := on.Put(context.Background(), PutRequest{Key: key, Level: objstore.LevelS3, Size: int64(len(body)), Body: bytes.NewReader(body)}); err != nil {
					t.Errorf("round %d: PUT: %v", round, err)
				}
			})
		}
		wg.Wait()
		rec, err := on.journal.Get(context.Background(), key)
		if err != nil {
			t.Fatalf("round %d: journal: %v", round, err)
		}
		o, err := lookup(key)
		if err != nil || o.rec.Version != rec.Version {
			t.Fatalf("round %d: origin holds %v (%v), journal %v", round, o.rec.Version, err, rec.Version)
		}
		local, _, err := read(t, on, key, false)
		if err != nil || !bytes.Equal(local, o.body) {
			t.Fatalf("round %d: origin and node bodies differ (%v)", round, err)
		}
	}
}

// A level-1 body's local copy is not fsynced, so power loss may leave its
// file torn or missing while the journal (fsynced) says it is in the
// origin. After the restart a read of either is served whole from the
// origin, never the torn bytes, and the copy is made again.
func TestUnsyncedLocalCopyLostToPowerLoss(t *testing.T) {
	dir, remote := t.TempDir(), newMemRemote()
	tn := openTestNode(t, dir, remote, 0)
	torn, tornBody := newKey(), randomBody(300_000)
	gone, goneBody := newKey(), randomBody(20_000)
	tornRec := put(t, tn, torn, tornBody, objstore.LevelS3)
	goneRec := put(t, tn, gone, goneBody, objstore.LevelS3)
	tn.close()
	if err := os.Truncate(bodyPath(tn, torn, tornRec.BodyVersion), 70_000); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bodyPath(tn, gone, goneRec.BodyVersion)); err != nil {
		t.Fatal(err)
	}

	tn = openTestNode(t, dir, remote, 0)
	before := remote.gets.Load()
	for _, c := range []struct {
		key  objstore.Key
		want []byte
	}{{torn, tornBody}, {gone, goneBody}} {
		got, _, err := read(t, tn, c.key, false)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("read %s after power loss: %d bytes, equal %v, err %v", c.key, len(got), bytes.Equal(got, c.want), err)
		}
	}
	if got := remote.gets.Load() - before; got < 2 {
		t.Errorf("origin GETs after the restart = %d, want one per lost copy at least", got)
	}
	// Both copies come back on this disk, whole (the torn one by its repair).
	for _, key := range []objstore.Key{torn, gone} {
		eventually(t, "the local copy of "+key.ID+" restored", func() bool {
			rec, err := tn.journal.Get(context.Background(), key)
			return err == nil && tn.blobs.Scrub(key, rec.BodyVersion, rec.Sum) == nil
		})
	}
}
