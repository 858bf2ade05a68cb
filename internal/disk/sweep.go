package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sphere.software/objstore/internal/durable"
)

// Sweep removes every committed body whose name keep rejects and returns
// how many it removed. It is meant for the bodies a crash left between
// their rename and their journal record. It may run while the store
// serves: a body this process committed into a shard before Sweep reached
// it is kept without asking keep, since its record may not be journaled
// yet; keep must accept every body with a record journaled before Sweep
// started. It does not look into dir/tmp. The first Sweep also counts the
// held bytes (see count.go). Sweeps must not overlap.
//
// Only a directory proven this node's loses bodies: while its ownership
// is unchecked (no Config.NodeID) or adopted (see Config), Sweep moves
// such bodies to dir/unclaimed instead, where they are no longer bodies
// and stay until an operator removes them. A Sweep that completes over an
// adopted directory proves it.
func (s *Store) Sweep(ctx context.Context, keep func(name string) bool) (int, error) {
	drop, verb := s.removeFile, "swept bodies without records"
	if s.owned != proven {
		drop, verb = s.moveAside, "moved bodies without records aside"
	}
	removed, err := s.pass(ctx, keep, drop)
	if removed > 0 {
		s.log.Info(verb, "count", removed, "dir", s.dir)
	}
	if err == nil {
		err = s.proveOwned()
	}
	if err != nil {
		return removed, fmt.Errorf("disk: sweep: %w", err)
	}
	return removed, nil
}

// moveAside moves the committed body at path, called name, to
// dir/unclaimed, durably, and takes its size off the counters, if the file
// fi is still the one in place.
func (s *Store) moveAside(path, name string, fi fs.FileInfo) error {
	unclaimed := filepath.Join(s.dir, unclaimedDir)
	if err := durable.MkdirAll(unclaimed, 0o755); err != nil {
		return err
	}
	s.fsMu.Lock()
	defer s.fsMu.Unlock()
	defer s.forget(name)
	cur, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !os.SameFile(cur, fi) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := durable.Rename(path, filepath.Join(unclaimed, name)); err != nil {
		return err
	}
	s.changedLocked(name, -fi.Size())
	delete(s.count.fresh, name)
	s.held.Add(-fi.Size())
	s.reserved.Add(-fi.Size())
	return nil
}

// walk calls fn with the name of every regular file in every shard
// directory, shard by shard, until fn fails or ctx is done. It reads
// directory entries only: a start over a million bodies must not stat each
// one, so fn stats through the shard's Root (fstatat, no path lookup) only
// the files it needs to.
func (s *Store) walk(ctx context.Context, fn func(shard *os.Root, shardName, name string) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, d := range shards {
		if !d.IsDir() || !isShard(d.Name()) {
			continue
		}
		if err := s.walkShard(ctx, d.Name(), fn); err != nil {
			return err
		}
	}
	return nil
}

// walkShard calls fn for every regular file in one shard directory.
func (s *Store) walkShard(ctx context.Context, shard string, fn func(shard *os.Root, shardName, name string) error) error {
	root, err := os.OpenRoot(filepath.Join(s.dir, shard))
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }() // a directory opened for reading
	dir, err := root.Open(".")
	if err != nil {
		return err
	}
	// Unsorted, unlike os.ReadDir: the order does not matter here.
	entries, err := dir.ReadDir(-1)
	_ = dir.Close() // read-only; the ReadDir error is the one to report
	if err != nil {
		return err
	}
	for i, e := range entries {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !e.Type().IsRegular() {
			continue
		}
		if err := fn(root, shard, e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// ctxCheckEvery is how many directory entries walk visits between checks
// of its context.
const ctxCheckEvery = 256

// lstatIn stats the file called name in shard, reporting a file removed
// since the directory was read as not found.
func lstatIn(shard *os.Root, name string) (fs.FileInfo, bool, error) {
	fi, err := shard.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return fi, true, nil
}
