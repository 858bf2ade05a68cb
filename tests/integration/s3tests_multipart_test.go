package integration

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestS3TestsMultipart mirrors s3-tests' multipart cases
// (test_multipart_*, test_abort_multipart_upload*, test_list_multipart_upload)
// and the atomicity cases (test_atomic_*).
func TestS3TestsMultipart(t *testing.T) {
	s3tRun(t, append(s3tMultipartCases(), s3tAtomicCases()...))
}

const s3tMiB = 1 << 20

// s3tUploadParts uploads body in parts of partSize (s3-tests'
// _multipart_upload) and returns the upload; resend names parts (0-based,
// as s3-tests counts) that are uploaded twice.
func s3tUploadParts(t *testing.T, tg *s3tTarget, b, key string, body []byte, partSize int, resend []int, hdr ...string) *s3tUpload {
	t.Helper()
	u := tg.startUpload(t, b, key, hdr...)
	for i := 0; i*partSize < len(body); i++ {
		part := body[i*partSize : min(len(body), (i+1)*partSize)]
		u.part(t, i+1, part)
		for _, r := range resend {
			if r == i {
				u.part(t, i+1, part)
			}
		}
	}
	return u
}

// s3tCheckRanges reads key back in ranges of step bytes (s3-tests'
// _check_content_using_range).
func s3tCheckRanges(t *testing.T, tg *s3tTarget, b, key string, data []byte, step int) {
	t.Helper()
	for ofs := 0; ofs < len(data); ofs += step {
		end := min(len(data), ofs+step) - 1
		r := tg.do(t, http.MethodGet, s3tPath(b, key), nil, "Range", fmt.Sprintf("bytes=%d-%d", ofs, end))
		tg.wantStatus(t, r, http.StatusPartialContent, fmt.Sprintf("GET bytes=%d-%d", ofs, end))
		if !bytes.Equal(r.Body, data[ofs:end+1]) {
			t.Fatalf("%s GET bytes=%d-%d: %d bytes that differ", tg.name, ofs, end, len(r.Body))
		}
	}
}

// s3tMultipartCopy copies the first size bytes of src in parts of
// partSize with UploadPartCopy (s3-tests' _multipart_copy) and completes.
func s3tMultipartCopy(t *testing.T, tg *s3tTarget, src, b, key string, size, partSize int) {
	t.Helper()
	u := tg.startUpload(t, b, key)
	for i, ofs := 0, 0; ofs < size; i, ofs = i+1, ofs+partSize {
		rng := fmt.Sprintf("bytes=%d-%d", ofs, min(ofs+partSize, size)-1)
		tg.wantStatus(t, u.copyPart(t, i+1, src, rng), http.StatusOK, "UploadPartCopy "+rng)
	}
	u.mustComplete(t)
}

// s3tWantSame checks that key holds the first bytes of want.
func s3tWantPrefix(t *testing.T, tg *s3tTarget, b, key string, want []byte, size int) {
	t.Helper()
	tg.wantGet(t, b, key, want[:size])
}

