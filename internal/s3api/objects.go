package s3api

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/node"
)

// responseOverrides are the query parameters of a GET that replace a
// response header, as presigned download links use them.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// getObject serves GetObject (withBody) and HeadObject. A GET reads
// through to the origin when the cluster lacks the object; a HEAD asks the
// origin for the metadata only.
func (s *Server) getObject(q *request, withBody bool) error {
	if q.anonymous {
		for param := range responseOverrides {
			if q.query.Has(param) {
				// As AWS: an unsigned link must not choose how a body is
				// served (Content-Type: text/html would make any upload a page).
				return errorf("InvalidRequest", http.StatusBadRequest, "Request specific response headers cannot be used for anonymous GET requests.")
			}
		}
	}
	ctx := q.r.Context()
	key := q.objectKey()
	var (
		rec objstore.Record
		obj *node.Object
		err error
	)
	if withBody {
		obj, err = s.node.Get(ctx, key, true)
		if err == nil {
			defer obj.Close()
			rec = obj.Record
			if obj.Stale {
				node.SetStaleHeaders(q.w.Header())
			}
		}
	} else {
		rec, err = s.node.Stat(ctx, key)
	}
	if err != nil {
		return s.missing(q, err)
	}
	h := q.w.Header()
	switch readConditions(q.r.Header, "").evaluate(rec) {
	case notModified:
		h.Set("ETag", rec.Sum.ETag())
		h.Set("Last-Modified", rec.Modified().Format(http.TimeFormat))
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	case preconditionFailed:
		return errorf("PreconditionFailed", http.StatusPreconditionFailed, "at least one of the preconditions you specified did not hold")
	}
	setObjectHeaders(h, rec)
	query := q.query
	for param, header := range responseOverrides {
		if v := query.Get(param); v != "" {
			h.Set(header, v)
		}
	}
	size := rec.Size()
	rng, partial, unsatisfiable := parseRange(q.r.Header.Get("Range"), size)
	if unsatisfiable {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		return errorf("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "the requested range is not satisfiable (the object is %d bytes)", size)
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.length-1, size))
	} else {
		rng = byteRange{0, size}
		wholeChecksumHeaders(h, q.r.Header, rec)
	}
	h.Set("Content-Length", strconv.FormatInt(rng.length, 10))
	q.w.WriteHeader(status)
	if !withBody || rng.length == 0 {
		return nil
	}
	return sendBody(q.w, obj, rng)
}

// wholeChecksumHeaders sets the whole object's checksum headers when the request
// asks for them (x-amz-checksum-mode: ENABLED): objstore computed this CRC
// over the whole body as it was written; objects it did not write have
// none to give.
func wholeChecksumHeaders(h, req http.Header, rec objstore.Record) {
	if strings.EqualFold(req.Get("X-Amz-Checksum-Mode"), "ENABLED") && !rec.Version.IsForeign() {
		h.Set("X-Amz-Checksum-Crc32c", crc32cValue(rec.Sum.CRC32C))
		h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	}
}

// sendBody writes the range of obj's body. Once the status is sent an
// error can only cut the response short, which the client sees as a
// truncated body rather than a complete wrong one.
func sendBody(w http.ResponseWriter, obj *node.Object, rng byteRange) error {
	if obj.Bytes != nil {
		w.Write(obj.Bytes[rng.start : rng.start+rng.length]) //nolint:errcheck // the client went away
		return nil
	}
	// A local body writes its verified blocks itself; a block that fails
	// its check ends the copy short, and the response is cut.
	n, err := obj.WriteBody(w, rng.start, rng.length)
	if err != nil || n != rng.length || obj.Err() != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// missing turns a lookup failure into NoSuchBucket when the bucket itself
// is missing, since S3 answers that first.
func (s *Server) missing(q *request, err error) error {
	// A deleted key's tombstone outlives its bucket: the bucket is checked
	// for it too, so a key of a deleted bucket is NoSuchBucket, as on S3
	// (s3-tests test_object_raw_get_bucket_gone).
	if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrDeleted) {
		if berr := s.checkBucket(q); berr != nil {
			return berr
		}
	}
	return err
}

