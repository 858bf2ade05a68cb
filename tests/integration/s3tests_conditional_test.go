package integration

import (
	"bytes"
	"net/http"
	"testing"
	"time"
)

// TestS3TestsConditional mirrors s3-tests' conditional requests
// (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since on
// GET, HEAD, PUT and copy) and ranged GETs (test_ranged_request_*).
func TestS3TestsConditional(t *testing.T) {
	s3tRun(t, append(s3tConditionalCases(), s3tRangeCases()...))
}

const (
	s3tLongAgo   = "Sat, 29 Oct 1994 19:43:31 GMT"
	s3tFarFuture = "Sat, 29 Oct 2100 19:43:31 GMT"
)

// s3tReadCond is a conditional GET (and the same on HEAD, which S3
// answers alike without a body) of an object "bar": the header, its value
// (etag means the object's own ETag) and the status wanted.
func s3tReadCond(mirrors, header, value string, status int) []s3tCase {
	run := func(method string) func(t *testing.T, tg *s3tTarget, b string) {
		return func(t *testing.T, tg *s3tTarget, b string) {
			etag, v := tg.put(t, b, "foo", []byte("bar")), value
			if v == "etag" {
				v = etag
			}
			r := tg.do(t, method, s3tPath(b, "foo"), nil, header, v)
			what := method + " " + header + ": " + v
			switch {
			case status == http.StatusPreconditionFailed && method == http.MethodGet:
				tg.wantErr(t, r, status, "PreconditionFailed", what)
			default:
				tg.wantStatus(t, r, status, what)
			}
			if status == http.StatusOK && method == http.MethodGet && string(r.Body) != "bar" {
				t.Errorf("%s %s: body %q, want bar", tg.name, what, r.Body)
			}
			if status == http.StatusNotModified {
				tg.wantHeader(t, r, "ETag", etag, what)
			}
		}
	}
	return []s3tCase{
		{mirrors: mirrors, run: run(http.MethodGet)},
		{mirrors: mirrors + " (HEAD)", run: run(http.MethodHead)},
	}
}

// s3tPutCond is a conditional PUT of "zar" over "bar" (or over nothing
// when existing is false): the header, its value (etag: the current ETag)
// and whether it must land (200) or be refused (412).
func s3tPutCond(mirrors, header, value string, existing, lands bool) s3tCase {
	return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
		v := value
		if existing {
			etag := tg.put(t, b, "foo", []byte("bar"))
			if v == "etag" {
				v = etag[1 : len(etag)-1] // s3-tests strips the quotes
			}
		}
		r := tg.do(t, http.MethodPut, s3tPath(b, "foo"), []byte("zar"), header, v)
		what := "PUT " + header + ": " + v
		if lands {
			tg.wantStatus(t, r, http.StatusOK, what)
			tg.wantGet(t, b, "foo", []byte("zar"))
			return
		}
		tg.wantErr(t, r, http.StatusPreconditionFailed, "PreconditionFailed", what)
		if existing {
			tg.wantGet(t, b, "foo", []byte("bar"))
		} else {
			tg.wantErr(t, tg.do(t, http.MethodGet, s3tPath(b, "foo"), nil), http.StatusNotFound, "NoSuchKey", "GET after the refused PUT")
		}
	}}
}

// s3tCopyCond is a CopyObject of foo to bar with one
// x-amz-copy-source-if-* condition.
func s3tCopyCond(mirrors, header, value string, lands bool) s3tCase {
	return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
		etag, v := tg.put(t, b, "foo", []byte("bar")), value
		if v == "etag" {
			v = etag
		}
		r := tg.copy(t, b+"/foo", b, "bar", header, v)
		what := "CopyObject " + header + ": " + v
		if lands {
			tg.wantStatus(t, r, http.StatusOK, what)
			tg.wantGet(t, b, "bar", []byte("bar"))
			return
		}
		tg.wantErr(t, r, http.StatusPreconditionFailed, "PreconditionFailed", what)
		tg.wantErr(t, tg.do(t, http.MethodGet, s3tPath(b, "bar"), nil), http.StatusNotFound, "NoSuchKey", "GET after the refused copy")
	}}
}