func s3tMultipartCases() []s3tCase {
	return []s3tCase{
		{mirrors: "test_multipart_upload_empty", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := tg.startUpload(t, b, "mymultipart")
			r := tg.do(t, http.MethodPost, u.query(), nil)
			tg.wantErr(t, r, http.StatusBadRequest, "MalformedXML", "CompleteMultipartUpload without a body")
		}},
		{mirrors: "test_multipart_upload_small", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := s3tUploadParts(t, tg, b, "mymultipart", []byte("x"), 5*s3tMiB, nil)
			first := u.mustComplete(t)
			tg.wantHeader(t, tg.get(t, b, "mymultipart"), "Content-Length", "1", "GET")
			again := u.mustComplete(t)
			if !bytes.Equal(s3tETagOf(again.Body), s3tETagOf(first.Body)) {
				t.Errorf("%s: the repeated Complete answered ETag %s, the first %s", tg.name, s3tETagOf(again.Body), s3tETagOf(first.Body))
			}
		}},
		{mirrors: "test_multipart_copy_small", run: func(t *testing.T, tg *s3tTarget, b string) {
			src := randomBody(7, 7*s3tMiB)
			tg.put(t, b, "foo", src)
			s3tMultipartCopy(t, tg, b+"/foo", b, "mymultipart", 1, 5*s3tMiB)
			s3tWantPrefix(t, tg, b, "mymultipart", src, 1)
		}},
		{mirrors: "test_multipart_copy_invalid_range", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "source", []byte("01234"))
			u := tg.startUpload(t, b, "dest")
			r := u.copyPart(t, 1, b+"/source", "bytes=0-21")
			if (r.Status != http.StatusBadRequest && r.Status != http.StatusRequestedRangeNotSatisfiable) || errorCode(r.Body) != "InvalidRange" {
				t.Errorf("%s UploadPartCopy bytes=0-21 of 5 bytes: %s, want 400 or 416 InvalidRange", tg.name, r)
			}
		}},
		{mirrors: "test_multipart_copy_improper_range", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "source", []byte("01234"))
			u := tg.startUpload(t, b, "dest")
			for _, rng := range []string{"0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5"} {
				tg.wantErr(t, u.copyPart(t, 1, b+"/source", rng), http.StatusBadRequest, "InvalidArgument", "UploadPartCopy range "+rng)
			}
		}},
		{mirrors: "test_multipart_copy_without_range", run: func(t *testing.T, tg *s3tTarget, b string) {
			src := []byte("0123456789")
			tg.put(t, b, "source", src)
			u := tg.startUpload(t, b, "mymultipartcopy")
			tg.wantStatus(t, u.copyPart(t, 1, b+"/source", ""), http.StatusOK, "UploadPartCopy without a range")
			u.mustComplete(t)
			tg.wantGet(t, b, "mymultipartcopy", src)
		}},
		{mirrors: "test_multipart_copy_special_names", run: func(t *testing.T, tg *s3tTarget, b string) {
			for i, name := range []string{" ", "_", "__", "?versionId"} {
				src := randomBody(uint64(100+i), 64<<10)
				tg.put(t, b, name, src)
				s3tMultipartCopy(t, tg, b+"/"+name, b, "mymultipart", 1, 5*s3tMiB)
				s3tWantPrefix(t, tg, b, "mymultipart", src, 1)
			}
		}},
		{mirrors: "test_multipart_upload", run: func(t *testing.T, tg *s3tTarget, b string) {
			data := randomBody(30, 12*s3tMiB) // s3-tests uses 30 MiB; three parts show the same
			u := s3tUploadParts(t, tg, b, "mymultipart", data, 5*s3tMiB, nil, "Content-Type", "text/bla", "X-Amz-Meta-Foo", "bar")
			u.mustComplete(t)
			u.mustComplete(t) // a repeated Complete succeeds too
			r := tg.get(t, b, "mymultipart")
			tg.wantHeader(t, r, "Content-Type", "text/bla", "GET")
			s3tMeta(t, tg, r, map[string]string{"foo": "bar"})
			if !bytes.Equal(r.Body, data) {
				t.Errorf("%s: GET gave %d bytes that differ from the %d uploaded", tg.name, len(r.Body), len(data))
			}
			s3tCheckRanges(t, tg, b, "mymultipart", data, 1000000)
			s3tCheckRanges(t, tg, b, "mymultipart", data, 10000000)
		}},
		{mirrors: "test_multipart_upload_resend_part", run: func(t *testing.T, tg *s3tTarget, b string) {
			data := randomBody(31, 11*s3tMiB)
			for _, resend := range [][]int{{0}, {1}, {2}, {1, 2}, {0, 1, 2}} {
				u := s3tUploadParts(t, tg, b, "mymultipart", data, 5*s3tMiB, resend, "Content-Type", "text/bla", "X-Amz-Meta-Foo", "bar")
				u.mustComplete(t)
				r := tg.get(t, b, "mymultipart")
				tg.wantHeader(t, r, "Content-Type", "text/bla", fmt.Sprint("GET after resending ", resend))
				s3tMeta(t, tg, r, map[string]string{"foo": "bar"})
				if !bytes.Equal(r.Body, data) {
					t.Errorf("%s resend %v: the object differs from what was uploaded", tg.name, resend)
				}
			}
		}},
		{mirrors: "test_multipart_upload_multiple_sizes", run: func(t *testing.T, tg *s3tTarget, b string) {
			for _, size := range []int{5 * s3tMiB, 5*s3tMiB + 100<<10, 5*s3tMiB + 600<<10, 10*s3tMiB + 100<<10, 10*s3tMiB + 600<<10, 10 * s3tMiB} {
				data := randomBody(uint64(size), size)
				s3tUploadParts(t, tg, b, "mymultipart", data, 5*s3tMiB, nil).mustComplete(t)
			}
		}},
		{mirrors: "test_multipart_copy_multiple_sizes", run: func(t *testing.T, tg *s3tTarget, b string) {
			src := randomBody(12, 12*s3tMiB)
			tg.put(t, b, "foo", src)
			for _, size := range []int{5 * s3tMiB, 5*s3tMiB + 100<<10, 5*s3tMiB + 600<<10, 10*s3tMiB + 100<<10, 10*s3tMiB + 600<<10, 10 * s3tMiB} {
				s3tMultipartCopy(t, tg, b+"/foo", b, "mymultipart", size, 5*s3tMiB)
				s3tWantPrefix(t, tg, b, "mymultipart", src, size)
			}
		}},
		{mirrors: "test_multipart_upload_size_too_small", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := s3tUploadParts(t, tg, b, "mymultipart", randomBody(10, 100<<10), 10<<10, nil)
			tg.wantErr(t, u.complete(t, nil), http.StatusBadRequest, "EntityTooSmall", "Complete with 10 KiB parts")
		}},
		{mirrors: "test_multipart_upload_contents", run: func(t *testing.T, tg *s3tTarget, b string) {
			payload := bytes.Repeat([]byte("ABCDE"), s3tMiB)
			last := bytes.Repeat([]byte("123"), s3tMiB)
			u := tg.startUpload(t, b, "mymultipart")
			for i := range 3 {
				u.part(t, i+1, payload)
			}
			u.part(t, 4, last)
			u.mustComplete(t)
			want := append(bytes.Repeat(payload, 3), last...)
			tg.wantGet(t, b, "mymultipart", want)
		}},
		{mirrors: "test_multipart_upload_overwrite_existing_object", run: func(t *testing.T, tg *s3tTarget, b string) {
			payload := bytes.Repeat([]byte("12345"), s3tMiB)
			tg.put(t, b, "mymultipart", payload)
			u := tg.startUpload(t, b, "mymultipart")
			u.part(t, 1, payload)
			u.part(t, 2, payload)
			u.mustComplete(t)
			tg.wantGet(t, b, "mymultipart", append(append([]byte{}, payload...), payload...))
		}},
		{mirrors: "test_abort_multipart_upload", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := s3tUploadParts(t, tg, b, "mymultipart", randomBody(11, 10*s3tMiB), 5*s3tMiB, nil)
			tg.wantStatus(t, u.abort(t), http.StatusNoContent, "AbortMultipartUpload")
			tg.wantErr(t, tg.do(t, http.MethodGet, s3tPath(b, "mymultipart"), nil), http.StatusNotFound, "NoSuchKey", "GET after abort")
			if l := tg.list(t, b); len(l.Contents) != 0 {
				t.Errorf("%s: %q listed after abort", tg.name, l.keys())
			}
		}},
		{mirrors: "test_abort_multipart_upload_not_found", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "mymultipart", nil)
			r := tg.do(t, http.MethodDelete, s3tPath(b, "mymultipart")+"?uploadId=56788", nil)
			tg.wantErr(t, r, http.StatusNotFound, "NoSuchUpload", "Abort of an unknown upload")
		}},
		{mirrors: "test_list_multipart_upload", run: func(t *testing.T, tg *s3tTarget, b string) {
			ups := []*s3tUpload{
				s3tUploadParts(t, tg, b, "mymultipart", randomBody(1, 5*s3tMiB), 5*s3tMiB, nil),
				s3tUploadParts(t, tg, b, "mymultipart", randomBody(2, 6*s3tMiB), 5*s3tMiB, nil),
				s3tUploadParts(t, tg, b, "mymultipart2", randomBody(3, 5*s3tMiB), 5*s3tMiB, nil),
			}
			r := tg.do(t, http.MethodGet, "/"+b+"?uploads", nil)
			tg.wantStatus(t, r, http.StatusOK, "ListMultipartUploads")
			var res struct {
				Upload []struct{ Key, UploadId string }
			}
			if err := xml.Unmarshal(r.Body, &res); err != nil {
				t.Fatalf("%s ListMultipartUploads: %v", tg.name, err)
			}
			listed := map[string]bool{}
			for _, up := range res.Upload {
				listed[up.UploadId] = true
			}
			for _, u := range ups {
				if !listed[u.id] {
					t.Errorf("%s: upload %s of %s not listed", tg.name, u.id, u.key)
				}
				tg.wantStatus(t, u.abort(t), http.StatusNoContent, "AbortMultipartUpload")
			}
		}},
		{mirrors: "test_multipart_upload_missing_part", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := tg.startUpload(t, b, "mymultipart")
			etag := u.part(t, 1, []byte{0})
			tg.wantErr(t, u.complete(t, map[int]string{9999: etag}), http.StatusBadRequest, "InvalidPart", "Complete naming part 9999")
		}},
		{mirrors: "test_multipart_upload_incorrect_etag", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := tg.startUpload(t, b, "mymultipart")
			u.part(t, 1, []byte{0})
			tg.wantErr(t, u.complete(t, map[int]string{1: "ffffffffffffffffffffffffffffffff"}), http.StatusBadRequest, "InvalidPart", "Complete with a wrong ETag")
		}},
		{mirrors: "test_atomic_multipart_upload_write", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "foo", []byte("bar"))
			u := tg.startUpload(t, b, "foo")
			tg.wantGet(t, b, "foo", []byte("bar"))
			tg.wantStatus(t, u.abort(t), http.StatusNoContent, "AbortMultipartUpload")
			tg.wantGet(t, b, "foo", []byte("bar"))
		}},
		{mirrors: "test_multipart_resend_first_finishes_last", run: func(t *testing.T, tg *s3tTarget, b string) {
			u := tg.startUpload(t, b, "mymultipart")
			a, bb := s3tLetters('A', 8), s3tLetters('B', 8)
			// Part 1 from writer A starts; before its last byte, writer B
			// uploads part 1 in full; then A finishes. A's part, finished
			// last, is the one Complete finds.
			var etagB string
			bodyA := &s3tHookReader{data: a, beforeLast: func() { etagB = u.part(t, 1, bb) }}
			req := tg.request(t, http.MethodPut, u.query("partNumber", "1"), nil)
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			tg.sign(t, req)
			req.Body, req.ContentLength = bodyA, int64(len(a))
			r := tg.send(t, req)
			tg.wantStatus(t, r, http.StatusOK, "UploadPart A, finishing last")
			if etagB == "" {
				t.Fatal("writer B did not run")
			}
			if u.complete(t, map[int]string{1: r.Header.Get("ETag")}).Status != http.StatusOK {
				t.Fatalf("%s: Complete with A's part failed", tg.name)
			}
			tg.wantGet(t, b, "mymultipart", a)
		}},
	}
}

