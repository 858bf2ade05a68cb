package s3_test

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/objstoretest"
	"sphere.software/objstore/internal/remotetest"
)

// arrivingBody is a body whose second half can be read only after release
// is closed, as a PUT body still arriving; fail, when set, fails every read
// of the last byte instead.
type arrivingBody struct {
	b        []byte
	release  chan struct{}
	fail     error
	readHalf chan struct{} // closed at the first read of the second half
	once     sync.Once
}

func (a *arrivingBody) ReadAt(p []byte, off int64) (int, error) {
	half := int64(len(a.b) / 2)
	if off+int64(len(p)) > half {
		a.once.Do(func() { close(a.readHalf) })
		<-a.release
	}
	if a.fail != nil && off+int64(len(p)) >= int64(len(a.b)) {
		return 0, a.fail
	}
	if off >= int64(len(a.b)) {
		return 0, io.EOF
	}
	n := copy(p, a.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestPutStream uploads bodies that arrive while the PutObject is under
// way, against versitygw: the request starts before the body is whole;
// the object lands with no checksums in its metadata, the answer is its
// MD5 ETag and Stat restores the MD5 from that ETag; a body whose last
// read fails leaves nothing; the condition holds as for PutIf.
func TestPutStream(t *testing.T) {
	srv := objstoretest.StartS3(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "stream")
	r := newRemote(t, srv, "stream")
	key := objstore.Key{Bucket: "stream", ID: "arriving"}
	body := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB
	whole := remotetest.Record(key, body, 7, objstore.LevelS3, "application/x-test")
	rec := whole
	rec.Sum = objstore.Checksum{Size: whole.Sum.Size}

	cut := &arrivingBody{b: body, release: make(chan struct{}), readHalf: make(chan struct{}), fail: errors.New("client went away")}
	close(cut.release)
	if _, err := r.PutStream(t.Context(), rec, cut, ""); err == nil {
		t.Fatal("PutStream of a body whose last read fails: no error")
	}
	if _, err := r.Stat(t.Context(), key); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("after a cut streamed upload the origin has the object: %v", err)
	}

	arriving := &arrivingBody{b: body, release: make(chan struct{}), readHalf: make(chan struct{})}
	done := make(chan error, 1)
	var etag string
	go func() {
		var err error
		etag, err = r.PutStream(t.Context(), rec, arriving, "")
		done <- err
	}()
	select {
	case <-arriving.readHalf: // the upload read the first half before the rest arrived
	case err := <-done:
		t.Fatalf("PutStream ended before its body was whole: %v", err)
	}
	close(arriving.release)
	if err := <-done; err != nil {
		t.Fatalf("PutStream: %v", err)
	}
	if want := whole.Sum.ETag(); etag != want {
		t.Errorf("PutStream answered ETag %s, want %s", etag, want)
	}
	got, err := r.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum.MD5 != whole.Sum.MD5 || got.Sum.CRC32C != 0 || got.Sum.Size != whole.Sum.Size || got.Version != rec.Version {
		t.Errorf("Stat of a streamed object: sum %+v version %v, want the MD5 %s from the ETag, no CRC-32C, size %d, version %v",
			got.Sum, got.Version, whole.Sum.MD5, whole.Sum.Size, rec.Version)
	}
	rc, stat, err := r.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(stat.Headers) != 0 {
		t.Errorf("the streamed object has stored headers %v, want none (the framing is not an encoding of the object)", stat.Headers)
	}
	stored, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(stored, body) {
		t.Fatalf("the origin holds other bytes (%v)", err)
	}

	again := &arrivingBody{b: body, release: make(chan struct{}), readHalf: make(chan struct{})}
	close(again.release)
	// versitygw refuses before reading the body and closes the connection,
	// so the refusal may arrive as a broken connection rather than a 412.
	other := rec
	other.Version.HLC++
	if _, err := r.PutStream(t.Context(), other, again, ""); err == nil {
		t.Error("PutStream with If-None-Match on an object: no error")
	}
	if got, err := r.Stat(t.Context(), key); err != nil || got.Version != rec.Version {
		t.Errorf("after a refused PutStream the origin holds %v (%v), want %v", got.Version, err, rec.Version)
	}
	again = &arrivingBody{b: body, release: make(chan struct{}), readHalf: make(chan struct{})}
	close(again.release)
	if _, err := r.PutStream(t.Context(), rec, again, etag); err != nil {
		t.Errorf("PutStream with the object's ETag: %v", err)
	}
	big := whole
	big.Sum.Size = r.StreamMax() + 1
	if _, err := r.PutStream(t.Context(), big, again, ""); err == nil {
		t.Errorf("PutStream of %d bytes, over StreamMax: no error", big.Sum.Size)
	}
}
