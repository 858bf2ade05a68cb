package peerapi

import (
	"net"
	"net/http"
	"time"

	"sphere.software/objstore/internal/deadline"
	"sphere.software/objstore/internal/requestid"
	"sphere.software/objstore/internal/tlsconf"
)

// DefaultDeadlines are the bounds of a request to a peer that HTTPConfig
// leaves zero. A peer answers a body request at once when it holds the
// body; the first-byte bound is above the origin's (s3.DefaultDeadlines)
// because a peer may fetch from the origin before it answers.
var DefaultDeadlines = deadline.Config{Connect: 2 * time.Second, FirstByte: 60 * time.Second, Progress: 30 * time.Second}

const (
	idleConnTimeout = 90 * time.Second
	// idlePerHost keeps enough idle connections per peer for the peer reads
	// a busy node proxies at once: with fewer, connections beyond the pool
	// are closed after each read and redialed (measured: 20% of a node's CPU
	// went to dialing at 32 concurrent 4 KiB peer reads with 16).
	idlePerHost = 256
	// tlsHandshakeTimeout bounds a TLS handshake with a peer.
	tlsHandshakeTimeout = 10 * time.Second
)

// HTTPConfig configures the HTTP client of the private API.
type HTTPConfig struct {
	// NodeID is this node's ID, sent with every signed request.
	NodeID string
	// ClusterKey is the shared cluster key; empty means requests are not
	// signed.
	ClusterKey string
	// Tag is the cluster tag ("" is the default tag); the signing key is
	// derived from the key and the tag.
	Tag string
	// SourceIP is the address requests are dialled from (the private
	// address's IP, so that rules on source addresses see one address per
	// node); nil lets the system pick.
	SourceIP net.IP
	// Deadlines bound each request: connect, first byte of the answer,
	// silence between bytes either way (see package deadline). Zero
	// fields take DefaultDeadlines.
	Deadlines deadline.Config
	// TLS, when set, makes every request to a peer HTTPS with mutual TLS
	// (the peers' private ports then refuse anything else): this node's
	// certificate is offered, the peer's verified against the cluster's
	// CA. The private API's URLs say http://; the client sends them as
	// https://. Nil: plain HTTP.
	TLS *tlsconf.Peer
}

// NewHTTPClient returns the HTTP client for other members' private API. It
// signs every request when a key is set (see Sign; a request body is
// buffered, up to MaxBodySize, unless HeaderStreaming asks otherwise),
// and has no overall timeout because bodies stream: callers bound requests
// with their context. Proxies from the environment are not used: private
// traffic goes straight to the members. Its owner calls
// CloseIdleConnections once done with it.
func NewHTTPClient(cfg HTTPConfig) *http.Client {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	if cfg.SourceIP != nil {
		d.LocalAddr = &net.TCPAddr{IP: cfg.SourceIP}
	}
	tr := &http.Transport{
		MaxIdleConns:          4 * idlePerHost,
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
	}
	cfg.Deadlines.WithDefaults(DefaultDeadlines).Apply(tr, d)
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Client("")
		tr.TLSHandshakeTimeout = tlsHandshakeTimeout
	}
	key := apiKey(cfg.ClusterKey, cfg.Tag)
	if key == nil && cfg.TLS == nil {
		return &http.Client{Transport: withRequestID{tr}}
	}
	return &http.Client{Transport: withRequestID{&signer{next: tr, nodeID: cfg.NodeID, key: key, https: cfg.TLS != nil}}}
}

// withRequestID sends the ID of the client request a peer request serves
// (internal/requestid, from its context) as X-Request-Id: the peer's
// access log and its log lines about the request then name the same ID.
type withRequestID struct{ next http.RoundTripper }

func (t withRequestID) RoundTrip(r *http.Request) (*http.Response, error) {
	if id := requestid.From(r.Context()); id != "" && r.Header.Get(requestid.Header) == "" {
		r = r.Clone(r.Context()) // a RoundTripper must not change the request it is given
		r.Header.Set(requestid.Header, id)
	}
	return t.next.RoundTrip(r)
}

// signer is a RoundTripper that signs each request with Sign, when it has
// a key, and sends it over HTTPS, when the peers use TLS.
type signer struct {
	next   *http.Transport
	nodeID string
	key    []byte // nil: requests are not signed
	https  bool
}

// RoundTrip implements http.RoundTripper. It changes a clone: a
// RoundTripper must not change the caller's request.
func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if s.https && r.URL.Scheme == "http" {
		r.URL.Scheme = "https"
	}
	if s.key != nil {
		if err := Sign(r, s.nodeID, s.key); err != nil {
			return nil, err
		}
	}
	return s.next.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport behind the signer.
func (s *signer) CloseIdleConnections() { s.next.CloseIdleConnections() }
