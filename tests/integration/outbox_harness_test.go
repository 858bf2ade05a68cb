package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"sphere.software/objstore/internal/objstoretest"
)

// outboxSwitch is a TCP proxy in front of the origin that a test can turn
// off, as an origin that goes down: while off it closes every connection it
// has and refuses new ones the moment they arrive, and the node sees its
// requests fail; turned on again it forwards as before. (Stopping versitygw
// would lose the server's port and data dir; the switch keeps both.)
type outboxSwitch struct {
	URL    string // http://127.0.0.1:PORT: give the node this as the origin endpoint
	target string // host:port of the origin
	ln     net.Listener

	mu    sync.Mutex // guards down and conns
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// outboxStartSwitch starts a switch in front of endpoint (http://host:port),
// on, and stops it when the test ends.
func outboxStartSwitch(t testing.TB, endpoint string) *outboxSwitch {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	s := &outboxSwitch{URL: "http://" + ln.Addr().String(), target: u.Host, ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// startBehindSwitch starts a node whose origin is o behind a new switch
// (on), with the outbox tests' origin timeouts and args.
func startBehindSwitch(t testing.TB, o *origin, args ...string) (*outboxSwitch, *Node) {
	t.Helper()
	sw := outboxStartSwitch(t, o.Endpoint)
	return sw, StartNode(t, NodeOpts{S3: sw.origin(o.S3Server), Bucket: o.Bucket, Args: append(args, outboxTimeouts...)})
}

// origin returns a copy of srv that points nodes at the switch.
func (s *outboxSwitch) origin(srv *objstoretest.S3Server) *objstoretest.S3Server {
	cp := *srv
	cp.Endpoint = s.URL
	return &cp
}

// set turns the switch off (down) or on.
func (s *outboxSwitch) set(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	if down {
		for c := range s.conns {
			_ = c.Close() // cut: the node sees a reset
		}
	}
}

func (s *outboxSwitch) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		if !s.track(c) {
			_ = c.Close() // down: refuse
			continue
		}
		s.wg.Add(1)
		go s.forward(c)
	}
}

// track adds c to the open connections unless the switch is off.
func (s *outboxSwitch) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *outboxSwitch) forget(cs ...net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		delete(s.conns, c)
		_ = c.Close() // done with it either way
	}
}

// forward copies bytes both ways between c and the origin until either
// side closes.
func (s *outboxSwitch) forward(c net.Conn) {
	defer s.wg.Done()
	var d net.Dialer
	up, err := d.Dial("tcp", s.target)
	if err != nil || !s.track(up) {
		if up != nil {
			_ = up.Close() // switched off while dialing
		}
		s.forget(c)
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }() // ends when either side closes
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	s.forget(c, up)
	<-done
}

func (s *outboxSwitch) close() {
	_ = s.ln.Close() // stops accept
	s.set(true)
	s.wg.Wait()
}

// outboxStats is the "outbox" part of GET /api/v1/stats.
type outboxStats struct {
	Depth     int     `json:"depth"`
	Bytes     int64   `json:"bytes"`
	MaxBytes  int64   `json:"max_bytes"`
	OldestAge float64 `json:"oldest_age_seconds"`
	Others    int     `json:"others"`
	Uploaded  int64   `json:"uploaded"`
	Deleted   int64   `json:"deleted"`
	Failed    int64   `json:"failed"`
	TakenOver int64   `json:"taken_over"`
}

// outbox reads the node's outbox figures.
func (n *Node) outbox() (outboxStats, error) {
	r, err := n.do(http.MethodGet, "/api/v1/stats", nil)
	if err != nil {
		return outboxStats{}, err
	}
	if r.Status != http.StatusOK {
		return outboxStats{}, fmt.Errorf("stats: %s", r)
	}
	var s struct {
		Outbox *outboxStats `json:"outbox"`
	}
	if err := json.Unmarshal(r.Body, &s); err != nil {
		return outboxStats{}, fmt.Errorf("stats: %w", err)
	}
	if s.Outbox == nil {
		return outboxStats{}, errors.New("stats: no outbox part")
	}
	return *s.Outbox, nil
}

// outboxUpload is the upload state /api/v1/meta reports for id.
func (n *Node) outboxUpload(id string) (string, error) {
	r, err := n.do(http.MethodGet, "/api/v1/meta/"+id, nil)
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusOK {
		return "", fmt.Errorf("meta %s: %s", id, r)
	}
	var m struct {
		Upload string `json:"upload"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return "", fmt.Errorf("meta %s: %w", id, err)
	}
	return m.Upload, nil
}

// outboxPut PUTs body as id at level in write-back mode.
func (n *Node) outboxPut(id string, level int, body []byte) (*response, error) {
	return n.do(http.MethodPost, "/api/v1/put", bytes.NewReader(body), putHeaders(id, level, "X-Meta-Write", "back")...)
}

// outboxDrained waits until n's outbox is empty.
func outboxDrained(t testing.TB, n *Node, within time.Duration) {
	t.Helper()
	eventually(t, within, "outbox drained", func() error {
		s, err := n.outbox()
		if err != nil {
			return err
		}
		if s.Depth != 0 {
			return fmt.Errorf("%d uploads of %d bytes pending, oldest %.1fs", s.Depth, s.Bytes, s.OldestAge)
		}
		return nil
	})
}

// outboxMissing returns the acknowledged objects the origin does not hold
// with their bytes, read directly from versitygw.
func outboxMissing(t *testing.T, o *origin, acked map[string][]byte) []string {
	t.Helper()
	var missing []string
	for id, body := range acked {
		got, ok := o.getIfThere(t, id)
		switch {
		case !ok:
			missing = append(missing, id+": not in the origin")
		case string(got) != string(body):
			missing = append(missing, id+": other bytes in the origin")
		}
	}
	return missing
}
