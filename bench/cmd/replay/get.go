package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// getResult is one get run.
type getResult struct {
	Keys           string  `json:"keys"`
	Requests       int     `json:"requests"`
	Errors         int64   `json:"errors"`
	RequestedBytes int64   `json:"requested_bytes"`
	Seconds        float64 `json:"seconds"`
	Rate           float64 `json:"req_per_s"`
	RateFirst10    float64 `json:"req_per_s_first10"`
	RateLast10     float64 `json:"req_per_s_last10"`
	OriginGets     int     `json:"origin_gets,omitempty"`
	OriginBytes    int64   `json:"origin_bytes,omitempty"`
	ObjectMiss     float64 `json:"object_miss_ratio,omitempty"`
	ByteMiss       float64 `json:"byte_miss_ratio,omitempty"`
	PeakDisk       int64   `json:"peak_disk_bytes,omitempty"` // du -sb
	PeakFiles      int64   `json:"peak_file_bytes,omitempty"` // regular files only
	// The trace only: per third (the scan, if any, runs in the middle one).
	HotRequests   []int     `json:"hot_requests,omitempty"`
	HotOriginGets []int     `json:"hot_origin_gets,omitempty"`
	HotHit        []float64 `json:"hot_hit_ratio,omitempty"`
	HotHeaderHits []int64   `json:"hot_header_hits,omitempty"` // X-Cache-Status HIT, when the cache sets it
	ScanRequests  int       `json:"scan_requests,omitempty"`
	ScanBytes     int64     `json:"scan_bytes,omitempty"`
	ScanOrigin    int       `json:"scan_origin_gets,omitempty"`
}

// replay GETs the chosen set in order with c.conc workers and measures it.
// The trace goes in thirds (see the package comment), a cold set in one go.
func replay(ctx context.Context, s *s3c, c config, w *workload) (*getResult, error) {
	var parts [][]item
	var scan []item
	if c.keys == "trace" {
		scan = w.scanItems(c.scanBytes)
		ph := w.tracePhases(scan)
		parts = ph[:]
	} else {
		items, err := w.set(c.keys, c.coldBytes)
		if err != nil {
			return nil, err
		}
		parts = [][]item{items}
	}
	var all []item
	for _, p := range parts {
		all = append(all, p...)
	}
	snap, err := counts(ctx, c.countAdmin)
	if err != nil {
		return nil, err
	}
	sampler := startDu(c.duDir)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.conc, DisableCompression: true}, Timeout: 2 * time.Minute}
	run := &getRun{hc: hc, s: s, bucket: c.bucket, hot: w.hot, n: len(all), tenth: max(len(all)/10, 1), marks: map[int64]time.Time{}}
	if c.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / c.rate))
		defer t.Stop()
		run.pace = t.C
	}
	deltas := make([]map[string]int, 0, len(parts))
	run.start = time.Now()
	for _, p := range parts {
		run.phase(ctx, c.conc, p)
		if err := ctx.Err(); err != nil {
			sampler.stop()
			return nil, err
		}
		after, err := counts(ctx, c.countAdmin)
		if err != nil {
			sampler.stop()
			return nil, err
		}
		deltas = append(deltas, diff(after, snap))
		snap = after
	}
	end := time.Now()
	peak, peakFiles := sampler.stop()
	n := len(all)
	r := &getResult{
		Keys: c.keys, Errors: run.errs.Load(), Seconds: end.Sub(run.start).Seconds(), PeakDisk: peak, PeakFiles: peakFiles,
		ScanRequests: len(scan), ScanBytes: sumSizes(scan),
	}
	r.Rate = float64(n) / r.Seconds
	r.RateFirst10 = float64(run.tenth) / run.marks[int64(run.tenth)].Sub(run.start).Seconds()
	r.RateLast10 = float64(run.tenth) / end.Sub(run.marks[int64(n-run.tenth)]).Seconds()
	for _, it := range all {
		if !strings.HasPrefix(it.key, "scan/") {
			r.Requests++
			r.RequestedBytes += it.size
		}
	}
	if c.countAdmin == "" {
		return r, nil
	}
	prefix := "/" + c.bucket + "/"
	for pi, d := range deltas {
		hotReqs := 0
		for _, it := range parts[pi] {
			if w.hot[it.key] {
				hotReqs++
			}
		}
		hotGets := 0
		for path, cnt := range d {
			key, ok := strings.CutPrefix(path, prefix)
			size, known := w.sizes[key]
			if !ok || !known {
				continue
			}
			switch {
			case strings.HasPrefix(key, "scan/"):
				r.ScanOrigin += cnt
			case inSet(c.keys, key):
				r.OriginGets += cnt
				r.OriginBytes += int64(cnt) * size
				if w.hot[key] {
					hotGets += cnt
				}
			}
		}
		if c.keys == "trace" {
			r.HotRequests = append(r.HotRequests, hotReqs)
			r.HotOriginGets = append(r.HotOriginGets, hotGets)
			r.HotHit = append(r.HotHit, 1-float64(hotGets)/float64(max(hotReqs, 1)))
			r.HotHeaderHits = append(r.HotHeaderHits, run.headerHits[pi].Load())
		}
	}
	r.ObjectMiss = float64(r.OriginGets) / float64(r.Requests)
	r.ByteMiss = float64(r.OriginBytes) / float64(r.RequestedBytes)
	return r, nil
}

