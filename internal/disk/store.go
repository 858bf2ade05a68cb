package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/durable"
)

// Store keeps bodies under one directory. Its methods are safe for
// concurrent use. Only one Store may use a directory at a time.
type Store struct {
	dir   string
	tmp   string
	quota int64
	log   *slog.Logger
	node  string
	lockF *os.File // holds the lock on dir until Close
	// nextTmp picks the spread directory of tmp for the next Create.
	nextTmp atomic.Uint32
	// barrier makes new bodies durable in groups (Writer.Commit); nil when
	// each is fsynced.
	barrier *durable.Barrier

	// owned is set by Open and moves from adopted to proven at the end of
	// a Sweep; only Sweep reads it after Open, and Sweeps do not overlap.
	owned ownership

	closed atomic.Bool
	// verifications counts the bodies read whole to check them.
	verifications atomic.Int64
	// held is the bytes of committed bodies.
	held atomic.Int64
	// reserved is held plus the bytes that open Writers have written; it is
	// what the quota limits.
	reserved atomic.Int64
	// makeRoom, when set, frees bytes for a reservation that would pass
	// the quota (SetMakeRoom).
	makeRoom atomic.Pointer[func(need int64) int64]

	// shardSynced[i] is set once shard directory i is known to be durable
	// in dir: it existed at Open or was created and dir fsynced since.
	shardSynced [256]atomic.Bool

	// fsMu serialises the renames and removals of committed bodies with the
	// size look-ups that keep held and reserved equal to the files on disk,
	// and guards count.
	fsMu  sync.Mutex
	count countState

	// onCorrupt, when set, hears of every body found corrupt (SetOnCorrupt).
	onCorrupt atomic.Pointer[func(key objstore.Key, v objstore.Version, cause error)]

	mu sync.Mutex // guards verified and verifying
	// verified holds the bodies verified in this process, with the block
	// sums kept in memory for one whose file has none (nil when it has).
	verified  map[string][]uint32
	verifying map[string]*verifyCall
}

// Open opens the store in dir, creating dir if needed. It locks dir
// against other processes, checks that it belongs to cfg.NodeID (see
// Config) and removes the temp files of writes that a crash interrupted.
// It does not walk the bodies: the first Sweep or Count adds up their
// bytes, and until then the quota follows the rule in count.go.
func Open(dir string, cfg Config) (_ *Store, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		dir:       filepath.Clean(dir),
		quota:     cfg.Quota,
		log:       cfg.logger().With("component", "disk"),
		node:      cfg.NodeID,
		verified:  make(map[string][]uint32),
		verifying: make(map[string]*verifyCall),
	}
	s.tmp = filepath.Join(s.dir, tmpDir)
	if err := durable.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", dir, err)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.lockF.Close() // unlocks; the open's error is the one to report
		}
	}()
	if err := s.clearTmp(); err != nil {
		return nil, err
	}
	if err := s.initCount(); err != nil {
		return nil, err
	}
	if s.owned, err = s.claim(cfg.NodeID); err != nil {
		return nil, err
	}
	// Make the shards found, and the emptied tmp, durable once.
	if err := durable.SyncDir(s.dir); err != nil {
		return nil, fmt.Errorf("disk: open: %w", err)
	}
	if !cfg.FsyncEach {
		if s.barrier, err = durable.OpenBarrier(s.dir); err != nil {
			return nil, fmt.Errorf("disk: open: %w", err)
		}
	}
	return s, nil
}

// clearTmp empties dir/tmp and its spread directories (tmpSpread),
// creating them if needed.
func (s *Store) clearTmp() error {
	removed, err := emptyDir(s.tmp, isTmpSub)
	if err != nil {
		return fmt.Errorf("disk: open: remove leftover: %w", err)
	}
	if removed > 0 {
		s.log.Info("removed interrupted writes", "count", removed)
	}
	if err := os.Mkdir(s.tmp, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("disk: open: %w", err)
	}
	for i := range tmpSpread {
		if err := os.Mkdir(s.tmpSub(i), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("disk: open: %w", err)
		}
	}
	return nil
}

// emptyDir removes what dir holds, a missing dir being empty, and returns
// how many entries it removed. A directory whose name keep accepts is
// emptied (one level down) rather than removed.
func emptyDir(dir string, keep func(name string) bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() && keep(e.Name()) {
			n, err := emptyDir(path, func(string) bool { return false })
			removed += n
			if err != nil {
				return removed, err
			}
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// isTmpSub reports whether name is that of a spread directory of tmp.
func isTmpSub(name string) bool {
	i, err := strconv.ParseInt(name, 16, 0)
	return err == nil && i >= 0 && i < tmpSpread && strconv.FormatInt(i, 16) == name
}

// tmpSub is the path of spread directory i of tmp.
func (s *Store) tmpSub(i int) string { return filepath.Join(s.tmp, strconv.FormatInt(int64(i), 16)) }

// anyBody reports whether dir holds a committed body, stopping at the
// first one.
func (s *Store) anyBody() (bool, error) {
	errFound := errors.New("found")
	err := s.walk(context.Background(), func(*os.Root, string, string) error { return errFound })
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("disk: open: %w", err)
	}
	return false, nil
}

// Close marks the store closed, so that later calls to Create and Open
// fail, and unlocks dir. Writers already created keep working until their
// own Close.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.barrier.Close(); err != nil {
		return fmt.Errorf("disk: close: %w", err)
	}
	if err := s.lockF.Close(); err != nil {
		return fmt.Errorf("disk: close: unlock: %w", err)
	}
	return nil
}

