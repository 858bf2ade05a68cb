package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sphere.software/objstore"
)

// Repair of rotted bodies. Whoever finds a local body that fails its
// checksum (disk.Open on a first read, a serving path that verifies per
// block, the scrubber) drops the copy and calls ReportCorrupt. The report
// is counted and logged at once; the repair runs in the background on a
// few workers, one per body at a time however often it is reported:
//
//   - a body whose record moved on (deleted, overwritten) needs nothing;
//   - any other body this node held is copied back, from the peer that
//     wrote it, else any alive peer, else the origin when the record says
//     it is there (pull.go's copyFromHolders, the level-2 pull's path), and
//     checked against the record's checksum before it is kept. A cached
//     read-through copy is restored too: the node held it, and putting
//     back what rot took keeps the cache as its policy left it (the policy
//     may still evict it later);
//   - a level-0 body that this node wrote and nobody else can give back
//     is lost: the record gets the Lost mark in a new version, which the
//     cluster replicates like any change, so that every node answers
//     ErrLost for it. A later write of the key clears the mark;
//   - anything else (a peer or the origin unreachable) is logged and left
//     to the next read, the level-2 repair scan or the next scrub.

// repairWorkers is how many repairs run at once: each copies one body
// from a peer or the origin.
const repairWorkers = 2

// bodyRef names one body: a key at one body version.
type bodyRef struct {
	key objstore.Key
	v   objstore.Version
}

// repairJob is one repair, queued or running; done is closed when it ends.
type repairJob struct {
	ref   bodyRef
	cause error
	done  chan struct{}
	// ended is when done was closed; zero while the job is pending.
	ended time.Time
	// settled is set before done closes when the job left nothing to
	// retry: the body was marked lost, or its record moved on. A report
	// of the body within repairEcho is then an echo of the same rot.
	settled bool
}

// repairEcho is how long a finished repair still absorbs reports of its
// body: one rot reaches several finders (the store's own report, the
// reader that got its error, a peer's read), and those that arrive just
// after the repair are the same rot, not a new one.
const repairEcho = 10 * time.Second

// repairQueue holds the repairs to run in arrival order, at most one per
// body: a body reported again while its repair is queued or running, or
// within repairEcho after it ended with the body back, joins that repair.
type repairQueue struct {
	mu    sync.Mutex // guards jobs and order
	jobs  map[bodyRef]*repairJob
	order []*repairJob
	wake  chan struct{} // has a token while order is not empty
	now   func() time.Time
}

func newRepairQueue() *repairQueue {
	return &repairQueue{jobs: map[bodyRef]*repairJob{}, wake: make(chan struct{}, 1), now: time.Now}
}

// add queues a repair of ref unless one is pending, or just ended and
// restored reports that its body is back (the report is an echo), and
// returns the job and whether it is new. restored may be nil (never).
func (q *repairQueue) add(ref bodyRef, cause error, restored func() bool) (*repairJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.forgetEndedLocked()
	if j, ok := q.jobs[ref]; ok && (j.ended.IsZero() || j.settled || restored != nil && restored()) {
		return j, false
	}
	j := &repairJob{ref: ref, cause: cause, done: make(chan struct{})}
	q.jobs[ref] = j
	q.order = append(q.order, j)
	q.signalLocked()
	return j, true
}

// forgetEndedLocked drops the jobs that ended more than repairEcho ago.
// Ended jobs are few (one per rotted body in the last seconds), so a
// sweep per report costs nothing.
func (q *repairQueue) forgetEndedLocked() {
	now := q.now()
	for ref, j := range q.jobs {
		if !j.ended.IsZero() && now.Sub(j.ended) > repairEcho {
			delete(q.jobs, ref)
		}
	}
}