// s3tETagOf is the <ETag> of a CompleteMultipartUploadResult.
func s3tETagOf(body []byte) []byte {
	var res struct{ ETag string }
	_ = xml.Unmarshal(body, &res) // an empty ETag fails the comparison
	return []byte(res.ETag)
}

// s3tHookReader yields data, calling beforeLast (once) before it yields
// the last byte, and afterAll once the body is spent: a client whose
// upload pauses at its very end, as s3-tests' FakeWriteFile interrupts.
type s3tHookReader struct {
	data       []byte
	off        int
	beforeLast func()
	once       sync.Once
}

func (h *s3tHookReader) Read(p []byte) (int, error) {
	if h.off >= len(h.data) {
		return 0, io.EOF
	}
	if h.off == len(h.data)-1 && h.beforeLast != nil {
		h.once.Do(h.beforeLast)
	}
	end := min(len(h.data)-1, h.off+len(p)) // hold back the last byte for its own Read
	if h.off == len(h.data)-1 {
		end = len(h.data)
	}
	k := copy(p, h.data[h.off:end])
	h.off += k
	return k, nil
}

func (h *s3tHookReader) Close() error { return nil }

// s3tPutHooked PUTs data to key with a body that calls beforeLast before
// its last byte.
func s3tPutHooked(t *testing.T, tg *s3tTarget, b, key string, data []byte, beforeLast func(), hdr ...string) *response {
	t.Helper()
	req := tg.request(t, http.MethodPut, s3tPath(b, key), nil, hdr...)
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	tg.sign(t, req)
	req.Body, req.ContentLength = &s3tHookReader{data: data, beforeLast: beforeLast}, int64(len(data))
	return tg.send(t, req)
}

