package s3api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore"
)

// conditions are the four conditional request headers, under the names
// they have on a GET or, prefixed with x-amz-copy-source-, on a copy.
type conditions struct {
	ifMatch, ifNoneMatch             string
	ifModifiedSince, ifUnmodifiedSin string
}

func readConditions(h http.Header, prefix string) conditions {
	return conditions{
		ifMatch:         h.Get(prefix + "If-Match"),
		ifNoneMatch:     h.Get(prefix + "If-None-Match"),
		ifModifiedSince: h.Get(prefix + "If-Modified-Since"),
		ifUnmodifiedSin: h.Get(prefix + "If-Unmodified-Since"),
	}
}

// outcome is what the conditions decide.
type outcome int

const (
	proceed outcome = iota
	notModified
	preconditionFailed
)

// evaluate applies the conditions to rec in RFC 9110's order, as S3 does:
// If-Match, else If-Unmodified-Since; then If-None-Match, else
// If-Modified-Since. Unparsable dates are ignored.
func (c conditions) evaluate(rec objstore.Record) outcome {
	modified := rec.Modified().Truncate(time.Second)
	switch {
	case c.ifMatch != "":
		if !etagMatches(c.ifMatch, rec.Sum.ETag()) {
			return preconditionFailed
		}
	case c.ifUnmodifiedSin != "":
		if t, err := http.ParseTime(c.ifUnmodifiedSin); err == nil && modified.After(t) {
			return preconditionFailed
		}
	}
	switch {
	case c.ifNoneMatch != "":
		if etagMatches(c.ifNoneMatch, rec.Sum.ETag()) {
			return notModified
		}
	case c.ifModifiedSince != "":
		if t, err := http.ParseTime(c.ifModifiedSince); err == nil && !modified.After(t) {
			return notModified
		}
	}
	return proceed
}

// etagMatches reports whether the list of entity tags in header names etag
// (or is "*"). Weak tags compare by their opaque part; quotes are optional,
// as some clients leave them out.
func etagMatches(header, etag string) bool {
	want := strings.Trim(etag, `"`)
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == want {
			return true
		}
	}
	return false
}

// byteRange is a satisfiable single range of a body.
type byteRange struct{ start, length int64 }

// parseRange parses a Range header against a body of size bytes. It
// returns ok=false to serve the whole body (no header, a header it does not
// understand, or several ranges, which S3 does not serve either), and
// unsatisfiable=true for a range that starts past the end.
func parseRange(header string, size int64) (r byteRange, ok, unsatisfiable bool) {
	spec, found := strings.CutPrefix(header, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, false
	}
	if first == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return byteRange{}, false, false
		}
		if n == 0 || size == 0 {
			return byteRange{}, false, true
		}
		n = min(n, size)
		return byteRange{size - n, n}, true, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return byteRange{}, false, false
	}
	end := size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return byteRange{}, false, false
		}
		end = min(end, size-1)
	}
	if start >= size {
		return byteRange{}, false, true
	}
	return byteRange{start, end - start + 1}, true, false
}

// writeConditions are If-Match and If-None-Match on a PutObject: the write
// lands only if the key's current object matches (If-Match: an ETag in the
// list, or "*": any object) and does not match If-None-Match ("*": there
// is no object). S3 itself takes If-None-Match: * and If-Match: <ETag>;
// objstore takes both headers in full, as ceph does (s3-tests
// test_put_object_if*), since each form has one obvious meaning.
type writeConditions struct{ ifMatch, ifNoneMatch string }

func readWriteConditions(h http.Header) writeConditions {
	return writeConditions{ifMatch: h.Get("If-Match"), ifNoneMatch: h.Get("If-None-Match")}
}

func (c writeConditions) none() bool { return c.ifMatch == "" && c.ifNoneMatch == "" }

// hold reports whether the conditions hold for the current object rec
// (found false: the key has none).
func (c writeConditions) hold(rec objstore.Record, found bool) bool {
	if c.ifMatch != "" && (!found || !etagMatches(c.ifMatch, rec.Sum.ETag())) {
		return false
	}
	if c.ifNoneMatch != "" && found && etagMatches(c.ifNoneMatch, rec.Sum.ETag()) {
		return false
	}
	return true
}
