// Package remotetest is the contract test suite that every origin adapter
// (internal/s3, internal/localdir) must pass: one table of subtests run
// against each real implementation.
package remotetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"

	"sphere.software/objstore"
)

// Remote is the origin under test: the method set of node.Remote, declared
// here so that the suite does not depend on the node package.
type Remote interface {
	Put(ctx context.Context, rec objstore.Record, body io.ReaderAt) error
	Get(ctx context.Context, key objstore.Key) (io.ReadCloser, objstore.Record, error)
	Stat(ctx context.Context, key objstore.Key) (objstore.Record, error)
	Delete(ctx context.Context, key objstore.Key) error
	String() string
	// GetIfNoneMatch is node.Revalidator's conditional GET.
	GetIfNoneMatch(ctx context.Context, key objstore.Key, etag string) (io.ReadCloser, objstore.Record, error)
}

// ForeignWriter must also be implemented by the Remote that newRemote
// returns (a test wrapper will do): it writes an object the way a tool other
// than objstore would, with no objstore metadata.
type ForeignWriter interface {
	WriteForeign(ctx context.Context, key objstore.Key, body []byte, contentType string) error
}

// LargeSize is the size of the body the suite uploads to exercise multipart
// uploads: more than two parts of 5 MiB, the smallest part size S3 allows,
// so adapters' tests should configure that part size.
const LargeSize = 11<<20 + 12345

// Run runs the contract suite. newRemote is called once per subtest and
// returns a remote and an existing, empty bucket it can write to. The remote
// must also implement ForeignWriter, or the Foreign subtest fails.
func Run(t *testing.T, newRemote func(t *testing.T) (r Remote, bucket string)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r Remote, bucket string)
	}{
		{"RoundTrip", testRoundTrip},
		{"Stat", testStat},
		{"Overwrite", testOverwrite},
		{"DeleteThenGet", testDeleteThenGet},
		{"DeleteMissing", testDeleteMissing},
		{"GetMissing", testGetMissing},
		{"Unicode", testUnicode},
		{"ManyUserMeta", testManyUserMeta},
		{"PlainUserMeta", testPlainUserMeta},
		{"StoredHeaders", testStoredHeaders},
		{"Empty", testEmpty},
		{"Multipart", testMultipart},
		{"NestedKeys", testNestedKeys},
		{"CancelSmall", func(t *testing.T, r Remote, b string) { testCancel(t, r, b, 1<<20) }},
		{"CancelLarge", func(t *testing.T, r Remote, b string) { testCancel(t, r, b, LargeSize) }},
		{"Foreign", testForeign},
		{"Conditional", testConditional},
		{"ConditionalForeign", testConditionalForeign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, bucket := newRemote(t)
			tt.fn(t, r, bucket)
		})
	}
}

// Body returns n pseudo-random bytes, the same for the same seed.
func Body(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	_, _ = rand.NewChaCha8(s).Read(b) // ChaCha8.Read never fails
	return b
}

// Record returns the record of body under key, with its checksum filled in
// and the version (as Version and BodyVersion), level and content type given.
func Record(key objstore.Key, body []byte, hlc uint64, level objstore.Level, contentType string) objstore.Record {
	return objstore.Record{
		Key:         key,
		Name:        "file.bin",
		ContentType: contentType,
		Level:       level,
		Sum: objstore.Checksum{
			Size:   int64(len(body)),
			CRC32C: crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)),
			MD5:    md5.Sum(body),
		},
		Version:     objstore.Version{HLC: hlc, Node: "node-a"},
		BodyVersion: objstore.Version{HLC: hlc, Node: "node-a"},
	}
}

// mustPut puts rec with body, failing the test on error.
func mustPut(t *testing.T, r Remote, rec objstore.Record, body []byte) {
	t.Helper()
	if err := r.Put(t.Context(), rec, bytes.NewReader(body)); err != nil {
		t.Fatalf("Put %s: %v", rec.Key, err)
	}
}

// checkGet gets key and checks that the body and record are as put.
func checkGet(t *testing.T, r Remote, rec objstore.Record, body []byte) {
	t.Helper()
	rc, got, err := r.Get(t.Context(), rec.Key)
	if err != nil {
		t.Fatalf("Get %s: %v", rec.Key, err)
	}
	data, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Get %s: read body: %v", rec.Key, err)
	}
	if !bytes.Equal(data, body) {
		t.Errorf("Get %s: body differs: got %d bytes, want %d", rec.Key, len(data), len(body))
	}
	checkRecord(t, "Get", got, rec)
}

// checkRecord compares a restored record with the one that was put.
func checkRecord(t *testing.T, op string, got, put objstore.Record) {
	t.Helper()
	want := put
	want.InRemote = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s: record\n got %+v\nwant %+v", op, put.Key, got, want)
		t.Errorf("user meta: got %s, want %s", got.UserMeta, want.UserMeta)
	}
}

// checkNotFound asserts that Get and Stat of key report objstore.ErrNotFound.
func checkNotFound(t *testing.T, r Remote, key objstore.Key) {
	t.Helper()
	rc, _, err := r.Get(t.Context(), key)
	if err == nil {
		_ = rc.Close() // the test fails anyway
		t.Errorf("Get %s: no error, want ErrNotFound", key)
	} else if !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrNoRemote) {
		t.Errorf("Get %s: %v, want only ErrNotFound", key, err)
	}
	if _, err := r.Stat(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrNoRemote) {
		t.Errorf("Stat %s: %v, want only ErrNotFound", key, err)
	}
}