// putObject serves PutObject.
func (s *Server) putObject(q *request) error {
	attrs, err := parseWriteAttrs(q.r.Header)
	if err != nil {
		return err
	}
	check, err := newBodyCheck(q.r.Header)
	if err != nil {
		return err
	}
	if err := s.checkWriteBucket(q, attrs); err != nil {
		return err
	}
	size := q.r.ContentLength
	if size < 0 {
		// Chunked with no length (aws-chunked bodies have theirs from
		// x-amz-decoded-content-length by now): S3 wants the length first
		// (s3-tests test_object_create_bad_contentlength_none).
		return errorf("MissingContentLength", http.StatusLengthRequired, "you must provide the Content-Length HTTP header")
	}
	if max := s.cfg.MaxObjectSize; max > 0 && size > max {
		return errorf("EntityTooLarge", http.StatusBadRequest, "the body is %d bytes; the limit is %d", size, max)
	}
	cond := readWriteConditions(q.r.Header)
	if err := s.checkWrite(q, cond); err != nil {
		return err
	}
	body := io.Reader(q.r.Body)
	if h := check.hash(); h != nil {
		body = io.TeeReader(body, h)
	}
	verify := check.verify
	if !cond.none() {
		// Checked again once the body is in, before it is committed: a
		// write that landed while this body was arriving is seen (s3-tests
		// test_atomic_dual_conditional_write_1mb).
		verify = func(sum objstore.Checksum) error {
			if err := check.verify(sum); err != nil {
				return err
			}
			return s.checkWrite(q, cond)
		}
	}
	rec, err := s.write(q, attrs, size, body, verify)
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", rec.Sum.ETag())
	if st := node.UploadState(rec); st != "" {
		q.w.Header().Set("X-Objstore-Upload", st)
	}
	check.echo(q.w.Header())
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// checkWrite answers PreconditionFailed unless the write conditions hold
// for the key's current object. The check and the commit are not one
// atomic step: a write that lands between them is not seen, a window of
// one journal commit (the check runs again after the body is in).
func (s *Server) checkWrite(q *request, c writeConditions) error {
	if c.none() {
		return nil
	}
	rec, err := s.node.Stat(q.r.Context(), q.objectKey())
	found := err == nil
	if err != nil && !errors.Is(err, objstore.ErrNotFound) && !errors.Is(err, objstore.ErrDeleted) {
		return err
	}
	if !c.hold(rec, found) {
		return errorf("PreconditionFailed", http.StatusPreconditionFailed, "at least one of the preconditions you specified did not hold")
	}
	return nil
}

// write stores one object version under the request's key. A write that
// names no level gets the configured default as a floor: the node keeps
// the object's current level when that is higher.
func (s *Server) write(q *request, a writeAttrs, size int64, body io.Reader, verify func(objstore.Checksum) error) (objstore.Record, error) {
	level := a.Level
	if !a.LevelSet {
		level = s.cfg.DefaultLevel
	}
	rec, err := s.node.Put(q.r.Context(), node.PutRequest{
		Key: q.objectKey(), Name: nameOf(q.key), ContentType: a.ContentType,
		UserMeta: a.UserMeta, Headers: a.Headers, Level: level, LevelIsFloor: !a.LevelSet,
		Size: size, Body: body, Verify: verify, WriteBack: s.writeBack(a),
	})
	if errors.Is(err, objstore.ErrNoRemote) {
		// An origin that refuses a PUT into a bucket deleted meanwhile may
		// close the connection before its 404 is read (versitygw does,
		// without reading the body): ask about the bucket, as missing does
		// for reads (s3-tests test_atomic_write_bucket_gone).
		if berr := s.checkBucket(q); berr != nil && !errors.Is(berr, objstore.ErrNoRemote) {
			return rec, berr
		}
	}
	return rec, err
}

// checkWriteBucket is checkBucket for a write or delete; a write-back one goes on
// without the origin for a bucket known to exist (write-back is for when
// the origin is away).
func (s *Server) checkWriteBucket(q *request, a writeAttrs) error {
	if s.writeBack(a) {
		return s.node.CheckBucketForWriteBack(q.r.Context(), q.bucket)
	}
	return s.checkBucket(q)
}

// writeBack is the write mode of a write: the one asked for, else the
// configured default.
func (s *Server) writeBack(a writeAttrs) bool {
	if a.WriteSet {
		return a.WriteBack
	}
	return s.cfg.DefaultWriteBack
}

// deleteObject serves DeleteObject: idempotent, as in S3. In write-back
// mode (X-Objstore-Write, else --s3-write-mode) it answers once the
// tombstone is journaled, for a bucket known to exist, and the origin's
// copy is deleted later (X-Objstore-Upload: pending).
func (s *Server) deleteObject(q *request) error {
	a, err := deleteAttrs(q)
	if err != nil {
		return err
	}
	if s.writeBack(a) {
		// The tombstone is journaled without the origin: not in a bucket
		// that does not exist. A through delete asks the origin, and
		// checks the bucket only when there was nothing to delete.
		if err := s.node.CheckBucketForWriteBack(q.r.Context(), q.bucket); err != nil {
			return err
		}
	}
	rec, err := s.deleteKey(q, q.objectKey(), a)
	switch {
	case errors.Is(err, objstore.ErrNotFound), errors.Is(err, objstore.ErrDeleted):
		// Idempotent, but not in a bucket that is gone (s3-tests
		// test_object_delete_key_bucket_gone).
		if err := s.checkBucket(q); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if st := node.UploadState(rec); st != "" {
		q.w.Header().Set("X-Objstore-Upload", st)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteAttrs are the attributes of a delete: its write mode, from
// X-Objstore-Write alone (a delete has no metadata to carry it).
func deleteAttrs(q *request) (writeAttrs, error) {
	var a writeAttrs
	if v := q.r.Header.Get("X-Objstore-Write"); v != "" {
		if err := a.setWrite(v); err != nil {
			return writeAttrs{}, err
		}
	}
	return a, nil
}

// deleteKey deletes key in the write mode of a (writeBack).
func (s *Server) deleteKey(q *request, key objstore.Key, a writeAttrs) (objstore.Record, error) {
	if s.writeBack(a) {
		return s.node.DeleteBack(q.r.Context(), key)
	}
	return s.node.Delete(q.r.Context(), key)
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// copyObject serves CopyObject: the source is read like a GET (through to
// the origin on a miss) and written like a PUT.
func (s *Server) copyObject(q *request) error {
	src, err := copySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	directive := strings.ToUpper(q.r.Header.Get("X-Amz-Metadata-Directive"))
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return errInvalidArgument("x-amz-metadata-directive %q: want COPY or REPLACE", directive)
	}
	if err := s.checkBucket(q); err != nil {
		return err
	}
	obj, err := s.openCopySource(q, src)
	if err != nil {
		return err
	}
	defer obj.Close()
	attrs := fromRecord(obj.Record)
	if directive == "REPLACE" {
		if attrs, err = parseWriteAttrs(q.r.Header); err != nil {
			return err
		}
	} else if lv := q.r.Header.Get("X-Meta-ConsistencyLevel"); lv != "" {
		if err := attrs.setLevel(lv); err != nil {
			return err
		}
	}
	if src == q.objectKey() && directive != "REPLACE" && (!attrs.LevelSet || attrs.Level == obj.Level) {
		return errorf("InvalidRequest", http.StatusBadRequest, "this copy request is illegal because it is trying to copy an object to itself without changing the object's metadata")
	}
	rec, err := s.write(q, attrs, obj.Size(), obj.Body, nil)
	if err != nil {
		return err
	}
	if err := obj.Err(); err != nil {
		return err
	}
	writeXML(q.w, http.StatusOK, copyObjectResult{LastModified: xmlTime(rec.Modified()), ETag: rec.Sum.ETag()})
	return nil
}

// openCopySource opens the source of a copy like a GET (through to the
// origin on a miss) and applies the x-amz-copy-source-if-* conditions.
func (s *Server) openCopySource(q *request, src objstore.Key) (*node.Object, error) {
	obj, err := s.node.Get(q.r.Context(), src, true)
	if err != nil {
		if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrDeleted) {
			if berr := s.node.CheckBucket(q.r.Context(), src.Bucket); berr != nil {
				return nil, berr
			}
			return nil, errorf("NoSuchKey", http.StatusNotFound, "the copy source %s does not exist", src)
		}
		return nil, err
	}
	if readConditions(q.r.Header, "X-Amz-Copy-Source-").evaluate(obj.Record) != proceed {
		obj.Close()
		return nil, errorf("PreconditionFailed", http.StatusPreconditionFailed, "at least one of the copy-source preconditions did not hold")
	}
	return obj, nil
}