// s3tAllOf checks that key is size bytes of the letter c (s3-tests'
// _verify_atomic_key_data).
func s3tAllOf(t *testing.T, tg *s3tTarget, b, key string, c byte, size int) {
	t.Helper()
	r := tg.get(t, b, key)
	if !bytes.Equal(r.Body, s3tLetters(c, size)) {
		t.Errorf("%s: %s is %d bytes beginning %.8q, want %d bytes of %c", tg.name, key, len(r.Body), r.Body, size, c)
	}
}

func s3tAtomicCases() []s3tCase {
	var cases []s3tCase
	for _, mb := range []int{1, 4, 8} {
		cases = append(cases, s3tAtomicSized(mb)...)
	}
	return append(cases, s3tAtomicOnce()...)
}

// s3tAtomicSized are the atomicity cases s3-tests runs at 1, 4 and 8 MB.
func s3tAtomicSized(mb int) []s3tCase {
	size := mb * s3tMiB
	return []s3tCase{
		{mirrors: fmt.Sprintf("test_atomic_read_%dmb", mb), run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "testobj", s3tLetters('A', size))
			req := tg.request(t, http.MethodGet, s3tPath(b, "testobj"), nil)
			resp, err := tg.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }() // read-only body
			head := make([]byte, 1)
			if _, err := io.ReadFull(resp.Body, head); err != nil {
				t.Fatal(err)
			}
			tg.put(t, b, "testobj", s3tLetters('B', size)) // while the A's are being read
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := append(head, rest...); !bytes.Equal(got, s3tLetters('A', size)) {
				t.Errorf("%s: a read begun before the overwrite gave %d bytes, not all A's", tg.name, len(got))
			}
			s3tAllOf(t, tg, b, "testobj", 'B', size)
		}},
		{mirrors: fmt.Sprintf("test_atomic_write_%dmb", mb), run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "testobj", s3tLetters('A', size))
			s3tAllOf(t, tg, b, "testobj", 'A', size)
			r := s3tPutHooked(t, tg, b, "testobj", s3tLetters('B', size), func() { s3tAllOf(t, tg, b, "testobj", 'A', size) })
			tg.wantStatus(t, r, http.StatusOK, "PUT of B's")
			s3tAllOf(t, tg, b, "testobj", 'B', size)
		}},
		{mirrors: fmt.Sprintf("test_atomic_dual_write_%dmb", mb), run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "testobj", nil)
			// B starts first; before its last byte, A is written in full;
			// then B finishes. B finished last: B is the object.
			r := s3tPutHooked(t, tg, b, "testobj", s3tLetters('B', size), func() { tg.put(t, b, "testobj", s3tLetters('A', size)) })
			tg.wantStatus(t, r, http.StatusOK, "PUT of B's")
			s3tAllOf(t, tg, b, "testobj", 'B', size)
		}},
	}
}