func (q *repairQueue) signalLocked() {
	if len(q.order) == 0 {
		return
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next waits for a queued job or for ctx to end. The job stays in jobs
// (reports of it join it) until finish.
func (q *repairQueue) next(ctx context.Context) (*repairJob, bool) {
	for {
		q.mu.Lock()
		if len(q.order) > 0 {
			j := q.order[0]
			q.order = q.order[1:]
			q.signalLocked()
			q.mu.Unlock()
			return j, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-q.wake:
		}
	}
}

// finish ends j: a report of its body more than repairEcho later starts
// a new repair.
func (q *repairQueue) finish(j *repairJob) {
	q.mu.Lock()
	j.ended = q.now()
	q.mu.Unlock()
	close(j.done)
}

// ReportCorrupt tells the node that its copy of the body of key at
// version v failed its checksum (cause says how) and has been dropped. It
// counts and logs the finding and queues a repair (see the comment at the
// top of repair.go); it never blocks on the repair. A body already being
// repaired is counted once.
func (n *Node) ReportCorrupt(key objstore.Key, v objstore.Version, cause error) {
	n.reportCorrupt(key, v, cause)
}

func (n *Node) reportCorrupt(key objstore.Key, v objstore.Version, cause error) *repairJob {
	n.hot.invalidate(key)
	if !n.blobs.Has(key, v) {
		n.bounded.untrack(n.blobs.Name(key, v))
	}
	j, fresh := n.repairs.add(bodyRef{key: key, v: v}, cause, func() bool { return n.blobs.Has(key, v) })
	if !fresh {
		n.log.Debug("corrupt body reported again; its repair is under way", "bucket", key.Bucket, "key", key.ID, "version", v)
		return j
	}
	n.stats.corruptFound.Add(1)
	n.log.Warn("corrupt body found; repairing it", "bucket", key.Bucket, "key", key.ID, "version", v, "err", cause)
	return j
}

// repairLoop runs queued repairs until ctx ends.
func (n *Node) repairLoop(ctx context.Context) {
	for {
		j, ok := n.repairs.next(ctx)
		if !ok {
			return
		}
		n.repair(ctx, j)
		n.repairs.finish(j)
	}
}

// repair restores the body j names, or marks it lost, or leaves it to a
// later read when that is all it can do now.
func (n *Node) repair(ctx context.Context, j *repairJob) {
	key, v := j.ref.key, j.ref.v
	rec, err := n.journal.Get(ctx, key)
	switch {
	case err != nil && !errors.Is(err, objstore.ErrNotFound):
		n.repairFailed(key, v, err)
		return
	case err != nil || rec.Deleted || rec.Lost || rec.BodyVersion != v:
		j.settled = true
		n.log.Info("corrupt body superseded; nothing to repair", "bucket", key.Bucket, "key", key.ID, "version", v)
		return
	}
	if n.blobs.Has(key, v) {
		// Back already (a read filled it from the origin) or never
		// dropped by the reporter: keep it only if it checks out.
		if err := n.blobs.Scrub(key, v, rec.Sum); err == nil {
			n.repaired(key, v, "already back")
			return
		}
	}
	from, err := n.copyFromHolders(ctx, rec)
	switch {
	case err == nil:
		n.repaired(key, v, from)
	case ctx.Err() != nil:
	case soleCopy(rec) && rec.BodyVersion.Node == n.cfg.NodeID:
		n.markLost(ctx, rec, j.cause, err)
		j.settled = true
	default:
		n.repairFailed(key, v, err)
	}
}

// soleCopy reports whether rec's body is kept on one node only: level 0,
// never uploaded.
func soleCopy(rec objstore.Record) bool {
	return rec.Level == objstore.LevelLocal && !rec.InRemote
}

// repaired counts a restored body; from is the member it was copied from,
// "origin", or "already back" (a read had filled it again).
func (n *Node) repaired(key objstore.Key, v objstore.Version, from string) {
	n.stats.repaired.Add(1)
	n.log.Info("corrupt body repaired", "bucket", key.Bucket, "key", key.ID, "version", v, "from", from)
}

func (n *Node) repairFailed(key objstore.Key, v objstore.Version, err error) {
	n.stats.repairFailed.Add(1)
	n.log.Warn("corrupt body not repaired for now; a read, the level-2 repair scan or the next scrub tries again",
		"bucket", key.Bucket, "key", key.ID, "version", v, "err", err)
}

// markLost gives rec, whose only copy rotted, the Lost mark in a new
// version and replicates it, unless the record moved on meanwhile.
func (n *Node) markLost(ctx context.Context, rec objstore.Record, cause, why error) {
	unlock := n.lockKey(rec.Key)
	defer unlock()
	cur, err := n.journal.Get(ctx, rec.Key)
	if err != nil || cur.Deleted || cur.Lost || cur.BodyVersion != rec.BodyVersion || n.blobs.Has(rec.Key, rec.BodyVersion) {
		return
	}
	cur.Lost, cur.Version = true, n.newVersion()
	winner, changed, err := n.merge(ctx, cur)
	if err != nil {
		n.log.Error("object lost, and the loss could not be recorded", "bucket", rec.Key.Bucket, "key", rec.Key.ID,
			"version", rec.BodyVersion, "err", err)
		return
	}
	if changed {
		n.replicate(winner)
	}
	n.stats.lost.Add(1)
	n.log.Error("object lost: its only copy failed its checksum and no peer or origin holds another",
		"bucket", rec.Key.Bucket, "key", rec.Key.ID, "version", rec.BodyVersion, "level", rec.Level,
		"cause", cause, "tried", why)
}

// awaitRepair waits for j to end, for ctx or for the node to close.
func (n *Node) awaitRepair(ctx context.Context, j *repairJob) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.ctx.Done():
		return n.ctx.Err()
	}
}

// getRotted answers a read of rec whose local copy failed its checksum. A
// body that only this node held is waited for: its repair restores it or
// marks it lost, so the reader gets the answer every node will give. Any
// other body is read elsewhere at once while the repair runs.
func (n *Node) getRotted(ctx context.Context, ticket uint64, rec objstore.Record, cause error) (*Object, error) {
	j := n.reportCorrupt(rec.Key, rec.BodyVersion, cause)
	if !soleCopy(rec) || rec.BodyVersion.Node != n.cfg.NodeID {
		return n.getElsewhere(ctx, ticket, rec)
	}
	if err := n.awaitRepair(ctx, j); err != nil {
		return nil, fmt.Errorf("node: get %s: %w", rec.Key, err)
	}
	cur, err := n.liveRecord(ctx, rec.Key)
	switch {
	case err != nil:
		return nil, fmt.Errorf("node: get: %w", err)
	case cur.Lost:
		return nil, fmt.Errorf("node: get %s: %w", rec.Key, objstore.ErrLost)
	}
	f, err := n.blobs.Open(cur.Key, cur.BodyVersion, cur.Sum)
	if err != nil {
		return n.getElsewhere(ctx, ticket, cur)
	}
	n.stats.hitsLocal.Add(1)
	return n.localObject(ticket, cur, f)
}
