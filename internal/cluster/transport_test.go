package cluster

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func testTransport(t *testing.T, addr string) *transport {
	t.Helper()
	tr, err := listen(addr, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return tr
}

func TestIsHTTP(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PRI"} {
		if !isHTTP(m[0]) {
			t.Errorf("%s not taken for HTTP", m)
		}
	}
	// memberlist: message types 0..13, the label header 244.
	for b := 0; b <= 13; b++ {
		if isHTTP(byte(b)) {
			t.Errorf("message type %d taken for HTTP", b)
		}
	}
	if isHTTP(244) {
		t.Error("label header taken for HTTP")
	}
}

// TestClassify sends an HTTP request and a memberlist-like stream to the
// same port, with a silent connection open beside them.
func TestClassify(t *testing.T) {
	tr := testTransport(t, "127.0.0.1:0")
	addr := tr.tcp.Addr().String()

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	stream, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := stream.Write([]byte{244, 3, 'a', 'b', 'c', 0}); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-tr.StreamCh():
		got := make([]byte, 6)
		if _, err := io.ReadFull(c, got); err != nil || got[0] != 244 || got[5] != 0 {
			t.Errorf("stream read %v %v, want the bytes sent, first byte included", got, err)
		}
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("stream not delivered")
	}

	go func() {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_, _ = io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
			defer c.Close()
			_, _ = http.ReadResponse(bufio.NewReader(c), nil)
		}
	}()
	c, err := tr.http.Accept()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil || req.Method != "GET" || req.URL.Path != "/x" {
		t.Errorf("HTTP conn read %v %v", req, err)
	}
	_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	c.Close()
}

// TestSourceAddressTransport checks that packets and streams leave from the
// bind IP.
func TestSourceAddressTransport(t *testing.T) {
	if !canBind("127.0.0.11") || !canBind("127.0.0.12") {
		t.Skip("this system cannot bind 127.0.0.11 and 127.0.0.12")
	}
	tr := testTransport(t, "127.0.0.11:0")

	pc, err := net.ListenPacket("udp", "127.0.0.12:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := tr.WriteTo([]byte("ping"), pc.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read packet: %q %v", buf[:n], err)
	}
	if want := tr.udp.LocalAddr().String(); from.String() != want {
		t.Errorf("packet from %s, want %s (the bound socket)", from, want)
	}

	l, err := net.Listen("tcp", "127.0.0.12:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err := tr.DialTimeout(l.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if host, _, _ := net.SplitHostPort(in.RemoteAddr().String()); host != "127.0.0.11" {
		t.Errorf("stream from %s, want 127.0.0.11", in.RemoteAddr())
	}
}

// TestShutdownClosesStreams checks that Shutdown closes a dialled stream
// that memberlist still holds, so that a join in progress ends at once.
func TestShutdownClosesStreams(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tr, err := listen("127.0.0.1:0", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	out, err := tr.DialTimeout(l.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := out.Read(make([]byte, 1))
		done <- err
	}()
	if err := tr.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("read on a closed stream succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Shutdown")
	}
	if _, err := tr.DialTimeout(l.Addr().String(), time.Second); err == nil {
		t.Error("dial after Shutdown succeeded")
	}
}

func TestLogWriter(t *testing.T) {
	logs := &logBuffer{}
	l := newMemberlistLogger(logs.logger())
	l.Printf("[DEBUG] memberlist: Stream connection from=1.2.3.4:5")
	l.Printf("[ERR] memberlist: discarding stream with unacceptable label %q: from=1.2.3.4:5", "objstore/blue")
	l.Printf("[DEBUG] memberlist: failed to join 1.2.3.4:5: No installed keys could decrypt the message")
	out := logs.String()
	for _, want := range []string{
		`level=DEBUG msg="memberlist: Stream connection from=1.2.3.4:5"`,
		`level=WARN msg="` + rejectedMsg + `" detail="discarding stream`,
		`level=DEBUG msg="memberlist: failed to join`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
