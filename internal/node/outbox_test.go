package node

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/evict"
	"sphere.software/objstore/internal/hlc"
)

// fastOutbox makes the outbox retry and look again quickly for the length
// of a test.
func fastOutbox(t *testing.T) {
	t.Helper()
	min, max, every := outboxRetryMin, outboxRetryMax, outboxCheckEvery
	outboxRetryMin, outboxRetryMax, outboxCheckEvery = 10*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { outboxRetryMin, outboxRetryMax, outboxCheckEvery = min, max, every })
}

// openOutboxNode is openTestNode with an outbox configuration.
func openOutboxNode(t *testing.T, dir string, remote *memRemote, cfg OutboxConfig) *testNode {
	t.Helper()
	return openOriginNode(t, dir, remote, remote, cfg)
}

// openOriginNode is openOutboxNode over origin, a wrapper of remote.
func openOriginNode(t *testing.T, dir string, remote *memRemote, origin Remote, cfg OutboxConfig) *testNode {
	t.Helper()
	return openNode(t, dir, remote, nodeSetup{cfg: Config{Outbox: cfg}, origin: origin})
}

func putBack(t *testing.T, n *testNode, key objstore.Key, body []byte, level objstore.Level) objstore.Record {
	t.Helper()
	rec, err := n.Put(context.Background(), PutRequest{Key: key, Level: level, WriteBack: true, Size: int64(len(body)), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("write-back put %s: %v", key, err)
	}
	return rec
}

// originBody is the body the origin holds for key, or nil.
func outboxOriginBody(m *memRemote, key objstore.Key) []byte {
	o, err := m.lookup(key)
	if err != nil {
		return nil
	}
	return o.body
}

func uploadState(t *testing.T, n *testNode, key objstore.Key) string {
	t.Helper()
	rec, err := n.Head(context.Background(), key)
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return UploadState(rec)
}

// A write-back PUT is acknowledged while the origin is down, read back
// while pending, and uploaded once the origin returns, by itself.
func TestWriteBackDrainsAfterOutage(t *testing.T) {
	fastOutbox(t)
	n := newTestNode(t, 0)
	n.remote.fail.Store(true)
	keys, bodies := make([]objstore.Key, 5), make([][]byte, 5)
	for i := range keys {
		keys[i], bodies[i] = newKey(), randomBody(1000+i)
		if rec := putBack(t, n, keys[i], bodies[i], objstore.LevelLocal); rec.Level != objstore.LevelS3 || rec.InRemote {
			t.Fatalf("write-back record: level %d in origin %v, want level 1 pending", rec.Level, rec.InRemote)
		}
		mustRead(t, n, keys[i], bodies[i])
		if s := uploadState(t, n, keys[i]); s != "pending" {
			t.Fatalf("state %q while the origin is down, want pending", s)
		}
	}
	st := n.OutboxStats()
	if st.Depth != 5 || st.Bytes != 5010 {
		t.Fatalf("outbox while down: %+v, want 5 uploads of 5010 bytes", st)
	}
	// Once the PUTs pause, the drain tries, and fails while the origin is down.
	eventually(t, "an upload tried and failed", func() bool { return n.OutboxStats().Failed > 0 })
	n.remote.fail.Store(false)
	eventually(t, "outbox drained", func() bool { return n.OutboxStats().Depth == 0 })
	for i, key := range keys {
		if !bytes.Equal(outboxOriginBody(n.remote, key), bodies[i]) {
			t.Fatalf("origin body of %s differs", key)
		}
		if s := uploadState(t, n, key); s != "uploaded" {
			t.Fatalf("state %q after the drain, want uploaded", s)
		}
	}
	// Counted just after the journal commit that emptied the outbox.
	eventually(t, "5 uploads counted", func() bool { return n.OutboxStats().Uploaded == 5 })
	if st := n.OutboxStats(); st.Bytes != 0 || st.Failed == 0 {
		t.Fatalf("outbox after drain: %+v, want 0 bytes, failures counted", st)
	}
}

// Pending uploads survive a restart: the journal records are the outbox.
func TestWriteBackSurvivesRestart(t *testing.T) {
	fastOutbox(t)
	n := newTestNode(t, 0)
	n.remote.fail.Store(true)
	key, body := newKey(), randomBody(4096)
	putBack(t, n, key, body, objstore.LevelS3)
	n = reopen(t, n)
	eventually(t, "outbox loaded", func() bool { return n.OutboxStats().Depth == 1 })
	n.remote.fail.Store(false)
	eventually(t, "upload after restart", func() bool { return bytes.Equal(outboxOriginBody(n.remote, key), body) })
	eventually(t, "record uploaded", func() bool { return uploadState(t, n, key) == "uploaded" })
}

// A newer write-back version of a key replaces the older pending one: the
// origin never receives the older body.
func TestWriteBackNewerSupersedesPending(t *testing.T) {
	fastOutbox(t)
	n := newTestNode(t, 0)
	n.remote.fail.Store(true)
	key := newKey()
	putBack(t, n, key, []byte("old"), objstore.LevelS3)
	putBack(t, n, key, []byte("newer"), objstore.LevelS3)
	if st := n.OutboxStats(); st.Depth != 1 || st.Bytes != 5 {
		t.Fatalf("outbox %+v, want the newer version alone", st)
	}
	n.remote.fail.Store(false)
	eventually(t, "drained", func() bool { return n.OutboxStats().Depth == 0 })
	n.remote.mu.Lock()
	defer n.remote.mu.Unlock()
	for _, p := range n.remote.puts {
		if string(p.body) == "old" {
			t.Fatalf("the superseded body was uploaded")
		}
	}
	if len(n.remote.puts) != 1 || string(n.remote.objects[key].body) != "newer" {
		t.Fatalf("origin got %d puts, holds %q; want one, the newer", len(n.remote.puts), n.remote.objects[key].body)
	}
}

// A drain that finds the origin holding a newer version (written through
// another node) does not upload the older one.
func TestWriteBackSupersededInOrigin(t *testing.T) {
	fastOutbox(t)
	remote := newMemRemote()
	n := openOriginNode(t, t.TempDir(), remote, conditionalMem{remote}, OutboxConfig{})
	remote.fail.Store(true)
	key := newKey()
	rec := putBack(t, n, key, []byte("older"), objstore.LevelS3)
	// Another node's write a minute later: newer than any version this
	// node stamps during the test.
	newer := rec
	newer.Version = objstore.Version{HLC: rec.Version.HLC + 60_000<<16, Node: "other"}
	newer.Sum.Size = 5
	remote.mu.Lock()
	remote.objects[key] = memObject{rec: newer, body: []byte("newer")}
	remote.mu.Unlock()
	remote.fail.Store(false)
	eventually(t, "superseded", func() bool { return n.OutboxStats().Superseded == 1 })
	if got := string(outboxOriginBody(remote, key)); got != "newer" {
		t.Fatalf("origin holds %q, want the newer body", got)
	}
}

// An upload that landed in the origin but whose record was never journaled
// (a crash between the two) is found there by the next drain, under the
// same settled version, and journaled without a second upload.
func TestWriteBackLandedBeforeACrash(t *testing.T) {
	fastOutbox(t)
	remote := newMemRemote()
	n := openOriginNode(t, t.TempDir(), remote, conditionalMem{remote}, OutboxConfig{})
	remote.fail.Store(true)
	key, body := newKey(), []byte("landed")
	rec := putBack(t, n, key, body, objstore.LevelS3)
	landed := rec
	landed.Version, landed.InRemote = rec.Version.Settled(), true
	remote.mu.Lock()
	remote.objects[key] = memObject{rec: landed, body: body}
	remote.mu.Unlock()
	remote.fail.Store(false)
	eventually(t, "uploaded", func() bool { return n.OutboxStats().Uploaded == 1 })
	if got, err := n.journal.Get(context.Background(), key); err != nil || got.Version != landed.Version || !got.InRemote {
		t.Fatalf("journal after the drain: %+v (%v), want the landed version, uploaded", got.Version, err)
	}
	remote.mu.Lock()
	puts := len(remote.puts)
	remote.mu.Unlock()
	if puts != 0 {
		t.Fatalf("the drain uploaded %d times a body the origin already held", puts)
	}
}

// conditionalMem is memRemote with the conditional-write calls, enough
// for decideUpload: no ETags, only versions.
type conditionalMem struct{ *memRemote }

func (c conditionalMem) StatETag(ctx context.Context, key objstore.Key) (objstore.Record, string, error) {
	rec, err := c.Stat(ctx, key)
	return rec, rec.Version.String(), err
}

func (c conditionalMem) PutIf(ctx context.Context, rec objstore.Record, body io.ReaderAt, etag string) error {
	return c.Put(ctx, rec, body)
}

// The outbox bound refuses write-back PUTs with 507 past it and loses
// nothing: the pending uploads stay, and room comes back as they drain.
func TestWriteBackOutboxBound(t *testing.T) {
	fastOutbox(t)
	n := openOutboxNode(t, t.TempDir(), newMemRemote(), OutboxConfig{MaxBytes: 1000})
	n.remote.fail.Store(true)
	first, body := newKey(), randomBody(600)
	putBack(t, n, first, body, objstore.LevelS3)
	_, err := n.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelS3, WriteBack: true, Size: 600, Body: bytes.NewReader(randomBody(600))})
	if !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("past the bound: err=%v, want ErrInsufficientStorage", err)
	}
	// A body of unknown size is refused once it is read.
	_, err = n.Put(context.Background(), PutRequest{Key: newKey(), Level: objstore.LevelS3, WriteBack: true, Size: -1, Body: strings.NewReader(string(randomBody(600)))})
	if !errors.Is(err, objstore.ErrInsufficientStorage) {
		t.Fatalf("chunked past the bound: err=%v, want ErrInsufficientStorage", err)
	}
	mustRead(t, n, first, body)
	if st := n.OutboxStats(); st.Depth != 1 || st.Bytes != 600 {
		t.Fatalf("outbox %+v after refusals, want the first upload alone", st)
	}
	n.remote.fail.Store(false)
	eventually(t, "drained", func() bool { return n.OutboxStats().Depth == 0 })
	putBack(t, n, newKey(), randomBody(600), objstore.LevelS3)
}

