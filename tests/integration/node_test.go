package integration

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sphere.software/objstore/internal/objstoretest"
)

const (
	// readyTimeout bounds how long a node may take to answer its first ping.
	readyTimeout = 15 * time.Second
	// stopTimeout bounds how long a node may take to exit after SIGTERM.
	stopTimeout = 30 * time.Second
	// pipeWaitDelay bounds the wait for a node's output pipe to close once
	// the node has exited (exec.Cmd.WaitDelay).
	pipeWaitDelay = 5 * time.Second
	// logTail is how much of a node's log a failed test prints.
	logTail = 8 << 10
	// startAttempts is how many pairs of free ports StartNode tries.
	startAttempts = 3
)

// The credentials every test node's S3 API accepts.
const (
	TestAccessKey = "objstore-test-key"
	TestSecretKey = "objstore-test-secret-0123456789"
)

// NodeOpts says how StartNode runs a node.
type NodeOpts struct {
	// S3 is the origin; required.
	S3 *objstoretest.S3Server
	// Bucket is the origin bucket, which must exist; required.
	Bucket string
	// Dir holds the node's state/ and files/ directories. Empty means a new
	// t.TempDir(); give the Dir of an earlier node to reuse its data.
	Dir string
	// Args are appended to the command line, e.g. "--max-object-size", "1048576".
	Args []string
	// Env is added to the node's environment, e.g. "APP_CLUSTER_KEY=…".
	Env []string
	// IP is the loopback address the node binds its public and private
	// addresses on (free ports of that IP); empty means 127.0.0.1.
	IP string
	// PrivatePort, if not 0, is the port of the private address instead of
	// a free one.
	PrivatePort int
	// Netns, if not nil, is the network namespace the node runs in, with IP
	// on its interface (see cluster_netns_test.go); the node's Client dials
	// from inside it. Nil means the host's loopback.
	Netns *netHost
	// CA, if set, is the CA of the node's --tls-cert (given in Args): its
	// public and S3 URLs are https://, and Client trusts CA.
	CA *x509.CertPool
}

// Node is one objstore process started by the test. A Node is used from the
// test goroutine; only its HTTP helpers (Client, URL, do) may be used
// concurrently.
type Node struct {
	t    testing.TB
	opts NodeOpts
	// Dir, StateDir and FilesDir are the node's directories.
	Dir, StateDir, FilesDir string
	// PublicAddr, PrivateAddr and S3Addr (the S3 API) are the loopback
	// addresses it listens on; they stay the same across restarts.
	PublicAddr, PrivateAddr, S3Addr string
	// Client talks to the node. Restart closes its idle connections.
	Client *http.Client

	log     *lockedBuffer // stdout and stderr of every run, in order
	logFile *os.File      // the same, in Dir/node.log
	proc    *process      // the running process, or nil
	checked int           // log bytes already checked for races and panics
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait has returned
	err  error         // Wait's result, set before done is closed
}

// StartNode starts a node and waits until it answers /api/v1/ping. The node
// is stopped when the test ends; a failed test prints the tail of its log.
func StartNode(t testing.TB, opts NodeOpts) *Node {
	t.Helper()
	n := newNode(t, opts)
	// The free ports may be taken by another process before the node binds
	// them: try again with new ones.
	for attempt := 1; ; attempt++ {
		from := len(n.log.String())
		err := n.launch()
		if err == nil {
			return n
		}
		if attempt == startAttempts || !errors.Is(err, errExited) || !strings.Contains(n.log.String()[from:], "address already in use") {
			t.Fatalf("start node: %v", err)
		}
		n.PublicAddr = freeAddr(t, n.opts.Netns, n.opts.IP)
		n.S3Addr = freeAddr(t, n.opts.Netns, n.opts.IP)
		if n.opts.PrivatePort == 0 {
			n.PrivateAddr = freeAddr(t, n.opts.Netns, n.opts.IP)
		}
	}
}

