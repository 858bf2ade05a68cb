// Package node is the read and write path of one objstore node: it decides
// where a body is written and read (local disk, a peer, the origin), keeps the
// journal in step with the bodies, and makes concurrent misses of one object
// cost one origin request.
//
// The node declares the small interfaces it needs (Journal, Blobs, Remote in
// deps.go); the adapters that implement them never import each other.
package node

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/hlc"
	"sphere.software/objstore/internal/savings"
)

// Config says how a Node behaves. The zero value of each field is documented.
type Config struct {
	// NodeID names this node in the versions it writes. Required.
	NodeID string
	// MaxObjectSize caps the body of one object in bytes; 0 means no cap.
	MaxObjectSize int64
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Clock hands out versions; nil uses a clock on the wall time.
	Clock *hlc.Clock
	// SyncInterval is how often anti-entropy syncs with a random peer;
	// 0 means DefaultSyncInterval.
	SyncInterval time.Duration
	// HotCacheBytes is the memory for bodies of small objects read
	// recently; 0 means no cache.
	HotCacheBytes int64
	// TombstoneGrace is how long tombstones are kept; 0 means
	// DefaultTombstoneGrace. A node cut off for longer than this may bring
	// deleted objects back when it returns.
	TombstoneGrace time.Duration
	// Cache bounds the bodies on disk (eviction policy, admission, quota
	// or watermarks); the zero value bounds nothing.
	Cache CacheConfig
	// OriginTTL is how long a body read through from the origin is served
	// before the next GET revalidates it with a conditional GET; 0 means
	// never (see docs/DESIGN.md, "Freshness").
	OriginTTL time.Duration
	// StaleIfError is how long past OriginTTL a body may still be served,
	// marked stale, when the origin cannot be reached to revalidate it; 0
	// means never.
	StaleIfError time.Duration
	// Scrub sets the background scrubber (scrub.go); the zero value turns
	// it off.
	Scrub ScrubConfig
	// Outbox bounds the write-back outbox (outbox.go); the zero value
	// takes its defaults.
	Outbox OutboxConfig
	// SmallBodyMax is the largest body, in bytes, that a level-0 or
	// write-back PUT makes durable in the journal commit of its record
	// rather than with fsyncs of its own file (smallbodies.go); 0 means
	// DefaultSmallBodyMax, a negative value turns it off.
	SmallBodyMax int64
}

// Defaults for Config.
const (
	DefaultSyncInterval   = 5 * time.Second
	DefaultTombstoneGrace = 7 * 24 * time.Hour
	DefaultSmallBodyMax   = 16 << 10
)

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("node: config: NodeID is required")
	}
	if c.SyncInterval < 0 || c.TombstoneGrace < 0 || c.HotCacheBytes < 0 {
		return errors.New("node: config: SyncInterval, TombstoneGrace and HotCacheBytes must not be negative")
	}
	if c.OriginTTL < 0 || c.StaleIfError < 0 {
		return errors.New("node: config: OriginTTL and StaleIfError must not be negative")
	}
	if c.MaxObjectSize < 0 {
		return fmt.Errorf("node: config: MaxObjectSize %d is negative", c.MaxObjectSize)
	}
	if err := c.Scrub.Validate(); err != nil {
		return err
	}
	if err := c.Outbox.Validate(); err != nil {
		return err
	}
	return c.Cache.Validate()
}

