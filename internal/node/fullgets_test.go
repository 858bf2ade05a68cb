package node

import (
	"context"
	"crypto/md5"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/evict"
)

// slowRemoves is a body store whose removals by name take a while, as
// they do on a loaded disk: evictions are then still being carried out
// when other writes need room.
type slowRemoves struct {
	Blobs
	delay   time.Duration
	removed atomic.Int64
}

func (s *slowRemoves) RemoveName(name string) (int64, error) {
	time.Sleep(s.delay)
	s.removed.Add(1)
	return s.Blobs.RemoveName(name)
}

// slowOrigin answers GETs after a delay, as a remote origin does, so that
// many fills overlap.
type slowOrigin struct {
	*memRemote
	delay time.Duration
}

func (o slowOrigin) Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error) {
	time.Sleep(o.delay)
	return o.memRemote.Get(ctx, key)
}

// Reading cold keys through a full cache costs one origin GET per read:
// eviction makes the room, nothing fetches a body twice, even while
// removals of evicted bodies lag behind the writes that need their room,
// many fills overlap, and some bodies are too big to be cached (streamed
// through). The node's own count of its origin GETs agrees.
func TestBoundedFullCacheOneOriginGetPerMiss(t *testing.T) {
	const quota, reads, inFlight = 1 << 20, 1000, 48
	remote := newMemRemote()
	var blobs *slowRemoves
	n := openNode(t, t.TempDir(), remote, nodeSetup{
		cfg:    Config{Cache: CacheConfig{Capacity: quota, Policy: evict.Options{}}},
		disk:   disk.Config{Quota: quota},
		origin: slowOrigin{remote, 3 * time.Millisecond},
		blobs: func(b Blobs) Blobs {
			blobs = &slowRemoves{Blobs: b, delay: 2 * time.Millisecond}
			return blobs
		},
	})
	<-n.swept

	src := rand.NewChaCha8([32]byte{1})
	rng := rand.New(src)
	keys := make([]objstore.Key, reads)
	for i := range keys {
		size := 1 + rng.IntN(8<<10)
		if rng.IntN(50) == 0 {
			size = 1 + rng.IntN(quota/2) // past the admission limit (quota/4) half the time
		}
		body := make([]byte, size)
		_, _ = src.Read(body) // ChaCha8 never fails
		keys[i] = newKey()
		sum := objstore.Checksum{Size: int64(size), MD5: md5.Sum(body), CRC32C: crc32.Checksum(body, castagnoli)}
		remote.objects[keys[i]] = memObject{rec: objstore.Record{Key: keys[i], Sum: sum, InRemote: true}, body: body}
	}
	work := make(chan objstore.Key)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for key := range work {
				want := remote.objects[key].body
				got, _, err := read(t, n, key, true)
				if err != nil || len(got) != len(want) {
					t.Errorf("read %s: %d bytes, %v", key, len(got), err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	st, _ := n.Stats(context.Background())
	t.Logf("origin GETs %d for %d reads; %d removals; cache %+v", remote.gets.Load(), reads, blobs.removed.Load(), st.Cache)
	if got := remote.gets.Load(); got != reads {
		t.Fatalf("%d origin GETs for %d cold reads, want one each", got, reads)
	}
	if st.OriginGets != (OriginGets{Fills: reads}) {
		t.Fatalf("the node counts its origin GETs as %+v, want %d fills and no streams", st.OriginGets, reads)
	}
	if st.Cache.Evictions == 0 {
		t.Fatal("no evictions: the cache never was full")
	}
}
