package s3api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/cluster"
)

// A multipart upload's parts are staged on the node that created it, so
// the requests about one upload must all be served there. The upload IDs
// this API hands out name that node: "<node ID>-<staging ID>". A node that
// gets a request about another node's upload forwards it whole — headers,
// SigV4 signature and streamed body — over the private API to the owner,
// which verifies and answers it as if the client had sent it there, and
// relays the answer. The forwarding node checks nothing itself: the
// client's signature covers the request, and the owner checks it.

// forwardPrefix is the private API path under which forwarded S3 requests
// arrive: cluster.StreamingPathPrefix lets their bodies stream unhashed.
const forwardPrefix = cluster.StreamingPathPrefix + "s3"

// The headers that carry what the private API's own signature replaces.
const (
	headerForwardAuth = "X-Objstore-S3-Authorization"
	headerForwardHost = "X-Objstore-S3-Host"
)

// hopHeaders are not forwarded (RFC 9110, section 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"}

// forwarding is how this node reaches the others.
type forwarding struct {
	client  *http.Client
	members func() []objstore.Member
}

// forwarder holds the forwarding set by AttachCluster, or nil.
type forwarder struct{ p atomic.Pointer[forwarding] }

// AttachCluster lets the API forward requests about other nodes'
// multipart uploads: client is the private API's (signing) client and
// members lists the cluster.
func (s *Server) AttachCluster(client *http.Client, members func() []objstore.Member) {
	s.fwd.p.Store(&forwarding{client: client, members: members})
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

// forwardRequest is r as it goes to the node at addr over the private API:
// its Authorization travels in another header (the private client signs
// with its own), its Host too, and its body streams.
func forwardRequest(r *http.Request, addr string) (*http.Request, error) {
	target := "http://" + addr + forwardPrefix + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target, r.Body)
	if err != nil {
		return nil, err
	}
	if r.Body == nil || r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	out.ContentLength = r.ContentLength
	out.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if auth := out.Header.Get("Authorization"); auth != "" {
		out.Header.Set(headerForwardAuth, auth)
		out.Header.Del("Authorization")
	}
	out.Header.Set(headerForwardHost, r.Host)
	out.Header.Set(cluster.HeaderStreaming, "1")
	return out, nil
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
		if m.ID == s.cfg.NodeID || m.State != cluster.StateAlive {
			continue
		}
		body, err := askPeer(f.client, r, m, limit)
		if err != nil {
			return nil, errorf("ServiceUnavailable", http.StatusServiceUnavailable, "asking node %s: %v", m.ID, err)
		}
		bodies = append(bodies, body)
	}
	return bodies, nil
}

func askPeer(client *http.Client, r *http.Request, m objstore.Member, limit int64) ([]byte, error) {
	out, err := forwardRequest(r, m.Addr)
	if err != nil {
		return nil, err
	}
	out.Body, out.ContentLength = http.NoBody, 0
	resp, err := client.Do(out)
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
	var addr string
	known := false
	for _, m := range f.members() {
		if m.ID == owner {
			known = true
			if m.State == cluster.StateAlive {
				addr = m.Addr
			}
		}
	}
	switch {
	case !known:
		return errorf("NoSuchUpload", http.StatusNotFound, "no node %s in the cluster holds this upload", owner)
	case addr == "":
		return errorf("ServiceUnavailable", http.StatusServiceUnavailable, "the upload is held by node %s, which is not reachable now", owner)
	}
	out, err := forwardRequest(q.r, addr)
	if err != nil {
		return fmt.Errorf("s3api: forward to %s: %w", owner, err)
	}
	resp, err := f.client.Do(out)
	if err != nil {
		return errorf("ServiceUnavailable", http.StatusServiceUnavailable, "forwarding to node %s, which holds the upload: %v", owner, err)
	}
	defer resp.Body.Close()
	h := q.w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	q.w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(q.w, resp.Body); err != nil {
		panic(http.ErrAbortHandler) // the client must not take a cut answer for a whole one
	}
	return nil
}

type forwardedKey struct{}

// ServeForwarded answers an S3 request that another node forwarded over
// the private API (which authenticated that node): it restores the
// client's request and serves it like any other, signature check included.
func (s *Server) ServeForwarded(w http.ResponseWriter, r *http.Request) {
	escaped, ok := strings.CutPrefix(r.URL.EscapedPath(), forwardPrefix)
	u, err := url.Parse(escaped)
	if !ok || err != nil || !strings.HasPrefix(escaped, "/") {
		http.Error(w, "not a forwarded S3 request path", http.StatusNotFound)
		return
	}
	r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
	r.Host = r.Header.Get(headerForwardHost)
	auth := r.Header.Get(headerForwardAuth)
	for k := range r.Header {
		if strings.HasPrefix(k, "X-Objstore-") {
			r.Header.Del(k)
		}
	}
	r.Header.Del("Authorization")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true)))
}

// forwarded reports whether r came from another node: it is never
// forwarded again, whatever its upload ID says.
func forwarded(r *http.Request) bool { return r.Context().Value(forwardedKey{}) != nil }