// checkOpen returns an error once the store is closed.
func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return fmt.Errorf("disk: %w", fs.ErrClosed)
	}
	return nil
}

// Name is the file name of the body of version v of key, as Sweep passes
// it to keep.
func (s *Store) Name(key objstore.Key, v objstore.Version) string { return fileName(key, v) }

// Remove deletes the body of version v of key; a missing body is not an
// error. The removal is not fsynced: a body that comes back after a crash
// is an orphan that Sweep removes.
func (s *Store) Remove(key objstore.Key, v objstore.Version) error {
	name := fileName(key, v)
	if err := s.removeFile(bodyPath(s.dir, name), name, nil); err != nil {
		return fmt.Errorf("disk: remove %s: %w", name, err)
	}
	return nil
}

// removeFile removes the committed body at path, called name, forgets that
// it was verified and takes its size off the counters. With only set, it
// removes the file only if it is still that file, not one committed since.
func (s *Store) removeFile(path, name string, only fs.FileInfo) error {
	_, err := s.removeFileFreed(path, name, only)
	return err
}

// removeFileFreed is removeFile that also returns the bytes it gave back to
// the quota: the removed file's size, not a difference of the held total,
// which a concurrent commit would skew (an eviction that freed room then
// looked as if it freed none, and a write got 507 with room to spare).
func (s *Store) removeFileFreed(path, name string, only fs.FileInfo) (int64, error) {
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	defer s.forget(name)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if only != nil && !os.SameFile(fi, only) {
		return 0, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	s.changedLocked(name, -fi.Size())
	delete(s.count.fresh, name)
	s.held.Add(-fi.Size())
	s.reserved.Add(-fi.Size())
	return fi.Size(), nil
}

// Usage reports the file system figures of dir and the bytes of bodies held.
func (s *Store) Usage() (objstore.DiskUsage, error) {
	u, err := statfs(s.dir)
	if err != nil {
		return objstore.DiskUsage{}, fmt.Errorf("disk: usage: %w", err)
	}
	u.Bodies = max(s.held.Load(), 0) // below 0 only while a removal precedes its shard's count
	u.Quota = s.quota
	return u, nil
}

// reserve books n more bytes against the quota. When they do not fit it
// asks the room maker, if one is set, to free the bytes missing, and tries
// again as long as it frees something. While the held bytes are still
// being counted, the bytes not yet counted are taken at their bound, and a
// write that does not fit beside it waits for the count (see count.go).
func (s *Store) reserve(n int64) error {
	if s.quota == 0 {
		s.reserved.Add(n)
		return nil
	}
	for {
		bound, wait, ok := s.uncountedBound()
		over := s.reserved.Add(n) + bound - s.quota
		if over <= 0 {
			return nil
		}
		s.reserved.Add(-n)
		switch {
		case !ok:
			return fmt.Errorf("quota of %d bytes cannot be checked: the held bytes were not counted: %w",
				s.quota, objstore.ErrInsufficientStorage)
		case wait != nil:
			<-wait
			continue
		}
		mk := s.makeRoom.Load()
		if mk == nil || (*mk)(over) <= 0 {
			return fmt.Errorf("quota of %d bytes reached: %w", s.quota, objstore.ErrInsufficientStorage)
		}
	}
}

// SetMakeRoom sets the function that reserve calls when a write would pass
// the quota: it gets the bytes missing, removes bodies it may evict (with
// RemoveName, never from inside another Store call) and returns the bytes
// it freed, 0 when nothing may go. nil unsets it.
func (s *Store) SetMakeRoom(fn func(need int64) (freed int64)) {
	if fn == nil {
		s.makeRoom.Store(nil)
		return
	}
	s.makeRoom.Store(&fn)
}

// RemoveName deletes the committed body called name (as Name returns it)
// and returns the bytes it freed; a missing body frees nothing. It is how
// an eviction policy, which knows bodies by name, drops one.
func (s *Store) RemoveName(name string) (int64, error) {
	if !validName(name) {
		return 0, fmt.Errorf("disk: remove %q: not a body name", name)
	}
	freed, err := s.removeFileFreed(bodyPath(s.dir, name), name, nil)
	if err != nil {
		return 0, fmt.Errorf("disk: remove %s: %w", name, err)
	}
	return freed, nil
}

// SetOnCorrupt sets the function told of every body found corrupt, by
// Open or by a Body's block check, after the body was removed: how the
// node learns of rot it must repair. It must not block for long, as it
// runs on the read that found the rot. nil unsets it.
func (s *Store) SetOnCorrupt(fn func(key objstore.Key, v objstore.Version, cause error)) {
	if fn == nil {
		s.onCorrupt.Store(nil)
		return
	}
	s.onCorrupt.Store(&fn)
}

// reportCorrupt tells the corruption handler, if any, of key at v.
func (s *Store) reportCorrupt(key objstore.Key, v objstore.Version, cause error) {
	if fn := s.onCorrupt.Load(); fn != nil {
		(*fn)(key, v, cause)
	}
}

// release returns n reserved bytes.
func (s *Store) release(n int64) { s.reserved.Add(-n) }

// Reserve books n bytes of the quota for files kept beside the bodies on
// the same disk, such as staged multipart parts. It fails, booking
// nothing, with an error wrapping objstore.ErrInsufficientStorage when the
// quota would be passed.
func (s *Store) Reserve(n int64) error {
	if err := s.reserve(n); err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	return nil
}

// Book books n bytes even past the quota: for such files found on disk at
// start.
func (s *Store) Book(n int64) { s.reserved.Add(n) }

// Release returns n bytes booked with Reserve or Book.
func (s *Store) Release(n int64) { s.release(n) }
