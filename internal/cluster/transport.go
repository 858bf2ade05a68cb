package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"

	"sphere.software/objstore/internal/handoff"
	"sphere.software/objstore/internal/tlsconf"
)

const (
	// udpPacketSize is the largest UDP packet read; memberlist sends at most
	// its UDPBufferSize (1400 bytes by default).
	udpPacketSize = 65536
	// udpRecvBuffer is the socket receive buffer asked for, as memberlist's
	// own transport does.
	udpRecvBuffer = 2 << 20
	// bindRetries bounds the attempts to find a port free for both TCP and
	// UDP when BindAddr's port is 0.
	bindRetries = 10
)

// transport is a memberlist.NodeAwareTransport that shares one port between
// gossip and the private HTTP API: UDP packets are all memberlist's; TCP
// connections are split by their first byte (see classify) between
// memberlist's streams and the HTTP server's listener. Outgoing packets
// leave from the bound UDP socket and outgoing streams are dialled from the
// bind IP, so their source address is the node's own.
type transport struct {
	log    *slog.Logger
	bindIP net.IP // nil when bound to every interface
	tcp    *net.TCPListener
	udp    *net.UDPConn
	http   *handoff.Listener
	// tls, when set, is the private port's mutual TLS: every TCP
	// connection, in or out, gossip stream or HTTP, is TLS (see mux.go).
	tls *tlsconf.Peer

	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	ctx    context.Context // cancelled by shutdown; bounds dials and hand-offs
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop, UDP loop, per-connection classifiers

	// advertise is the address picked once for an unspecified bind address.
	advertiseOnce sync.Once
	advertise     net.IP
	advertiseErr  error

	mu       sync.Mutex // guards conns and lastDial
	conns    map[*trackedConn]struct{}
	lastDial map[string]error
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)

// listen binds TCP and UDP on addr (a free port for both when its port is 0)
// and starts the accept and packet loops.
func listen(addr string, peerTLS *tlsconf.Peer, log *slog.Logger) (*transport, error) {
	ip, port, err := splitBind(addr)
	if err != nil {
		return nil, err
	}
	tcp, udp, err := bindBoth(ip, port)
	if err != nil {
		return nil, err
	}
	if err := setUDPRecvBuf(udp); err != nil {
		_ = tcp.Close() // the bind failed: its error is the one to report
		_ = udp.Close()
		return nil, fmt.Errorf("cluster: resize UDP buffer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &transport{
		log: log, bindIP: ip, tcp: tcp, udp: udp, tls: peerTLS,
		http:     handoff.NewListener(tcp.Addr()),
		packetCh: make(chan *memberlist.Packet),
		streamCh: make(chan net.Conn),
		ctx:      ctx, cancel: cancel,
		conns:    make(map[*trackedConn]struct{}),
		lastDial: make(map[string]error),
	}
	t.wg.Add(2)
	go t.acceptLoop()
	go t.packetLoop()
	return t, nil
}

// bindBoth listens on TCP and UDP on the same port. With port 0 the kernel
// picks the TCP port, and the UDP bind is retried if that port is taken.
func bindBoth(ip net.IP, port int) (*net.TCPListener, *net.UDPConn, error) {
	for try := 1; ; try++ {
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: listen tcp %s: %w", hostPort(ip, port), err)
		}
		got := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: got})
		if err == nil {
			return tcp, udp, nil
		}
		_ = tcp.Close() // the UDP error is the one to report
		if port != 0 || try == bindRetries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("cluster: listen udp %s: %w", hostPort(ip, got), err)
		}
	}
}

func setUDPRecvBuf(c *net.UDPConn) error {
	var err error
	for size := udpRecvBuffer; size > 0; size /= 2 {
		if err = c.SetReadBuffer(size); err == nil {
			return nil
		}
	}
	return err
}