// A pending body is pinned: eviction never removes it.
func TestWriteBackPendingNeverEvicted(t *testing.T) {
	fastOutbox(t)
	n := openBoundedNode(t, t.TempDir(), newMemRemote(), 1<<20, evict.Options{})
	n.remote.fail.Store(true)
	key, body := newKey(), randomBody(10_000)
	putBack(t, n, key, body, objstore.LevelS3)
	if freed := n.bounded.makeRoom(1 << 20); freed != 0 {
		t.Fatalf("eviction freed %d bytes of pending bodies", freed)
	}
	mustRead(t, n, key, body)
	n.remote.fail.Store(false)
	eventually(t, "uploaded", func() bool { return uploadState(t, n, key) == "uploaded" })
	// The upload's merge unpins the body just after its journal commit,
	// which the state above already shows.
	var freed int64
	eventually(t, "the body evictable", func() bool { freed += n.bounded.makeRoom(1 << 20); return freed > 0 })
	if freed != 10_000 {
		t.Fatalf("eviction after the upload freed %d bytes, want the body's 10000", freed)
	}
}

// Level-2 write-back: the PUT returns once the alive peers hold the body;
// every node reads it while pending; when the writer is gone for good the
// alive node with the lowest ID uploads it, once.
func TestWriteBackTakeover(t *testing.T) {
	fastOutbox(t)
	net, remote, nodes := takeoverCluster(t)
	remote.fail.Store(true)
	a := nodes[0]
	key, body := newKey(), randomBody(50_000)
	rec := putBack(t, a, key, body, objstore.LevelFull)
	for _, n := range nodes[1:] {
		if !n.HasBody(rec) {
			t.Fatalf("node %s lacks the body when the level-2 write-back PUT returned", n.ID())
		}
		mustRead(t, n, key, body)
		if s := uploadState(t, n, key); s != "pending" {
			t.Fatalf("state on a peer %q, want pending", s)
		}
	}
	a.close() // gone for good
	net.setCut(a.ID(), true)
	remote.fail.Store(false)
	eventually(t, "taken over", func() bool { return bytes.Equal(outboxOriginBody(remote, key), body) })
	eventually(t, "uploaded everywhere", func() bool {
		return uploadState(t, nodes[1], key) == "uploaded" && uploadState(t, nodes[2], key) == "uploaded"
	})
	// Counted just after the taker's journal commit.
	takenOver := func() int64 { return nodes[1].OutboxStats().TakenOver + nodes[2].OutboxStats().TakenOver }
	eventually(t, "the takeover counted", func() bool { return takenOver() > 0 })
	takers := takenOver()
	remote.mu.Lock()
	puts := len(remote.puts)
	remote.mu.Unlock()
	if takers != 1 || puts != 1 {
		t.Fatalf("%d nodes took over, %d uploads; want one of each", takers, puts)
	}
}

