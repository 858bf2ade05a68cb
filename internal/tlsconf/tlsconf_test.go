package tlsconf

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/tlsconf/tlstest"
)

func TestLoadPairBadInput(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	good, certFile, keyFile := ca.IssueFiles(t, dir, "node")
	other := ca.Issue(t, "other")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		tlstest.WriteFile(t, p, data)
		return p
	}
	corrupt := write("corrupt.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	garbage := write("garbage.pem", []byte("not a pem file"))
	otherKey := write("other-key.pem", other.KeyPEM)
	keyAsCert := write("key-as-cert.pem", good.KeyPEM)
	unreadable := write("unreadable.pem", good.CertPEM)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cert, key string
		want            []string
	}{
		{"missing cert", filepath.Join(dir, "none.pem"), keyFile, []string{"--tls-cert", "none.pem", "no such file"}},
		{"missing key", certFile, filepath.Join(dir, "none-key.pem"), []string{"--tls-key", "none-key.pem", "no such file"}},
		{"corrupt cert", corrupt, keyFile, []string{"--tls-cert", corrupt, "certificate 1"}},
		{"no PEM cert", garbage, keyFile, []string{"--tls-cert", garbage, "no PEM certificate found"}},
		{"key in cert file", keyAsCert, keyFile, []string{"--tls-cert", keyAsCert, "no PEM certificate found"}},
		{"no PEM key", certFile, garbage, []string{"--tls-key", garbage, "no PEM key found"}},
		{"key of another cert", certFile, otherKey, []string{"--tls-key", otherKey, "does not match the certificate"}},
		{"cert only", certFile, "", []string{"--tls-cert and --tls-key: both are needed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPair(Files{Cert: tc.cert, Key: tc.key, CertName: "--tls-cert", KeyName: "--tls-key"}, nil)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if os.Geteuid() != 0 { // root reads a file of mode 0
		if _, err := LoadPair(Files{Cert: unreadable, Key: keyFile, CertName: "--tls-cert"}, nil); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable cert: %v", err)
		}
	}
}

func TestLoadCA(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	if _, err := LoadCA(ca.File, "--peer-tls-ca"); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	tlstest.WriteFile(t, empty, ca.Issue(t, "x").KeyPEM) // a key, no certificate
	_, err := LoadCA(empty, "--peer-tls-ca")
	if err == nil || !strings.Contains(err.Error(), "--peer-tls-ca "+empty+": no PEM certificate found") {
		t.Fatalf("CA with no certificate: %v", err)
	}
	if _, err := LoadCA(filepath.Join(dir, "none"), "--peer-tls-ca"); err == nil || !strings.Contains(err.Error(), "--peer-tls-ca") {
		t.Fatalf("missing CA: %v", err)
	}
}

// TestPairReload: a changed pair is served after CheckInterval; a broken
// one is logged once and the last good pair stays.
func TestPairReload(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	first, certFile, keyFile := ca.IssueFiles(t, dir, "first")
	var logs bytes.Buffer
	p, err := LoadPair(Files{Cert: certFile, Key: keyFile}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p.now = func() time.Time { return now }
	serial := func() string {
		c, _ := p.GetCertificate(nil)
		return c.Leaf.SerialNumber.String()
	}
	if serial() != first.Cert.SerialNumber.String() {
		t.Fatal("first pair not served")
	}
	second := ca.Issue(t, "second")
	second.Write(t, certFile, keyFile)
	if serial() != first.Cert.SerialNumber.String() {
		t.Fatal("files looked at again within CheckInterval")
	}
	now = now.Add(CheckInterval)
	if serial() != second.Cert.SerialNumber.String() {
		t.Fatal("changed pair not reloaded")
	}
	// A renewal that writes a certificate whose key is not there yet.
	third := ca.Issue(t, "third")
	tlstest.WriteFile(t, certFile, third.CertPEM)
	for range 3 {
		now = now.Add(CheckInterval)
		if serial() != second.Cert.SerialNumber.String() {
			t.Fatal("a broken pair replaced the good one")
		}
	}
	if n := strings.Count(logs.String(), "cannot reload"); n != 1 {
		t.Fatalf("broken pair logged %d times, want once:\n%s", n, logs.String())
	}
	tlstest.WriteFile(t, keyFile, third.KeyPEM)
	now = now.Add(CheckInterval)
	if serial() != third.Cert.SerialNumber.String() {
		t.Fatal("pair completed later not reloaded")
	}
}

// TestPeerMutual: members of one CA talk; a node with a certificate from
// another CA is refused, as client and as server.
func TestPeerMutual(t *testing.T) {
	dir := t.TempDir()
	ca, rogueCA := tlstest.NewCA(t, dir, "ca"), tlstest.NewCA(t, dir, "rogue")
	peer := func(ca *tlstest.CA, cn string) Peer {
		_, c, k := ca.IssueFiles(t, dir, cn)
		p, err := LoadPair(Files{Cert: c, Key: k}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return Peer{Pair: p, CA: ca.Pool()}
	}
	a, b, rogue := peer(ca, "a"), peer(ca, "b"), peer(rogueCA, "rogue")
	handshake := func(server, client Peer) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		errc := make(chan error, 1)
		go func() {
			sc, err := ln.Accept()
			if err != nil {
				errc <- err
				return
			}
			_ = sc.SetDeadline(time.Now().Add(10 * time.Second))
			s := tls.Server(sc, server.Server())
			errc <- s.Handshake()
			_ = s.Close()
		}()
		cc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = cc.SetDeadline(time.Now().Add(10 * time.Second))
		c := tls.Client(cc, client.Client(GossipProto))
		cerr := c.Handshake()
		_ = c.Close()
		serr := <-errc
		if cerr != nil {
			return cerr
		}
		if serr != nil {
			return serr
		}
		if got := c.ConnectionState().NegotiatedProtocol; got != GossipProto {
			t.Errorf("ALPN %q, want %q", got, GossipProto)
		}
		return nil
	}
	if err := handshake(a, b); err != nil {
		t.Fatalf("members: %v", err)
	}
	if err := handshake(a, rogue); err == nil {
		t.Error("a rogue client was accepted")
	}
	if err := handshake(rogue, a); err == nil {
		t.Error("a rogue server was accepted")
	}
}
