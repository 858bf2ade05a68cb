package multipart_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/objstoretest"
)

// testMinPart is the minimum part size in tests, so that parts of a few
// KiB to MiB exercise the rule.
const testMinPart = 1 << 10

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openStore opens a store in dir with the test part sizes and clk.
func openStore(tb testing.TB, dir string, clk *clock) *multipart.Store {
	tb.Helper()
	s, err := multipart.Open(multipart.Config{
		Dir:         dir,
		MinPartSize: testMinPart,
		MaxPartSize: 8 << 20,
		Now:         clk.Now,
		Logger:      objstoretest.Logger(tb),
	})
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

// create starts an upload of bucket/key.
func create(tb testing.TB, s *multipart.Store, bucket, key string) multipart.Info {
	tb.Helper()
	info, err := s.Create(multipart.Info{Bucket: bucket, Key: key, ContentType: "text/plain"})
	if err != nil {
		tb.Fatalf("Create(%s/%s): %v", bucket, key, err)
	}
	return info
}

// put uploads data as part number of upload id, with its size declared.
func put(tb testing.TB, s *multipart.Store, id string, number int, data []byte) multipart.Part {
	tb.Helper()
	p, err := s.PutPart(context.Background(), id, number, int64(len(data)), bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("PutPart(%d): %v", number, err)
	}
	return p
}

// randomBytes returns n bytes from a generator seeded with seed.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

// etag is S3's ETag of one part, computed here independently.
func etag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// s3ETag is S3's multipart ETag of an object made of parts.
func s3ETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		sum := md5.Sum(p)
		cat = append(cat, sum[:]...)
	}
	sum := md5.Sum(cat)
	return fmt.Sprintf(`"%x-%d"`, sum, len(parts))
}

// readAll assembles upload id from want and returns the assembly and body.
func readAll(tb testing.TB, s *multipart.Store, id string, want []multipart.CompletePart) (*multipart.Assembly, []byte) {
	tb.Helper()
	a, r, err := s.Assemble(id, want)
	if err != nil {
		tb.Fatalf("Assemble: %v", err)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read assembly: %v", err)
	}
	if err := r.Close(); err != nil {
		tb.Fatalf("close assembly: %v", err)
	}
	return a, body
}

// etagsOf returns the completion list of parts as a client sends it.
func etagsOf(parts ...multipart.Part) []multipart.CompletePart {
	var cps []multipart.CompletePart
	for _, p := range parts {
		cps = append(cps, multipart.CompletePart{Number: p.Number, ETag: p.ETag})
	}
	return cps
}
