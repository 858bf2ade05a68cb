package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"syscall"
	"time"
)

// result is what one start of a node measured.
type result struct {
	serving time.Duration // from process start to the first good GET
	swept   time.Duration // the background start-up sweep's own time, as the node reports it
	rss     int64         // VmRSS in bytes once settled
	anon    int64         // RssAnon: the heap and other private memory
	file    int64         // RssFile: mapped files (the journal) and the binary
	hwm     int64         // VmHWM: the peak RSS
}

// pollEvery is how often a starting node is asked for the known object.
const pollEvery = 2 * time.Millisecond

// sweepWait bounds the wait for a node's background start-up sweep.
const sweepWait = 15 * time.Minute

// run starts the node binary bin on the dirs under dir, times it until it
// serves the object id with body want, waits for its start-up sweep to
// end, lets it settle, reads its RSS and stops it. With heap set it saves
// a heap profile there.
func run(ctx context.Context, bin, dir, id string, want []byte, settle time.Duration, heap string) (result, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return result{}, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return result{}, err
	}
	defer func() { _ = logf.Close() }() // a log; nothing to lose
	cmd := exec.CommandContext(ctx, bin,
		"--state-dir", filepath.Join(dir, "state"), "--files-dir", filepath.Join(dir, "files"),
		"--backend", "local", "--origin-dir", filepath.Join(dir, "origin"), "--bucket", bucket,
		"--public-addr", addrs[0], "--private-addr", addrs[1], "--debug-addr", addrs[2], "--s3-api-addr", "")
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("start node: %w", err)
	}
	defer stop(cmd)
	var r result
	if r.serving, err = awaitServing(ctx, "http://"+addrs[0]+"/api/v1/get/"+id, want, start); err != nil {
		return result{}, err
	}
	// The sweep holds the journal scan's working set while it runs: RSS
	// read before it ends is not what the objects cost a serving node.
	if r.swept, err = awaitSwept(ctx, "http://"+addrs[0]+"/api/v1/stats"); err != nil {
		return result{}, err
	}
	select {
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-time.After(settle):
	}
	if r, err = memOf(cmd.Process.Pid, r); err != nil {
		return result{}, err
	}
	if heap != "" {
		if err := saveHeap(ctx, "http://"+addrs[2]+"/debug/pprof/heap", heap); err != nil {
			return result{}, err
		}
	}
	return r, nil
}

// awaitServing GETs url until it answers 200 with want, and returns the
// time since start.
func awaitServing(ctx context.Context, url string, want []byte, start time.Time) (time.Duration, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			_ = resp.Body.Close() // read whole
			if resp.StatusCode == http.StatusOK && rerr == nil && bytes.Equal(body, want) {
				return time.Since(start), nil
			}
			if resp.StatusCode != http.StatusOK {
				return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
			}
		}
		time.Sleep(pollEvery)
	}
	return 0, fmt.Errorf("node did not serve %s within 5 minutes", url)
}

// awaitSwept polls the node's stats until its start-up sweep has ended,
// and returns how long the sweep took by the node's account.
func awaitSwept(ctx context.Context, url string) (time.Duration, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(sweepWait)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var st struct {
			Sweep struct {
				Done    bool    `json:"done"`
				Seconds float64 `json:"seconds"`
			} `json:"startup_sweep"`
		}
		resp, err := client.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			_ = resp.Body.Close() // decoded
		}
		if err == nil && st.Sweep.Done {
			return time.Duration(st.Sweep.Seconds * float64(time.Second)), nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return 0, fmt.Errorf("the start-up sweep did not end within %s (does the binary report startup_sweep in /api/v1/stats?)", sweepWait)
}

// memOf reads VmRSS, RssAnon, RssFile and VmHWM of process pid into r, in
// bytes.
func memOf(pid int, r result) (result, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r, err
	}
	defer func() { _ = f.Close() }() // read-only
	fields := map[string]*int64{"VmRSS": &r.rss, "RssAnon": &r.anon, "RssFile": &r.file, "VmHWM": &r.hwm}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return r, fmt.Errorf("%s: %w", name, err)
		}
		*dst = kb << 10
	}
	if r.rss == 0 {
		return r, errors.New("no VmRSS in /proc status")
	}
	return r, sc.Err()
}

// saveHeap saves the heap profile at url to file path.
func saveHeap(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read whole below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// stop sends SIGTERM to the node and waits for it, killing it when it
// does not exit within ten seconds.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM) // it may have exited already
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }() // the exit status does not matter here
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill() // it would not stop
		<-done
	}
}

// freeAddrs returns n loopback addresses with ports free right now.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close() // only held to keep the ports apart
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
