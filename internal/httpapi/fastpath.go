package httpapi

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/oklog/ulid/v2"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/node"
)

var getPrefix = []byte("/api/v1/get/")

// Answer answers, for the fast path (internal/fastpath), a GET or HEAD of
// /api/v1/get/<ULID> whose body is in the node's hot cache: the same
// status, headers and body that get gives through net/http. When the API
// requires authentication, it answers only requests it can prove cheaply
// (Auth.checkHead).
func (h *Native) Answer(req *fastpath.Request) (fastpath.Answer, bool) {
	id, ok := bytes.CutPrefix(req.Path(), getPrefix)
	if !ok || len(id) != ulid.EncodedSize {
		return fastpath.Answer{}, false
	}
	u, err := ulid.ParseStrict(string(id))
	if err != nil {
		return fastpath.Answer{}, false // net/http answers with the error
	}
	obj, ok := h.store.GetHot(objstore.Key{Bucket: h.cfg.Bucket, ID: u.String()})
	if !ok {
		return fastpath.Answer{}, false
	}
	defer obj.Close()
	// After the hot cache, as the S3 API's fast path does: a miss goes to
	// net/http, which checks again. A request the raw head does not prove
	// authentic goes there too, and is answered with the reason.
	if h.cfg.Auth != nil && !h.cfg.Auth.checkHead(req) {
		return fastpath.Answer{}, false
	}
	return fastpath.Answer{Head: prepare(obj).wire, Body: obj.Bytes}, true
}

// prepared is what answering a body held in memory needs, computed once per
// hot-cache entry: the headers for net/http, and the same status and
// headers as wire bytes for the fast path.
type prepared struct {
	header http.Header
	wire   []byte
}

// prepare returns the prepared answer headers of obj, a body held in
// memory, from its hot-cache entry's memo when they were made before.
func prepare(obj *node.Object) *prepared {
	if p, _ := obj.Memo.Load().(*prepared); p != nil {
		return p
	}
	h := http.Header{}
	metaHeaders(h, obj.Record)
	storedHeaders(h, obj.Record)
	h.Set("Content-Type", obj.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(obj.Bytes)))
	h.Set("Accept-Ranges", "bytes")
	if obj.Source == node.SourcePeer {
		h.Set("X-Meta-Symlink", "true") // the body is a peer's, held here in memory only
	}
	var wire bytes.Buffer
	wire.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&wire) // sorted, values sanitised as net/http writes them
	p := &prepared{header: h, wire: wire.Bytes()}
	obj.Memo.Store(p)
	return p
}
