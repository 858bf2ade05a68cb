package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore/internal/disk"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const boundedQuota = 1 << 20

// putOrigin writes an object straight into the origin bucket, as another
// application would.
func (o *origin) putOrigin(t testing.TB, id string, body []byte) {
	t.Helper()
	if _, err := o.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("S3 PutObject %s: %v", id, err)
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// cacheStat is a number of the "cache" part of /api/v1/stats.
func cacheStat(t testing.TB, n *Node, name string) float64 {
	t.Helper()
	c, ok := n.Stats(t)["cache"].(map[string]any)
	if !ok {
		t.Fatalf("/api/v1/stats has no cache part")
	}
	v, _ := c[name].(float64)
	return v
}

func hitsRemote(t testing.TB, n *Node) float64 {
	t.Helper()
	h, _ := n.Stats(t)["hits"].(map[string]any)
	v, _ := h["remote"].(float64)
	return v
}

// A node with a 1 MiB quota reads through 3 MiB while it takes writes: every
// read completes with the right bytes, the disk stays within the quota, the
// only copies (level 0) stay and a write that finds only them gets 507; the
// policy's state comes back after a restart.
func TestCacheBoundedReadThroughAndWrites(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--disk-quota", fmt.Sprint(boundedQuota), "--memory-cache", "0")
	const objects, size = 30, 100 << 10
	bodies := map[string][]byte{}
	for i := range objects {
		id := newID()
		bodies[id] = randomBytes(uint64(i), size)
		o.putOrigin(t, id, bodies[id])
	}
	var wg sync.WaitGroup
	errs := make(chan error, objects+10)
	for id, body := range bodies {
		wg.Go(func() {
			r, err := n.do(http.MethodGet, "/api/v1/get/"+id, nil, "X-Meta-Fetch", "1")
			if err != nil || r.Status != http.StatusOK || !bytes.Equal(r.Body, body) {
				errs <- fmt.Errorf("GET %s: err %v, status %d, %d bytes", id, err, statusOf(r), lenOf(r))
			}
		})
	}
	wg.Go(func() { // one writer beside the readers
		for i := range 10 {
			id := newID()
			r, err := n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(randomBytes(uint64(100+i), size)), putHeaders(id, 1)...)
			if err != nil || r.Status != http.StatusOK {
				errs <- fmt.Errorf("PUT %s: err %v, status %d", id, err, statusOf(r))
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for id, body := range bodies { // evicted ones come back from the origin
		n.MustGet(t, id, body, "X-Meta-Fetch", "1")
	}
	if ev := cacheStat(t, n, "evictions"); ev == 0 {
		t.Errorf("no evictions after reading %d bytes through a %d-byte quota", objects*size, boundedQuota)
	}
	if b := cacheStat(t, n, "bytes"); b > boundedQuota {
		t.Errorf("the cache holds %.0f bytes, over the quota", b)
	}

	only := map[string][]byte{}
	for i := range 9 {
		id := newID()
		only[id] = randomBytes(uint64(200+i), size)
		n.MustPut(t, id, 0, only[id])
	}
	wantStatus(t, n.Put(t, newID(), 0, randomBytes(300, 2*size)), http.StatusInsufficientStorage, "level-0 PUT with only sole copies on disk")
	for id, body := range only {
		n.MustGet(t, id, body)
	}

	n.Restart(t)
	if r := cacheStat(t, n, "restored"); r < 9 {
		t.Errorf("restored %.0f entries after a restart, want at least the 9 only copies", r)
	}
	if p := cacheStat(t, n, "pinned"); p != 9 {
		t.Errorf("pinned %.0f after a restart, want the 9 only copies", p)
	}
	for id, body := range only {
		n.MustGet(t, id, body)
	}
}

// A hot set read a few times stays on disk through a one-pass scan of more
// than the quota: reading it again after the scan costs no origin GET.
func TestCacheBoundedScanKeepsHotSet(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--disk-quota", fmt.Sprint(boundedQuota), "--memory-cache", "0")
	const size = 100 << 10
	hot := map[string][]byte{}
	for i := range 3 {
		id := newID()
		hot[id] = randomBytes(uint64(i), size)
		o.putOrigin(t, id, hot[id])
	}
	for range 3 {
		for id, body := range hot {
			n.MustGet(t, id, body, "X-Meta-Fetch", "1")
		}
	}
	for i := range 25 { // 2.5 MiB, read once each
		id := newID()
		body := randomBytes(uint64(100+i), size)
		o.putOrigin(t, id, body)
		n.MustGet(t, id, body, "X-Meta-Fetch", "1")
	}
	before := hitsRemote(t, n)
	for id, body := range hot {
		n.MustGet(t, id, body)
	}
	if after := hitsRemote(t, n); after != before {
		t.Errorf("reading the hot set after the scan cost %.0f origin reads, want 0", after-before)
	}
}

func statusOf(r *response) int {
	if r == nil {
		return 0
	}
	return r.Status
}

func lenOf(r *response) int {
	if r == nil {
		return 0
	}
	return len(r.Body)
}

// Evictions count per bucket in /api/v1/stats' savings: two buckets read
// through the S3 API past a 1 MiB quota, the first one's bodies evicted
// first; the per-bucket counts add up to the cache's own totals.
func TestCacheBoundedEvictionsPerBucket(t *testing.T) {
	o := newOrigin(t)
	second := o.Bucket + "-second"
	o.CreateBucket(t, second)
	n := o.StartNode(t, "--disk-quota", fmt.Sprint(boundedQuota), "--memory-cache", "0")
	const objects, size = 12, 100 << 10 // 1.2 MB per bucket, 1 MiB quota
	ctx := testCtx(t, 2*time.Minute)
	type object struct {
		bucket, id string
		body       []byte
	}
	var objs []object // the first bucket's, then the second's
	for _, bucket := range []string{o.Bucket, second} {
		for range objects {
			obj := object{bucket, newID(), randomBytes(uint64(len(objs)), size)}
			if _, err := o.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(obj.id), Body: bytes.NewReader(obj.body)}); err != nil {
				t.Fatalf("S3 PutObject %s/%s: %v", bucket, obj.id, err)
			}
			objs = append(objs, obj)
		}
	}
	c := nodeS3(n)
	for _, obj := range objs {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(obj.bucket), Key: aws.String(obj.id)})
		if err != nil {
			t.Fatalf("GET %s/%s: %v", obj.bucket, obj.id, err)
		}
		got, err := io.ReadAll(out.Body)
		_ = out.Body.Close() // read whole
		if err != nil || !bytes.Equal(got, obj.body) {
			t.Fatalf("GET %s/%s: %d bytes, %v", obj.bucket, obj.id, len(got), err)
		}
	}
	stats := n.Stats(t)
	byBucket, _ := stats["savings"].(map[string]any)["by_bucket"].(map[string]any)
	evicted := func(bucket, field string) float64 {
		b, _ := byBucket[bucket].(map[string]any)
		ev, _ := b["evictions"].(map[string]any)
		disk, _ := ev["disk"].(map[string]any)
		v, _ := disk[field].(float64)
		return v
	}
	first, next := evicted(o.Bucket, "requests"), evicted(second, "requests")
	t.Logf("evictions: %s %.0f, %s %.0f; cache %.0f", o.Bucket, first, second, next, cacheStat(t, n, "evictions"))
	if first == 0 || next == 0 || first <= next {
		t.Errorf("evictions per bucket: %.0f of %s, %.0f of %s; want both counted, the first bucket's more (read first)", first, o.Bucket, next, second)
	}
	if sum, total := first+next, cacheStat(t, n, "evictions"); sum != total {
		t.Errorf("per-bucket evictions add up to %.0f, the cache counts %.0f", sum, total)
	}
	if sum, total := evicted(o.Bucket, "bytes")+evicted(second, "bytes"), cacheStat(t, n, "evicted_bytes"); sum != total || sum != (first+next)*float64(disk.FileSize(size)) {
		t.Errorf("per-bucket evicted bytes add up to %.0f, the cache counts %.0f; want %d per eviction (the body file)", sum, total, disk.FileSize(size))
	}
}