func s3tConditionalCases() []s3tCase {
	var cases []s3tCase
	for _, c := range [][]s3tCase{
		s3tReadCond("test_get_object_ifmatch_good", "If-Match", "etag", http.StatusOK),
		s3tReadCond("test_get_object_ifmatch_failed", "If-Match", `"ABCORZ"`, http.StatusPreconditionFailed),
		s3tReadCond("test_get_object_ifnonematch_good", "If-None-Match", "etag", http.StatusNotModified),
		s3tReadCond("test_get_object_ifnonematch_failed", "If-None-Match", "ABCORZ", http.StatusOK),
		s3tReadCond("test_get_object_ifmodifiedsince_good", "If-Modified-Since", s3tLongAgo, http.StatusOK),
		s3tReadCond("test_get_object_ifunmodifiedsince_good", "If-Unmodified-Since", s3tLongAgo, http.StatusPreconditionFailed),
		s3tReadCond("test_get_object_ifunmodifiedsince_failed", "If-Unmodified-Since", s3tFarFuture, http.StatusOK),
	} {
		cases = append(cases, c...)
	}
	return append(cases,
		s3tCase{mirrors: "test_get_object_ifmodifiedsince_failed", run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "foo", []byte("bar"))
			mtime, err := http.ParseTime(tg.get(t, b, "foo").Header.Get("Last-Modified"))
			if err != nil {
				t.Fatalf("%s: Last-Modified: %v", tg.name, err)
			}
			after := mtime.Add(time.Second).Format(http.TimeFormat)
			r := tg.do(t, http.MethodGet, s3tPath(b, "foo"), nil, "If-Modified-Since", after)
			tg.wantStatus(t, r, http.StatusNotModified, "GET If-Modified-Since a second after Last-Modified")
			if len(r.Body) != 0 {
				t.Errorf("%s: 304 with a body %q", tg.name, r.Body)
			}
		}},
		s3tPutCond("test_put_object_ifmatch_good", "If-Match", "etag", true, true),
		s3tPutCond("test_put_object_ifmatch_failed", "If-Match", `"ABCORZ"`, true, false),
		s3tPutCond("test_put_object_ifmatch_overwrite_existed_good", "If-Match", "*", true, true),
		s3tPutCond("test_put_object_ifmatch_nonexisted_failed", "If-Match", "*", false, false),
		s3tPutCond("test_put_object_ifnonmatch_good", "If-None-Match", "ABCORZ", true, true),
		s3tPutCond("test_put_object_ifnonmatch_failed", "If-None-Match", "etag", true, false),
		s3tPutCond("test_put_object_ifnonmatch_nonexisted_good", "If-None-Match", "*", false, true),
		s3tPutCond("test_put_object_ifnonmatch_overwrite_existed_failed", "If-None-Match", "*", true, false),
		s3tCopyCond("test_copy_object_ifmatch_good", "X-Amz-Copy-Source-If-Match", "etag", true),
		s3tCopyCond("test_copy_object_ifmatch_failed", "X-Amz-Copy-Source-If-Match", "ABCORZ", false),
		s3tCopyCond("test_copy_object_ifnonematch_good", "X-Amz-Copy-Source-If-None-Match", "etag", false),
		s3tCopyCond("test_copy_object_ifnonematch_failed", "X-Amz-Copy-Source-If-None-Match", "ABCORZ", true),
	)
}

// s3tRange GETs a range of content and checks the 206, the bytes and the
// Content-Range.
func s3tRange(mirrors string, content []byte, rng, contentRange string, from, to int) s3tCase {
	return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
		tg.put(t, b, "testobj", content)
		r := tg.do(t, http.MethodGet, s3tPath(b, "testobj"), nil, "Range", rng)
		tg.wantStatus(t, r, http.StatusPartialContent, "GET Range: "+rng)
		tg.wantHeader(t, r, "Content-Range", contentRange, "GET Range: "+rng)
		if !bytes.Equal(r.Body, content[from:to]) {
			t.Errorf("%s GET Range %s: %d bytes, want bytes %d-%d", tg.name, rng, len(r.Body), from, to-1)
		}
	}}
}

func s3tRangeCases() []s3tCase {
	content := []byte("testcontent")
	big := randomBody(3145728, 8<<20)
	invalid := func(mirrors string, content []byte) s3tCase {
		return s3tCase{mirrors: mirrors, run: func(t *testing.T, tg *s3tTarget, b string) {
			tg.put(t, b, "testobj", content)
			r := tg.do(t, http.MethodGet, s3tPath(b, "testobj"), nil, "Range", "bytes=40-50")
			tg.wantErr(t, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "GET Range: bytes=40-50")
		}}
	}
	return []s3tCase{
		s3tRange("test_ranged_request_response_code", content, "bytes=4-7", "bytes 4-7/11", 4, 8),
		s3tRange("test_ranged_big_request_response_code", big, "bytes=3145728-5242880", "bytes 3145728-5242880/8388608", 3145728, 5242881),
		s3tRange("test_ranged_request_skip_leading_bytes_response_code", content, "bytes=4-", "bytes 4-10/11", 4, 11),
		s3tRange("test_ranged_request_return_trailing_bytes_response_code", content, "bytes=-7", "bytes 4-10/11", 4, 11),
		invalid("test_ranged_request_invalid_range", content),
		invalid("test_ranged_request_empty_object", nil),
	}
}