// Node serves objects from its disk, its peers and the origin.
type Node struct {
	cfg   Config
	log   *slog.Logger
	clock *hlc.Clock
	// badPeerBodies are peers passed over for a body that failed its
	// checksum lately (peerread.go).
	badPeerBodies badPeerBodies
	journal       Journal
	blobs         Blobs
	remote        Remote
	// streamOff turns streamed uploads off once the origin refused one
	// that it then took whole (putstream.go).
	streamOff atomic.Bool
	// streamTrusted says a streamed upload's ETag matched its body's MD5:
	// later ones take the MD5 from the ETag (putstream.go).
	streamTrusted atomic.Bool
	// streams is the streamed uploads in flight, which a bucket's delete
	// cuts.
	streams streamSet
	// catalog is remote's buckets and listings, when it has them.
	catalog Catalog
	buckets bucketCache

	// keyLocks serialise the writers of one key (PUT, DELETE, level
	// changes), so that the order of uploads to the origin is the order of
	// versions in the journal. Striped: two keys may share a lock.
	keyLocks [256]sync.Mutex

	fills   fillGroup
	stats   counters
	savings *savings.Tally
	hot     *hotCache
	// bounded keeps the bodies on disk within the cache's capacity.
	bounded *bounded
	fresh   *freshness

	// attached holds the cluster and peers once AttachCluster ran; nil on
	// a node that runs solo. The cluster may call the node (Apply,
	// MemberChanged) before it is attached, hence the atomic.
	attached atomic.Pointer[clusterParts]
	// outbox carries local changes to the pusher; pulls carries keys of
	// level-2 records whose bodies this node lacks to the pullers.
	outbox chan objstore.Record
	pulls  *pullQueue
	// syncNow asks the anti-entropy loop for a pass with a member.
	syncNow chan objstore.Member
	// orphanWake asks the orphan reconciler (orphans.go) for a pass.
	orphanWake chan struct{}
	// repairs are the rotted bodies to restore (repair.go); scrub
	// re-reads the bodies on disk (scrub.go), nil when off.
	repairs *repairQueue
	scrub   *scrubber
	// pending is the write-back outbox: uploads owed to the origin.
	pending *outbox
	// small keeps the books of small bodies made durable by the journal
	// (smallbodies.go).
	small *smallBodies

	// swept is closed when the start-up sweep, which runs after New
	// returns, has ended (finished or stopped by Close).
	swept chan struct{}
	// sweepTook is how long the start-up sweep took, in nanoseconds,
	// once it finished; 0 before (and after a sweep that failed).
	sweepTook atomic.Int64

	// ctx bounds background work (origin fills that outlive the request
	// that started them, the start-up sweep); Close cancels it and waits
	// for wg.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a node over the given journal, body store and origin. When
// the origin is also a Catalog, the node serves its buckets and listings.
// It serves at once: the clock starts past the journal's highest HLC and
// the bounded cache from its snapshot, and the sweep that removes bodies
// no journal record points to (left by a crash between a body's rename and
// its record's commit) and counts the held bytes runs in the background
// until it ends or Close stops it.
// Upload intents a crash left are settled in the background (orphans.go).
func New(ctx context.Context, cfg Config, j Journal, b Blobs, r Remote) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, journal: j, blobs: b, remote: r}
	n.catalog, _ = r.(Catalog) // both origin adapters list; test fakes may not
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.clock == nil {
		n.clock = hlc.New(nil)
	}
	if n.cfg.SyncInterval == 0 {
		n.cfg.SyncInterval = DefaultSyncInterval
	}
	if n.cfg.TombstoneGrace == 0 {
		n.cfg.TombstoneGrace = DefaultTombstoneGrace
	}
	n.fills.init()
	n.savings = savings.New()
	n.hot = newHotCache(cfg.HotCacheBytes)
	n.hot.tally = n.savings
	n.fresh = newFreshness(cfg, r)
	n.outbox = make(chan objstore.Record, 4096)
	n.pulls = newPullQueue()
	n.syncNow = make(chan objstore.Member, 16)
	n.orphanWake = make(chan struct{}, 1)
	n.repairs = newRepairQueue()
	n.pending = newOutbox(cfg.NodeID, cfg.Outbox)
	policy, err := cfg.Cache.newPolicy()
	if err != nil {
		return nil, err
	}
	n.bounded = newBounded(policy, b, n.log)
	n.bounded.tally = n.savings
	highest, err := j.MaxHLC(ctx)
	if err != nil {
		return nil, fmt.Errorf("node: start: %w", err)
	}
	n.clock.Observe(highest)
	if err := n.bounded.start(n.cfg.Cache.StateFile); err != nil {
		return nil, fmt.Errorf("node: start: %w", err)
	}
	if policy != nil {
		b.SetMakeRoom(n.bounded.makeRoom)
	}
	b.SetOnCorrupt(n.ReportCorrupt)
	n.small = newSmallBodies(cfg.SmallBodyMax, b)
	if err := n.restoreSmallBodies(ctx); err != nil {
		return nil, fmt.Errorf("node: start: %w", err)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.swept = make(chan struct{})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(n.swept)
		if err := n.sweep(n.ctx); err != nil && n.ctx.Err() == nil {
			n.log.Error("start-up sweep failed; orphans stay until the next start", "err", err)
		}
	}()
	n.startCacheLoops()
	n.startIntegrityLoops()
	n.wg.Add(1)
	go n.reconcileLoop()
	n.wg.Add(1)
	go n.outboxLoop()
	if n.small.max > 0 {
		n.wg.Add(1)
		go n.smallBodyLoop()
	}
	return n, nil
}

