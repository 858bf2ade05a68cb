package integration

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What an operator sees of a node: its access log, when it says it
// listens, and its log and exit at shutdown.

// logFields parses one logfmt line of slog's text handler into its fields.
func logFields(line string) map[string]string {
	f := map[string]string{}
	for s := strings.TrimSpace(line); s != ""; s = strings.TrimLeft(s, " ") {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		v := rest
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			v, _ = strconv.Unquote(q) // QuotedPrefix gave a valid quoted string
			rest = rest[len(q):]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		f[k] = v
		s = rest
	}
	return f
}

// accessLines are the access log records in log.
func accessLines(log string) []map[string]string {
	var out []map[string]string
	for line := range strings.SplitSeq(log, "\n") {
		if f := logFields(line); f["msg"] == "access" {
			out = append(out, f)
		}
	}
	return out
}

// findAccess returns the first access record that has every field of want.
func findAccess(lines []map[string]string, want map[string]string) (map[string]string, bool) {
next:
	for _, l := range lines {
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		return l, true
	}
	return nil, false
}

// accessTraffic sends n the requests whose access lines TestAccessLog looks
// for: a native PUT and GETs of one object, then a signed S3 PUT and GET of
// another and S3 GETs of the first (held in memory by then, so answered by
// the fast path). It returns the native id and the S3 key.
func accessTraffic(t *testing.T, n *Node, bucket string) (id, key string) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	id = newID()
	body := randomBody(81, 4<<10)
	n.MustPut(t, id, 0, body)
	for range 3 {
		n.MustGet(t, id, body)
	}
	key = "logs/" + newID()
	wantStatus(t, n.s3Do(ctx, t, http.MethodPut, "/"+bucket+"/"+key, body), http.StatusOK, "S3 PUT "+key)
	wantStatus(t, n.s3Do(ctx, t, http.MethodGet, "/"+bucket+"/"+key, nil), http.StatusOK, "S3 GET "+key)
	for range 3 {
		wantStatus(t, n.s3Do(ctx, t, http.MethodGet, "/"+bucket+"/"+id, nil), http.StatusOK, "S3 GET "+id)
	}
	return id, key
}

// TestAccessLog runs three nodes: a cluster of two, one with --access-log
// on (lines in its log) and one with --access-log <file>, and a node
// without the flag. The first two log every request of the native API, the
// S3 API, the fast path and the private API, the third none.
func TestAccessLog(t *testing.T) {
	o := newOrigin(t)
	c := newCluster(t, ClusterOpts{Origin: o})
	on := c.Add(t, "", "--access-log", "on")
	file := filepath.Join(t.TempDir(), "access.log")
	toFile := c.Add(t, on.PrivateAddr, "--access-log", file)
	WaitMembers(t, c.Nodes, 2)
	off := o.StartNode(t)

	readFile := func() string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("access log file: %v", err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		n    *Node
		log  func() string // where its access lines go
	}{
		{"on", on, on.log.String},
		{"file", toFile, readFile},
	} {
		id, key := accessTraffic(t, tc.n, o.Bucket)
		want := []map[string]string{
			{"api": "native", "method": "POST", "path": "/api/v1/put", "status": "200", "bytes": "0"},
			{"api": "native", "method": "GET", "path": "/api/v1/get/" + id, "status": "200", "bytes": "4096"},
			{"api": "native", "method": "GET", "path": "/api/v1/get/" + id, "status": "200", "bytes": "4096", "fast": "true"},
			{"api": "s3", "method": "PUT", "path": "/" + o.Bucket + "/" + key, "status": "200"},
			{"api": "s3", "method": "GET", "path": "/" + o.Bucket + "/" + key, "status": "200", "bytes": "4096"},
			{"api": "s3", "method": "GET", "path": "/" + o.Bucket + "/" + id, "status": "200", "bytes": "4096", "fast": "true"},
			// The anti-entropy exchange of the two nodes, every 500ms.
			{"api": "private", "status": "200"},
		}
		// A line is written once its answer is: poll.
		eventually(t, 10*time.Second, "access lines of node "+tc.name, func() error {
			lines := accessLines(tc.log())
			for _, w := range want {
				l, ok := findAccess(lines, w)
				if !ok {
					return fmt.Errorf("no access line with %v among %d", w, len(lines))
				}
				if !strings.HasPrefix(l["remote"], "127.0.") || l["time"] == "" || l["duration"] == "" || l["request_id"] == "" {
					return fmt.Errorf("access line %v: want remote 127.0.x.x:port, a time, a duration and a request_id", l)
				}
			}
			return nil
		})
	}
	if lines := accessLines(toFile.log.String()); len(lines) > 0 {
		t.Errorf("--access-log <file>: %d access lines in the node's log too, e.g. %v", len(lines), lines[0])
	}

	accessTraffic(t, off, o.Bucket)
	c.Nodes[0].Stop()
	c.Nodes[1].Stop()
	off.Stop()
	if lines := accessLines(off.log.String()); len(lines) > 0 {
		t.Errorf("without --access-log: %d access lines, e.g. %v", len(lines), lines[0])
	}
}

