package s3api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/fastpath"
)

// Answer answers, for the fast path (internal/fastpath), a GetObject or
// HeadObject of a body in the node's hot cache: path- or virtual-host-style, signed in the
// Authorization header or presigned (the query may hold the presigning
// parameters and x-id and nothing else: no sub-resource, no response-*
// override),
// without Range or preconditions. It looks the key up in the hot cache
// first, then authenticates the request with the same Verifier as
// ServeHTTP, on the request as net/http would give it, and answers what
// getObject does for it. Anything
// it declines, a failed signature included, net/http serves, and answers
// with the error.
//
// A HEAD answered here reads the hot cache's record where net/http's path
// asks the journal (node.Stat): they are the same record, since every
// change of a key's record drops its hot entry.
func (s *Server) Answer(req *fastpath.Request) (fastpath.Answer, bool) {
	if !onlyPresignParams(string(req.RawQuery())) {
		return fastpath.Answer{}, false
	}
	r, err := req.HTTPRequest()
	if err != nil {
		return fastpath.Answer{}, false
	}
	bucket, key := s.address(r)
	if bucket == "" || key == "" || len(key) > 1024 {
		return fastpath.Answer{}, false
	}
	// The hot cache first: a miss goes to net/http, which verifies the
	// signature, so verifying it here too would be work done twice.
	obj, ok := s.node.GetHot(objstore.Key{Bucket: bucket, ID: key})
	if !ok {
		return fastpath.Answer{}, false
	}
	if err := s.authenticate(r); err != nil {
		obj.Close()
		return fastpath.Answer{}, false
	}
	defer obj.Close()
	h := make(http.Header, 12)
	h.Set("X-Amz-Request-Id", newRequestID())
	h.Set("Server", "objstore")
	setObjectHeaders(h, obj.Record)
	wholeChecksumHeaders(h, r.Header, obj.Record)
	h.Set("Content-Length", strconv.Itoa(len(obj.Bytes)))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&head) // sorted, values sanitised as net/http writes them
	return fastpath.Answer{Head: head.Bytes(), Body: obj.Bytes}, true
}

// onlyPresignParams reports whether a raw query names only presigning
// parameters (X-Amz-*) and x-id, which the Go SDK adds to name the
// operation and S3 ignores. It reads the names as they are: an escaped
// name is declined, and net/http answers the request.
func onlyPresignParams(raw string) bool {
	for seg := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(seg, "=")
		if seg != "" && !strings.HasPrefix(name, "X-Amz-") && name != "x-id" {
			return false
		}
	}
	return true
}