// s3tAtomicOnce are the atomicity cases s3-tests runs at 1 MB only.
func s3tAtomicOnce() []s3tCase {
	const size = s3tMiB
	return []s3tCase{
		{mirrors: "test_atomic_conditional_write_1mb", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "testobj", s3tLetters('A', size))
			r := s3tPutHooked(t, tg, b, "testobj", s3tLetters('B', size), func() { s3tAllOf(t, tg, b, "testobj", 'A', size) }, "If-Match", "*")
			tg.wantStatus(t, r, http.StatusOK, "PUT If-Match: * of B's")
			s3tAllOf(t, tg, b, "testobj", 'B', size)
		}},
		{mirrors: "test_atomic_dual_conditional_write_1mb", run: func(t *testing.T, tg *s3tTarget, b string) {
			etagA := tg.put(t, b, "testobj", s3tLetters('A', size))
			etagA = strings.Trim(etagA, `"`)
			// C starts with If-Match: A's ETag; before its last byte, B
			// lands with the same condition; C then finds A gone: 412.
			r := s3tPutHooked(t, tg, b, "testobj", s3tLetters('C', size), func() {
				tg.put(t, b, "testobj", s3tLetters('B', size), "If-Match", etagA)
			}, "If-Match", etagA)
			tg.wantErr(t, r, http.StatusPreconditionFailed, "PreconditionFailed", "PUT of C's If-Match A after B landed")
			s3tAllOf(t, tg, b, "testobj", 'B', size)
		}},
		{mirrors: "test_atomic_write_bucket_gone", run: func(t *testing.T, tg *s3tTarget, b string) {
			r := s3tPutHooked(t, tg, b, "foo", s3tLetters('A', size), func() {
				tg.wantStatus(t, tg.do(t, http.MethodDelete, "/"+b, nil), http.StatusNoContent, "DeleteBucket during the PUT")
			})
			tg.wantErr(t, r, http.StatusNotFound, "NoSuchBucket", "PUT into a bucket deleted meanwhile")
		}},
	}
}
