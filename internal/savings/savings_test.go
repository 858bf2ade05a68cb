package savings

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

func TestCounterAdds(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int64
		want  Count
	}{
		{"none", nil, Count{}},
		{"small", []int64{0, 1, 1000}, Count{Requests: 3, Bytes: 1001}},
		{"large goes wide", []int64{packedMax + 1, 5}, Count{Requests: 2, Bytes: packedMax + 6}},
		{"negative counts a request of no bytes", []int64{-1}, Count{Requests: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Counter
			for _, s := range tc.sizes {
				c.Add(s)
			}
			if got := c.Load(); got != tc.want {
				t.Fatalf("Load = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The packed word folds before either half overflows: 2^41 bytes cross the
// bytes half several times, and a word one request short of the requests
// half's fold point folds on the next add.
func TestCounterFoldsBeforeOverflow(t *testing.T) {
	var c Counter
	const n = 1 << 11
	for range n {
		c.Add(packedMax) // 2^30 × 2^11 = 2^41 bytes
	}
	if got, want := c.Load(), (Count{Requests: n, Bytes: n * packedMax}); got != want {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	var r Counter
	r.packed.Store((1<<23 - 1) << byteBits)
	r.Add(3)
	if r.packed.Load() != 0 {
		t.Fatal("the requests half reached its fold point and was not folded")
	}
	if got, want := r.Load(), (Count{Requests: 1 << 23, Bytes: 3}); got != want {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
}

func TestCounterConcurrent(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10_000 {
				c.Add(1 << 20)
			}
		})
	}
	wg.Wait()
	if got, want := c.Load(), (Count{Requests: 80_000, Bytes: 80_000 << 20}); got != want {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
}

func TestTallyBoundsBuckets(t *testing.T) {
	tl := New()
	for i := range MaxBuckets + 5 {
		tl.Add(fmt.Sprintf("b%d", i), Disk, 10)
	}
	s := tl.Snapshot()
	if len(s.Buckets) != MaxBuckets+1 {
		t.Fatalf("%d buckets in the snapshot, want %d named and %s", len(s.Buckets), MaxBuckets, Other)
	}
	if got := s.Buckets[Other][Disk]; got != (Count{Requests: 5, Bytes: 50}) {
		t.Fatalf("%s disk = %+v, want the 5 reads beyond the bound", Other, got)
	}
	if got := s.Total()[Disk]; got.Requests != MaxBuckets+5 {
		t.Fatalf("total disk reads %d, want %d", got.Requests, MaxBuckets+5)
	}
	first, again := tl.Bucket("b0"), tl.Bucket("b0")
	if first != again {
		t.Fatal("a bucket's counters were created twice")
	}
}

func TestPricesValidate(t *testing.T) {
	tests := []struct {
		p  Prices
		ok bool
	}{
		{DefaultPrices(), true},
		{Prices{}, true},
		{Prices{EgressPerGB: -0.01}, false},
		{Prices{GetPer1000: math.NaN()}, false},
		{Prices{EgressPerGB: math.Inf(1)}, false},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestDefaultPricesAreAWSListPrices(t *testing.T) {
	p := DefaultPrices()
	if got := p.USD(0, 1<<30); got != 0.09 {
		t.Errorf("1 GiB of egress costs $%v, want $0.09", got)
	}
	if got := p.USD(1000, 0); got != 0.0004 {
		t.Errorf("1,000 GETs cost $%v, want $0.0004", got)
	}
}

func TestReport(t *testing.T) {
	tl := New()
	const gib = 1 << 30
	tl.Add("a", Memory, gib/2)
	tl.Add("a", MemoryPeer, gib/2)
	tl.Add("a", Disk, gib)
	tl.Add("a", Origin, gib)    // paid: not avoided
	tl.Add("a", Coalesced, gib) // joined a fill: avoided
	tl.Add("b", Peer, gib)
	tl.Add("b", Warm, gib)
	tl.NotModifiedAt("b", gib)
	tl.RefetchedAt("b", 7)
	tl.EvictedAt("b", 9)
	tl.EvictedMemoryAt("b", 4)
	tl.EvictedAt(Other, 5) // a body whose bucket is not known
	r := tl.Snapshot().Report(Prices{EgressPerGB: 1, GetPer1000: 1000})
	a := r.ByBucket["a"]
	if a.Memory != (Count{2, gib}) || a.Origin != (Count{2, 2 * gib}) || a.Avoided != (Count{4, 3 * gib}) {
		t.Fatalf("bucket a = %+v", a)
	}
	if a.USDSaved != 3+4 {
		t.Errorf("bucket a saved $%v, want $7 (3 GiB and 4 GETs at $1 each)", a.USDSaved)
	}
	b := r.ByBucket["b"]
	// One GET avoided, less one warm-up fill and one 304; no bytes net.
	if b.USDSaved != -1 {
		t.Errorf("bucket b saved $%v, want -$1", b.USDSaved)
	}
	if b.Evictions != (Evictions{Disk: Count{1, 9}, Memory: Count{1, 4}}) || b.Revalidations.Refetched != (Count{1, 7}) || b.Revalidations.NotModified.Requests != 1 {
		t.Errorf("bucket b = %+v", b)
	}
	if o := r.ByBucket[Other]; o.Evictions.Disk != (Count{1, 5}) || r.Total.Evictions.Disk != (Count{2, 14}) {
		t.Errorf("other = %+v, total evictions %+v: want the unknown bucket's eviction under %s", o, r.Total.Evictions, Other)
	}
	if r.USDSaved != 6 || r.Total.Avoided.Requests != 5 {
		t.Errorf("total saved $%v with %d GETs avoided, want $6 and 5", r.USDSaved, r.Total.Avoided.Requests)
	}
}
