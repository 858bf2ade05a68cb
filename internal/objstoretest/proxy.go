package objstoretest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// countingProxy forwards requests to an S3 server and counts them by method
// and bucket (the first path segment, as path-style requests put it).
type countingProxy struct {
	srv       *httptest.Server
	transport *http.Transport

	mu     sync.Mutex // guards counts
	counts map[countKey]int
	// refuse, when set, picks the requests the proxy answers itself (see
	// S3Server.Refuse).
	refuse atomic.Pointer[func(*http.Request) bool]
}

type countKey struct{ method, bucket string }

func newCountingProxy(target *url.URL) *countingProxy {
	p := &countingProxy{
		counts: map[countKey]int{},
		transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 100,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			// Keep the client's Host: it is part of the SigV4 signature.
			r.Out.Host = r.In.Host
		},
		Transport:     p.transport,
		FlushInterval: -1,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		if fn := p.refuse.Load(); fn != nil && (*fn)(r) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+
				`<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	return p
}

func (p *countingProxy) count(r *http.Request) {
	bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[countKey{r.Method, bucket}]++
}

func (p *countingProxy) get(method, bucket string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[countKey{method, bucket}]
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
}

// close stops the proxy, waiting for requests in flight, then drops its
// connections to the server.
func (p *countingProxy) close() {
	p.srv.Close()
	p.transport.CloseIdleConnections()
}
