package peerapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/requestid"
)

// A client's S3 request that another node must answer (one about a
// multipart upload staged there) travels whole over the private API:
// method, path, query, headers and streamed body. Forwarder sends it;
// Forwarded restores it on the other side. The client's Authorization and
// Host travel in headers of their own, since the private API's signature
// takes the Authorization header; the body streams unhashed under
// StreamingPathPrefix, as the client's own signature, which the receiving
// node checks, covers it.

// ForwardPrefix is the private API path under which forwarded requests
// arrive; the original path follows it.
const ForwardPrefix = StreamingPathPrefix + "s3"

// The headers that carry what the private API's own request replaces.
const (
	headerForwardAuth = "X-Objstore-S3-Authorization"
	headerForwardHost = "X-Objstore-S3-Host"
)

// hopHeaders are not forwarded, either way (RFC 9110, section 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect"}

// Forwarder sends requests to other nodes to be answered there. It
// implements s3api.Forwarder.
type Forwarder struct {
	hc *http.Client
}

// NewForwarder returns a Forwarder that sends with hc (NewHTTPClient's,
// which signs the envelope and streams the body).
func NewForwarder(hc *http.Client) *Forwarder { return &Forwarder{hc: hc} }

// Forward sends r to m, which serves it as if the client had sent it
// there, and returns m's answer without hop-by-hop headers; the caller
// closes its body. r's body streams; r itself is not changed.
func (f *Forwarder) Forward(ctx context.Context, m objstore.Member, r *http.Request) (*http.Response, error) {
	target := "http://" + m.Addr + ForwardPrefix + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	body := r.Body
	if body == nil || r.ContentLength == 0 {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("peerapi: forward to %s: %w", m.ID, err)
	}
	out.ContentLength = r.ContentLength
	if body == http.NoBody {
		out.ContentLength = 0
	}
	out.Header = r.Header.Clone()
	dropHop(out.Header)
	if auth := out.Header.Get("Authorization"); auth != "" {
		out.Header.Set(headerForwardAuth, auth)
		out.Header.Del("Authorization")
	}
	if id := requestid.From(ctx); id != "" {
		out.Header.Set(requestid.Header, id) // the owner answers and logs under the ID this node gave
	}
	out.Header.Set(headerForwardHost, r.Host)
	out.Header.Set(HeaderStreaming, "1")
	out.Header.Set(HeaderTo, m.ID)
	resp, err := f.hc.Do(out)
	if err != nil {
		return nil, fmt.Errorf("peerapi: forward to %s: %w: %w", m.ID, ErrPeer, err)
	}
	dropHop(resp.Header)
	return resp, nil
}

func dropHop(h http.Header) {
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// Forwarded serves requests under ForwardPrefix, which another node sent
// with Forward (the private API's authentication checked that node), with
// next: it restores the client's request — path, Host, Authorization — and
// drops the private API's own headers. Other paths get 404.
func Forwarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		escaped, ok := strings.CutPrefix(r.URL.EscapedPath(), ForwardPrefix)
		u, err := url.Parse(escaped)
		if !ok || err != nil || !strings.HasPrefix(escaped, "/") {
			httpError(w, http.StatusNotFound, "not a forwarded request path")
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
		next.ServeHTTP(w, r)
	})
}
