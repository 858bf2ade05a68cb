package s3api

import (
	"crypto/md5"
	"encoding/xml"
	"errors"
	"io"
	"net/http"

	"sphere.software/objstore"
)

// maxDeleteObjects is how many keys one DeleteObjects may name, as in S3.
const maxDeleteObjects = 1000

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedObject `xml:"Deleted"`
	Errors  []deleteError   `xml:"Error"`
}

type deletedObject struct {
	Key string `xml:"Key"`
}

type deleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// deleteObjects serves DeleteObjects: each key is deleted as DeleteObject
// would, and each gets its own result.
func (s *Server) deleteObjects(q *request) error {
	// 1000 keys of 1 KiB each, with their XML, fit in 2 MiB.
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, 2<<20))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf("MalformedXML", http.StatusBadRequest, "the Delete document is larger than 2 MiB")
		}
		return err
	}
	check, err := newBodyCheck(q.r.Header)
	if err != nil {
		return err
	}
	if h := check.hash(); h != nil {
		h.Write(body)
	}
	if err := check.verify(objstore.Checksum{MD5: md5.Sum(body)}); err != nil {
		return err
	}
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return errorf("MalformedXML", http.StatusBadRequest, "the Delete document is not well-formed: %v", err)
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteObjects {
		return errorf("MalformedXML", http.StatusBadRequest, "a Delete names 1 to %d objects, not %d", maxDeleteObjects, len(req.Objects))
	}
	a, err := deleteAttrs(q)
	if err != nil {
		return err
	}
	if err := s.checkWriteBucket(q, a); err != nil {
		return err
	}
	var res deleteResult
	for _, o := range req.Objects {
		key := objstore.Key{Bucket: q.bucket, ID: o.Key}
		err := s.deleteOne(q, key, o.VersionID, a)
		if err != nil {
			code, _ := codeOf(err)
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: code, Message: messageOf(err)})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, deletedObject{Key: o.Key})
		}
	}
	writeXML(q.w, http.StatusOK, res)
	return nil
}

func (s *Server) deleteOne(q *request, key objstore.Key, version string, a writeAttrs) error {
	switch {
	case key.ID == "":
		return errInvalidArgument("an Object has an empty Key")
	case len(key.ID) > 1024:
		return errorf("KeyTooLongError", http.StatusBadRequest, "the key is %d bytes; the limit is 1024", len(key.ID))
	case version != "" && version != "null":
		return errNotImplemented("deleting a specific version (objstore buckets are not versioned)")
	}
	_, err := s.deleteKey(q, key, a)
	if errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrDeleted) {
		return nil
	}
	return err
}
