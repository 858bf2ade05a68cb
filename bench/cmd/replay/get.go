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
}

// replay GETs the chosen set in order with c.conc workers and measures it.
func replay(ctx context.Context, s *s3c, c config, w *workload) (*getResult, error) {
	items, err := w.set(c.keys, c.coldBytes)
	if err != nil {
		return nil, err
	}
	before, err := counts(ctx, c.countAdmin)
	if err != nil {
		return nil, err
	}
	sampler := startDu(c.duDir)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.conc, DisableCompression: true}, Timeout: 2 * time.Minute}
	n := len(items)
	tenth := max(n/10, 1)
	var next, done, errs atomic.Int64
	var mu sync.Mutex // guards marks
	marks := map[int64]time.Time{}
	start := time.Now()
	var wg sync.WaitGroup
	for range c.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := getOne(ctx, hc, s, c.bucket, items[i]); err != nil {
					if errs.Add(1) <= 5 {
						log.Printf("replay: %v", err)
					}
				}
				if d := done.Add(1); d == int64(tenth) || d == int64(n-tenth) {
					mu.Lock()
					marks[d] = time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	peak, peakFiles := sampler.stop()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after, err := counts(ctx, c.countAdmin)
	if err != nil {
		return nil, err
	}
	r := &getResult{
		Keys: c.keys, Requests: n, Errors: errs.Load(), RequestedBytes: sumSizes(items),
		Seconds: end.Sub(start).Seconds(), PeakDisk: peak, PeakFiles: peakFiles,
	}
	r.Rate = float64(n) / r.Seconds
	r.RateFirst10 = float64(tenth) / marks[int64(tenth)].Sub(start).Seconds()
	r.RateLast10 = float64(tenth) / end.Sub(marks[int64(n-tenth)]).Seconds()
	if c.countAdmin != "" {
		prefix := "/" + c.bucket + "/"
		for path, cnt := range after {
			d := cnt - before[path]
			size, ok := w.sizes[strings.TrimPrefix(path, prefix)]
			if d <= 0 || !ok || !strings.HasPrefix(path, prefix) || !inSet(c.keys, path, prefix) {
				continue
			}
			r.OriginGets += d
			r.OriginBytes += int64(d) * size
		}
		r.ObjectMiss = float64(r.OriginGets) / float64(n)
		r.ByteMiss = float64(r.OriginBytes) / float64(r.RequestedBytes)
	}
	return r, nil
}

// inSet says whether a counted path is one of this run's keys (by its
// prefix: the trace's objects or one cold set).
func inSet(keys, path, bucketPrefix string) bool {
	key := strings.TrimPrefix(path, bucketPrefix)
	if keys == "trace" {
		return !strings.HasPrefix(key, "cold-")
	}
	return strings.HasPrefix(key, keys+"/")
}

// getOne GETs it and checks the status and the length of the body.
func getOne(ctx context.Context, hc *http.Client, s *s3c, bucket string, it item) error {
	u, err := s.getURL(ctx, bucket, it.key)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", it.key, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", it.key, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return fmt.Errorf("get %s: body after %d bytes: %w", it.key, n, err)
	}
	if resp.StatusCode != http.StatusOK || n != it.size {
		return fmt.Errorf("get %s: status %d, %d bytes, want 200 and %d", it.key, resp.StatusCode, n, it.size)
	}
	return nil
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
