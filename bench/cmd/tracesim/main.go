// Command tracesim replays a request trace through the eviction policies
// of internal/evict offline (no server, no disk: the policy alone) and
// prints their miss ratios, to choose the policy and show it beats LRU.
//
// For each capacity (a share of the trace's unique bytes) and each policy
// (S3-FIFO, LRU, S3-FIFO admitting on the second miss) it replays the
// trace twice: as it is, and with a one-pass scan of never-seen objects
// (-scan times the capacity in bytes) spread over its middle third. It
// prints the object and byte miss ratios of the trace's own requests and
// the hit ratio of the hot set (objects requested at least -hot times)
// in each third: before, during and after the scan.
//
// Usage, from the repository root:
//
//	go run ./bench/cmd/tracesim [-trace ../shared/traces/cdn-adaptsize.trace.xz]
package main

import (
	"sphere.software/objstore/bench/trace"

	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"

	"sphere.software/objstore/internal/evict"
)

func main() {
	tracePath := flag.String("trace", "../shared/traces/cdn-adaptsize.trace.xz",
		"trace of `time id size` lines, xz-compressed if it ends in .xz; a relative path is also looked for above the working directory")
	caps := flag.String("capacities", "0.10,0.25", "capacities as shares of the trace's unique bytes, comma-separated")
	scanFactor := flag.Float64("scan", 2, "bytes of the one-pass scan, as a multiple of the capacity (0: no scan runs)")
	hotMin := flag.Int("hot", 4, "an object is in the hot set if the trace requests it at least this many times")
	resizedMiss := flag.Bool("resized-miss", false, "count a request for a known id with another size as a miss (default: a hit, as the trace README's reference simulation)")
	flag.Parse()
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, config{*tracePath, *caps, *scanFactor, *hotMin, *resizedMiss}); err != nil {
		log.Fatalf("tracesim: %v", err)
	}
}

// policy is one row of the tables.
type policy struct {
	name string
	opts evict.Options
}

var policies = []policy{
	{"lru", evict.Options{Mode: evict.ModeLRU}},
	{"s3fifo", evict.Options{}},
	{"s3fifo+2nd-miss", evict.Options{SecondMiss: true}},
}

// config is the command line.
type config struct {
	trace       string
	capacities  string
	scan        float64
	hotMin      int
	resizedMiss bool
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	fractions, err := parseFractions(cfg.capacities)
	if err != nil {
		return err
	}
	scanFactor, hotMin := cfg.scan, cfg.hotMin
	path, err := trace.Find(cfg.trace)
	if err != nil {
		return err
	}
	reqs, err := trace.Read(ctx, path)
	if err != nil {
		return err
	}
	objects, unique := uniqueBytes(reqs)
	hot := hotSet(reqs, hotMin)
	fmt.Fprintf(out, "trace %s: %d requests, %d objects, %d unique bytes; hot set (≥ %d requests): %d objects\n",
		path, len(reqs), objects, unique, hotMin, len(hot))
	fmt.Fprintf(out, "offline simulation of the policy alone; hot hit ratios are per third of the trace (the scan runs in the middle one)\n\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "capacity\tpolicy\tscan\tobject miss\tbyte miss\thot before\thot during\thot after\tevictions\t")
	for _, f := range fractions {
		capacity := int64(f * float64(unique))
		scans := []float64{0}
		if scanFactor > 0 {
			scans = append(scans, scanFactor)
		}
		for _, scanX := range scans {
			for _, p := range policies {
				if err := ctx.Err(); err != nil {
					return err
				}
				c, err := newCache(capacity, p.opts, cfg.resizedMiss)
				if err != nil {
					return err
				}
				s := scan{bytes: int64(scanX * float64(capacity)), seed: 1}
				r := replay(c, reqs, hot, s)
				fmt.Fprintf(tw, "%.1f MB (%.0f%%)\t%s\t%s\t%.4f\t%.4f\t%.3f\t%.3f\t%.3f\t%d\t\n",
					float64(capacity)/1e6, f*100, p.name, scanLabel(s, r), r.objectMiss(), r.byteMiss(),
					r.hotHit(0), r.hotHit(1), r.hotHit(2), r.evictions)
			}
		}
	}
	return tw.Flush()
}

func scanLabel(s scan, r result) string {
	if s.bytes == 0 {
		return "none"
	}
	return fmt.Sprintf("%.0f MB/%d obj", float64(s.bytes)/1e6, r.scanReqs)
}

func parseFractions(s string) ([]float64, error) {
	var fs []float64
	for _, part := range strings.Split(s, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || f <= 0 || f > 1 {
			return nil, fmt.Errorf("capacity %q: want a share in (0, 1]", part)
		}
		fs = append(fs, f)
	}
	return fs, nil
}