// Cold reads through a full cache cost one origin GET each, counted at the
// origin's proxy: eviction makes room for every one, and no read fetches
// its body twice (BENCHMARKS.md, trace replay, finding 5).
func TestCacheBoundedFullOneOriginGetPerMiss(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--disk-quota", fmt.Sprint(boundedQuota), "--memory-cache", "0")
	const fill, cold, inFlight = 200, 1200, 16
	ctx := testCtx(t, 5*time.Minute)
	rng := rand.New(rand.NewPCG(9, 9))
	ids := make([]string, fill+cold)
	sizes := map[string]int{}
	var wg sync.WaitGroup
	work := make(chan string)
	for range inFlight {
		wg.Go(func() {
			for id := range work {
				o.putOrigin(t, id, randomBytes(uint64(sizes[id]), sizes[id]))
			}
		})
	}
	for i := range ids {
		ids[i] = newID()
		size := 1 + rng.IntN(16<<10)
		if rng.IntN(30) == 0 {
			size = 1 + rng.IntN(boundedQuota/5)
		}
		sizes[ids[i]] = size
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	c := nodeS3(n)
	readAll := func(ids []string) {
		work := make(chan string)
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				for id := range work {
					out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(id)})
					if err != nil {
						t.Errorf("GET %s: %v", id, err)
						continue
					}
					got, err := io.Copy(io.Discard, out.Body)
					_ = out.Body.Close() // read whole
					if err != nil || got != int64(sizes[id]) {
						t.Errorf("GET %s: %d bytes of %d, %v", id, got, sizes[id], err)
					}
				}
			})
		}
		for _, id := range ids {
			work <- id
		}
		close(work)
		wg.Wait()
	}
	readAll(ids[:fill]) // fills the quota
	o.ResetCounts()
	readAll(ids[fill:])
	gets := o.Count(http.MethodGet, o.Bucket)
	own, _ := n.Stats(t)["origin_gets"].(map[string]any)
	t.Logf("%d origin GETs for %d cold reads on a full cache (the node counts %v); cache evictions %.0f", gets, cold, own, cacheStat(t, n, "evictions"))
	if gets != cold {
		t.Errorf("%d origin GETs for %d cold reads, want one each", gets, cold)
	}
	if own["fills"].(float64) != float64(fill+cold) || own["streams"].(float64) != 0 {
		t.Errorf("the node counts its origin GETs as %v, want %d fills and no streams", own, fill+cold)
	}
}