// proc is a node run by hand, for what StartNode hides: its log as it is
// written, and addresses it picks itself.
type proc struct {
	cmd   *exec.Cmd
	lines chan string   // the log, line by line; closed at EOF
	done  chan struct{} // closed once the process has exited
	err   error         // Wait's result, set before done closes
	log   *lockedBuffer // every line read so far
}

// startProc runs the binary with args and the origin's environment; the
// test ends it if it still runs.
func startProc(t *testing.T, o *origin, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(objstoreBin, args...), lines: make(chan string, 1024), done: make(chan struct{}), log: &lockedBuffer{}}
	p.cmd.Env = append(os.Environ(), o.Env()...)
	p.cmd.SysProcAttr = sysProcAttr()
	out, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			_, _ = fmt.Fprintln(p.log, sc.Text()) // a lockedBuffer never fails
			select {
			case p.lines <- sc.Text():
			default: // nobody reads: the log keeps it
			}
		}
	}()
	go func() {
		<-read // Wait closes the pipe: read it to the end first
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // a test that failed early; the kill error is moot
			<-p.done
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", filepath.Base(objstoreBin), p.log.String())
		}
	})
	return p
}

// waitLine returns the first line to come that has every field of want.
func (p *proc) waitLine(t *testing.T, within time.Duration, want map[string]string) map[string]string {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("log ended (%v) before a line with %v", p.err, want)
			}
			f := logFields(line)
			if _, ok := findAccess([]map[string]string{f}, want); ok {
				return f
			}
		case <-timeout:
			t.Fatalf("no log line with %v within %v", want, within)
		}
	}
}

// wait waits for the process to exit, at most within.
func (p *proc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(within):
		t.Fatalf("still running %v after it was told to stop", within)
		return nil
	}
}

// TestListeningAfterBind starts a node on port 0 for its native and S3
// APIs: each "listening" line names the port the kernel chose, and a
// request sent the moment the line appears is answered. No line names
// port 0 as an address.
func TestListeningAfterBind(t *testing.T) {
	o := newOrigin(t)
	dir := t.TempDir()
	p := startProc(t, o, "--backend", "s3", "--s3-endpoint", o.Endpoint, "--s3-path-style", "-B", o.Bucket,
		"--public-addr", "127.0.0.1:0", "--s3-api-addr", "127.0.0.1:0", "--private-addr", freeAddr(t, nil, ""),
		"--s3-api-credentials", TestAccessKey+":"+TestSecretKey,
		"--state-dir", filepath.Join(dir, "state"), "--files-dir", filepath.Join(dir, "files"))
	client := newClient(nil)
	defer client.CloseIdleConnections()
	// Ping answers 200; an unsigned ListBuckets 403 AccessDenied.
	paths := map[string]string{"native": "/api/v1/ping", "s3": "/"}
	for len(paths) > 0 {
		l := p.waitLine(t, readyTimeout, map[string]string{"msg": "listening"})
		path, ok := paths[l["api"]]
		if !ok {
			continue
		}
		delete(paths, l["api"])
		addr := l["addr"]
		if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Fatalf("%s listening at %q, want the bound port", l["api"], addr)
		}
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("%s API right after its listening line: %v", l["api"], err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s API right after its listening line: %s", l["api"], resp.Status)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, stopTimeout); err != nil {
		t.Errorf("after SIGTERM: %v, want exit status 0", err)
	}
	for line := range strings.SplitSeq(p.log.String(), "\n") {
		for k, v := range logFields(line) {
			if strings.HasSuffix(v, ":0") {
				t.Errorf("log line %q: %s is an address with port 0, not the bound one", line, k)
			}
		}
	}
}

