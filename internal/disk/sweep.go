package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sweep removes every committed body whose name keep rejects and returns
// how many it removed. It is meant for the bodies a crash left between
// their rename and their journal record. A body is committed before its
// record is, so run Sweep before the node takes writes, or let keep accept
// the names of writes in flight; it does not look into dir/tmp.
func (s *Store) Sweep(ctx context.Context, keep func(name string) bool) (int, error) {
	removed := 0
	err := s.walk(ctx, func(shard string, fi fs.FileInfo) error {
		if keep(fi.Name()) {
			return nil
		}
		path := filepath.Join(s.dir, shard, fi.Name())
		if err := s.removeFile(path, fi.Name(), fi); err != nil {
			return err
		}
		removed++
		return nil
	})
	if removed > 0 {
		s.log.Info("swept bodies without records", "count", removed)
	}
	if err != nil {
		return removed, fmt.Errorf("disk: sweep: %w", err)
	}
	return removed, nil
}

// walk calls fn for every regular file in every shard directory, shard by
// shard, until fn fails or ctx is done.
func (s *Store) walk(ctx context.Context, fn func(shard string, fi fs.FileInfo) error) error {
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
func (s *Store) walkShard(ctx context.Context, shard string, fn func(shard string, fi fs.FileInfo) error) error {
	entries, err := os.ReadDir(filepath.Join(s.dir, shard))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return err
		}
		if err := fn(shard, fi); err != nil {
			return err
		}
	}
	return nil
}
