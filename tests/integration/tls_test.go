package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/internal/tlsconf/tlstest"
)

// reloadTimeout bounds the wait for a replaced certificate to be served:
// the node looks at its files at most once a second.
const reloadTimeout = 10 * time.Second

// startTLSNode starts a node whose native and S3 APIs serve HTTPS with a
// certificate of ca, written to files in dir.
func startTLSNode(t *testing.T, o *origin, ca *tlstest.CA, dir string) (n *Node, certFile, keyFile string) {
	t.Helper()
	_, certFile, keyFile = ca.IssueFiles(t, dir, "public")
	n = StartNode(t, NodeOpts{S3: o.S3Server, Bucket: o.Bucket, CA: ca.Pool(),
		Args: []string{"--tls-cert", certFile, "--tls-key", keyFile}})
	return n, certFile, keyFile
}

// TestTLSListeners: with --tls-cert the native and S3 APIs serve GET and PUT
// over HTTPS (the hot GET on the fast path included) and refuse plain HTTP.
func TestTLSListeners(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "clients")
	n, _, _ := startTLSNode(t, o, ca, dir)

	id, body := n.NewID(t), bytes.Repeat([]byte("tls!"), 1024)
	n.MustPut(t, id, 1, body)
	for range 3 { // the first GET fills the memory cache, the next are the fast path's
		n.MustGet(t, id, body)
	}
	if plain, err := http.Get("http://" + n.PublicAddr + "/api/v1/get/" + id); err == nil {
		_ = plain.Body.Close() // only the status counts
		if plain.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP to the HTTPS port got 200")
		}
	}

	ctx := testCtx(t, time.Minute)
	cli := sdkClient(n.s3Endpoint(), func(o *s3.Options) { o.HTTPClient = n.Client })
	if _, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String("over-tls"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("S3 PutObject over HTTPS: %v", err)
	}
	out, err := cli.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String("over-tls")})
	if err != nil {
		t.Fatalf("S3 GetObject over HTTPS: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	_ = out.Body.Close() // read-only
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("S3 GetObject over HTTPS: %d bytes, err %v; want the %d put", len(got), err, len(body))
	}
	awsCLIOverTLS(t, n, ca.File, o.Bucket, body)
}

// awsCLIOverTLS copies an object down with the AWS CLI given the CA bundle.
func awsCLIOverTLS(t *testing.T, n *Node, caFile, bucket string, want []byte) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "got")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/aws", "--endpoint-url", n.s3Endpoint(), "--ca-bundle", caFile,
		"s3", "cp", "s3://"+bucket+"/over-tls", dst)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+TestAccessKey, "AWS_SECRET_ACCESS_KEY="+TestSecretKey,
		"AWS_DEFAULT_REGION="+s3Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3 cp over HTTPS: %v\n%s", err, out)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("aws s3 cp over HTTPS: %d bytes, err %v; want the %d put", len(got), err, len(want))
	}
}

// TestTLSReload: replaced certificate files are served within seconds,
// without a restart; a corrupt replacement is logged and the last good
// certificate stays.
func TestTLSReload(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "clients")
	n, certFile, keyFile := startTLSNode(t, o, ca, dir)

	next := ca.Issue(t, "renewed")
	next.Write(t, certFile, keyFile)
	for _, addr := range []string{n.PublicAddr, n.S3Addr} {
		eventually(t, reloadTimeout, "renewed certificate served on "+addr, func() error {
			return servesSerial(addr, ca.Pool(), next.Cert.SerialNumber.String())
		})
	}

	tlstest.WriteFile(t, certFile, []byte("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"))
	eventually(t, reloadTimeout, "corrupt certificate logged", func() error {
		// A handshake makes the node look at its files.
		if err := servesSerial(n.PublicAddr, ca.Pool(), next.Cert.SerialNumber.String()); err != nil {
			return err
		}
		if !strings.Contains(n.log.String(), "cannot reload; still serving the previous certificate") {
			return errors.New("no reload error in the log")
		}
		return nil
	})
	id := n.NewID(t)
	n.MustPut(t, id, 0, []byte("still served"))
	n.MustGet(t, id, []byte("still served"))
}

// servesSerial checks that a TLS handshake with addr, verified against ca,
// gets the certificate with the serial number want.
func servesSerial(addr string, ca *x509.CertPool, want string) error {
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca, ServerName: "127.0.0.1"})
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }() // the handshake is all we wanted
	if got := conn.ConnectionState().PeerCertificates[0].SerialNumber.String(); got != want {
		return fmt.Errorf("serial %s served, want %s", got, want)
	}
	return nil
}

// TestTLSBadFilesAtStart: a missing, corrupt or mismatched certificate or
// key, or a CA file without a certificate, stops the node at start with an
// error naming the flag and the file, before anything is written.
func TestTLSBadFilesAtStart(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	_, cert, key := ca.IssueFiles(t, dir, "node")
	other := ca.Issue(t, "other")
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		tlstest.WriteFile(t, p, data)
		return p
	}
	corrupt := file("corrupt.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	otherKey := file("other-key.pem", other.KeyPEM)
	noCA := file("no-ca.pem", []byte("# no certificate here\n"))
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"corrupt cert", []string{"--tls-cert", corrupt, "--tls-key", key}, []string{"--tls-cert " + corrupt}},
		{"missing key", []string{"--tls-cert", cert, "--tls-key", missing}, []string{"--tls-key", missing, "no such file"}},
		{"key of another cert", []string{"--tls-cert", cert, "--tls-key", otherKey}, []string{"--tls-key " + otherKey, "does not match"}},
		{"peer cert corrupt", []string{"--peer-tls-cert", corrupt, "--peer-tls-key", key, "--peer-tls-ca", ca.File}, []string{"--peer-tls-cert " + corrupt}},
		{"CA without certificates", []string{"--peer-tls-cert", cert, "--peer-tls-key", key, "--peer-tls-ca", noCA}, []string{"--peer-tls-ca " + noCA, "no PEM certificate found"}},
		{"cert without key", []string{"--tls-cert", cert}, []string{"--tls-cert and --tls-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stateDir := startExpectFailure(t, o, tc.args)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			if _, err := os.Stat(stateDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state dir %s written (%v) by a node that did not start", stateDir, err)
			}
		})
	}
}

