package journal

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup is the most writers one group commit holds, so that one
// transaction's dirty pages stay bounded under any load.
const maxGroup = 1024

// errSolo tells a writer that its function failed inside a group and must
// run again alone: the failure may have come from another function's
// writes in the same transaction, as with bbolt's DB.Batch.
var errSolo = errors.New("journal: run alone")

// committer joins the write transactions of concurrent writers into one
// bbolt transaction and one fsync (see the package doc, "Group commit").
// One writer at a time leads: it commits everything queued, its own
// function among it, then hands the lead to the oldest writer that queued
// meanwhile. Writers that arrive while a commit runs therefore all share
// the next one, however long the fsync takes; bbolt's DB.Batch instead
// cuts a batch every MaxBatchDelay and queues the batches one fsync each.
type committer struct {
	mu      sync.Mutex
	queue   []*groupCall
	leading bool // a writer is committing or about to
}

// groupCall is one writer's function and where it hears the outcome:
// nil, its error, errSolo, or errLead when it is to lead the next group.
type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// errLead hands the lead to a queued writer.
var errLead = errors.New("journal: lead")

// update runs fn in a write transaction shared with the writers that
// overlap it, and returns once that transaction is committed (and
// fsynced, unless Options.NoSync). fn may run more than once, when another
// function of its group fails; it must derive everything from the
// transaction's state.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	s.group.mu.Lock()
	s.group.queue = append(s.group.queue, c)
	lead := !s.group.leading
	s.group.leading = true
	s.group.mu.Unlock()
	if !lead {
		if err := <-c.done; err != errLead {
			if err == errSolo {
				return s.db.Update(fn)
			}
			return err
		}
	}
	s.lead()
	err := <-c.done // lead committed c's group, which held c
	if err == errSolo {
		return s.db.Update(fn)
	}
	return err
}

// lead commits one group (the queue as it is now, at most maxGroup
// writers), then passes the lead on to the first writer queued after it,
// or gives it up when none is.
func (s *Store) lead() {
	s.group.mu.Lock()
	n := min(len(s.group.queue), maxGroup)
	calls := s.group.queue[:n:n]
	s.group.queue = s.group.queue[n:]
	s.group.mu.Unlock()

	s.commitGroup(calls)

	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	if len(s.group.queue) == 0 {
		s.group.leading = false
		s.group.queue = nil // let the old backing array go
		return
	}
	s.group.queue[0].done <- errLead
}

// commitGroup runs calls in one transaction and tells each the outcome. A
// function that fails is taken out and told to run alone, and the rest
// are committed again without it.
func (s *Store) commitGroup(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if err != nil && failed >= 0 {
			calls[failed].done <- errSolo
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.done <- err
		}
		return
	}
}

// safeCall runs fn, turning a panic into an error so that one writer's bug
// fails its own call and not its whole group's (it panics again when run
// alone, in its own goroutine).
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("journal: panic in write transaction: %v", p)
		}
	}()
	return fn(tx)
}
