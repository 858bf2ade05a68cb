package s3api

import (
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/node"
)

// completeKeepAlive is how long CompleteMultipartUpload may work before the
// 200 status is sent and whitespace keeps the connection busy, as S3 does:
// assembling and uploading a large object can outlast a client's read
// timeout. An error found after that is an Error document in the 200 body,
// which S3 SDKs recognise.
var completeKeepAlive = 2 * time.Second

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createUpload serves CreateMultipartUpload. The upload lives on this node
// until it is completed or aborted. Its write mode is fixed here, as its
// level is: a write-back upload is created, fed and completed without the
// origin, for a bucket known to exist (checkWriteBucket).
func (s *Server) createUpload(q *request) error {
	attrs, err := parseWriteAttrs(q.r.Header)
	if err != nil {
		return err
	}
	if err := s.checkWriteBucket(q, attrs); err != nil {
		return err
	}
	level := attrs.Level
	if !attrs.LevelSet {
		level = s.cfg.DefaultLevel
	}
	info, err := s.uploads.Create(multipart.Info{Bucket: q.bucket, Key: q.key, ContentType: attrs.ContentType,
		UserMeta: attrs.UserMeta, Headers: attrs.Headers, Level: level, LevelIsFloor: !attrs.LevelSet,
		WriteBack: s.writeBack(attrs)})
	if err != nil {
		return err
	}
	writeXML(q.w, http.StatusOK, initiateResult{Bucket: q.bucket, Key: q.key, UploadID: s.uploadID(info.ID)})
	return nil
}

// upload returns the upload id names, which must belong to the request's
// bucket and key.
func (s *Server) upload(q *request, id string) (multipart.Info, error) {
	info, err := s.uploads.Get(s.stagingID(id))
	if err != nil {
		return info, err
	}
	if info.Bucket != q.bucket || info.Key != q.key {
		return info, errorf("NoSuchUpload", http.StatusNotFound, "upload %s is not an upload of %s/%s", id, q.bucket, q.key)
	}
	return info, nil
}

// stagingID is the staging store's ID within an upload ID this node gave.
func (s *Server) stagingID(id string) string {
	owner, staging, ok := splitUploadID(id)
	if !ok || owner != s.cfg.NodeID {
		return "" // the store answers ErrNoSuchUpload
	}
	return staging
}

// uploadPart serves UploadPart.
func (s *Server) uploadPart(q *request, id, number string) error {
	n, err := strconv.Atoi(number)
	if err != nil {
		return errInvalidArgument("partNumber %q: want a number from 1 to 10000", number)
	}
	if _, err := s.upload(q, id); err != nil {
		return err
	}
	check, err := newBodyCheck(q.r.Header)
	if err != nil {
		return err
	}
	body := io.Reader(q.r.Body)
	if h := check.hash(); h != nil {
		body = io.TeeReader(body, h)
	}
	part, err := s.uploads.PutPart(q.r.Context(), s.stagingID(id), n, q.r.ContentLength, body)
	if err != nil {
		return err
	}
	// A part that fails its digest stays staged under an ETag the client
	// never learns, so it cannot be assembled; the retry replaces it.
	if err := check.verify(objstore.Checksum{MD5: part.MD5}); err != nil {
		return err
	}
	q.w.Header().Set("ETag", part.ETag)
	check.echo(q.w.Header())
	q.w.WriteHeader(http.StatusOK)
	return nil
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// completeUpload serves CompleteMultipartUpload: the chosen parts are
// streamed, in order, into one ordinary write of the object, which then
// has every property of a PutObject (checksums, level, replication). Its
// ETag is the MD5 of the whole object, not S3's MD5-of-MD5s: objstore
// knows the real digest, and clients that check ETags against content
// (rclone, s3cmd) can use it.
func (s *Server) completeUpload(q *request, id string) error {
	info, err := s.upload(q, id)
	if errors.Is(err, multipart.ErrNoSuchUpload) {
		if doc, ok := s.done.get(id, q.bucket, q.key, s.cfg.Now()); ok {
			// A retry of a completion whose answer was lost: S3 answers it again.
			writeXML(q.w, http.StatusOK, doc)
			return nil
		}
	}
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, 4<<20))
	if err != nil {
		return errorf("MalformedXML", http.StatusBadRequest, "cannot read the CompleteMultipartUpload document: %v", err)
	}
	var req completeRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		return errorf("MalformedXML", http.StatusBadRequest, "the CompleteMultipartUpload document is not well-formed: %v", err)
	}
	want := make([]multipart.CompletePart, len(req.Parts))
	for i, p := range req.Parts {
		want[i] = multipart.CompletePart{Number: p.PartNumber, ETag: p.ETag}
	}
	asm, body, err := s.uploads.Assemble(s.stagingID(id), want)
	if err != nil {
		return err
	}
	defer body.Close()
	done := make(chan result, 1)
	go func() {
		// The client may hang up; the upload it asked to complete still completes, as in S3.
		rec, err := s.node.Put(context.WithoutCancel(q.r.Context()), node.PutRequest{
			Key: q.objectKey(), Name: nameOf(q.key), ContentType: info.ContentType,
			UserMeta: info.UserMeta, Headers: info.Headers, Level: info.Level, LevelIsFloor: info.LevelIsFloor,
			Size: asm.Size, Body: body, WriteBack: info.WriteBack,
		})
		done <- result{rec, err}
	}()
	return s.answerComplete(q, id, done)
}

