package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
)

// fakeNet connects test nodes in process: membership is the set of nodes,
// and peer calls are method calls on the other node. cut nodes are unreachable.
type fakeNet struct {
	mu    sync.Mutex // guards nodes and cut
	nodes map[string]*testNode
	cut   map[string]bool
	opens atomic.Int64 // OpenBody calls that reached a peer
}

func newFakeNet() *fakeNet { return &fakeNet{nodes: map[string]*testNode{}, cut: map[string]bool{}} }

// add starts a node in dir on this network with the shared origin.
func (f *fakeNet) add(t *testing.T, dir string, remote *memRemote) *testNode {
	t.Helper()
	n := openTestNode(t, dir, remote, 0)
	f.mu.Lock()
	f.nodes[n.ID()] = n
	f.mu.Unlock()
	n.AttachCluster(fakeCluster{f, n.ID()}, fakePeers{f, n.ID()})
	return n
}

// setCut cuts id off the network, or reconnects it, and tells every node
// what its membership would: the members it lost or got back.
func (f *fakeNet) setCut(id string, cut bool) {
	f.mu.Lock()
	f.cut[id] = cut
	nodes := make([]*testNode, 0, len(f.nodes))
	for _, n := range f.nodes {
		nodes = append(nodes, n)
	}
	f.mu.Unlock()
	state := "alive"
	if cut {
		state = "dead"
	}
	for _, n := range nodes {
		if n.ID() == id {
			for _, m := range nodes {
				if m.ID() != id {
					n.MemberChanged(objstore.Member{ID: m.ID(), Addr: m.ID(), State: state})
				}
			}
			continue
		}
		n.MemberChanged(objstore.Member{ID: id, Addr: id, State: state})
	}
}

func (f *fakeNet) reach(from, to string) (*testNode, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut[from] || f.cut[to] {
		return nil, fmt.Errorf("fake net: %s cannot reach %s: %w", from, to, objstore.ErrUnavailable)
	}
	return f.nodes[to], nil
}

type fakeCluster struct {
	net  *fakeNet
	self string
}

func (c fakeCluster) Members() []objstore.Member {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	var out []objstore.Member
	for id := range c.net.nodes {
		state := "alive"
		if id != c.self && (c.net.cut[id] || c.net.cut[c.self]) {
			state = "dead"
		}
		out = append(out, objstore.Member{ID: id, Addr: id, State: state, Self: id == c.self})
	}
	return out
}

type fakePeers struct {
	net  *fakeNet
	self string
}

func (p fakePeers) Push(ctx context.Context, m objstore.Member, recs []objstore.Record) error {
	n, err := p.net.reach(p.self, m.ID)
	if err != nil {
		return err
	}
	return n.Apply(ctx, recs)
}

func (p fakePeers) GroupDigests(ctx context.Context, m objstore.Member) ([]uint64, objstore.Traffic, error) {
	n, err := p.net.reach(p.self, m.ID)
	if err != nil {
		return nil, objstore.Traffic{}, err
	}
	ds, err := n.GroupDigests(ctx)
	return ds, objstore.Traffic{}, err
}

func (p fakePeers) LeafDigests(ctx context.Context, m objstore.Member, groups []uint8) ([]uint64, objstore.Traffic, error) {
	n, err := p.net.reach(p.self, m.ID)
	if err != nil {
		return nil, objstore.Traffic{}, err
	}
	ds, err := n.LeafDigests(ctx, groups)
	return ds, objstore.Traffic{}, err
}

func (p fakePeers) ExchangeLeaves(ctx context.Context, m objstore.Member, leaves []uint16, ours []objstore.Record) ([]objstore.Record, objstore.Traffic, error) {
	n, err := p.net.reach(p.self, m.ID)
	if err != nil {
		return nil, objstore.Traffic{}, err
	}
	theirs, err := n.ExchangeLeaves(ctx, leaves, ours)
	return theirs, objstore.Traffic{}, err
}