// TestShutdownLogsNoError stops the three nodes of a cluster that has
// served native, S3 and replication traffic, one with SIGINT and two with
// SIGTERM: each exits 0 with no ERROR line in its log.
func TestShutdownLogsNoError(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{})
	ctx := testCtx(t, time.Minute)
	for i, n := range c.Nodes {
		body := randomBody(uint64(90+i), 64<<10)
		id := newID()
		n.MustPut(t, id, 2, body)
		key := "/" + c.Origin.Bucket + "/shutdown/" + newID()
		wantStatus(t, n.s3Do(ctx, t, http.MethodPut, key, body), http.StatusOK, "S3 PUT "+key)
		for _, m := range c.Nodes {
			m.MustGet(t, id, body)
			wantStatus(t, m.s3Do(ctx, t, http.MethodGet, key, nil), http.StatusOK, "S3 GET "+key)
		}
	}
	last := c.Nodes[2]
	last.signal(syscall.SIGINT)
	if err := last.Wait(stopTimeout); err != nil {
		t.Errorf("node 3 after SIGINT: %v, want exit status 0", err)
	}
	c.Nodes[1].Stop()
	c.Nodes[0].Stop()
	for i, n := range c.Nodes {
		log := n.log.String()
		for line := range strings.SplitSeq(log, "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("node %d logged at shutdown: %s", i+1, line)
			}
		}
		if !strings.Contains(log, `msg="objstore stopped"`) {
			t.Errorf("node %d did not log that it stopped", i+1)
		}
	}
}

// TestSecondSignalForcesExit holds a node's shutdown with a slow upload,
// then sends a second SIGINT: the node exits at once with status 130
// (128+SIGINT) and says why.
func TestSecondSignalForcesExit(t *testing.T) {
	const (
		size  = 32 << 20
		chunk = 1 << 20
	)
	o := newOrigin(t)
	n := o.StartNode(t, "--shutdown-timeout", "5m")
	// One chunk a second: the upload would hold the drain for half a minute.
	src := newThrottledReader(randomBody(95, size), chunk, time.Second, chunk)
	req, err := http.NewRequest(http.MethodPost, n.URL("/api/v1/put"), src)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	for i, hdr := 0, putHeaders(newID(), 1); i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	done := make(chan error, 1)
	go func() {
		_, err := n.send(req)
		done <- err
	}()
	select {
	case <-src.reached:
	case err := <-done:
		t.Fatalf("PUT ended before its first chunk was sent: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the first chunk was not sent within 30s")
	}

	n.signal(syscall.SIGINT)
	eventually(t, 10*time.Second, "the first SIGINT's shutdown line", func() error {
		if !strings.Contains(n.log.String(), `msg="shutting down: draining requests; signal again to exit at once" signal=interrupt`) {
			return errors.New("not logged yet")
		}
		return nil
	})
	if !n.Running() {
		t.Fatal("the node exited while an upload was in flight, before the second signal")
	}
	secondAt := time.Now()
	n.signal(syscall.SIGINT)
	err = n.Wait(10 * time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("after the second SIGINT: %v, want exit status 130", err)
	}
	t.Logf("exited %v after the second SIGINT", time.Since(secondAt).Round(time.Millisecond))
	if !strings.Contains(n.log.String(), `level=WARN msg="second signal: exiting at once, requests in flight are cut off" signal=interrupt`) {
		t.Error("the forced exit is not logged")
	}
	if err := <-done; err == nil {
		t.Error("the upload cut off by the forced exit succeeded")
	}
}
