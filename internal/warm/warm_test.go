package warm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"sphere.software/objstore"
)

// fakeSource is a bucket "b" of keys; List pages them two at a time.
type fakeSource struct {
	keys         []string         // sorted
	sizes        map[string]int64 // the bytes a prefetch of a key fetches
	fail         map[string]error // keys whose prefetch fails
	gate         chan struct{}    // when set, every prefetch waits for it (or ctx)
	starts       chan string      // when set, receives each key as its prefetch starts
	listed       atomic.Int64     // List calls
	active, peak atomic.Int64     // prefetches in flight, and the most at once

	mu   sync.Mutex // guards seen
	seen []string
}

func (f *fakeSource) CheckBucket(ctx context.Context, bucket string) error {
	if bucket != "b" {
		return fmt.Errorf("head bucket: %w", objstore.ErrNoSuchBucket)
	}
	return nil
}

func (f *fakeSource) List(ctx context.Context, bucket string, q objstore.ListQuery) (objstore.ListPage, error) {
	f.listed.Add(1)
	var p objstore.ListPage
	for _, k := range f.keys {
		if !strings.HasPrefix(k, q.Prefix) || k <= q.StartAfter {
			continue
		}
		if len(p.Objects) == 2 {
			p.Truncated, p.Next = true, p.Objects[1].Key
			break
		}
		p.Objects = append(p.Objects, objstore.ListEntry{Key: k})
	}
	return p, nil
}

func (f *fakeSource) Prefetch(ctx context.Context, key objstore.Key) (int64, error) {
	now := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		p := f.peak.Load()
		if now <= p || f.peak.CompareAndSwap(p, now) {
			break
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, key.ID)
	f.mu.Unlock()
	if f.starts != nil {
		f.starts <- key.ID
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := f.fail[key.ID]; err != nil {
		return 0, err
	}
	return f.sizes[key.ID], nil
}

func newManager(t testing.TB, cfg Config, src Source) *Manager {
	t.Helper()
	m, err := New(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func ptr(s string) *string { return &s }

func TestStartRejectsBadRequests(t *testing.T) {
	m := newManager(t, Config{MaxKeys: 3}, &fakeSource{})
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"no bucket", Request{Prefix: ptr("")}, ErrInvalid},
		{"both", Request{Bucket: "b", Prefix: ptr("a"), Keys: []string{"x"}}, ErrInvalid},
		{"neither", Request{Bucket: "b"}, ErrInvalid},
		{"empty keys", Request{Bucket: "b", Keys: []string{}}, ErrInvalid},
		{"empty key", Request{Bucket: "b", Keys: []string{""}}, ErrInvalid},
		{"too many keys", Request{Bucket: "b", Keys: []string{"a", "b", "c", "d"}}, ErrInvalid},
		{"concurrency negative", Request{Bucket: "b", Prefix: ptr(""), Concurrency: -1}, ErrInvalid},
		{"concurrency too high", Request{Bucket: "b", Prefix: ptr(""), Concurrency: 65}, ErrInvalid},
		{"missing bucket", Request{Bucket: "nope", Prefix: ptr("")}, objstore.ErrNoSuchBucket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Start(context.Background(), tc.req); !errors.Is(err, tc.want) {
				t.Fatalf("Start = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPrefixJobWarmsEveryKeyUnderIt(t *testing.T) {
	src := &fakeSource{
		keys:  []string{"a/1", "a/2", "a/3", "a/4", "a/5", "b/1"},
		sizes: map[string]int64{"a/1": 10, "a/2": 20, "a/4": 40, "a/5": 50},
		fail:  map[string]error{"a/3": objstore.ErrNoRemote},
	}
	m := newManager(t, Config{}, src)
	p, err := m.Start(context.Background(), Request{Bucket: "b", Prefix: ptr("a/"), Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := m.Wait(context.Background(), p.ID)
	if err != nil || !ok {
		t.Fatalf("wait: %v %v", ok, err)
	}
	want := Progress{State: StateDone, Listed: 5, Done: 4, Failed: 1, BytesFetched: 120}
	if p.State != want.State || p.Listed != want.Listed || p.Done != want.Done || p.Failed != want.Failed ||
		p.BytesFetched != want.BytesFetched || p.Cached != 0 || p.Ended == nil {
		t.Fatalf("progress %+v, want %+v", p, want)
	}
	if len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0], "a/3: ") {
		t.Fatalf("errors %q, want a/3's", p.Errors)
	}
	slices.Sort(src.seen)
	if !slices.Equal(src.seen, []string{"a/1", "a/2", "a/3", "a/4", "a/5"}) || src.listed.Load() != 3 {
		t.Fatalf("prefetched %q in %d pages", src.seen, src.listed.Load())
	}
}

func TestKeysJobCountsCachedKeys(t *testing.T) {
	m := newManager(t, Config{}, &fakeSource{sizes: map[string]int64{"x": 7}})
	p, err := m.Start(context.Background(), Request{Bucket: "b", Keys: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Concurrency != 8 || p.State != StateRunning {
		t.Fatalf("first progress %+v", p)
	}
	p, _, _ = m.Wait(context.Background(), p.ID)
	if p.State != StateDone || p.Listed != 2 || p.Done != 2 || p.Cached != 1 || p.BytesFetched != 7 {
		t.Fatalf("progress %+v", p)
	}
}

// The prefetches in flight never exceed the job's concurrency, and a
// shutdown stops a job mid-way: it ends failed, its keys not counted failed.
func TestConcurrencyBoundAndClose(t *testing.T) {
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%02d", i)
	}
	src := &fakeSource{gate: make(chan struct{}), starts: make(chan string, len(keys))}
	m, err := New(Config{}, src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Start(context.Background(), Request{Bucket: "b", Keys: keys, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // the workers are all busy
		<-src.starts
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, ok, err := m.Wait(context.Background(), p.ID)
	if err != nil || !ok || got.State != StateFailed || got.Failed != 0 || !strings.Contains(got.Error, "shutting down") {
		t.Fatalf("after close: %+v %v", got, err)
	}
	if peak := src.peak.Load(); peak != 3 {
		t.Fatalf("%d prefetches in flight at most, want 3", peak)
	}
	if _, err := m.Start(context.Background(), Request{Bucket: "b", Keys: keys}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}

func TestRunningAndKeptJobsAreBounded(t *testing.T) {
	src := &fakeSource{gate: make(chan struct{})}
	m := newManager(t, Config{MaxRunning: 1, MaxKept: 2}, src)
	first, err := m.Start(context.Background(), Request{Bucket: "b", Keys: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(context.Background(), Request{Bucket: "b", Keys: []string{"y"}}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second running job: %v, want ErrBusy", err)
	}
	close(src.gate)
	ids := []string{first.ID}
	for range 2 {
		if _, _, err := m.Wait(context.Background(), ids[len(ids)-1]); err != nil {
			t.Fatal(err)
		}
		p, err := m.Start(context.Background(), Request{Bucket: "b", Keys: []string{"z"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	if _, ok := m.Job(ids[0]); ok {
		t.Fatal("the oldest ended job is still kept beyond MaxKept")
	}
	for _, id := range ids[1:] {
		if _, ok := m.Job(id); !ok {
			t.Fatalf("job %s forgotten", id)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{MaxRunning: -1}, {MaxRunning: 10, MaxKept: 5}, {DefaultConcurrency: 100}} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}