// newNode is a node with its addresses and log, not started; it is
// stopped when the test ends.
func newNode(t testing.TB, opts NodeOpts) *Node {
	t.Helper()
	if opts.S3 == nil || opts.Bucket == "" {
		t.Fatal("StartNode: NodeOpts.S3 and NodeOpts.Bucket are required")
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	n := &Node{
		t:           t,
		opts:        opts,
		Dir:         opts.Dir,
		StateDir:    filepath.Join(opts.Dir, "state"),
		FilesDir:    filepath.Join(opts.Dir, "files"),
		PublicAddr:  freeAddr(t, opts.Netns, opts.IP),
		PrivateAddr: freeAddr(t, opts.Netns, opts.IP),
		S3Addr:      freeAddr(t, opts.Netns, opts.IP),
		log:         &lockedBuffer{},
	}
	if opts.PrivatePort != 0 {
		n.PrivateAddr = net.JoinHostPort(cmp.Or(opts.IP, "127.0.0.1"), strconv.Itoa(opts.PrivatePort))
	}
	n.Client = newClient(opts.Netns)
	if opts.CA != nil {
		n.Client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: opts.CA}
	}
	f, err := os.OpenFile(filepath.Join(opts.Dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("node log: %v", err)
	}
	n.logFile = f
	t.Cleanup(n.cleanup)
	return n
}

// freeAddr returns ip:port (ip empty means 127.0.0.1) with a port that was
// free for both TCP and UDP a moment ago, in network namespace ns (nil: the
// host's): the private address takes both. Another process may take it
// before the node binds it; StartNode retries.
func freeAddr(t testing.TB, ns *netHost, ip string) string {
	t.Helper()
	if ip == "" {
		ip = "127.0.0.1"
	}
	for try := 1; ; try++ {
		l, err := ns.listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("find a free port on %s: %v", ip, err)
		}
		addr := l.Addr().String()
		u, uerr := ns.listenPacket("udp", addr)
		if err := l.Close(); err != nil {
			t.Fatalf("find a free port on %s: %v", ip, err)
		}
		if uerr == nil {
			if err := u.Close(); err != nil {
				t.Fatalf("find a free port on %s: %v", ip, err)
			}
			return addr
		}
		if try == 10 {
			t.Fatalf("find a port free for TCP and UDP on %s: %v", ip, uerr)
		}
	}
}

// newClient is a client for one node; it dials from inside ns unless nil.
func newClient(ns *netHost) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ns != nil {
		tr.DialContext = ns.DialContext
	}
	tr.MaxIdleConnsPerHost = 64
	tr.DisableCompression = true
	return &http.Client{
		Transport: tr,
		Timeout:   2 * time.Minute,
		// Show redirects to the test rather than following them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Args is the node's command line, without the binary.
func (n *Node) Args() []string {
	s3 := n.opts.S3
	args := []string{
		"--backend", "s3",
		"--s3-endpoint", s3.Endpoint,
		"--s3-path-style",
		"-B", n.opts.Bucket,
		"-R", "us-east-1",
		"--public-addr", n.PublicAddr,
		"--private-addr", n.PrivateAddr,
		"--s3-api-addr", n.S3Addr,
		"--s3-api-credentials", TestAccessKey + ":" + TestSecretKey,
		"--state-dir", n.StateDir,
		"--files-dir", n.FilesDir,
	}
	return append(args, n.opts.Args...)
}

// start starts the node and waits until it is ready, failing the test if
// it does not get there.
func (n *Node) start(t testing.TB) {
	t.Helper()
	if err := n.launch(); err != nil {
		t.Fatalf("start node: %v", err)
	}
}

// errExited means the node exited before it answered a ping.
var errExited = errors.New("node exited before it was ready")

// launch starts the process and waits until it answers a ping.
func (n *Node) launch() error {
	if n.proc != nil {
		return errors.New("node already running")
	}
	cmd := n.opts.Netns.command(objstoreBin, n.Args()...)
	cmd.Env = append(append(os.Environ(), n.opts.S3.Env()...), n.opts.Env...)
	w := io.MultiWriter(n.log, n.logFile)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	// Wait returns once the node has exited and its output pipe is closed.
	// Bound the second wait: a pipe held open by another process (Go's
	// os/exec, golang/go#69060, with nodes started at once) must not read
	// as a node that did not exit.
	cmd.WaitDelay = pipeWaitDelay
	_, _ = fmt.Fprintf(w, "=== %s start: objstore %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(cmd.Args[1:], " ")) // the log is best effort
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if errors.Is(p.err, exec.ErrWaitDelay) {
			// The node exited cleanly; only the tail of its output may be lost.
			_, _ = fmt.Fprintf(n.log, "=== %s exited; output pipe still open after %v, not read further\n", time.Now().Format(time.RFC3339Nano), pipeWaitDelay)
			p.err = nil
		}
		close(p.done)
	}()
	n.proc = p
	return n.waitReady()
}

// waitReady polls /api/v1/ping until it answers 200, the process exits or
// readyTimeout passes.
func (n *Node) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		resp, err := n.Client.Get(n.URL("/api/v1/ping"))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // drained for connection reuse; the status is what counts
			_ = resp.Body.Close()                 // read-only body
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-n.proc.done:
			err := fmt.Errorf("%w: %v", errExited, n.proc.err)
			n.stopped()
			return err
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node not ready after %v (last ping: %s)", readyTimeout, last)
		}
	}
}

