// Command replay replays a request trace through an S3 endpoint, for
// bench/replay.sh: a bounded objstore node, or nginx proxy_cache, in front of
// an origin behind bench/cmd/countproxy.
//
//	replay -mode setup -endpoint ORIGIN ...   create the bucket and every object of the subset
//	                                          (random bytes, the trace's sizes) and the two cold sets
//	replay -mode get -endpoint URL ...        GET the subset's requests in order (-keys trace), or
//	                                          a cold set (-keys cold-a|cold-b), and print one JSON line;
//	                                          with -scan-bytes, a one-pass scan mixed into the trace
//	replay -mode sim                          the same requests offline through internal/evict's
//	                                          LRU and S3-FIFO at -sim-shares of the unique bytes
//
// The subset is the first -limit requests of the trace. An object has the
// size of its first request (a later request of the same id with another
// size is a request of that object). Objects are stored as PREFIX<id>. The
// cold sets cold-a/<i> and cold-b/<i> are never in the trace: object i has
// the size of the trace's i-th request, so both sets are alike; one is read
// on an empty cache and the other once the replay has filled it, for the
// read-through rate at an empty versus a full quota.
//
// With -count-admin (countproxy's admin address) the GET mode reads the
// proxy's per-path counts before and after and reports the origin GETs of
// the keys it asked for and their bytes (GETs times the object's size: the
// node never sends ranged GETs to the origin). With -du it samples `du -sb`
// of a directory every 200 ms and reports the peak.
//
// The trace is sent in thirds, each third's requests all answered before the
// next starts, and the proxy's counts are read between them: the hot set's
// hit ratio (objects requested at least -hot times) is then exact per third,
// 1 - (origin GETs of hot keys) / (requests of hot keys), whatever the cache
// (objstore sets no hit header; nginx's X-Cache-Status, when present, is
// counted as well, as a cross-check). With -scan-bytes the middle third
// also reads the scan objects, once each, spread evenly across it.
package main

import (
	"sphere.software/objstore/bench/trace"

	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"os"
	"os/signal"
	"time"
)

type config struct {
	mode, trace, endpoint, signEndpoint string
	bucket, prefix, keys, access        string
	secret, region, countAdmin, duDir   string
	simShares                           string
	simScan, rate                       float64
	limit, conc, coldN, hotMin          int
	coldBytes, scanBytes                int64
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "get", "setup, get or sim")
	flag.StringVar(&c.trace, "trace", "../shared/traces/cdn-adaptsize.trace.xz", "trace of `time id size` lines")
	flag.IntVar(&c.limit, "limit", 20000, "replay the first N requests of the trace (0: all)")
	flag.IntVar(&c.conc, "c", 16, "concurrent requests")
	flag.Float64Var(&c.rate, "rate", 0, "get mode: send at most this many requests per second (0: as fast as -c allows)")
	flag.StringVar(&c.endpoint, "endpoint", "", "where requests go, e.g. http://127.0.0.1:7070")
	flag.StringVar(&c.signEndpoint, "sign-endpoint", "", "the endpoint GETs are presigned for (a proxy that keeps the Host header in front of the server that checks them); empty: -endpoint")
	flag.StringVar(&c.bucket, "bucket", "bench", "bucket")
	flag.StringVar(&c.prefix, "prefix", "t/", "key prefix of the trace's objects")
	flag.StringVar(&c.keys, "keys", "trace", "get mode: trace, cold-a or cold-b")
	flag.IntVar(&c.coldN, "cold-n", 0, "objects in each cold set (0: a tenth of the subset's requests)")
	flag.Int64Var(&c.coldBytes, "cold-bytes", 0, "get mode, cold sets: read only the first objects whose sizes sum to at most this (0: all)")
	flag.StringVar(&c.access, "access", "", "access key to sign with; empty: AWS_ACCESS_KEY_ID")
	flag.StringVar(&c.secret, "secret", "", "secret key, with -access")
	flag.StringVar(&c.region, "region", "us-east-1", "region")
	flag.StringVar(&c.countAdmin, "count-admin", "", "countproxy's admin URL, for the origin GETs and bytes")
	flag.StringVar(&c.simShares, "sim-shares", "0.10,0.25", "sim mode: capacities as shares of the unique bytes")
	flag.Int64Var(&c.scanBytes, "scan-bytes", 0, "setup: create the scan objects scan/<i> up to this many bytes; get -keys trace: mix the first of them, up to this many bytes, into the middle third; sim: the same offline")
	flag.IntVar(&c.hotMin, "hot", 4, "an object requested at least this many times in the subset is in the hot set, whose hit ratio is reported per third")
	flag.Float64Var(&c.simScan, "sim-scan", 0, "sim mode: mix a scan of this many times the capacity into the middle third")
	flag.StringVar(&c.duDir, "du", "", "directory whose disk use (du -sb) is sampled every 200 ms")
	flag.Parse()
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		log.Fatalf("replay: %v", err)
	}
}

func run(ctx context.Context, c config) error {
	if c.endpoint == "" && c.mode != "sim" {
		return errors.New("-endpoint is required (this tool talks only to a local server)")
	}
	path, err := trace.Find(c.trace)
	if err != nil {
		return err
	}
	reqs, err := trace.Read(ctx, path)
	if err != nil {
		return err
	}
	if c.limit > 0 && c.limit < len(reqs) {
		reqs = reqs[:c.limit]
	}
	w := newWorkload(reqs, c.prefix, c.coldN, c.hotMin)
	client, err := newS3(ctx, c)
	if err != nil {
		return err
	}
	var out any
	switch c.mode {
	case "setup":
		out, err = setup(ctx, client, c, w)
	case "sim":
		out, err = simulate(ctx, c, w)
	case "get":
		out, err = replay(ctx, client, c, w)
	default:
		return errors.New("-mode must be setup, get or sim")
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// since is the seconds from t to now.
func since(t time.Time) float64 { return time.Since(t).Seconds() }
