package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"sphere.software/objstore"
)

// pair is two copies of one diverged pair of journals: one copy for each
// method, so that both start from the same state.
type pair struct {
	a, b   [2]string // paths
	newA   int       // records only A holds
	newerB int       // base records of which B holds a newer version
}

// setUp builds the journals of a pair in dir: a base of n records, copied
// to B; then A gets d/2 (rounded up) new records and B newer versions of
// d/2 base records; then both are copied for the second method.
func setUp(ctx context.Context, dir string, n, d int, progress io.Writer) (pair, error) {
	p := pair{newA: d - d/2, newerB: d / 2}
	for i := range 2 {
		p.a[i] = filepath.Join(dir, fmt.Sprintf("a%d.db", i))
		p.b[i] = filepath.Join(dir, fmt.Sprintf("b%d.db", i))
	}
	start := time.Now()
	if err := build(ctx, p.a[0], n, progress); err != nil {
		return p, fmt.Errorf("build base: %w", err)
	}
	if err := copyFile(p.a[0], p.b[0]); err != nil {
		return p, fmt.Errorf("copy base: %w", err)
	}
	if err := diverge(ctx, p.a[0], p.newA, func(i int) objstore.Record { return newOnA(n, i) }); err != nil {
		return p, fmt.Errorf("diverge A: %w", err)
	}
	if p.newerB > 0 {
		err := diverge(ctx, p.b[0], p.newerB, func(i int) objstore.Record { return newerOnB(n, p.newerB, i) })
		if err != nil {
			return p, fmt.Errorf("diverge B: %w", err)
		}
	}
	for _, c := range [][2]string{{p.a[0], p.a[1]}, {p.b[0], p.b[1]}} {
		if err := copyFile(c[0], c[1]); err != nil {
			return p, fmt.Errorf("copy pair: %w", err)
		}
	}
	fmt.Fprintf(progress, "  set up N=%d in %.1fs: A has %d new records, B newer versions of %d\n",
		n, time.Since(start).Seconds(), p.newA, p.newerB)
	return p, nil
}
