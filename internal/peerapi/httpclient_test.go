package peerapi

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sphere.software/objstore/internal/deadline"
	"sphere.software/objstore/internal/tlsconf"
	"sphere.software/objstore/internal/tlsconf/tlstest"
)

// A peer that stops answering, before its headers or in its body, fails
// the request after the bound instead of holding it.
func TestHTTPClientDeadlines(t *testing.T) {
	const bound = 200 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("start")) // the client sees the failure, not us
			w.(http.Flusher).Flush()
		}
		<-release
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handlers
	hc := NewHTTPClient(HTTPConfig{Deadlines: deadline.Config{FirstByte: bound, Progress: bound}})
	defer hc.CloseIdleConnections()

	start := time.Now()
	_, err := hc.Get(srv.URL + "/headers")
	if !deadline.IsTimeout(err) || time.Since(start) > 5*bound {
		t.Fatalf("no headers: err %v after %v, want a timeout after about %v", err, time.Since(start), bound)
	}

	resp, err := hc.Get(srv.URL + "/body")
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	defer resp.Body.Close()
	start = time.Now()
	_, err = io.ReadAll(resp.Body)
	if !deadline.IsTimeout(err) || time.Since(start) > 5*bound {
		t.Fatalf("stalled body: err %v after %v, want a timeout after about %v", err, time.Since(start), bound)
	}
}

// With TLS the client sends the private API's http:// URLs over HTTPS,
// shows its certificate, and refuses a server whose certificate the CA did
// not sign.
func TestHTTPClientTLS(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := tlstest.NewCA(t, dir, "cluster"), tlstest.NewCA(t, dir, "rogue")
	peer := func(ca *tlstest.CA, name string) *tlsconf.Peer {
		_, cert, key := ca.IssueFiles(t, dir, name)
		pair, err := tlsconf.LoadPair(tlsconf.Files{Cert: cert, Key: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &tlsconf.Peer{Pair: pair, CA: ca.Pool()}
	}
	serve := func(p *tlsconf.Peer) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName) // the client sees a short body
		}), ErrorLog: log.New(io.Discard, "", 0)}
		go func() { _ = srv.Serve(tls.NewListener(ln, p.Server())) }() // ends with Close
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}
	hc := NewHTTPClient(HTTPConfig{NodeID: "a", ClusterKey: "0123456789abcdef0123", TLS: peer(ca, "a")})
	defer hc.CloseIdleConnections()

	member := serve(peer(ca, "b"))
	resp, err := hc.Get("http://" + member + "/x")
	if err != nil {
		t.Fatalf("GET a member over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "a" {
		t.Fatalf("the member saw client certificate %q, want a", body)
	}

	stranger := serve(peer(rogue, "r"))
	if _, err := hc.Get("http://" + stranger + "/x"); err == nil {
		t.Fatal("a server with a certificate of another CA was accepted")
	}
}