// URL is the node's public URL for path, which starts with a slash.
func (n *Node) URL(path string) string { return n.scheme() + n.PublicAddr + path }

// scheme is the scheme of n's public and S3 URLs, with "://".
func (n *Node) scheme() string {
	if n.opts.CA != nil {
		return "https://"
	}
	return "http://"
}

// Kill stops the node with SIGKILL and waits for it to exit.
func (n *Node) Kill() {
	n.t.Helper()
	if n.proc == nil {
		return
	}
	n.signal(syscall.SIGKILL)
	<-n.proc.done
	n.stopped()
}

// Stop sends SIGTERM and waits for the node to exit, at most stopTimeout;
// a node that does not exit by then is killed. Stop fails the test unless the
// node exited on its own with status 0.
func (n *Node) Stop() {
	n.t.Helper()
	if n.proc == nil {
		return
	}
	n.Terminate()
	if err := n.Wait(stopTimeout); err != nil {
		n.t.Errorf("node after SIGTERM: %v", err)
	}
}

// Terminate sends SIGTERM without waiting; see Wait.
func (n *Node) Terminate() {
	n.t.Helper()
	n.signal(syscall.SIGTERM)
}

// Wait waits at most d for the node to exit and returns why it did, or an
// error saying that it had to be killed.
func (n *Node) Wait(d time.Duration) error {
	n.t.Helper()
	if n.proc == nil {
		return errors.New("node is not running")
	}
	p := n.proc
	timer := time.NewTimer(d)
	defer timer.Stop()
	var err error
	select {
	case <-p.done:
		err = p.err
	case <-timer.C:
		// SIGQUIT first: the Go runtime writes every goroutine's stack to
		// the node's log, which says where it hung.
		n.signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			n.signal(syscall.SIGKILL)
			<-p.done
		}
		err = fmt.Errorf("did not exit within %v, stopped with SIGQUIT (goroutine dump in its log) or killed", d)
	}
	n.stopped()
	return err
}

// Running reports whether the node process has not exited yet.
func (n *Node) Running() bool {
	if n.proc == nil {
		return false
	}
	select {
	case <-n.proc.done:
		return false
	default:
		return true
	}
}

// Restart stops the node if it runs and starts it again with the same
// directories and addresses.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.Stop()
	n.Client.CloseIdleConnections()
	n.start(t)
}

// Wipe stops the node, deletes its state and files directories, and starts
// a fresh node with the same addresses on the same bucket: a cold cache with
// a new identity.
func (n *Node) Wipe(t testing.TB) {
	t.Helper()
	n.Stop()
	for _, dir := range []string{n.StateDir, n.FilesDir} {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatalf("wipe: %v", err)
		}
	}
	n.Client.CloseIdleConnections()
	n.start(t)
}

func (n *Node) signal(sig syscall.Signal) {
	n.t.Helper()
	if err := n.proc.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		n.t.Errorf("signal %v to node: %v", sig, err)
	}
}

// stopped forgets the exited process and fails the test if its output shows
// a data race or a panic.
func (n *Node) stopped() {
	n.t.Helper()
	n.proc = nil
	out := n.log.String()
	fresh := out[n.checked:]
	n.checked = len(out)
	for _, bad := range []string{"DATA RACE", "panic:"} {
		if i := strings.Index(fresh, bad); i >= 0 {
			end := min(len(fresh), i+logTail)
			n.t.Errorf("node log shows %q:\n%s", bad, fresh[max(0, i-200):end])
		}
	}
}

func (n *Node) cleanup() {
	if n.proc != nil {
		n.Stop()
	}
	n.Client.CloseIdleConnections()
	if n.t.Failed() {
		n.t.Logf("tail of node log %s:\n%s", n.logFile.Name(), n.tail())
	}
	if err := n.logFile.Close(); err != nil {
		n.t.Errorf("close node log: %v", err)
	}
}

// tail is the end of the node's output.
func (n *Node) tail() string {
	s := n.log.String()
	if len(s) > logTail {
		s = "…" + s[len(s)-logTail:]
	}
	return s
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