// startExpectFailure runs a node with args, expects it to exit with an
// error before it serves, and returns its output and its state dir.
func startExpectFailure(t *testing.T, o *origin, args []string) (out, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	n := &Node{opts: NodeOpts{S3: o.S3Server, Bucket: o.Bucket, Args: args},
		StateDir: filepath.Join(dir, "state"), FilesDir: filepath.Join(dir, "files"),
		PublicAddr: freeAddr(t, nil, ""), PrivateAddr: freeAddr(t, nil, ""), S3Addr: freeAddr(t, nil, "")}
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, objstoreBin, n.Args()...)
	cmd.Env = append(os.Environ(), o.S3Server.Env()...)
	b, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("node with %q: %v (want it to exit with an error at once); output:\n%s", args, err, b)
	}
	return string(b), n.StateDir
}

// peerTLSArgs issues a certificate of ca for a node and returns its peer
// TLS flags.
func peerTLSArgs(t *testing.T, ca *tlstest.CA, dir, name string) []string {
	t.Helper()
	_, cert, key := ca.IssueFiles(t, dir, name)
	return []string{"--peer-tls-cert", cert, "--peer-tls-key", key, "--peer-tls-ca", ca.File}
}

// TestTLSPeers: nodes with certificates of the cluster's CA join, replicate
// and read bodies from each other over mutual TLS; a node with the cluster
// key but a certificate of another CA, or no TLS, cannot join.
func TestTLSPeers(t *testing.T) {
	dir := t.TempDir()
	ca, rogueCA := tlstest.NewCA(t, dir, "cluster"), tlstest.NewCA(t, dir, "rogue")
	c := newCluster(t, ClusterOpts{})
	a := c.Add(t, "", peerTLSArgs(t, ca, dir, "a")...)
	b := c.Add(t, a.PrivateAddr, peerTLSArgs(t, ca, dir, "b")...)
	WaitMembers(t, c.Nodes, 2)

	local := []byte("level 0: only on a, read by b from a")
	id0 := a.NewID(t)
	a.MustPut(t, id0, 0, local)
	eventually(t, membersTimeout, "b reads a's level-0 body from a", func() error {
		return readsFrom(b, id0, local, true)
	})
	everywhere := []byte("level 2: replicated to every node")
	id2 := a.NewID(t)
	a.MustPut(t, id2, 2, everywhere)
	eventually(t, membersTimeout, "a's level-2 body copied to b", func() error {
		return localBodies(b, map[string]expect{id2: {Known: true, Level: 2}})
	})
	b.MustGet(t, id2, everywhere)

	rogue := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(),
		Args: append(c.Args(a.PrivateAddr), peerTLSArgs(t, rogueCA, dir, "rogue")...)})
	eventually(t, membersTimeout, "a refuses the rogue node", func() error {
		if !strings.Contains(a.log.String(), "refused a private connection: TLS handshake failed") {
			return errors.New("no refusal in a's log")
		}
		return nil
	})
	if ms := alive(rogue.Members(t)); len(ms) != 1 {
		t.Fatalf("the rogue node lists %d alive members: %v", len(ms), ms)
	}
	if ms := alive(a.Members(t)); len(ms) != 2 {
		t.Fatalf("a lists %d alive members with the rogue about: %v", len(ms), ms)
	}
	if r := rogue.Get(t, id0); r.Status == http.StatusOK {
		t.Fatalf("the rogue node read a's level-0 body: %s", r)
	}

	// A node with the key and no TLS at all is refused as well.
	plain := StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: c.NextIP(), Args: c.Args(b.PrivateAddr)})
	eventually(t, membersTimeout, "b refuses the node without TLS", func() error {
		if !strings.Contains(b.log.String(), "refused a private connection that is not TLS") {
			return errors.New("no refusal in b's log")
		}
		return nil
	})
	if ms := alive(plain.Members(t)); len(ms) != 1 {
		t.Fatalf("the node without TLS lists %d alive members: %v", len(ms), ms)
	}
}

// readsFrom checks that n answers GET id with want, from a peer's copy
// (peer) or from its own (a body read from a peer stays marked while it is
// in the memory cache).
func readsFrom(n *Node, id string, want []byte, peer bool) error {
	r, err := n.do(http.MethodGet, "/api/v1/get/"+id, nil)
	switch {
	case err != nil:
		return err
	case r.Status != http.StatusOK || !bytes.Equal(r.Body, want):
		return fmt.Errorf("GET on %s: %s", n.PublicAddr, r) // n learns the record at the next sync
	case (r.Header.Get("X-Meta-Symlink") == "true") != peer:
		return fmt.Errorf("GET on %s: X-Meta-Symlink %q, want a peer's copy: %v", n.PublicAddr, r.Header.Get("X-Meta-Symlink"), peer)
	}
	return nil
}
