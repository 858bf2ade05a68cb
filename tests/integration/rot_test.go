package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/internal/disk"
)

// blockSize is the span one block checksum covers: a body of more than one
// block is followed in its file by 4 bytes a block and a 16-byte footer.
const blockSize = disk.BlockSize

// TestRotNeverServed flips one byte in a body file while the node runs,
// after the body was read once (so it counts as verified since the start),
// and reads it every way a client or a peer can: no complete response may
// carry a wrong byte, and no cut one a wrong byte before its cut; a range
// clear of the rotted block is served whole; and once the copy was dropped
// the next GET is right again, from the origin (level 1).
//
// Repair of the dropped copy in the background, the counters and the
// level-0 "lost" state are Node.ReportCorrupt's, shown by repair_test.go;
// here the reads themselves are the point.
func TestRotNeverServed(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{Args: []string{"--memory-cache", "0"}})
	a, b := c.Nodes[0], c.Nodes[1]
	for _, tc := range []struct {
		name string
		size int
		flip int64 // offset of the flipped byte
	}{
		{"1KiB", 1 << 10, 700},
		{"2MiB", 2 << 20, 1<<20 + 100},
		{"64MiB", 64 << 20, 40<<20 + 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			body := randomBody(uint64(tc.size), tc.size)
			a.MustPut(t, id, 1, body)
			a.MustGet(t, id, body) // read once: "verified" before this change
			path := rot(t, a, body, tc.flip)

			if tc.size > 2*blockSize {
				// A range clear of the rotted block is served whole.
				lo := int64(0)
				if tc.flip < blockSize {
					lo = 2 * blockSize
				}
				r := rangeRead(t, a, id, lo, lo+blockSize-1)
				if !r.complete || r.status != http.StatusPartialContent {
					t.Fatalf("range clear of the rotted block: %s, want a whole 206", r)
				}
				noWrongByte(t, "range clear of the rotted block", r, body[lo:lo+blockSize])
			}
			// A range over the flipped byte: never its wrong byte.
			lo := max(tc.flip-10, 0)
			r := rangeRead(t, a, id, lo, tc.flip+10)
			noWrongByte(t, "range over the rotted byte", r, body[lo:tc.flip+11])
			if r.complete && r.status != http.StatusPartialContent {
				t.Fatalf("range over the rotted byte: %s", r)
			}
			gone(t, path, body, tc.flip)
			// The copy is dropped: the next read comes from the origin.
			a.MustGet(t, id, body)

			// The read refilled the local copy: rot it again; a full GET.
			path = rot(t, a, body, tc.flip)
			noWrongByte(t, "full GET", rangeRead(t, a, id, -1, -1), body)
			gone(t, path, body, tc.flip)
			a.MustGet(t, id, body)

			// Through the S3 API: a full GetObject and a range over the byte.
			for _, rng := range []string{"", fmt.Sprintf("bytes=%d-%d", lo, tc.flip+10)} {
				path = rot(t, a, body, tc.flip)
				want := body
				if rng != "" {
					want = body[lo : tc.flip+11]
				}
				noWrongByte(t, "S3 GetObject "+rng, s3Read(t, a, c.Origin.Bucket, id, rng), want)
				gone(t, path, body, tc.flip)
				a.MustGet(t, id, body)
			}

			// Once more, read by the other node through the peer stream.
			replicated(t, b, id)
			path = rot(t, a, body, tc.flip)
			r = rangeRead(t, b, id, -1, -1)
			noWrongByte(t, "peer read", r, body)
			if r.complete && r.header.Get("X-Meta-Symlink") != "true" && r.header.Get("X-Meta-Fetched") != "true" {
				t.Fatalf("peer read: %s, served by the second node's own disk", r)
			}
			gone(t, path, body, tc.flip)
			b.MustGet(t, id, body)
		})
	}
}

// TestRotUnderMemoryCache: a small body held in the memory cache stays
// right for its node's readers when its file rots, and a peer that reads it
// from the node's disk gets no wrong byte either: the rot is found there,
// instead of staying hidden behind the cache.
func TestRotUnderMemoryCache(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{})
	a, b := c.Nodes[0], c.Nodes[1]
	id := newID()
	body := randomBody(7, 1<<10)
	a.MustPut(t, id, 1, body)
	a.MustGet(t, id, body) // now in a's memory cache
	path := rot(t, a, body, 300)
	for range 3 {
		a.MustGet(t, id, body) // from memory: the copy there was checked
	}
	replicated(t, b, id)
	noWrongByte(t, "peer read", rangeRead(t, b, id, -1, -1), body)
	gone(t, path, body, 300)
	b.MustGet(t, id, body)
	a.MustGet(t, id, body)
}

