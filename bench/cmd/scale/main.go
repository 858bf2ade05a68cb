// Command scale measures what tracked objects cost a node: the growth of
// its resident memory per object, and the time from starting the process
// on N objects to the first successful GET of one of them (restart to
// serving). See BENCHMARKS.md ("Memory and restart at scale").
//
// For each N it builds a state dir and a files dir holding N level-0
// objects of a few bytes (records through the journal package, bodies
// written under the names the disk package gives them), starts the
// objstore binary on them -runs times, and removes them. A node of one
// object is the baseline: per-object growth = (RSS(N) - RSS(1)) / (N-1).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := runMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

type options struct {
	sizes  []int
	runs   int
	bin    string
	dir    string
	settle time.Duration
	heap   bool
	keep   bool
}

func runMain(ctx context.Context, args []string) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "objstore-scale-"); err != nil {
			return err
		}
		if !o.keep {
			defer func() { _ = os.RemoveAll(o.dir) }() // best effort at the end
		}
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.dir, "objstore")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "./cmd/objstore").CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build ./cmd/objstore (run from the repository root): %w\n%s", err, out)
		}
	}
	base, err := measureSize(ctx, o, 1)
	if err != nil {
		return err
	}
	fmt.Printf("\n| objects | restart to serving, s (median; min–max) | sweep, s | RSS, MiB (median) | anon / file, MiB | peak RSS, MiB | RSS per object, B | anon per object, B |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Println(row(1, base, base))
	for _, n := range o.sizes {
		rs, err := measureSize(ctx, o, n)
		if err != nil {
			return err
		}
		fmt.Println(row(n, rs, base))
	}
	return nil
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	sizes := fs.String("n", "200000,1000000", "comma-separated object counts")
	fs.IntVar(&o.runs, "runs", 3, "starts of the node per object count")
	fs.StringVar(&o.bin, "bin", "", "objstore binary; empty = go build ./cmd/objstore into the work dir")
	fs.StringVar(&o.dir, "dir", "", "work dir; empty = a new temp dir, removed at the end (with -keep, a later run reuses the nodes built there)")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "how long a node runs after its start-up sweep ended before its RSS is read")
	fs.BoolVar(&o.heap, "heap", false, "save a heap profile of each start into the work dir (with -keep)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work dir")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return o, fmt.Errorf("-n: %q is not a count of at least 2", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs %d: want at least 1", o.runs)
	}
	return o, nil
}

// measureSize builds a node of n objects, starts it o.runs times and
// removes its dirs unless o.keep.
func measureSize(ctx context.Context, o options, n int) ([]result, error) {
	dir := filepath.Join(o.dir, fmt.Sprintf("n%d", n))
	if !o.keep {
		defer func() { _ = os.RemoveAll(dir) }() // best effort; the work dir goes too
	}
	node, err := buildOnce(ctx, dir, n)
	if err != nil {
		return nil, fmt.Errorf("build %d objects: %w", n, err)
	}
	rec, body := object(node, n/2)
	var rs []result
	for i := range o.runs {
		heap := ""
		if o.heap {
			heap = filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", i))
		}
		r, err := run(ctx, o.bin, dir, rec.Key.ID, body, o.settle, heap)
		if err != nil {
			return nil, fmt.Errorf("%d objects, start %d: %w", n, i+1, err)
		}
		fmt.Fprintf(os.Stderr, "  %d objects, start %d: serving after %.3fs, swept in %.1fs, RSS %.1f MiB (anon %.1f, file %.1f), peak %.1f MiB\n",
			n, i+1, r.serving.Seconds(), r.swept.Seconds(), mib(r.rss), mib(r.anon), mib(r.file), mib(r.hwm))
		rs = append(rs, r)
	}
	return rs, nil
}

// builtMark is the file, in a node's dir, that holds its node ID once the
// dir is complete: a kept work dir is reused.
const builtMark = "built"

// buildOnce builds the dirs of a node of n objects under dir, unless a
// complete build is there already, and returns the node's ID.
func buildOnce(ctx context.Context, dir string, n int) (string, error) {
	if b, err := os.ReadFile(filepath.Join(dir, builtMark)); err == nil {
		return string(b), nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	start := time.Now()
	node, err := build(ctx, dir, n, os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "built %d objects in %.1fs\n", n, time.Since(start).Seconds())
	return node, os.WriteFile(filepath.Join(dir, builtMark), []byte(node), 0o644)
}

func rssOf(r result) float64     { return float64(r.rss) }
func anonOf(r result) float64    { return float64(r.anon) }
func fileOf(r result) float64    { return float64(r.file) }
func sweptOf(r result) float64   { return r.swept.Seconds() }
func hwmOf(r result) float64     { return float64(r.hwm) }
func servingOf(r result) float64 { return r.serving.Seconds() }
func mib(b int64) float64        { return float64(b) / (1 << 20) }

// median is the median of f over rs.
func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// row is the table row of n objects, against the baseline's medians.
func row(n int, rs, base []result) string {
	lo, hi := rs[0].serving, rs[0].serving
	for _, r := range rs {
		lo, hi = min(lo, r.serving), max(hi, r.serving)
	}
	rss, anon := median(rs, rssOf), median(rs, anonOf)
	perObj, anonPerObj := "—", "—"
	if n > 1 {
		perObj = fmt.Sprintf("%.0f", (rss-median(base, rssOf))/float64(n-1))
		anonPerObj = fmt.Sprintf("%.0f", (anon-median(base, anonOf))/float64(n-1))
	}
	return fmt.Sprintf("| %d | %.3f (%.3f–%.3f) | %.1f | %.1f | %.1f / %.1f | %.1f | %s | %s |", n, median(rs, servingOf),
		lo.Seconds(), hi.Seconds(), median(rs, sweptOf), rss/(1<<20), anon/(1<<20), median(rs, fileOf)/(1<<20),
		median(rs, hwmOf)/(1<<20), perObj, anonPerObj)
}