func (p fakePeers) OpenBody(ctx context.Context, m objstore.Member, key objstore.Key, v objstore.Version, off int64) (io.ReadCloser, error) {
	n, err := p.net.reach(p.self, m.ID)
	if err != nil {
		return nil, err
	}
	p.net.opens.Add(1)
	f, _, err := n.OpenBody(ctx, key, v)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func digestsOf(n *testNode) []uint64 {
	d, _ := n.GroupDigests(context.Background())
	return d
}

// level0OnA starts two nodes, PUTs a body of size bytes at level 0 on the
// first, and waits until the second has its record.
func level0OnA(t *testing.T, size int) (net *fakeNet, a, b *testNode, key objstore.Key, body []byte) {
	t.Helper()
	net, remote := newFakeNet(), newMemRemote()
	a, b = net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	key, body = newKey(), randomBody(size)
	put(t, a, key, body, objstore.LevelLocal)
	eventually(t, "record on b", func() bool { _, err := b.Head(context.Background(), key); return err == nil })
	return net, a, b, key, body
}

func TestLevel0BodyIsReadFromItsNode(t *testing.T) {
	net, a, b, key, body := level0OnA(t, 200_000)
	got, obj, err := read(t, b, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourcePeer {
		t.Fatalf("peer read: err=%v equal=%v source=%v", err, bytes.Equal(got, body), obj.Source)
	}
	if b.HasBody(obj.Record) {
		t.Fatal("a level-0 body was copied to the reader's node")
	}
	net.setCut(a.ID(), true)
	if _, _, err := read(t, b, key, false); !errors.Is(err, objstore.ErrUnavailable) {
		t.Fatalf("read with the holder down: %v", err)
	}
}

// A small body read from a peer is kept in memory: the next reads cost no
// round trip, still say where the body lives, and stop with a new version
// of the record.
func TestPeerBodyHeldInMemory(t *testing.T) {
	net, a, b, key, body := level0OnA(t, 10_000)
	var rec objstore.Record
	for i := range 3 {
		got, obj, err := read(t, b, key, false)
		if err != nil || !bytes.Equal(got, body) || obj.Source != SourcePeer || obj.Bytes == nil {
			t.Fatalf("read %d: err=%v equal=%v source=%v in memory=%v", i, err, bytes.Equal(got, body), obj.Source, obj.Bytes != nil)
		}
		rec = obj.Record
	}
	if n := net.opens.Load(); n != 1 {
		t.Errorf("%d bodies opened on the peer for 3 reads, want 1", n)
	}
	if b.HasBody(rec) {
		t.Error("the body was written to the reader's disk")
	}
	newer := randomBody(10_001)
	put(t, a, key, newer, objstore.LevelLocal)
	eventually(t, "the new version read on b", func() bool {
		got, _, err := read(t, b, key, false)
		return err == nil && bytes.Equal(got, newer)
	})
}

// A body copied to this node after a read held it in memory as a peer's
// is served from then on as this node's own.
func TestPulledBodyReplacesPeerEntry(t *testing.T) {
	_, _, b, key, body := level0OnA(t, 10_000)
	_, obj, err := read(t, b, key, false)
	if err != nil || obj.Source != SourcePeer || obj.Bytes == nil {
		t.Fatalf("first read: err=%v source=%v in memory=%v", err, obj.Source, obj.Bytes != nil)
	}
	if _, err := b.copyFromHolders(context.Background(), obj.Record); err != nil {
		t.Fatal(err)
	}
	got, obj, err := read(t, b, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceLocal {
		t.Fatalf("read after the copy: err=%v equal=%v source=%v; want the local body", err, bytes.Equal(got, body), obj.Source)
	}
}

func TestLevel2BodiesReachEveryNode(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	key, body := newKey(), randomBody(300_000)
	rec := put(t, a, key, body, objstore.LevelFull)
	eventually(t, "body on b", func() bool { return b.HasBody(rec) })
	got, obj, err := read(t, b, key, false)
	if err != nil || !bytes.Equal(got, body) || obj.Source != SourceLocal {
		t.Fatalf("err=%v source=%v", err, obj.Source)
	}
	// A node that joins later gets it too, through anti-entropy.
	c := net.add(t, t.TempDir(), remote)
	eventually(t, "body on a late node", func() bool {
		_, _ = Sync(context.Background(), c.Node, c.peers(), objstore.Member{ID: a.ID()})
		return c.HasBody(rec)
	})
}

func TestDeleteOnAnyNodeWinsEverywhere(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	key := newKey()
	rec := put(t, a, key, []byte("doomed"), objstore.LevelFull)
	eventually(t, "body on b", func() bool { return b.HasBody(rec) })
	if _, err := b.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tombstone on a", func() bool {
		r, err := a.Head(context.Background(), key)
		return err == nil && r.Deleted
	})
	if a.HasBody(rec) || b.HasBody(rec) || remote.has(key) {
		t.Fatal("a body survived the delete")
	}
	// A stale copy of the old record changes nothing.
	if err := a.Apply(context.Background(), []objstore.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(t, a, key, true); !errors.Is(err, objstore.ErrDeleted) {
		t.Fatalf("stale record undid the delete: %v", err)
	}
}

func TestPartitionedWritesConvergeOnHeal(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	shared := []objstore.Key{newKey(), newKey(), newKey()}
	for _, k := range shared {
		put(t, a, k, []byte("before"), objstore.LevelLocal)
	}
	eventually(t, "records on b", func() bool { return slices.Equal(digestsOf(a), digestsOf(b)) })
	net.setCut(b.ID(), true)
	put(t, a, shared[0], []byte("a overwrites"), objstore.LevelLocal)
	if _, err := b.Delete(context.Background(), shared[1]); err != nil {
		t.Fatal(err)
	}
	put(t, b, shared[2], []byte("b wins"), objstore.LevelLocal)
	onlyA, onlyB := newKey(), newKey()
	put(t, a, onlyA, []byte("only a"), objstore.LevelLocal)
	put(t, b, onlyB, []byte("only b"), objstore.LevelLocal)
	if slices.Equal(digestsOf(a), digestsOf(b)) {
		t.Fatal("digests equal during the partition")
	}
	net.setCut(b.ID(), false)
	if _, err := Sync(context.Background(), a.Node, a.peers(), objstore.Member{ID: b.ID()}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(digestsOf(a), digestsOf(b)) {
		t.Fatal("digests differ after one sync pass")
	}
	for _, n := range []*testNode{a, b} {
		if r, _ := n.Head(context.Background(), shared[1]); !r.Deleted {
			t.Fatalf("%s: deleted object came back", n.ID())
		}
		got, _, err := read(t, n, shared[2], false)
		if err != nil || string(got) != "b wins" {
			t.Fatalf("%s: shared[2] = %q, %v", n.ID(), got, err)
		}
		for _, k := range []objstore.Key{onlyA, onlyB} {
			if _, _, err := read(t, n, k, false); err != nil {
				t.Fatalf("%s: %s: %v", n.ID(), k, err)
			}
		}
	}
}

func TestCorruptPeerBodyIsNeverServedWhole(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	key, body := newKey(), randomBody(100_000)
	rec := put(t, a, key, body, objstore.LevelLocal)
	eventually(t, "record on b", func() bool { _, err := b.Head(context.Background(), key); return err == nil })
	// Corrupt the copy b believes in: its record claims another CRC.
	bad := rec
	bad.Sum.CRC32C ^= 1
	obj, err := b.openFromPeer(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj.Body)
	if !errors.Is(err, objstore.ErrChecksum) || len(got) >= len(body) {
		t.Fatalf("err=%v, got %d of %d bytes", err, len(got), len(body))
	}
}

// TestPeerWithBadBodyIsPassedOver: a peer whose body failed its checksum
// is not asked for that body again for a while (reads go to another
// holder or the origin), while its other bodies are still read from it.
func TestPeerWithBadBodyIsPassedOver(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	key, other := newKey(), newKey()
	rec := put(t, a, key, randomBody(10_000), objstore.LevelLocal)
	put(t, a, other, randomBody(10_000), objstore.LevelLocal)
	for _, k := range []objstore.Key{key, other} {
		eventually(t, "records on b", func() bool { _, err := b.Head(context.Background(), k); return err == nil })
	}
	bad := rec
	bad.Sum.CRC32C ^= 1
	obj, err := b.openFromPeer(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(obj.Body); !errors.Is(err, objstore.ErrChecksum) {
		t.Fatalf("first read: err = %v, want a checksum mismatch", err)
	}
	_ = obj.Close()
	if _, err := b.openFromPeer(context.Background(), bad); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("second open of the bad body: err = %v, want the peer passed over (not found)", err)
	}
	if _, _, err := read(t, b, other, false); err != nil {
		t.Fatalf("another body of the same peer: %v", err)
	}
}

func TestApplyRejectsMalformedRecords(t *testing.T) {
	n := newTestNode(t, 0)
	for name, rec := range map[string]objstore.Record{
		"empty key":  {Version: objstore.Version{HLC: 1, Node: "x"}},
		"bad level":  {Key: newKey(), Level: 9, Version: objstore.Version{HLC: 1, Node: "x"}},
		"no version": {Key: newKey()},
	} {
		if err := n.Apply(context.Background(), []objstore.Record{rec}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAntiEntropyPassesAreCounted(t *testing.T) {
	net, remote := newFakeNet(), newMemRemote()
	a, b := net.add(t, t.TempDir(), remote), net.add(t, t.TempDir(), remote)
	ctx := context.Background()
	statsOf := func(n *testNode) AntiEntropyStats {
		t.Helper()
		s, err := n.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s.AntiEntropy
	}
	net.setCut(b.ID(), true)
	put(t, b, newKey(), []byte("only on b"), objstore.LevelLocal)
	before := statsOf(a)
	a.syncWith(ctx, objstore.Member{ID: b.ID()})
	cut := statsOf(a)
	if cut.Passes != before.Passes+1 || cut.Failed != before.Failed+1 {
		t.Fatalf("a pass to a cut peer: %+v after %+v; want one more pass, failed", cut, before)
	}
	net.setCut(b.ID(), false)
	a.syncWith(ctx, objstore.Member{ID: b.ID()})
	healed := statsOf(a)
	if healed.Passes < cut.Passes+1 || healed.Failed != cut.Failed || healed.Received < cut.Received+1 {
		t.Fatalf("a pass after the heal: %+v after %+v; want one more pass, no failure, b's record received", healed, cut)
	}
}