// takeoverCluster is three nodes on a fake network over one in-memory
// origin, taking over uploads 100 ms after their writer is gone.
func takeoverCluster(t *testing.T) (*fakeNet, *memRemote, []*testNode) {
	t.Helper()
	net, remote := newFakeNet(), newMemRemote()
	cfg := OutboxConfig{TakeoverAfter: 100 * time.Millisecond}
	var nodes []*testNode
	for range 3 {
		n := openOutboxNode(t, t.TempDir(), remote, cfg)
		net.mu.Lock()
		net.nodes[n.ID()] = n
		net.mu.Unlock()
		n.AttachCluster(fakeCluster{net, n.ID()}, fakePeers{net, n.ID()})
		nodes = append(nodes, n)
	}
	return net, remote, nodes
}

// A write-back delete is taken over like an upload, whatever its level (it
// needs no body): a level-1 object deleted on a node that is then gone
// for good is deleted from the origin by one of the others, and its
// tombstone settles everywhere.
func TestWriteBackDeleteTakeover(t *testing.T) {
	fastOutbox(t)
	ctx := context.Background()
	net, remote, nodes := takeoverCluster(t)
	a, key := nodes[0], newKey()
	put(t, a, key, randomBody(100), objstore.LevelS3)
	remote.fail.Store(true)
	tomb, err := a.DeleteBack(ctx, key)
	if err != nil || !isPendingDelete(tomb) {
		t.Fatalf("write-back delete: %+v %v, want a pending delete", tomb, err)
	}
	eventually(t, "the pending delete on the peers", func() bool {
		for _, n := range nodes[1:] {
			if rec, err := n.journal.Get(ctx, key); err != nil || rec.Version != tomb.Version {
				return false
			}
		}
		return true
	})
	a.close() // gone for good
	net.setCut(a.ID(), true)
	remote.fail.Store(false)
	eventually(t, "deleted from the origin", func() bool { return !remote.has(key) })
	eventually(t, "settled everywhere", func() bool {
		for _, n := range nodes[1:] {
			rec, err := n.journal.Get(ctx, key)
			if err != nil || !rec.Deleted || isPendingDelete(rec) {
				return false
			}
		}
		return true
	})
	eventually(t, "the takeover counted", func() bool {
		return nodes[1].OutboxStats().TakenOver+nodes[2].OutboxStats().TakenOver == 1
	})
}