// s3Read is GetObject of id through n's S3 API, with Range rng unless
// empty, as rangeRead reads the native API.
func s3Read(t testing.TB, n *Node, bucket, id, rng string) read {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(id)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := sdkClient(n.s3Endpoint()).GetObject(testCtx(t, time.Minute), in)
	if err != nil {
		return read{err: err}
	}
	defer func() { _ = out.Body.Close() }() // read below as far as it goes
	got, err := io.ReadAll(out.Body)
	status := http.StatusOK
	if rng != "" {
		status = http.StatusPartialContent
	}
	return read{status: status, got: got, err: err,
		complete: err == nil && out.ContentLength != nil && int64(len(got)) == *out.ContentLength}
}

// replicated waits until n holds the record of id.
func replicated(t testing.TB, n *Node, id string) {
	t.Helper()
	eventually(t, 10*time.Second, "record replicated to "+n.PublicAddr, func() error {
		v, err := n.record(id)
		if err == nil && v.Status != http.StatusOK {
			err = fmt.Errorf("meta %s: status %d", id, v.Status)
		}
		return err
	})
}

// read is one GET as the client saw it.
type read struct {
	status   int
	header   http.Header
	got      []byte
	complete bool // the body arrived whole, as long as Content-Length said
	err      error
}

func (r read) String() string {
	return fmt.Sprintf("status %d, %d bytes, complete %v, err %v", r.status, len(r.got), r.complete, r.err)
}

// rangeRead GETs id from n, bytes lo-hi when lo >= 0, and keeps whatever
// arrives before the response ends or is cut.
func rangeRead(t testing.TB, n *Node, id string, lo, hi int64) read {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, n.URL("/api/v1/get/"+id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if lo >= 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", lo, hi))
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return read{err: err}
	}
	defer func() { _ = resp.Body.Close() }() // read below as far as it goes
	got, err := io.ReadAll(resp.Body)
	want, perr := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	return read{status: resp.StatusCode, header: resp.Header, got: got, err: err,
		complete: err == nil && perr == nil && int64(len(got)) == want}
}

// noWrongByte fails unless every byte r got is the body's: a cut response
// may stop anywhere, but what arrived is a prefix of want; a complete one
// with status 2xx is want whole.
func noWrongByte(t testing.TB, what string, r read, want []byte) {
	t.Helper()
	if r.status != http.StatusOK && r.status != http.StatusPartialContent {
		if r.status >= 500 || r.err != nil {
			return // refused or cut before a body: nothing wrong served
		}
		t.Fatalf("%s: %s", what, r)
	}
	if len(r.got) > len(want) || !bytes.Equal(r.got, want[:len(r.got)]) {
		at := firstDiff(r.got, want)
		t.Fatalf("%s: %s: a wrong byte at offset %d was served", what, r, at)
	}
	if r.complete && len(r.got) != len(want) {
		t.Fatalf("%s: %s: complete but %d bytes, want %d", what, r, len(r.got), len(want))
	}
	t.Logf("%s: %s", what, r)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// rot waits for n's body file of body, flips its byte at off (flipByte)
// and returns its path.
func rot(t testing.TB, n *Node, body []byte, off int64) string {
	t.Helper()
	var path string
	eventually(t, 20*time.Second, "body file on disk", func() error {
		p, err := bodyFileOf(n, body)
		path = p
		return err
	})
	flipByte(t, path, off)
	return path
}

// gone fails unless the rotted file at path was dropped within a few
// seconds: removed, or replaced by a sound copy (a read that went to the
// origin refills the same file name), which no longer has the flip at off.
func gone(t testing.TB, path string, body []byte, off int64) {
	t.Helper()
	eventually(t, 10*time.Second, "rotted copy dropped", func() error {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case int64(len(b)) > off && b[off] != body[off]:
			return fmt.Errorf("%s still holds the flipped byte", path)
		}
		return nil
	})
}

// bodyFileOf finds the committed file of body in n's files directory: the
// one of its size (with the block checksums after it) that starts with it.
func bodyFileOf(n *Node, body []byte) (string, error) {
	size := int64(len(body))
	if blocks := (size + blockSize - 1) / blockSize; blocks > 1 {
		size += 4*blocks + 16
	}
	var found string
	err := filepath.WalkDir(n.FilesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() != size {
			return err
		}
		head := make([]byte, min(len(body), 4096))
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.ReadFull(f, head); err == nil && bytes.Equal(head, body[:len(head)]) {
			found = p
		}
		return nil
	})
	if err == nil && found == "" {
		err = fmt.Errorf("no file of %d bytes holding the body in %s", size, n.FilesDir)
	}
	return found, err
}
