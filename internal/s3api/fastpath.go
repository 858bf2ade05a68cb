package s3api

import (
	"bytes"
	"net/http"
	"strconv"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/sigv4"
)

// Answer answers, for the fast path (internal/fastpath), a GetObject or
// HeadObject of a body in the node's hot cache: path- or virtual-host-style, signed in the
// Authorization header or presigned (the query may hold the presigning
// parameters and x-id and nothing else: no sub-resource, no response-*
// override),
// without Range or preconditions. It looks the key up in the hot cache
// first, then authenticates the request and answers what getObject does
// for it. Anything it declines, a failed signature included, net/http
// serves, and answers with the error.
//
// The signature is checked on the raw head (sigv4.VerifyHead) without an
// http.Request; a request that check does not prove authentic (an
// anonymous one, an escaped path, a bad signature) is checked again as
// net/http would give it, with the same Verifier as ServeHTTP. The
// response head but its request id is made once per hot-cache entry.
//
// A HEAD answered here reads the hot cache's record where net/http's path
// asks the journal (node.Stat): they are the same record, since every
// change of a key's record drops its hot entry.
func (s *Server) Answer(req *fastpath.Request) (fastpath.Answer, bool) {
	if !onlyPresignParams(req.RawQuery()) {
		return fastpath.Answer{}, false
	}
	bucket, key := s.addressOf(string(req.Host()), string(req.Path()))
	if bucket == "" || key == "" || len(key) > 1024 {
		return fastpath.Answer{}, false
	}
	// The hot cache first: a miss goes to net/http, which verifies the
	// signature, so verifying it here too would be work done twice.
	obj, ok := s.node.GetHot(objstore.Key{Bucket: bucket, ID: key})
	if !ok {
		return fastpath.Answer{}, false
	}
	defer obj.Close()
	if !s.authenticated(req) {
		return fastpath.Answer{}, false
	}
	var head []byte
	if mode, set := req.Header("X-Amz-Checksum-Mode"); set {
		// Rare: the answer depends on the request, so it is made for it.
		head = s3Head(obj, http.Header{"X-Amz-Checksum-Mode": {string(mode)}})
	} else {
		head = memoHead(obj)
	}
	out := make([]byte, 0, len(head)+len("X-Amz-Request-Id: \r\n")+16)
	out = append(out, head...)
	out = append(out, "X-Amz-Request-Id: "...)
	out = append(out, req.ID()...) // the fast path sends it as X-Request-Id too
	out = append(out, "\r\n"...)
	return fastpath.Answer{Head: out, Body: obj.Bytes}, true
}

// authenticated reports whether req passes authenticate: from its raw
// head when that proves it, else as net/http would give it.
func (s *Server) authenticated(req *fastpath.Request) bool {
	h := sigv4.Head{Method: req.Method(), Path: req.Path(), RawQuery: req.RawQuery(), Host: req.Host(), Lines: req.Lines()}
	if _, ok := s.verifier.VerifyHead(&h); ok {
		return true
	}
	r, err := req.HTTPRequest()
	if err != nil {
		return false
	}
	_, err = s.authenticate(r)
	return err == nil
}

// memoHead returns obj's response head without x-amz-request-id, from its
// hot-cache entry's S3 memo when it was made before.
func memoHead(obj *node.Object) []byte {
	if h, _ := obj.S3Memo.Load().([]byte); h != nil {
		return h
	}
	h := s3Head(obj, nil)
	obj.S3Memo.Store(h)
	return h
}

// s3Head is the status line and the headers getObject answers for obj, a
// body held in memory, but x-amz-request-id; reqHeader is the request's
// X-Amz-Checksum-Mode, if any.
func s3Head(obj *node.Object, reqHeader http.Header) []byte {
	h := make(http.Header, 12)
	h.Set("Server", "objstore")
	setObjectHeaders(h, obj.Record)
	wholeChecksumHeaders(h, reqHeader, obj.Record)
	h.Set("Content-Length", strconv.Itoa(len(obj.Bytes)))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&head) // sorted, values sanitised as net/http writes them
	return head.Bytes()
}

// onlyPresignParams reports whether a raw query names only presigning
// parameters (X-Amz-*) and x-id, which the Go SDK adds to name the
// operation and S3 ignores. It reads the names as they are: an escaped
// name is declined, and net/http answers the request.
func onlyPresignParams(raw []byte) bool {
	for len(raw) > 0 {
		var seg []byte
		seg, raw, _ = bytes.Cut(raw, []byte("&"))
		name, _, _ := bytes.Cut(seg, []byte("="))
		if len(seg) != 0 && !bytes.HasPrefix(name, []byte("X-Amz-")) && string(name) != "x-id" {
			return false
		}
	}
	return true
}
