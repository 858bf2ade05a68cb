package cluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// PrivateAddrHeader is the response header in which a node's public APIs
// (native and S3) name its private address: a node given one of those
// ports with -N reads it there and says which address to give instead.
const PrivateAddrHeader = "X-Objstore-Private-Addr"

// probeTimeout bounds the HTTP request that looks at an address that
// refused to join.
const probeTimeout = 2 * time.Second

// refusedMsg is logged when an address answered a join but did not accept
// this node and is not a public port of a node.
const refusedMsg = " answered but did not accept this node: cluster tag mismatch or wrong cluster key?"

// WithPrivateAddr wraps a public API's handler so that every response
// names the node's private address in PrivateAddrHeader. The native API
// already lists it in GET /api/v1/nodes; the header says it on every
// port and path, the S3 API's included.
func WithPrivateAddr(h http.Handler, addr string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(PrivateAddrHeader, addr)
		h.ServeHTTP(w, r)
	})
}

// refusal returns the line to log for addr, which accepted a connection
// but not a join. A node's public port answers HTTP and names its private
// address (PrivateAddrHeader): then the line says so, as a wrong -N is far
// likelier than a wrong tag. Otherwise it is another cluster's member (or
// another service).
func (c *Cluster) refusal(ctx context.Context, addr string) string {
	private := c.probePrivateAddr(ctx, addr)
	if private == "" && c.tr.tls != nil {
		return "cluster: join refused: " + addr + refusedMsg + " Or does it not trust the CA that signed --peer-tls-cert?"
	}
	if private == "" {
		return "cluster: join refused: " + addr + refusedMsg
	}
	return "cluster: join refused: " + addr + " is a public port of an objstore node (it answers HTTP), not its private address; give -N its private address " + private
}

// probePrivateAddr sends GET / to addr over plain HTTP and returns the
// PrivateAddrHeader of the answer: empty if addr does not answer HTTP or is
// not a node's public port. The request is not signed: the address has
// shown it is not a member.
func (c *Cluster) probePrivateAddr(ctx context.Context, addr string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return ""
	}
	d := &net.Dialer{}
	if c.tr.bindIP != nil {
		d.LocalAddr = &net.TCPAddr{IP: c.tr.bindIP}
	}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }() // read-only; only the header counts
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Header.Get(PrivateAddrHeader)
}
