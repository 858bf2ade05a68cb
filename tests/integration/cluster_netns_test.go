package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// netnsPrefix starts the name of every network namespace the tests create;
// the test process's pid follows it, so that the namespaces of a process
// that died can be told from those of one that runs.
const netnsPrefix = "objstore-test-"

// networks counts the test networks this process made, for unique names.
var networks atomic.Int32

// network is a network the test owns, apart from the host's: a hub
// namespace whose bridges join the namespaces of the nodes, one each, by
// veth pairs. Nothing in it routes to the host. Each node's namespace also
// holds forwarders: listeners on the host's addresses in forward (the S3
// origin's), whose connections the test process, which runs in the host's
// namespace, relays to the same address on the host.
type network struct {
	t       testing.TB
	name    string   // objstore-test-<pid>-<seq>; namespaces are <name>-hub, <name>-1, …
	forward []string // host:port on the host that nodes reach at the same address
	hosts   []*netHost
	bridges int // bridges Partition made so far, named p1, p2, …
}

// netHost is one node's network namespace, joined to the hub by a veth
// pair: eth0 inside, h<k> on a bridge of the hub.
type netHost struct {
	net  *network
	ns   string   // the namespace's name
	link string   // the veth's name in the hub
	fd   *os.File // /run/netns/<ns>, for setns

	wg    sync.WaitGroup // the forwarders' accept loops and relays
	mu    sync.Mutex     // guards lns and conns
	lns   []net.Listener
	conns map[net.Conn]struct{}
}

// newNetwork makes a test network with an empty hub; it is removed when the
// test ends, even if it fails. Nodes in it reach the addresses in forward
// (host:port of servers on the host's loopback) at the same address.
// Without root, the ip command or network namespaces the test is skipped.
func newNetwork(t testing.TB, forward ...string) *network {
	t.Helper()
	requireNetns(t)
	n := &network{t: t, name: fmt.Sprintf("%s%d-%d", netnsPrefix, os.Getpid(), networks.Add(1)), forward: forward}
	if out, err := exec.Command("ip", "netns", "add", n.hub()).CombinedOutput(); err != nil {
		t.Skipf("partition tests need root to create network namespaces, and ip netns add failed: %v: %s", err, out)
	}
	t.Cleanup(n.remove)
	n.ip(t, "-n", n.hub(), "link", "add", "br0", "type", "bridge")
	n.ip(t, "-n", n.hub(), "link", "set", "br0", "up")
	return n
}

func (n *network) hub() string { return n.name + "-hub" }

// host makes a namespace with addr (an IPv4 address without a mask, /24 on
// the hub's bridge) on its eth0 and the forwarders. A nil network makes
// nothing and returns nil: a node on the host's loopback.
func (n *network) host(t testing.TB, addr string) *netHost {
	if n == nil {
		return nil
	}
	t.Helper()
	k := len(n.hosts) + 1
	h := &netHost{net: n, ns: fmt.Sprintf("%s-%d", n.name, k), link: fmt.Sprintf("h%d", k), conns: map[net.Conn]struct{}{}}
	n.ip(t, "netns", "add", h.ns)
	n.hosts = append(n.hosts, h) // removed with the network from now on
	n.ip(t, "-n", h.ns, "link", "set", "lo", "up")
	n.ip(t, "-n", n.hub(), "link", "add", h.link, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	n.ip(t, "-n", n.hub(), "link", "set", h.link, "master", "br0", "up")
	n.ip(t, "-n", h.ns, "addr", "add", addr+"/24", "dev", "eth0")
	n.ip(t, "-n", h.ns, "link", "set", "eth0", "up")
	fd, err := os.Open("/run/netns/" + h.ns)
	if err != nil {
		t.Fatalf("open network namespace %s: %v", h.ns, err)
	}
	h.fd = fd
	t.Cleanup(h.close)
	for _, addr := range n.forward {
		h.startForwarder(t, addr)
	}
	return h
}

// remove deletes the network's namespaces; their veth pairs and bridges go
// with them. The nodes in them have stopped by now: their cleanups were
// registered later and run earlier.
func (n *network) remove() {
	for _, ns := range append([]string{n.hub()}, n.nsNames()...) {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			n.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	}
}

func (n *network) nsNames() []string {
	var names []string
	for _, h := range n.hosts {
		names = append(names, h.ns)
	}
	return names
}

// ip runs the ip command and fails the test if it fails.
func (n *network) ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// requireNetns skips the test unless it can make network namespaces (root,
// Linux, the ip command), and removes the namespaces that test processes
// that died left.
func requireNetns(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("partition tests run nodes in Linux network namespaces; %s has none", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		t.Skipf("partition tests need root to create network namespaces (euid %d); run scripts/test.sh as root", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skipf("partition tests need the ip command (Debian package iproute2) to create network namespaces: %v", err)
	}
	removeStaleNetns(t)
}

// removeStaleNetns deletes the namespaces named objstore-test-<pid>-… of
// processes that no longer exist.
func removeStaleNetns(t testing.TB) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, ns := range staleNetns(string(out), processExists) {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("remove network namespace %s that a dead test process left: %v: %s", ns, err, out)
		} else {
			t.Logf("removed network namespace %s that a dead test process left", ns)
		}
	}
}

