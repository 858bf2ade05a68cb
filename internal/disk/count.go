package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
)

// Counting the held bytes.
//
// Open does not walk the bodies: at a million bodies that walk took longer
// than the rest of a node's start. The first Sweep (or Count) adds up
// each shard instead, while the store already serves. A shard is counted
// under fsMu, which every rename and removal of a body takes, so the
// counters stay exact:
//
//   - renames and removals in a shard not yet counted change held and
//     reserved as usual and also record the change in the shard's delta;
//   - counting a shard adds the bytes now in it minus its delta, so each
//     body is counted once, whether it was there at Open or came since.
//
// Until every shard is counted, the quota rule is (see reserve): a write is
// booked at once when it fits beside everything the file system held at
// Open (statfs, an upper bound on the bodies not yet counted); otherwise it
// waits for the count to end, then evicts or fails as usual.

// countState is the progress of the count; all but done are guarded by
// fsMu.
type countState struct {
	counted   [256]bool
	delta     [256]int64
	uncounted int
	// swept[i] is set once the first pass has been through shard i, or
	// has ended.
	swept [256]bool
	// fresh is the bodies committed by this process into shards the first
	// pass has not been through yet. The pass keeps them without asking:
	// their records may not be journaled yet.
	fresh map[string]struct{}
	// bound is an upper bound on the bytes of the bodies not yet counted:
	// the file system's used bytes at Open.
	bound int64
	// done is closed when the first count pass ends, finished or not.
	done  chan struct{}
	ended bool
}

// initCount starts the count state at Open. A dir without shard
// directories holds no body: it is counted at once.
func (s *Store) initCount() error {
	s.count.fresh = make(map[string]struct{})
	s.count.done = make(chan struct{})
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("disk: open: %w", err)
	}
	found := false
	for _, d := range shards {
		if d.IsDir() && isShard(d.Name()) {
			s.shardSynced[shardIndex(d.Name())].Store(true)
			found = true
		}
	}
	if !found {
		for i := range s.count.counted {
			s.count.counted[i] = true
		}
		s.endCountLocked()
		return nil
	}
	s.count.uncounted = len(s.count.counted)
	s.count.bound = math.MaxInt64 / 4
	if u, err := statfs(s.dir); err == nil {
		s.count.bound = int64(min(u.Used, math.MaxInt64/4))
	}
	return nil
}

// endCountLocked marks the first count pass over.
func (s *Store) endCountLocked() {
	if !s.count.ended {
		s.count.ended = true
		close(s.count.done)
	}
}

// changedLocked records that held changed by d through a rename or
// removal of the body called name.
func (s *Store) changedLocked(name string, d int64) {
	i := shardIndex(shardOf(name))
	if !s.count.counted[i] {
		s.count.delta[i] += d
	}
}

// committedLocked records a body committed by this process: in a shard
// the first pass has not been through, the pass must keep it.
func (s *Store) committedLocked(name string) {
	if !s.count.swept[shardIndex(shardOf(name))] {
		s.count.fresh[name] = struct{}{}
	}
}

// uncountedBound returns the bytes a write must fit beside, beyond
// reserved, and whether the count is still running; after a pass that
// ended unfinished, ok is false.
func (s *Store) uncountedBound() (bound int64, wait <-chan struct{}, ok bool) {
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	switch {
	case s.count.uncounted == 0:
		return 0, nil, true
	case s.count.ended:
		return s.count.bound, nil, false
	}
	return s.count.bound, s.count.done, true
}

// Count adds up the held bytes of the shards not yet counted, removing
// nothing. A Store that is never swept needs it for its quota to see the
// bodies it held at Open.
func (s *Store) Count(ctx context.Context) error {
	_, err := s.pass(ctx, func(string) bool { return true }, nil)
	if err != nil {
		return fmt.Errorf("disk: count: %w", err)
	}
	return nil
}

// dropped is a body a pass found without a record.
type dropped struct {
	name string
	fi   fs.FileInfo
}

// pass walks every shard: in a shard not yet counted it adds up the bodies
// under fsMu; in every shard it calls drop, outside fsMu, for the bodies
// that keep rejects (and that this process did not commit meanwhile). It
// returns how many it dropped.
func (s *Store) pass(ctx context.Context, keep func(string) bool, drop func(path, name string, fi fs.FileInfo) error) (int, error) {
	n := 0
	var err error
	for i := range len(s.count.counted) {
		var drops []dropped
		if drops, err = s.passShard(ctx, i, keep, drop != nil); err != nil {
			break
		}
		for _, d := range drops {
			if err = drop(bodyPath(s.dir, d.name), d.name, d.fi); err != nil {
				break
			}
			n++
		}
		if err != nil {
			break
		}
	}
	s.fsMu.Lock()
	s.endCountLocked()
	// Later passes ask keep about every body (see Sweep): stop tracking.
	for i := range s.count.swept {
		s.count.swept[i] = true
	}
	clear(s.count.fresh)
	s.fsMu.Unlock()
	return n, err
}

// passShard reads shard i under fsMu, counts it if it is not counted yet
// and, with wantDrops, returns the bodies keep rejects.
func (s *Store) passShard(ctx context.Context, i int, keep func(string) bool, wantDrops bool) ([]dropped, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	counting := !s.count.counted[i]
	if !counting && !wantDrops && s.count.swept[i] {
		return nil, nil
	}
	var sum int64
	var drops []dropped
	shard := fmt.Sprintf("%02x", i)
	err := s.walkShard(ctx, shard, func(root *os.Root, _, name string) error {
		_, isFresh := s.count.fresh[name]
		kept := isFresh || keep(name)
		if kept && !counting {
			return nil
		}
		fi, ok, err := lstatIn(root, name)
		if !ok || err != nil {
			return err
		}
		sum += fi.Size()
		if !kept && wantDrops {
			drops = append(drops, dropped{name, fi})
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if counting {
		s.countedLocked(i, sum)
	}
	if !s.count.swept[i] {
		s.count.swept[i] = true
		for name := range s.count.fresh {
			if shardOf(name) == shard {
				delete(s.count.fresh, name)
			}
		}
	}
	return drops, nil
}

// countedLocked adds the sum of shard i's bodies to the counters.
func (s *Store) countedLocked(i int, sum int64) {
	add := sum - s.count.delta[i]
	s.held.Add(add)
	s.reserved.Add(add)
	s.count.counted[i] = true
	s.count.delta[i] = 0
	s.count.uncounted--
}