// A level-1 write-back body lives on its writer alone: a peer reads it
// from there while it is pending.
func TestWriteBackReadOnPeerWhilePending(t *testing.T) {
	fastOutbox(t)
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	remote.fail.Store(true)
	key, body := newKey(), randomBody(3000)
	putBack(t, a, key, body, objstore.LevelS3)
	eventually(t, "record on b", func() bool { _, err := b.Head(context.Background(), key); return err == nil })
	got, obj, err := read(t, b, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourcePeer {
		t.Fatalf("read on b while pending: err=%v equal=%v", err, bytes.Equal(got, body))
	}
	if st := b.OutboxStats(); st.Depth != 0 || st.Others != 1 {
		t.Fatalf("b's outbox %+v, want a's upload counted as another node's", st)
	}
}

func TestParseWriteMode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		back    bool
		invalid bool
	}{{"", false, false}, {"through", false, false}, {"back", true, false}, {"Back", false, true}, {"behind", false, true}} {
		back, err := ParseWriteMode(tc.in)
		if back != tc.back || errors.Is(err, objstore.ErrInvalidWriteMode) != tc.invalid {
			t.Errorf("ParseWriteMode(%q) = %v, %v; want %v, invalid %v", tc.in, back, err, tc.back, tc.invalid)
		}
	}
}

