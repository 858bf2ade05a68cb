package s3api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"sphere.software/objstore"
)

// A multipart upload's parts are staged on the node that created it, so
// the requests about one upload must all be served there. The upload IDs
// this API hands out name that node: "<node ID>-<staging ID>". A node that
// gets a request about another node's upload forwards it whole — headers,
// SigV4 signature and streamed body — over the private API to the owner,
// which verifies and answers it as if the client had sent it there, and
// relays the answer. The forwarding node checks nothing itself: the
// client's signature covers the request, and the owner checks it.

// Forwarder carries a request to another node, which answers it as if
// the client had sent it there. Implemented by internal/peerapi.
type Forwarder interface {
	// Forward sends r to m and returns m's answer, without hop-by-hop
	// headers; the caller closes its body. r's body streams.
	Forward(ctx context.Context, m objstore.Member, r *http.Request) (*http.Response, error)
}

// stateAlive is the state of a member that can be asked (objstore.Member).
const stateAlive = "alive"

// forwarding is how this node reaches the others.
type forwarding struct {
	fwd     Forwarder
	members func() []objstore.Member
}

// forwarder holds the forwarding set by AttachCluster, or nil.
type forwarder struct{ p atomic.Pointer[forwarding] }

// AttachCluster lets the API forward requests about other nodes'
// multipart uploads with f; members lists the cluster.
func (s *Server) AttachCluster(f Forwarder, members func() []objstore.Member) {
	s.fwd.p.Store(&forwarding{fwd: f, members: members})
}

// uploadID is the ID a client sees for a staged upload of this node.
func (s *Server) uploadID(staging string) string { return s.cfg.NodeID + "-" + staging }

// splitUploadID returns the owner node and the staging ID of an upload ID.
func splitUploadID(id string) (owner, staging string, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}

// ownerElsewhere returns the node that holds the upload a request names,
// when that is another node.
func (s *Server) ownerElsewhere(r *http.Request) (string, bool) {
	if !strings.Contains(r.URL.RawQuery, "uploadId") {
		return "", false
	}
	id := r.URL.Query().Get("uploadId")
	owner, _, ok := splitUploadID(id)
	if !ok || owner == s.cfg.NodeID {
		return "", false
	}
	return owner, true
}

// askPeers sends r, a request without a body, to every other alive member
// and returns their answers' bodies, which must be 200s of at most limit
// bytes. Each peer serves it as forwarded, so it answers for itself only.
// A peer that fails fails the whole: an answer that silently leaves out a
// node's share would look complete.
func (s *Server) askPeers(r *http.Request, limit int64) ([][]byte, error) {
	f := s.fwd.p.Load()
	if f == nil {
		return nil, nil
	}
	var bodies [][]byte
	for _, m := range f.members() {
		if m.ID == s.cfg.NodeID || m.State != stateAlive {
			continue
		}
		body, err := askPeer(f.fwd, r, m, limit)
		if err != nil {
			return nil, errorf("ServiceUnavailable", http.StatusServiceUnavailable, "asking node %s: %v", m.ID, err)
		}
		bodies = append(bodies, body)
	}
	return bodies, nil
}

func askPeer(f Forwarder, r *http.Request, m objstore.Member, limit int64) ([]byte, error) {
	out := r.Clone(r.Context())
	out.Body, out.ContentLength = http.NoBody, 0
	resp, err := f.Forward(r.Context(), m, out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return nil, err
	case int64(len(body)) > limit:
		return nil, fmt.Errorf("answer over %d bytes", limit)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	return body, nil
}

// forward relays the request to owner and its answer back.
func (s *Server) forward(q *request, owner string) error {
	f := s.fwd.p.Load()
	if f == nil {
		return errorf("NoSuchUpload", http.StatusNotFound, "the upload belongs to node %s and this node is not in a cluster", owner)
	}
	var m objstore.Member
	for _, c := range f.members() {
		if c.ID == owner {
			m = c
		}
	}
	switch {
	case m.ID == "":
		return errorf("NoSuchUpload", http.StatusNotFound, "no node %s in the cluster holds this upload", owner)
	case m.State != stateAlive:
		return errorf("ServiceUnavailable", http.StatusServiceUnavailable, "the upload is held by node %s, which is not reachable now", owner)
	}
	resp, err := f.fwd.Forward(q.r.Context(), m, q.r)
	if err != nil {
		return errorf("ServiceUnavailable", http.StatusServiceUnavailable, "forwarding to node %s, which holds the upload: %v", owner, err)
	}
	defer resp.Body.Close()
	h := q.w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	q.w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(q.w, resp.Body); err != nil {
		panic(http.ErrAbortHandler) // the client must not take a cut answer for a whole one
	}
	return nil
}

type forwardedKey struct{}

// ServeForwarded answers an S3 request that another node forwarded over
// the private API, restored as the client sent it (peerapi.Forwarded): it
// serves it like any other, signature check included, and never forwards
// it again.
func (s *Server) ServeForwarded(w http.ResponseWriter, r *http.Request) {
	s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true)))
}

// forwarded reports whether r came from another node: it is never
// forwarded again, whatever its upload ID says.
func forwarded(r *http.Request) bool { return r.Context().Value(forwardedKey{}) != nil }