// staleNetns returns the names in an `ip netns list` listing that carry our
// prefix and the pid of a process that does not exist.
func staleNetns(listing string, exists func(pid int) bool) []string {
	var stale []string
	for line := range strings.Lines(listing) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		rest, ok := strings.CutPrefix(f[0], netnsPrefix)
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if ok && err == nil && pid > 0 && !exists(pid) {
			stale = append(stale, f[0])
		}
	}
	return stale
}

func processExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return !errors.Is(err, os.ErrNotExist)
}

// in runs f on an OS thread that has entered the namespace, and returns
// the thread to the host's namespace after; a nil host runs f as it is.
// Sockets f makes stay in the namespace. The thread must live on: a node
// started from it (Pdeathsig) would be killed when it ends. Only if it
// cannot return does it stay locked, and the runtime ends it.
func (h *netHost) in(f func() error) error {
	if h == nil {
		return f()
	}
	home, err := hostNetns()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := setns(h.fd); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", h.ns, err)
			return // the thread's namespace is unknown: let it end
		}
		err := f()
		if back := setns(home); back != nil {
			errc <- errors.Join(err, fmt.Errorf("return from network namespace %s: %w", h.ns, back))
			return // still inside: let it end
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// hostNetns is the host's network namespace, opened once while every thread
// of the process is in it.
var hostNetns = sync.OnceValues(func() (*os.File, error) {
	return os.Open("/proc/self/ns/net")
})

// DialContext dials from inside the namespace: a node's HTTP client uses it.
func (h *netHost) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.in(func() (err error) {
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// listen is net.Listen inside the namespace.
func (h *netHost) listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := h.in(func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// listenPacket is net.ListenPacket inside the namespace.
func (h *netHost) listenPacket(network, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := h.in(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// command runs name inside the namespace with ip netns exec, which enters
// it and then execs name: the process is name's, signals reach it. A nil
// host runs name as it is.
func (h *netHost) command(name string, args ...string) *exec.Cmd {
	if h == nil {
		return exec.Command(name, args...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// startForwarder listens on addr inside the namespace and relays each
// connection to addr on the host.
func (h *netHost) startForwarder(t testing.TB, addr string) {
	t.Helper()
	l, err := h.listen("tcp", addr)
	if err != nil {
		t.Fatalf("forward %s into %s: %v", addr, h.ns, err)
	}
	h.mu.Lock()
	h.lns = append(h.lns, l)
	h.mu.Unlock()
	h.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed by close
			}
			h.wg.Go(func() { h.relay(c, addr) })
		}
	})
}

// relay copies between c and a new connection to addr on the host until
// either side is done.
func (h *netHost) relay(c net.Conn, addr string) {
	up, err := net.Dial("tcp", addr)
	if err != nil {
		_ = c.Close() // the node sees the refused origin as a reset
		return
	}
	if !h.track(c, up) {
		return
	}
	defer h.untrack(c, up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // an error ends the relay as EOF does
		_ = dst.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// track registers live relay connections so that close can end them; it
// closes them and returns false if close has run.
func (h *netHost) track(cs ...net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		for _, c := range cs {
			_ = c.Close() // the host is closed
		}
		return false
	}
	for _, c := range cs {
		h.conns[c] = struct{}{}
	}
	return true
}

func (h *netHost) untrack(cs ...net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cs {
		_ = c.Close() // done relaying; a close error changes nothing
		delete(h.conns, c)
	}
}

// close stops the forwarders and waits for them, then closes the
// namespace's file; the namespace itself goes with the network.
func (h *netHost) close() {
	h.mu.Lock()
	for _, l := range h.lns {
		_ = l.Close() // ends the accept loop; nothing else to report
	}
	for c := range h.conns {
		_ = c.Close() // ends the relay
	}
	h.conns = nil
	h.mu.Unlock()
	h.wg.Wait()
	if err := h.fd.Close(); err != nil {
		h.net.t.Errorf("close %s: %v", h.fd.Name(), err)
	}
}

// Partitioned is a network partition made by Partition; Heal ends it.
type Partitioned struct {
	t     testing.TB
	net   *network
	moved []*netHost // hosts whose veth Partition moved off br0
	made  []string   // bridges Partition made
}

// Partition cuts the nodes' network into the given sides: the hub-side
// veths of each side's nodes move from the shared bridge br0 to a bridge of
// the side's own, so that nodes of one side reach each other and no node
// of another side; nodes in no side stay on br0. Each node still reaches
// the origin and the test still reaches it (both go through its own
// namespace, not the hub). All nodes must be in one test network
// (ClusterOpts.Isolated). Heal ends the partition; it also runs when the
// test ends.
func Partition(t testing.TB, sides ...[]*Node) *Partitioned {
	t.Helper()
	hosts := make([][]*netHost, len(sides))
	for i, side := range sides {
		for _, node := range side {
			if node.opts.Netns == nil {
				t.Fatalf("Partition: node %s is not in a test network (ClusterOpts.Isolated)", node.PrivateAddr)
			}
			hosts[i] = append(hosts[i], node.opts.Netns)
		}
	}
	return partitionHosts(t, hosts...)
}

// partitionHosts is Partition on the namespaces, which must all be in one
// network.
func partitionHosts(t testing.TB, sides ...[]*netHost) *Partitioned {
	t.Helper()
	p := &Partitioned{t: t}
	t.Cleanup(p.Heal)
	for _, side := range sides {
		for _, h := range side {
			if p.net != nil && h.net != p.net {
				t.Fatalf("Partition: %s is not in the test network of the others", h.ns)
			}
			p.net = h.net
		}
	}
	for _, side := range sides {
		p.net.bridges++
		br := fmt.Sprintf("p%d", p.net.bridges)
		p.net.ip(t, "-n", p.net.hub(), "link", "add", br, "type", "bridge")
		p.made = append(p.made, br)
		p.net.ip(t, "-n", p.net.hub(), "link", "set", br, "up")
		for _, h := range side {
			p.net.ip(t, "-n", p.net.hub(), "link", "set", h.link, "master", br)
			p.moved = append(p.moved, h)
		}
	}
	return p
}

// Heal puts every moved veth back on br0 and deletes the side bridges;
// calling it again does nothing.
func (p *Partitioned) Heal() {
	p.t.Helper()
	for ; len(p.moved) > 0; p.moved = p.moved[1:] {
		p.net.ip(p.t, "-n", p.net.hub(), "link", "set", p.moved[0].link, "master", "br0")
	}
	for ; len(p.made) > 0; p.made = p.made[1:] {
		p.net.ip(p.t, "-n", p.net.hub(), "link", "del", p.made[0])
	}
}
