package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"sphere.software/objstore/internal/handoff"
	"sphere.software/objstore/internal/tlsconf"
)

// peekTimeout bounds the wait for a new connection's first byte. Each
// connection waits in its own goroutine, so a silent client holds only that
// goroutine, and only this long.
const peekTimeout = 10 * time.Second

// acceptBackoffMax caps the pause after an accept error (EMFILE and the like).
const acceptBackoffMax = time.Second

// isHTTP reports whether a connection's first byte starts an HTTP request.
//
// The split is safe because the two protocols cannot share a first byte:
// HTTP/1.x requests start with a method token, in upper-case ASCII letters
// ('A'..'Z', 65..90). A memberlist stream starts with the label header's
// magic byte 244 (hasLabelMsg) whenever a label is set, and objstore always
// sets one ("objstore/" + tag); a stream without a label starts with a
// message type, a small number (pingMsg = 0 … errMsg = 13, encryptMsg = 10
// for encrypted streams). Anything that is not a letter goes to memberlist,
// which drops what it cannot read.
func isHTTP(b byte) bool { return 'A' <= b && b <= 'Z' }

// tlsHandshake is the first byte of a TLS connection (a handshake record).
// With peer TLS on, the split is by ALPN after the handshake instead:
// tlsconf.GossipProto for memberlist, anything else is HTTP.
const tlsHandshake = 0x16

// acceptLoop accepts TCP connections until shutdown and classifies each in
// its own goroutine.
func (t *transport) acceptLoop() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		conn, err := t.tcp.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), acceptBackoffMax)
			t.log.Warn("cluster: accept private connection", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-t.ctx.Done():
				return
			}
			continue
		}
		delay = 0
		t.wg.Add(1)
		go t.classify(conn)
	}
}

// classify reads a connection's first byte and hands the connection, that
// byte included, to the HTTP server or to memberlist. The connection is
// tracked while it waits, so that shutdown need not wait peekTimeout, and
// stays tracked as a memberlist stream; an HTTP connection is the HTTP
// server's to close.
func (t *transport) classify(conn net.Conn) {
	defer t.wg.Done()
	tc, err := t.track(conn)
	if err != nil {
		return
	}
	var first [1]byte
	_ = conn.SetReadDeadline(time.Now().Add(peekTimeout)) // a failure shows in the read
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		_ = tc.Close() // nothing was read: nothing to report
		return
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		_ = tc.Close() // the connection is already broken
		return
	}
	if t.tls != nil {
		t.classifyTLS(tc, first[0])
		return
	}
	if isHTTP(first[0]) {
		t.untrack(tc)
		t.http.Deliver(replay(conn, first[0]), t.ctx.Done())
		return
	}
	select {
	case t.streamCh <- replay(tc, first[0]):
	case <-t.ctx.Done():
		_ = tc.Close() // shutting down: memberlist will not read it
	}
}

// classifyTLS completes the mutual TLS handshake of a connection whose
// first byte was read, and hands it to memberlist or to the HTTP server by
// its ALPN protocol. A connection that is not TLS, or whose client has no
// certificate of the cluster's CA, is closed: it is logged, since a node
// with the wrong certificate or none is a misconfiguration to fix.
func (t *transport) classifyTLS(tc *trackedConn, first byte) {
	remote := tc.RemoteAddr().String()
	if first != tlsHandshake {
		t.log.Warn("cluster: refused a private connection that is not TLS (peer TLS is on)", "remote", remote)
		_ = tc.Close() // refused
		return
	}
	conn := tls.Server(replay(tc, first), t.tls.Server())
	ctx, cancel := context.WithTimeout(t.ctx, peekTimeout)
	err := conn.HandshakeContext(ctx)
	cancel()
	if err != nil {
		t.log.Warn("cluster: refused a private connection: TLS handshake failed", "remote", remote, "err", err)
		_ = tc.Close() // refused
		return
	}
	if conn.ConnectionState().NegotiatedProtocol == tlsconf.GossipProto {
		select {
		case t.streamCh <- conn:
		case <-t.ctx.Done():
			_ = conn.Close() // shutting down: memberlist will not read it
		}
		return
	}
	t.untrack(tc)
	t.http.Deliver(conn, t.ctx.Done())
}

// replay is conn with the first byte classify read from it put back.
func replay(conn net.Conn, first byte) *handoff.Conn {
	return handoff.NewConn(conn, io.MultiReader(bytes.NewReader([]byte{first}), conn))
}

// trackedConn is a connection that shutdown closes if nobody has yet: a
// memberlist stream, inbound or outbound, or a connection being classified.
type trackedConn struct {
	net.Conn
	t *transport
}

// track registers conn, or closes it and fails if the transport is shut down.
func (t *transport) track(conn net.Conn) (*trackedConn, error) {
	tc := &trackedConn{Conn: conn, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		_ = conn.Close() // the transport is gone; the caller gets the error
		return nil, net.ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.t.untrack(c)
	return err
}

// untrack forgets c without closing it.
func (t *transport) untrack(c *trackedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
}

// closeTracked closes every tracked connection; track refuses new ones
// because the context is cancelled first.
func (t *transport) closeTracked() {
	t.mu.Lock()
	conns := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close() // best effort: the peer sees the stream end
	}
}
