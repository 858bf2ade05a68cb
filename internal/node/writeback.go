package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"sphere.software/objstore"
)

// pushTimeout bounds the synchronous push of a level-2 write-back record
// to one peer, the peer's copy of the body included.
var pushTimeout = 30 * time.Second

// putBack is Put in write-back mode (PutRequest.WriteBack): the write is
// acknowledged once its body and record are durable on this node (and, at
// level 2, once every alive peer has merged the record and copied the
// body), and the outbox uploads it to the origin later. Level 0 is taken
// as level 1: a write-back write is owed to the origin.
func (n *Node) putBack(ctx context.Context, req PutRequest) (objstore.Record, error) {
	req.Level = max(req.Level, objstore.LevelS3)
	level, err := n.levelFor(ctx, req.Key, req.Level, req.LevelIsFloor)
	if err != nil {
		return objstore.Record{}, err
	}
	req.Level = level
	// Book the declared size now, so a full outbox refuses the write before
	// the body is read; an unknown size is booked once the body is here.
	booked := max(req.Size, 0)
	if err := n.pending.reserve(booked); err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	defer func() { n.pending.release(booked) }()
	v := n.newVersion()
	w, err := n.blobs.Create(req.Key, v)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	defer w.Close()
	capture := n.capture()
	defer capture.release() // after publishBack's journal commit
	expectCommit(w, req.Size)
	sniff, err := n.copyBody(w, req, capture, false)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	sum := w.Sum()
	small, err := n.commitLocal(w, capture)
	if err != nil {
		return objstore.Record{}, fmt.Errorf("node: put %s: %w", req.Key, err)
	}
	rec := objstore.Record{
		Key: req.Key, Name: req.Name, UserMeta: req.UserMeta, Headers: req.Headers, Level: req.Level,
		ContentType: contentType(req.ContentType, req.Name, sniff),
		Sum:         sum, Version: n.newVersion(), BodyVersion: v,
	}
	if err := n.checkBack(req, &booked, sum); err != nil {
		return n.discard(rec, fmt.Errorf("node: put %s: %w", req.Key, err))
	}
	rec, err = n.publishBack(ctx, rec, small, req.LevelIsFloor)
	if err != nil {
		return rec, err
	}
	if rec.Level == objstore.LevelFull {
		n.pushToPeers(ctx, rec)
	}
	n.pending.wrote(time.Now())
	return rec, nil
}

// checkBack runs the request's Verify and books the bytes of a body whose
// size was not declared.
func (n *Node) checkBack(req PutRequest, booked *int64, sum objstore.Checksum) error {
	if req.Verify != nil {
		if err := req.Verify(sum); err != nil {
			return err
		}
	}
	if req.Size < 0 {
		if err := n.pending.reserve(sum.Size); err != nil {
			return err
		}
		*booked = sum.Size
	}
	return nil
}

// publishBack journals a committed write-back body as pending, under the
// key's writer lock, as publish does for the other writes but without the
// upload: the journal record is the outbox entry (outbox.go). small is as
// for publish.
func (n *Node) publishBack(ctx context.Context, rec objstore.Record, small []byte, levelIsFloor bool) (objstore.Record, error) {
	unlock := n.lockKey(rec.Key)
	defer unlock()
	prev, err := n.journal.Get(ctx, rec.Key)
	hadBody := err == nil && !prev.Deleted
	switch {
	case errors.Is(err, objstore.ErrNotFound):
	case err != nil:
		return n.discard(rec, fmt.Errorf("node: put %s: %w", rec.Key, err))
	case prev.Version.Compare(rec.Version) > 0:
		n.dropBody(rec) // overwritten at once by a newer write, as in publish
		return rec, nil
	case !prev.Deleted && prev.Level > rec.Level && levelIsFloor:
		rec.Level = prev.Level
	case !prev.Deleted && prev.Level > rec.Level:
		return n.discard(rec, fmt.Errorf("%w: %s has level %d", objstore.ErrLevelLowered, rec.Key, prev.Level))
	}
	if _, _, err := n.mergeBody(ctx, rec, small); err != nil {
		return n.discard(rec, fmt.Errorf("node: put %s: %w", rec.Key, err))
	}
	n.bounded.track(rec) // pinned: not in the origin
	if hadBody && prev.BodyVersion != rec.BodyVersion {
		n.dropBody(prev)
	}
	n.replicate(rec)
	return rec, nil
}

// pushToPeers sends a level-2 write-back record to every alive peer and
// waits until each has merged it and copied its body (Apply pulls a
// pending level-2 body before it answers), or failed, or pushTimeout
// passed. A peer that fails is logged and gets the body by its pull queue
// and repair scan later; the write stays acknowledged, being durable here.
func (n *Node) pushToPeers(ctx context.Context, rec objstore.Record) {
	peers := n.alivePeers()
	var wg sync.WaitGroup
	for _, m := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, pushTimeout)
			defer cancel()
			if err := n.peers().Push(pctx, m, []objstore.Record{rec}); err != nil {
				n.log.Warn("write-back: peer did not take the body; its pull will", "peer", m.ID, "key", rec.Key, "err", err)
			}
		}()
	}
	wg.Wait()
}

// pullPendingNow copies the body of rec, a record just applied from a
// peer, before Apply answers when rec is a pending level-2 write-back
// whose body this node lacks: so the writer's push returns once the body
// is here too. A failure leaves it to the pull queue applyOne filled.
func (n *Node) pullPendingNow(ctx context.Context, rec objstore.Record) {
	if rec.Level != objstore.LevelFull || !isPending(rec) || !n.needsBody(rec) {
		return
	}
	if err := n.pull(ctx, rec.Key); err != nil {
		n.log.Warn("write-back: cannot copy a pending body now; queued", "key", rec.Key, "err", err)
	}
}

// The write modes as the APIs name them (X-Meta-Write, X-Objstore-Write,
// --s3-write-mode): through uploads before answering (the original levels),
// back answers first and uploads from the outbox.
const (
	WriteThrough = "through"
	WriteBack    = "back"
)

// ParseWriteMode parses a write mode: "back" is write-back, "through" and
// "" are not. Anything else wraps objstore.ErrInvalidWriteMode.
func ParseWriteMode(v string) (back bool, err error) {
	switch v {
	case WriteBack:
		return true, nil
	case WriteThrough, "":
		return false, nil
	}
	return false, fmt.Errorf("%w %q (want %s or %s)", objstore.ErrInvalidWriteMode, v, WriteThrough, WriteBack)
}

// CheckBucketForWriteBack is CheckBucket for a write-back write, which must
// not need the origin: when the origin cannot answer, a bucket it confirmed
// before (at any time since start) or that the journal holds objects of is
// taken to exist, and the write goes on.
func (n *Node) CheckBucketForWriteBack(ctx context.Context, name string) error {
	err := n.CheckBucket(ctx, name)
	if err == nil || !(errors.Is(err, objstore.ErrNoRemote) || errors.Is(err, objstore.ErrTimeout)) {
		return err
	}
	if n.buckets.known(name) {
		return nil
	}
	known := false
	if serr := n.journal.Scan(ctx, name, "", func(objstore.Record) bool { known = true; return false }); serr != nil {
		return errors.Join(err, serr)
	}
	if known {
		return nil
	}
	return err
}

// known reports whether the origin confirmed name at any time.
func (c *bucketCache) known(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[name]
	return ok
}
