package remotetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"sphere.software/objstore"
)

func testRoundTrip(t *testing.T, r Remote, bucket string) {
	body := Body(1, 100_000)
	rec := Record(objstore.Key{Bucket: bucket, ID: "dir/sub/obj.bin"}, body, 0x0001_8f00_1234_0001, objstore.LevelS3, "application/x-test")
	rec.Name = "report.pdf"
	rec.UserMeta = json.RawMessage(`{"owner":"ops","n":42,"ok":true,"nested":{"a":[1,2]}}`)
	mustPut(t, r, rec, body)
	checkGet(t, r, rec, body)
}

func testStat(t *testing.T, r Remote, bucket string) {
	body := Body(2, 4096)
	rec := Record(objstore.Key{Bucket: bucket, ID: "stat-me"}, body, 77<<16, objstore.LevelFull, "text/plain; charset=utf-8")
	rec.UserMeta = json.RawMessage(`{"k":"v"}`)
	mustPut(t, r, rec, body)
	got, err := r.Stat(t.Context(), rec.Key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkRecord(t, "Stat", got, rec)
}

func testOverwrite(t *testing.T, r Remote, bucket string) {
	key := objstore.Key{Bucket: bucket, ID: "over/write"}
	first := Body(3, 50_000)
	mustPut(t, r, Record(key, first, 1<<16, objstore.LevelS3, "application/octet-stream"), first)
	second := Body(4, 20_000)
	rec := Record(key, second, 2<<16, objstore.LevelFull, "image/png")
	rec.Name = "second.png"
	rec.Version.Node = "node-b"
	rec.BodyVersion = objstore.Version{HLC: 1<<16 + 1, Node: "node-c-with-dashes"} // a level raise kept the body
	mustPut(t, r, rec, second)
	checkGet(t, r, rec, second)
}

func testDeleteThenGet(t *testing.T, r Remote, bucket string) {
	body := Body(5, 1000)
	rec := Record(objstore.Key{Bucket: bucket, ID: "a/b/gone"}, body, 5<<16, objstore.LevelS3, "text/plain")
	mustPut(t, r, rec, body)
	if err := r.Delete(t.Context(), rec.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkNotFound(t, r, rec.Key)
}

func testDeleteMissing(t *testing.T, r Remote, bucket string) {
	for _, id := range []string{"never-written", "no/such/dir/obj"} {
		if err := r.Delete(t.Context(), objstore.Key{Bucket: bucket, ID: id}); err != nil {
			t.Errorf("Delete %s: %v, want nil", id, err)
		}
	}
}

func testGetMissing(t *testing.T, r Remote, bucket string) {
	checkNotFound(t, r, objstore.Key{Bucket: bucket, ID: "missing"})
	checkNotFound(t, r, objstore.Key{Bucket: bucket, ID: "missing/deep/key"})
}

func testUnicode(t *testing.T, r Remote, bucket string) {
	body := Body(6, 3000)
	rec := Record(objstore.Key{Bucket: bucket, ID: "ünï/ファイル 1.txt"}, body, 6<<16, objstore.LevelS3, "text/plain")
	rec.Name = "Отчёт 📄 «final» <&> %20 \"quoted\" + 日本語.txt"
	rec.UserMeta = json.RawMessage(`{"author":"Zoë Ångström","note":"<b>&amp;</b> 🎉","emoji":"✓"}`)
	rec.Version.Node = "nöde-ü"
	mustPut(t, r, rec, body)
	checkGet(t, r, rec, body)
}

func testManyUserMeta(t *testing.T, r Remote, bucket string) {
	meta := map[string]string{}
	for i := range 15 {
		meta[fmt.Sprintf("key%02d", i)] = fmt.Sprintf("value %d", i)
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	body := Body(7, 10)
	rec := Record(objstore.Key{Bucket: bucket, ID: "many-meta"}, body, 7<<16, objstore.LevelS3, "text/plain")
	rec.UserMeta = raw
	mustPut(t, r, rec, body)
	checkGet(t, r, rec, body)
}

// testPlainUserMeta puts user metadata of string values only, which an
// origin may keep as plain metadata entries (internal/s3 does) and give
// back with its keys in another order: it must come back as equal JSON.
func testPlainUserMeta(t *testing.T, r Remote, bucket string) {
	body := Body(14, 500)
	rec := Record(objstore.Key{Bucket: bucket, ID: "plain-meta"}, body, 14<<16, objstore.LevelS3, "text/plain")
	rec.UserMeta = json.RawMessage(`{"team":"ops","env":"prod","cost-center":"a-1_b.2","note":"x=1; y=\"2\" <&>"}`)
	mustPut(t, r, rec, body)
	got, err := r.Stat(t.Context(), rec.Key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	var want, have map[string]any
	if err := json.Unmarshal(got.UserMeta, &have); err != nil {
		t.Fatalf("Stat: user meta %s: %v", got.UserMeta, err)
	}
	if err := json.Unmarshal(rec.UserMeta, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("Stat: user meta %s, want %s", got.UserMeta, rec.UserMeta)
	}
	got.UserMeta = rec.UserMeta
	checkRecord(t, "Stat", got, rec)
	rc, got, err := r.Get(t.Context(), rec.Key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	_ = rc.Close() // only the record matters here
	if !bytes.Equal(got.UserMeta, rec.UserMeta) {
		_ = json.Unmarshal(got.UserMeta, &have) // checked below
		if !reflect.DeepEqual(have, want) {
			t.Errorf("Get: user meta %s, want %s", got.UserMeta, rec.UserMeta)
		}
	}
}

// testStoredHeaders puts records with every stored header, through a
// single upload and a multipart one: Get and Stat must restore them.
func testStoredHeaders(t *testing.T, r Remote, bucket string) {
	for i, size := range []int{1000, LargeSize} {
		body := Body(15+uint64(i), size)
		rec := Record(objstore.Key{Bucket: bucket, ID: fmt.Sprintf("headers/%d", size)}, body, uint64(15+i)<<16, objstore.LevelS3, "text/csv")
		rec.Headers = map[string]string{
			"Cache-Control":       "public, max-age=86400, immutable",
			"Content-Disposition": `attachment; filename="data.csv"`,
			"Content-Encoding":    "gzip", // the body is not gzip: it must pass untouched
			"Content-Language":    "en-GB, de",
			"Expires":             "Fri, 01 Jan 2038 12:30:00 GMT",
		}
		mustPut(t, r, rec, body)
		checkGet(t, r, rec, body)
		got, err := r.Stat(t.Context(), rec.Key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		checkRecord(t, "Stat", got, rec)
	}
}

func testEmpty(t *testing.T, r Remote, bucket string) {
	rec := Record(objstore.Key{Bucket: bucket, ID: "empty"}, nil, 8<<16, objstore.LevelFull, "")
	rec.Name = ""
	rec.BodyVersion = objstore.Version{}
	mustPut(t, r, rec, nil)
	checkGet(t, r, rec, nil)
}

func testMultipart(t *testing.T, r Remote, bucket string) {
	body := Body(9, LargeSize)
	rec := Record(objstore.Key{Bucket: bucket, ID: "big/object"}, body, 9<<16, objstore.LevelS3, "application/octet-stream")
	rec.UserMeta = json.RawMessage(`{"size":"large"}`)
	mustPut(t, r, rec, body)
	checkGet(t, r, rec, body)
}

func testNestedKeys(t *testing.T, r Remote, bucket string) {
	b1, b2 := Body(10, 100), Body(11, 200)
	r1 := Record(objstore.Key{Bucket: bucket, ID: "x/y/one"}, b1, 10<<16, objstore.LevelS3, "text/plain")
	r2 := Record(objstore.Key{Bucket: bucket, ID: "x/y/two"}, b2, 11<<16, objstore.LevelS3, "text/plain")
	mustPut(t, r, r1, b1)
	mustPut(t, r, r2, b2)
	if err := r.Delete(t.Context(), r1.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkNotFound(t, r, r1.Key)
	checkGet(t, r, r2, b2)
}

// cancelAt is a body that cancels the upload's context once a read reaches
// offset at, then goes on serving the bytes.
type cancelAt struct {
	r      io.ReaderAt
	at     int64
	cancel context.CancelFunc
}

func (c *cancelAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > c.at {
		c.cancel()
	}
	return c.r.ReadAt(p, off)
}

func testCancel(t *testing.T, r Remote, bucket string, size int) {
	body := Body(12, size)
	rec := Record(objstore.Key{Bucket: bucket, ID: "cancelled"}, body, 12<<16, objstore.LevelS3, "text/plain")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := r.Put(ctx, rec, &cancelAt{r: bytes.NewReader(body), at: int64(size / 2), cancel: cancel})
	if err == nil {
		t.Fatal("Put with a context cancelled midway: no error")
	}
	if ctx.Err() == nil {
		t.Fatal("the body was never read past its middle")
	}
	checkNotFound(t, r, rec.Key)
}

func testForeign(t *testing.T, r Remote, bucket string) {
	fw, ok := r.(ForeignWriter)
	if !ok {
		t.Fatalf("remotetest: %T does not implement ForeignWriter", r)
	}
	body := Body(13, 7777)
	key := objstore.Key{Bucket: bucket, ID: "uploads/2024/photo.jpg"}
	if err := fw.WriteForeign(t.Context(), key, body, "image/jpeg"); err != nil {
		t.Fatalf("WriteForeign: %v", err)
	}
	rc, rec, err := r.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(data, body) {
		t.Errorf("Get: body differs (err %v)", err)
	}
	if !rec.Version.IsForeign() || time.Since(rec.Modified()) > time.Hour || rec.BodyVersion != rec.Version || rec.Key != key || rec.Name != "photo.jpg" || rec.Size() != int64(len(body)) ||
		rec.Level != objstore.LevelS3 || !rec.InRemote || rec.Deleted || rec.ContentType != "image/jpeg" {
		t.Errorf("Get: foreign record %+v", rec)
	}
	st, err := r.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if !reflect.DeepEqual(st, rec) {
		t.Errorf("Stat %+v differs from Get %+v", st, rec)
	}
}