// getRun is the state of one replay shared by its phases' workers.
type getRun struct {
	hc         *http.Client
	s          *s3c
	bucket     string
	hot        map[string]bool
	n, tenth   int
	start      time.Time
	done, errs atomic.Int64
	mu         sync.Mutex // guards marks
	marks      map[int64]time.Time
	phaseNo    int
	pace       <-chan time.Time         // with -rate: one tick per request
	headerHits [phases + 1]atomic.Int64 // hot requests answered X-Cache-Status: HIT, per phase
}

// phase GETs items in order with conc workers and returns when all are
// answered.
func (g *getRun) phase(ctx context.Context, conc int, items []item) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				if g.pace != nil {
					select {
					case <-g.pace:
					case <-ctx.Done():
						return
					}
				}
				hit, err := getOne(ctx, g.hc, g.s, g.bucket, items[i])
				if err != nil {
					if g.errs.Add(1) <= 5 {
						log.Printf("replay: %v", err)
					}
				}
				if hit && g.hot[items[i].key] {
					g.headerHits[g.phaseNo].Add(1)
				}
				if d := g.done.Add(1); d == int64(g.tenth) || d == int64(g.n-g.tenth) {
					g.mu.Lock()
					g.marks[d] = time.Now()
					g.mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	g.phaseNo = min(g.phaseNo+1, phases)
}

// diff is after minus before, per path, where positive.
func diff(after, before map[string]int) map[string]int {
	d := map[string]int{}
	for path, n := range after {
		if n > before[path] {
			d[path] = n - before[path]
		}
	}
	return d
}

// inSet says whether a counted key is one of this run's keys: the trace's
// objects, or one cold set.
func inSet(keys, key string) bool {
	if keys == "trace" {
		return !strings.HasPrefix(key, "cold-") && !strings.HasPrefix(key, "scan/")
	}
	return strings.HasPrefix(key, keys+"/")
}

// getOne GETs it and checks the status and the length of the body. hit is
// whether the answer said X-Cache-Status: HIT (nginx, configured so).
func getOne(ctx context.Context, hc *http.Client, s *s3c, bucket string, it item) (hit bool, err error) {
	u, err := s.getURL(ctx, bucket, it.key)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("request %s: %w", it.key, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("get %s: %w", it.key, err)
	}
	defer resp.Body.Close()
	hit = resp.Header.Get("X-Cache-Status") == "HIT"
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return hit, fmt.Errorf("get %s: body after %d bytes: %w", it.key, n, err)
	}
	if resp.StatusCode != http.StatusOK || n != it.size {
		return hit, fmt.Errorf("get %s: status %d, %d bytes, want 200 and %d", it.key, resp.StatusCode, n, it.size)
	}
	return hit, nil
}

// counts reads countproxy's GET count of every path (nil without admin).
func counts(ctx context.Context, admin string) (map[string]int, error) {
	m := map[string]int{}
	if admin == "" {
		return m, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/counts", nil)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text()) // METHOD PATH COUNT
		if len(f) != 3 || f[0] != http.MethodGet {
			continue
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("counts line %q: %w", sc.Text(), err)
		}
		m[f[1]] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return m, nil
}

// duSampler runs `du -sb DIR` every 200 ms and keeps the peak, and the
// peak of the regular files' sizes under DIR.
type duSampler struct {
	quit      chan struct{}
	done      chan struct{}
	peak      atomic.Int64 // du -sb
	peakFiles atomic.Int64 // regular files' sizes
}

func startDu(dir string) *duSampler {
	d := &duSampler{quit: make(chan struct{}), done: make(chan struct{})}
	if dir == "" {
		close(d.done)
		return d
	}
	go func() {
		defer close(d.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			d.sample(dir)
			select {
			case <-d.quit:
				d.sample(dir) // the final state too
				return
			case <-t.C:
			}
		}
	}()
	return d
}

func (d *duSampler) sample(dir string) {
	// du warns about files removed while it walks; the total is still right for a sample.
	out, _ := exec.Command("du", "-sb", dir).Output()
	if f := strings.Fields(string(out)); len(f) > 0 {
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > d.peak.Load() {
			d.peak.Store(n)
		}
	}
	// The bodies alone: du -sb also counts the directories (a node's
	// shard dirs, nginx's levels), which hold no cached bytes.
	var files int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return nil // a file removed meanwhile, or a dir
		}
		if info, err := e.Info(); err == nil {
			files += info.Size()
		}
		return nil
	})
	if files > d.peakFiles.Load() {
		d.peakFiles.Store(files)
	}
}

func (d *duSampler) stop() (du, files int64) {
	close(d.quit)
	<-d.done
	return d.peak.Load(), d.peakFiles.Load()
}
