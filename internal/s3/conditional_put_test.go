package s3_test

import (
	"bytes"
	"errors"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
	"sphere.software/objstore/internal/s3"
)

// TestPutIf runs conditional uploads against versitygw, single-part and
// multipart (the condition rides on CompleteMultipartUpload): each lands
// only on the object it names, and a refusal wraps
// objstore.ErrOriginChanged and leaves the object as it was.
func TestPutIf(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "cond")
	r := newRemote(t, srv, "cond")
	for _, tt := range []struct {
		name string
		size int
	}{{"single", 1 << 10}, {"multipart", int(s3.MinPartSize) + 1<<10}} {
		t.Run(tt.name, func(t *testing.T) {
			key := objstore.Key{Bucket: "cond", ID: tt.name}
			put := func(fill byte, etag string) (objstore.Record, error) {
				body := bytes.Repeat([]byte{fill}, tt.size)
				rec := remotetest.Record(key, body, uint64(fill), objstore.LevelS3, "")
				return rec, r.PutIf(t.Context(), rec, bytes.NewReader(body), etag)
			}
			first, err := put('a', "")
			if err != nil {
				t.Fatalf("PutIf with If-None-Match on no object: %v", err)
			}
			if _, err := put('b', ""); !errors.Is(err, objstore.ErrOriginChanged) {
				t.Fatalf("PutIf with If-None-Match on an object: %v, want ErrOriginChanged", err)
			}
			_, etag, err := r.StatETag(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := put('c', `"00000000000000000000000000000000"`); !errors.Is(err, objstore.ErrOriginChanged) {
				t.Fatalf("PutIf with a wrong If-Match: %v, want ErrOriginChanged", err)
			}
			if got, err := r.Stat(t.Context(), key); err != nil || got.Version != first.Version {
				t.Fatalf("after refused PutIfs the origin holds %v (%v), want %v", got.Version, err, first.Version)
			}
			second, err := put('d', etag)
			if err != nil {
				t.Fatalf("PutIf with the object's ETag: %v", err)
			}
			if got, err := r.Stat(t.Context(), key); err != nil || got.Version != second.Version {
				t.Fatalf("after PutIf the origin holds %v (%v), want %v", got.Version, err, second.Version)
			}
		})
	}
}