type result struct {
	rec objstore.Record
	err error
}

// answerComplete waits for the write, keeping the connection alive with
// whitespace once it takes long, and answers with its outcome.
func (s *Server) answerComplete(q *request, id string, done <-chan result) error {
	var res result
	if completeKeepAlive > 0 {
		timer := time.NewTimer(completeKeepAlive)
		defer timer.Stop()
		select {
		case res = <-done:
			if res.err != nil {
				return res.err
			}
			if st := node.UploadState(res.rec); st != "" {
				q.w.Header().Set("X-Objstore-Upload", st)
			}
			writeXML(q.w, http.StatusOK, s.completed(q, id, res.rec))
			return nil
		case <-timer.C:
		}
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(http.StatusOK)
	io.WriteString(q.w, xml.Header) //nolint:errcheck // the client went away
	rc := http.NewResponseController(q.w)
	rc.Flush()                               //nolint:errcheck // best effort
	tick := time.NewTicker(10 * time.Second) // well inside SDK read timeouts
	defer tick.Stop()
	for {
		select {
		case res = <-done:
			var doc any
			if res.err != nil {
				code, _ := codeOf(res.err)
				doc = errorBody{Code: code, Message: messageOf(res.err), Bucket: q.bucket, Key: q.key, Resource: q.r.URL.Path, RequestID: q.id}
			} else {
				doc = s.completed(q, id, res.rec)
			}
			b, _ := xml.Marshal(doc) // the types marshal without error
			q.w.Write(b)             //nolint:errcheck // the client went away
			return nil
		case <-tick.C:
			io.WriteString(q.w, " ") //nolint:errcheck // the client went away
			rc.Flush()               //nolint:errcheck // best effort
		}
	}
}

// completed remembers the result of upload id, written as rec, then drops
// its parts: remembering first means a retry never sees neither.
func (s *Server) completed(q *request, id string, rec objstore.Record) completeResult {
	doc := completeResult{Location: "/" + q.bucket + "/" + q.key, Bucket: q.bucket, Key: q.key, ETag: rec.Sum.ETag()}
	s.done.add(id, q.bucket, q.key, doc, s.cfg.Now())
	s.removeUpload(id)
	return doc
}

// removeUpload drops a completed upload's parts; one left behind only
// wastes space until it expires.
func (s *Server) removeUpload(id string) {
	if err := s.uploads.Remove(s.stagingID(id)); err != nil && !errors.Is(err, multipart.ErrNoSuchUpload) {
		s.log.Warn("cannot remove a completed upload", "upload", id, "err", err)
	}
}

// abortUpload serves AbortMultipartUpload.
func (s *Server) abortUpload(q *request, id string) error {
	if _, err := s.upload(q, id); err != nil {
		return err
	}
	if err := s.uploads.Remove(s.stagingID(id)); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string     `xml:"Bucket"`
	Key                  string     `xml:"Key"`
	UploadID             string     `xml:"UploadId"`
	Initiator            owner      `xml:"Initiator"`
	Owner                owner      `xml:"Owner"`
	StorageClass         string     `xml:"StorageClass"`
	PartNumberMarker     int        `xml:"PartNumberMarker"`
	NextPartNumberMarker int        `xml:"NextPartNumberMarker,omitempty"`
	MaxParts             int        `xml:"MaxParts"`
	IsTruncated          bool       `xml:"IsTruncated"`
	Parts                []partItem `xml:"Part"`
}

type partItem struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

// listParts serves ListParts.
func (s *Server) listParts(q *request, id string) error {
	query := q.query
	marker, err := intParam(query.Get("part-number-marker"), 0, "part-number-marker")
	if err != nil {
		return err
	}
	maxParts, err := intParam(query.Get("max-parts"), 1000, "max-parts")
	if err != nil {
		return err
	}
	maxParts = min(maxParts, 1000)
	if _, err := s.upload(q, id); err != nil {
		return err
	}
	parts, truncated, err := s.uploads.ListParts(s.stagingID(id), marker, maxParts)
	if err != nil {
		return err
	}
	res := listPartsResult{Bucket: q.bucket, Key: q.key, UploadID: id, Initiator: theOwner, Owner: theOwner,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: maxParts, IsTruncated: truncated}
	for _, p := range parts {
		res.Parts = append(res.Parts, partItem{PartNumber: p.Number, LastModified: xmlTime(p.Modified), ETag: p.ETag, Size: p.Size})
	}
	if truncated && len(parts) > 0 {
		res.NextPartNumberMarker = parts[len(parts)-1].Number
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string         `xml:"Prefix"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadItem   `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

type uploadItem struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

// listUploads serves ListMultipartUploads: the uploads this node holds
// (uploads live on the node that created them; see forward.go).
func (s *Server) listUploads(q *request) error {
	query := q.query
	maxUploads, err := intParam(query.Get("max-uploads"), 1000, "max-uploads")
	if err != nil {
		return err
	}
	maxUploads = min(maxUploads, 1000)
	if query.Get("delimiter") != "" {
		return errNotImplemented("ListMultipartUploads with a delimiter")
	}
	if err := s.checkBucket(q); err != nil {
		return err
	}
	idMarker := query.Get("upload-id-marker")
	lq := multipart.ListUploadsQuery{Bucket: q.bucket, Prefix: query.Get("prefix"), KeyMarker: query.Get("key-marker"),
		MaxUploads: maxUploads}
	if idMarker != "" {
		// Every node filters by the staging part of the marker, whichever
		// node it names: staging IDs begin with their initiation time,
		// so that is the order of uploads across nodes too.
		lq.UploadIDMarker = stagingPart(idMarker)
	}
	uploads, truncated, err := s.uploads.ListUploads(lq)
	if err != nil {
		return err
	}
	res := listUploadsResult{Bucket: q.bucket, KeyMarker: lq.KeyMarker, UploadIDMarker: idMarker,
		Prefix: lq.Prefix, MaxUploads: maxUploads, IsTruncated: truncated}
	for _, u := range uploads {
		res.Uploads = append(res.Uploads, uploadItem{Key: u.Key, UploadID: s.uploadID(u.ID), Initiator: theOwner, Owner: theOwner,
			StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated)})
	}
	if !forwarded(q.r) {
		// Uploads are staged where they were created: the list is every
		// node's, each asked for its first page after the markers.
		if err := s.addPeerUploads(q, &res); err != nil {
			return err
		}
	}
	if len(res.Uploads) > maxUploads {
		res.Uploads, res.IsTruncated = res.Uploads[:maxUploads], true
	}
	if res.IsTruncated && len(res.Uploads) > 0 {
		last := res.Uploads[len(res.Uploads)-1]
		res.NextKeyMarker, res.NextUploadIDMarker = last.Key, last.UploadID
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

// addPeerUploads merges the other nodes' uploads into res, in S3's order.
func (s *Server) addPeerUploads(q *request, res *listUploadsResult) error {
	answers, err := s.askPeers(q.r, 8<<20)
	if err != nil {
		return err
	}
	for _, body := range answers {
		var peer listUploadsResult
		if err := xml.Unmarshal(body, &peer); err != nil {
			return errorf("ServiceUnavailable", http.StatusServiceUnavailable, "a node's upload list does not parse: %v", err)
		}
		res.Uploads = append(res.Uploads, peer.Uploads...)
		res.IsTruncated = res.IsTruncated || peer.IsTruncated
	}
	slices.SortFunc(res.Uploads, func(a, b uploadItem) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(stagingPart(a.UploadID), stagingPart(b.UploadID)),
			strings.Compare(a.UploadID, b.UploadID))
	})
	return nil
}

// stagingPart is the staging ID in an upload ID of any node, or the whole
// ID when it has no node part.
func stagingPart(id string) string {
	if _, staging, ok := splitUploadID(id); ok {
		return staging
	}
	return id
}

// intParam parses a non-negative integer query parameter, def when absent.
func intParam(v string, def int, name string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("%s %q: want a non-negative number", name, v)
	}
	return n, nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// uploadPartCopy serves UploadPartCopy: a part taken from an existing
// object, whole or a byte range of it (x-amz-copy-source-range), read like
// a GET (through to the origin on a miss). The AWS CLI copies objects
// above its multipart threshold this way.
func (s *Server) uploadPartCopy(q *request, id, number string) error {
	n, err := strconv.Atoi(number)
	if err != nil {
		return errInvalidArgument("partNumber %q: want a number from 1 to 10000", number)
	}
	src, err := copySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if _, err := s.upload(q, id); err != nil {
		return err
	}
	obj, err := s.openCopySource(q, src)
	if err != nil {
		return err
	}
	defer obj.Close()
	rng := byteRange{0, obj.Size()}
	if v := q.r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if rng, err = copySourceRange(v, obj.Size()); err != nil {
			return err
		}
	}
	if _, err := obj.Body.Seek(rng.start, io.SeekStart); err != nil {
		return err
	}
	part, err := s.uploads.PutPart(q.r.Context(), s.stagingID(id), n, rng.length, io.LimitReader(obj.Body, rng.length))
	if err != nil {
		return err
	}
	if err := obj.Err(); err != nil {
		return err
	}
	writeXML(q.w, http.StatusOK, copyPartResult{LastModified: xmlTime(part.Modified), ETag: part.ETag})
	return nil
}

// copySourceRange parses x-amz-copy-source-range, which S3 takes only in
// the form bytes=first-last: anything else is InvalidArgument, a range that
// is well formed but not within the source is InvalidRange (s3-tests
// test_multipart_copy_improper_range, test_multipart_copy_invalid_range).
// Unlike a GET's Range, a last byte past the end is not clamped: the part
// would silently be shorter than asked.
func copySourceRange(v string, size int64) (byteRange, error) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || start < 0 || end < start {
		return byteRange{}, errInvalidArgument("x-amz-copy-source-range %q: want bytes=first-last", v)
	}
	if end >= size {
		return byteRange{}, errorf("InvalidRange", http.StatusRequestedRangeNotSatisfiable,
			"x-amz-copy-source-range %q: the source is %d bytes", v, size)
	}
	return byteRange{start, end - start + 1}, nil
}