func hostPort(ip net.IP, port int) string {
	host := ""
	if ip != nil {
		host = ip.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// port is the bound port.
func (t *transport) port() int { return t.tcp.Addr().(*net.TCPAddr).Port }

// FinalAdvertiseAddr implements memberlist.Transport: the configured
// address if any, else the bind IP, else what memberlist's own transport
// would pick for an unspecified bind address (see advertiseIP).
func (t *transport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		addr := net.ParseIP(ip)
		if addr == nil {
			return nil, 0, fmt.Errorf("cluster: advertise address %q is not an IP", ip)
		}
		if v4 := addr.To4(); v4 != nil {
			addr = v4
		}
		return addr, port, nil
	}
	if t.bindIP != nil {
		return t.bindIP, t.port(), nil
	}
	t.advertiseOnce.Do(func() { t.advertise, t.advertiseErr = advertiseIP(t.log) })
	if t.advertiseErr != nil {
		return nil, 0, t.advertiseErr
	}
	return t.advertise, t.port(), nil
}

// WriteTo implements memberlist.Transport.
func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress implements memberlist.NodeAwareTransport: the packet
// leaves from the bound UDP socket, so its source is the bind address.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	to, err := udpAddr(a.Addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = t.udp.WriteToUDPAddrPort(b, to)
	if err != nil && t.ctx.Err() != nil {
		// Shut down: memberlist closes the transport before it stops its
		// gossip and probe timers, so a packet may still come. Drop it,
		// as the network may drop any packet, rather than have memberlist
		// log an error at every clean shutdown.
		return time.Now(), nil
	}
	return time.Now(), err
}

// udpAddr parses host:port, resolving a host name if it must.
func udpAddr(addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("cluster: resolve %s: %w", addr, err)
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// PacketCh implements memberlist.Transport.
func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// StreamCh implements memberlist.Transport.
func (t *transport) StreamCh() <-chan net.Conn { return t.streamCh }

// DialTimeout implements memberlist.Transport.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport: it dials from
// the bind IP, records the outcome for dialOutcome, and tracks the
// connection so that shutdown can close it.
func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if t.bindIP != nil {
		d.LocalAddr = &net.TCPAddr{IP: t.bindIP}
	}
	conn, err := t.dial(&d, a.Addr, timeout)
	t.mu.Lock()
	t.lastDial[a.Addr] = err
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	tc, err := t.track(conn)
	if err != nil {
		return nil, err
	}
	return tc, nil
}

// dial connects to addr, over mutual TLS when the private port uses it;
// timeout bounds the TLS handshake too.
func (t *transport) dial(d *net.Dialer, addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil || t.tls == nil {
		return conn, err
	}
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	tc := tls.Client(conn, t.tls.Client(tlsconf.GossipProto))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close() // the handshake error is the one to report
		return nil, fmt.Errorf("cluster: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// dialOutcome reports whether addr was dialled since the last forgetDial,
// and the latest dial's error.
func (t *transport) dialOutcome(addr string) (dialled bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	err, dialled = t.lastDial[addr]
	return dialled, err
}

// forgetDial drops the recorded outcome of dials to addr.
func (t *transport) forgetDial(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.lastDial, addr)
}

// Shutdown implements memberlist.Transport. Order: cancel the context
// (ends dials and hand-offs in progress), close the listeners (ends the
// accept and packet loops), close the memberlist streams still open (their
// handlers return at once instead of at their deadline), then wait for the
// loops and classifiers. The HTTP listener is the HTTP server's to close.
func (t *transport) Shutdown() error {
	t.cancel()
	err := errors.Join(ignoreClosed(t.tcp.Close()), ignoreClosed(t.udp.Close()))
	t.closeTracked()
	t.wg.Wait()
	if err != nil {
		return fmt.Errorf("cluster: close transport: %w", err)
	}
	return nil
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// packetLoop hands every UDP packet to memberlist until shutdown.
func (t *transport) packetLoop() {
	defer t.wg.Done()
	buf := make([]byte, udpPacketSize)
	for {
		n, from, err := t.udp.ReadFrom(buf)
		now := time.Now()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Warn("cluster: read UDP packet", "err", err)
			continue
		}
		if n == 0 {
			continue
		}
		select {
		// A copy of the packet's size: memberlist may queue it a while.
		case t.packetCh <- &memberlist.Packet{Buf: bytes.Clone(buf[:n]), From: from, Timestamp: now}:
		case <-t.ctx.Done():
			return
		}
	}
}