// ID is the node's ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// Close stops background fills and waits for them, or until ctx is done,
// then saves the cache policy's state.
func (n *Node) Close(ctx context.Context) error {
	n.cancel()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return n.saveCacheState(ctx)
	case <-ctx.Done():
		return fmt.Errorf("node: close: %w", ctx.Err())
	}
}

// lockKey takes the writer lock of key and returns its unlock.
func (n *Node) lockKey(key objstore.Key) func() {
	mu := &n.keyLocks[stripe(key)%uint32(len(n.keyLocks))]
	mu.Lock()
	return mu.Unlock
}

// stripe hashes a key for striped locks and counters.
func stripe(key objstore.Key) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key.Bucket)) // hash writes never fail
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(key.ID))
	return h.Sum32()
}

// merge merges rec into the journal and drops the key from the hot cache;
// a body now in the origin becomes evictable.
func (n *Node) merge(ctx context.Context, rec objstore.Record) (objstore.Record, bool, error) {
	return n.mergeBody(ctx, rec, nil)
}

// mergeBody is merge that, with a small body (see commitLocal), keeps its
// bytes in the journal in the same commit as rec.
func (n *Node) mergeBody(ctx context.Context, rec objstore.Record, small []byte) (objstore.Record, bool, error) {
	var (
		winner  objstore.Record
		changed bool
		err     error
	)
	if small != nil {
		winner, changed, err = n.journal.MergeBody(ctx, rec, small)
	} else {
		winner, changed, err = n.journal.Merge(ctx, rec)
	}
	n.hot.invalidate(rec.Key)
	if err == nil && small != nil {
		n.small.journaled(objstore.BodyRef{Key: rec.Key, Version: rec.BodyVersion})
	}
	if err == nil && changed {
		n.bounded.update(winner)
		n.pending.observe(winner)
	}
	return winner, changed, err
}

// newVersion is the version of a change made now by this node.
func (n *Node) newVersion() objstore.Version {
	return objstore.Version{HLC: n.clock.Now(), Node: n.cfg.NodeID}
}

// sweep removes bodies without a live journal record and has the body
// store count the held bytes. It reads the whole journal once, while the
// node serves: the store keeps the bodies this process commits before the
// walk reaches their shard (their records may not be merged yet), and a
// record merged after the journal scan began has such a body.
//
// It keeps no set of names: only a sorted 8-byte hash of each live
// record's body name (see bodySet), 8 bytes per object for the length of
// the sweep, and returns that memory to the OS when done. Two names with
// one hash keep an orphan (a wasted file, never a lost body).
func (n *Node) sweep(ctx context.Context) error {
	start := time.Now()
	keep := newBodySet()
	// The bounded cache needs each kept body's size and whether it is the
	// only copy, to restore its policy: only then are they kept, by a
	// 128-bit hash of the name rather than the name, so that the scan
	// leaves no string per object behind among the policy's own.
	var records map[nameHash]diskBody
	hash := newNameHasher()
	if n.bounded.p != nil {
		records = make(map[nameHash]diskBody)
	}
	err := n.journal.Range(ctx, func(rec objstore.Record) bool {
		if !rec.Deleted {
			name := n.blobs.Name(rec.Key, rec.BodyVersion)
			keep.add(name)
			if records != nil {
				records[hash.of(name)] = diskBody{size: rec.Size(), pin: !rec.InRemote, tag: n.bounded.buckets.tag(rec.Key.Bucket)}
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("node: sweep: %w", err)
	}
	keep.seal()
	onDisk := make(map[string]diskBody)
	removed, err := n.blobs.Sweep(ctx, func(name string) bool {
		if !keep.has(name) {
			return false
		}
		if d, ok := records[hash.of(name)]; ok {
			onDisk[n.bounded.keys.key(name)] = d
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("node: sweep: %w", err)
	}
	n.bounded.reconcile(onDisk)
	took := time.Since(start)
	n.log.Info("swept bodies", "kept", keep.len(), "removed", removed, "took", took)
	// The scan's garbage (decoded records, names) would otherwise stay in
	// the process's resident set until the runtime scavenges it.
	debug.FreeOSMemory()
	n.sweepTook.Store(max(int64(took), 1))
	return nil
}
