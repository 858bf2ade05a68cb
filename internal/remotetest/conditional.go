package remotetest

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"

	"sphere.software/objstore"
)

// testConditional checks the conditional GET on an object objstore wrote:
// its own ETag gets no body, another ETag gets the object, a missing key is
// not found.
func testConditional(t *testing.T, r Remote, bucket string) {
	body := Body(21, 3000)
	rec := Record(objstore.Key{Bucket: bucket, ID: "cond/obj"}, body, 0x0001_8f00_1234_0002, objstore.LevelS3, "text/plain")
	mustPut(t, r, rec, body)
	checkNotModified(t, r, rec.Key, rec.Sum.ETag())
	checkModified(t, r, rec.Key, `"00000000000000000000000000000000"`, body)
	if err := r.Delete(t.Context(), rec.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := r.GetIfNoneMatch(t.Context(), rec.Key, rec.Sum.ETag()); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("GetIfNoneMatch of a deleted key: %v, want ErrNotFound", err)
	}
}

// testConditionalForeign checks the conditional GET on an object another
// tool wrote and then changed: the ETag is the MD5 of the body, and a
// change makes the old ETag return the new body.
func testConditionalForeign(t *testing.T, r Remote, bucket string) {
	fw, ok := r.(ForeignWriter)
	if !ok {
		t.Fatalf("remotetest: %T does not implement ForeignWriter", r)
	}
	key := objstore.Key{Bucket: bucket, ID: "cond/foreign.txt"}
	old, changed := Body(22, 5000), Body(23, 5001)
	if err := fw.WriteForeign(t.Context(), key, old, "text/plain"); err != nil {
		t.Fatalf("WriteForeign: %v", err)
	}
	oldTag := etagOf(old)
	checkNotModified(t, r, key, oldTag)
	if err := fw.WriteForeign(t.Context(), key, changed, "text/plain"); err != nil {
		t.Fatalf("WriteForeign: %v", err)
	}
	rec := checkModified(t, r, key, oldTag, changed)
	if !rec.Version.IsForeign() || rec.Size() != int64(len(changed)) {
		t.Errorf("changed foreign record %+v", rec)
	}
	checkNotModified(t, r, key, etagOf(changed))
}

func etagOf(body []byte) string {
	return objstore.Checksum{MD5: md5.Sum(body)}.ETag()
}

func checkNotModified(t *testing.T, r Remote, key objstore.Key, etag string) {
	t.Helper()
	rc, _, err := r.GetIfNoneMatch(t.Context(), key, etag)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, objstore.ErrNotModified) {
		t.Errorf("GetIfNoneMatch(%s, its own ETag %s): %v, want ErrNotModified", key, etag, err)
	}
}

func checkModified(t *testing.T, r Remote, key objstore.Key, etag string, want []byte) objstore.Record {
	t.Helper()
	rc, rec, err := r.GetIfNoneMatch(t.Context(), key, etag)
	if err != nil {
		t.Fatalf("GetIfNoneMatch(%s, another ETag): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("GetIfNoneMatch(%s, another ETag): body of %d bytes differs (err %v)", key, len(got), err)
	}
	return rec
}
