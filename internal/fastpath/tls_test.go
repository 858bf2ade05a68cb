package fastpath

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"sphere.software/objstore/internal/tlsconf/tlstest"
)

// Over a TLS listener the fast path answers hot GETs from the decrypted
// stream and hands the rest to net/http, on one keep-alive connection.
func TestServesOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	leaf := ca.Issue(t, "server")
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	srv := &http.Server{Handler: hotAPI{}, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	fp := New(srv, ln, hotAPI{})
	served := startServing(fp)
	defer stopServing(t, fp, served, 10*time.Second)

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var conns int
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			conns++
		}
	}}
	base := "https://" + raw.Addr().String()
	for i, tc := range []struct{ path, want string }{
		{"/hot", "hot"}, {"/cold", "net/http"}, {"/hot", "hot"}, {"/hot", "hot"}, {"/cold", "net/http"},
	} {
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d, GET %s: %v", i, tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close() // read-only
		if err != nil || string(body) != tc.want {
			t.Fatalf("request %d, GET %s: %q, %v; want %q", i, tc.path, body, err, tc.want)
		}
	}
	if got := fp.Served(); got != 3 {
		t.Errorf("fast path served %d answers, want the 3 hot GETs", got)
	}
	if conns != 1 {
		t.Errorf("%d connections, want one kept alive through the hand-offs", conns)
	}
}
