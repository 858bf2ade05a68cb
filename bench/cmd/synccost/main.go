// Command synccost measures what anti-entropy costs between two real
// journals of N records that differ in a fraction -diff of them, against
// the original's method of sending the whole journal.
//
// For each N it builds a base journal (internal/journal, without fsync, by
// concurrent group-committed merges), copies it to B, then gives A
// N×diff/2 new records (objects B never saw) and B newer versions of
// N×diff/2 base records (overwrites A never saw), and copies the pair
// again so both methods start from the same state. Then, over a loopback
// HTTP server running peerapi.NewHandler in front of B:
//
//  1. anti-entropy: one node.Sync pass from A over a peerapi.Client; afterwards both
//     journals hold the same records (checked by their digests);
//  2. full journal: every record of A, read with Range, encoded in the
//     private API wire format and pushed to B (100,000 records a request), which
//     decodes and merges them all. This converges B only; making A converge
//     too would send B's whole journal back, doubling the figures.
//
// Bytes are the request and response bodies the server read and wrote;
// seconds are wall time on this machine. Both methods use one Apply, which
// merges every record it gets (with fsync unless -nosync; with -filter it
// first reads each record and merges only those newer than the stored one).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"sphere.software/objstore/internal/journal"
)

type options struct {
	sizes  []int
	diff   float64
	dir    string
	noSync bool
	filter bool
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("synccost", flag.ContinueOnError)
	sizes := fs.String("n", "100000,1000000", "journal sizes, comma-separated")
	o := options{}
	fs.Float64Var(&o.diff, "diff", 0.001, "fraction of records that differ")
	fs.StringVar(&o.dir, "dir", "", "directory for the journals (default: a temporary one, removed after)")
	fs.BoolVar(&o.noSync, "nosync", false, "measure without fsync on merge too")
	fs.BoolVar(&o.filter, "filter", false, "Apply merges only records newer than the stored ones (a Get first)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("flag -n: bad size %q", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.diff <= 0 || o.diff > 1 {
		return o, errors.New("flag -diff must be in (0, 1]")
	}
	return o, nil
}

// run measures every size and prints the table to out, progress to progress.
func run(ctx context.Context, o options, out, progress io.Writer) error {
	dir, cleanup, err := workDir(o.dir)
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	var rows []result
	for _, n := range o.sizes {
		r, err := measureSize(ctx, dir, n, o, progress)
		if err != nil {
			return fmt.Errorf("size %d: %w", n, err)
		}
		rows = append(rows, r...)
	}
	printTable(out, rows)
	fmt.Fprintf(out, "\ntotal run time %.0fs; fsync on merge: %v; Apply skips records it has: %v\n",
		time.Since(start).Seconds(), !o.noSync, o.filter)
	return nil
}

// workDir returns dir (made if needed) or a temporary directory, and a
// function that removes what it made.
func workDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "synccost")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { _ = os.RemoveAll(tmp) }, nil // a leftover temp dir is harmless
}

// measureSize sets up one pair of size n and measures both methods.
func measureSize(ctx context.Context, dir string, n int, o options, progress io.Writer) ([]result, error) {
	sub, err := os.MkdirTemp(dir, fmt.Sprintf("n%d-", n))
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(sub) }() // journals of one size are not needed after
	d := max(2, int(float64(n)*o.diff+0.5))
	p, err := setUp(ctx, sub, n, d, progress)
	if err != nil {
		return nil, err
	}
	syncRes, err := withPeer(p.a[0], p.b[0], o, func(pe *peer) (result, error) { return measureSync(ctx, pe) })
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	fmt.Fprintf(progress, "  sync N=%d: %.3fs, %s; %s\n", n, syncRes.seconds, syncRes.detail, syncRes.times)
	fullRes, err := withPeer(p.a[1], p.b[1], o, func(pe *peer) (result, error) {
		return measureFull(ctx, pe, int64(n+p.newA))
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "  full N=%d: %.3fs, %s\n", n, fullRes.seconds, fullRes.times)
	for _, r := range []*result{&syncRes, &fullRes} {
		r.n, r.diff = n, float64(d)/float64(n)
	}
	return []result{syncRes, fullRes}, nil
}

// withPeer opens a peer on the two journals, runs fn and closes it.
func withPeer(aPath, bPath string, o options, fn func(*peer) (result, error)) (result, error) {
	p, err := openPeer(aPath, bPath, journal.Options{NoSync: o.noSync}, o.filter)
	if err != nil {
		return result{}, err
	}
	r, err := fn(p)
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return r, err
}

// printTable prints the rows and, per size, how many times more the full
// exchange costs than the sync.
func printTable(out io.Writer, rows []result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tdiff\tmethod\trequests\tbytes\tseconds\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%g\t%s\t%d\t%d\t%.3f\t\n", r.n, r.diff, r.method, r.requests, r.bytes, r.seconds)
	}
	_ = tw.Flush() // out is the terminal or a pipe: nothing to do about a failure
	fmt.Fprintln(out)
	for i := 0; i+1 < len(rows); i += 2 {
		s, f := rows[i], rows[i+1]
		fmt.Fprintf(out, "N=%d: full/sync = %.0f× the bytes, %.0f× the time; sync: %s\n",
			s.n, float64(f.bytes)/float64(s.bytes), f.seconds/s.seconds, s.detail)
	}
}