func TestUploadState(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  objstore.Record
		want string
	}{
		{"level 0", objstore.Record{Level: objstore.LevelLocal}, ""},
		{"pending", objstore.Record{Level: objstore.LevelS3}, "pending"},
		{"pending level 2", objstore.Record{Level: objstore.LevelFull}, "pending"},
		{"uploaded", objstore.Record{Level: objstore.LevelS3, InRemote: true}, "uploaded"},
		{"read through", objstore.Record{Level: objstore.LevelLocal, InRemote: true}, "uploaded"},
		{"tombstone", objstore.Record{Level: objstore.LevelS3, Deleted: true}, ""},
		{"delete pending", objstore.Record{Level: objstore.LevelS3, Deleted: true, InRemote: true}, "pending"},
		{"lost", objstore.Record{Level: objstore.LevelS3, Lost: true}, ""},
	} {
		if got := UploadState(tc.rec); got != tc.want {
			t.Errorf("%s: UploadState = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A level-2 write-back PUT answers while a peer is cut off (durable here);
// the peer copies the body once it is back, and the drain uploads it.
func TestWriteBackLevel2PeerDown(t *testing.T) {
	fastOutbox(t)
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	remote.fail.Store(true)
	net.setCut(b.ID(), true)
	key, body := newKey(), randomBody(20_000)
	rec := putBack(t, a, key, body, objstore.LevelFull)
	if b.HasBody(rec) {
		t.Fatal("a cut-off peer holds the body")
	}
	net.setCut(b.ID(), false)
	eventually(t, "body on the peer once it is back", func() bool { return b.HasBody(rec) })
	remote.fail.Store(false)
	eventually(t, "uploaded", func() bool { return bytes.Equal(outboxOriginBody(remote, key), body) })
	eventually(t, "uploaded on the peer", func() bool { return uploadState(t, b, key) == "uploaded" })
}

// While write-back PUTs keep coming, the drain waits for a pause of
// outboxQuiet, for MaxDefer at most since the first PUT it deferred, and not
// at all once the outbox is half full or deferral is off.
func TestOutboxDefersWhileWritesKeepComing(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	o := newOutbox("self", OutboxConfig{MaxBytes: 1000, MaxDefer: time.Second})
	if d := o.deferFor(t0); d != 0 {
		t.Fatalf("no write yet: defer %v, want 0", d)
	}
	o.wrote(t0)
	if d := o.deferFor(t0.Add(10 * time.Millisecond)); d != outboxQuiet-10*time.Millisecond {
		t.Fatalf("10ms after a write: defer %v, want the rest of the quiet gap", d)
	}
	if d := o.deferFor(t0.Add(outboxQuiet)); d != 0 {
		t.Fatalf("after a quiet gap: defer %v, want 0", d)
	}
	// Writes every 50 ms: deferred until MaxDefer has passed since the first.
	now := t0
	for now.Sub(t0) < 950*time.Millisecond {
		now = now.Add(50 * time.Millisecond)
		o.wrote(now)
		if d := o.deferFor(now); d <= 0 {
			t.Fatalf("%v into a stream of writes: defer %v, want > 0", now.Sub(t0), d)
		}
	}
	if d := o.deferFor(t0.Add(time.Second)); d != 0 {
		t.Fatalf("MaxDefer after the first write: defer %v, want 0", d)
	}
	// A drain starts: the next write is deferred afresh.
	o.draining()
	later := t0.Add(2 * time.Second)
	o.wrote(later)
	if d := o.deferFor(later); d != outboxQuiet {
		t.Fatalf("first write after a drain: defer %v, want %v", d, outboxQuiet)
	}
	// Half the bound: no deferral.
	o.mu.Lock()
	o.ownBytes = 500
	o.mu.Unlock()
	if d := o.deferFor(later); d != 0 {
		t.Fatalf("outbox half full: defer %v, want 0", d)
	}
	off := newOutbox("self", OutboxConfig{MaxDefer: -1})
	off.wrote(t0)
	if d := off.deferFor(t0); d != 0 {
		t.Fatalf("deferral off: defer %v, want 0", d)
	}
}

// A write-back delete answers while the origin is down: the key reads as
// deleted at once, the origin keeps its copy until it is back, and then
// the drain deletes it there and journals a tombstone that owes nothing.
// A key this node never knew gets a pending delete too; a level-0 object,
// never in the origin, owes nothing.
func TestWriteBackDeleteDrainsAfterOutage(t *testing.T) {
	fastOutbox(t)
	ctx := context.Background()
	n := newTestNode(t, 0)
	key, unknown, local := newKey(), newKey(), newKey()
	put(t, n, key, randomBody(100), objstore.LevelS3)
	put(t, n, local, randomBody(10), objstore.LevelLocal)
	n.remote.fail.Store(true)
	for _, k := range []objstore.Key{key, unknown} {
		tomb, err := n.DeleteBack(ctx, k)
		if err != nil || !isPendingDelete(tomb) || UploadState(tomb) != "pending" {
			t.Fatalf("write-back delete of %s while the origin is down: %+v %v, want a pending delete", k, tomb, err)
		}
	}
	if tomb, err := n.DeleteBack(ctx, local); err != nil || isPendingDelete(tomb) {
		t.Fatalf("write-back delete of a level-0 object: %+v %v, want a tombstone that owes nothing", tomb, err)
	}
	if _, err := n.Get(ctx, key, true); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("get after the write-back delete: %v, want deleted", err)
	}
	if _, err := n.DeleteBack(ctx, key); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("second delete: %v, want deleted", err)
	}
	if !n.remote.has(key) {
		t.Fatal("the origin lost its copy while it was down")
	}
	if st := n.OutboxStats(); st.Depth != 2 || st.Bytes != 0 {
		t.Fatalf("outbox while down: %+v, want 2 deletes of no bytes", st)
	}
	eventually(t, "a delete tried and failed", func() bool { return n.OutboxStats().Failed > 0 })
	n.remote.fail.Store(false)
	eventually(t, "outbox drained", func() bool { return n.OutboxStats().Depth == 0 })
	if n.remote.has(key) {
		t.Fatal("the origin still holds the object after the drain")
	}
	for _, k := range []objstore.Key{key, unknown} {
		rec, err := n.journal.Get(ctx, k)
		if err != nil || !rec.Deleted || isPendingDelete(rec) {
			t.Fatalf("record of %s after the drain: %+v %v, want a tombstone that owes nothing", k, rec, err)
		}
	}
	// Counted just after the journal commit that emptied the outbox.
	eventually(t, "2 deletes counted", func() bool { return n.OutboxStats().Deleted == 2 })
}

// Pending deletes survive a restart (the tombstones are the outbox), and a
// newer write of a key replaces its pending delete: the drain uploads the
// newer body and deletes nothing of it.
func TestWriteBackDeleteRestartAndSuperseded(t *testing.T) {
	fastOutbox(t)
	ctx := context.Background()
	n := newTestNode(t, 0)
	gone, rewritten := newKey(), newKey()
	put(t, n, gone, []byte("gone"), objstore.LevelS3)
	put(t, n, rewritten, []byte("old"), objstore.LevelS3)
	n.remote.fail.Store(true)
	for _, k := range []objstore.Key{gone, rewritten} {
		if _, err := n.DeleteBack(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	n = reopen(t, n)
	eventually(t, "outbox loaded", func() bool { return n.OutboxStats().Depth == 2 })
	putBack(t, n, rewritten, []byte("newer"), objstore.LevelS3)
	if st := n.OutboxStats(); st.Depth != 2 || st.Bytes != 5 {
		t.Fatalf("outbox %+v, want one delete and one upload of 5 bytes", st)
	}
	n.remote.fail.Store(false)
	eventually(t, "outbox drained", func() bool { return n.OutboxStats().Depth == 0 })
	if n.remote.has(gone) {
		t.Fatal("the deleted object is still in the origin")
	}
	if got := string(outboxOriginBody(n.remote, rewritten)); got != "newer" {
		t.Fatalf("origin holds %q for the key written after its delete, want the newer body", got)
	}
	mustRead(t, n, rewritten, []byte("newer"))
}

// A replicated tombstone older than the tombstone grace, of a key this
// node never had, is dropped as expired, unless it still owes the origin
// its delete: that one expires nowhere, so it is kept, and this node can
// take the delete over.
func TestApplyKeepsOldPendingDeletes(t *testing.T) {
	ctx := context.Background()
	n := openNode(t, t.TempDir(), newMemRemote(), nodeSetup{cfg: Config{TombstoneGrace: time.Hour}})
	old := objstore.Version{HLC: hlc.FromTime(time.Now().Add(-2 * time.Hour)), Node: "other"}
	done, pending := newKey(), newKey()
	recs := []objstore.Record{
		{Key: done, Level: objstore.LevelS3, Deleted: true, Version: old},
		{Key: pending, Level: objstore.LevelS3, Deleted: true, InRemote: true, Version: old},
	}
	if err := n.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := n.journal.Get(ctx, done); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("an expired tombstone was kept: %v", err)
	}
	if rec, err := n.journal.Get(ctx, pending); err != nil || !isPendingDelete(rec) {
		t.Fatalf("an old pending delete: %+v %v, want it kept", rec, err)
	}
	if st := n.OutboxStats(); st.Others != 1 {
		t.Fatalf("outbox %+v, want the other node's pending delete", st)
	}
}

// A write-back upload or delete that drains after a newer write of its key
// was made on another node (not here yet, not in the origin yet: a
// partition) is recorded under a version older than that write, and keeps
// its own time: when the newer write arrives it wins here, and its drain
// puts it over the origin's copy. Stamped at drain time, the older change
// would have won everywhere.
func TestWriteBackDrainKeepsLaterWritesNewer(t *testing.T) {
	fastOutbox(t)
	ctx := context.Background()
	for _, del := range []bool{false, true} {
		remote := newMemRemote()
		n := openOriginNode(t, t.TempDir(), remote, conditionalMem{remote}, OutboxConfig{})
		key := newKey()
		if del {
			put(t, n, key, []byte("first"), objstore.LevelS3)
		}
		remote.fail.Store(true)
		var pending objstore.Record
		if del {
			var err error
			if pending, err = n.DeleteBack(ctx, key); err != nil {
				t.Fatal(err)
			}
		} else {
			pending = putBack(t, n, key, []byte("older"), objstore.LevelS3)
		}
		// Another node's write-back PUT of the key, a millisecond later,
		// still pending there.
		v := objstore.Version{HLC: pending.Version.HLC + 1<<16, Node: "other"}
		later := objstore.Record{Key: key, Level: objstore.LevelS3, Sum: objstore.Checksum{Size: 5}, Version: v, BodyVersion: v}
		// The drain comes well after that write was made.
		time.Sleep(20 * time.Millisecond)
		remote.fail.Store(false)
		eventually(t, "drained", func() bool { st := n.OutboxStats(); return st.Depth == 0 && st.Uploaded+st.Deleted == 1 })
		got, err := n.journal.Get(ctx, key)
		if err != nil || got.Version.Compare(pending.Version) <= 0 || got.Version.Compare(later.Version) >= 0 || !got.Version.Time().Equal(pending.Version.Time()) {
			t.Fatalf("delete %v: settled record %+v (%v); want a version between the pending %v and the later write %v, at the pending one's time",
				del, got.Version, err, pending.Version, later.Version)
		}
		if !del {
			o, err := remote.lookup(key)
			if err != nil || o.rec.Version != got.Version {
				t.Fatalf("origin copy %+v (%v), want the settled version %v", o.rec.Version, err, got.Version)
			}
			if step := decideUpload(later.Version, o.rec, true); step != stepPut {
				t.Fatalf("the later write's upload over the origin copy: step %v, want a put", step)
			}
		}
		if err := n.Apply(ctx, []objstore.Record{later}); err != nil {
			t.Fatal(err)
		}
		if got, err := n.journal.Get(ctx, key); err != nil || got.Version != later.Version {
			t.Fatalf("delete %v: after the later write arrived the journal holds %+v (%v), want it", del, got.Version, err)
		}
	}
}
