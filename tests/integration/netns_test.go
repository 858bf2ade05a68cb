package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNetworkPartition checks the test network that partition tests run
// nodes in, without objstore: three namespaces reach each other and the
// host's server that is forwarded into them; a partition cuts exactly the
// paths between sides; Heal restores them; at the end no namespace of the
// test is left and the host's interfaces and addresses are what they were.
func TestNetworkPartition(t *testing.T) {
	requireNetns(t)
	before := hostInterfaces(t)
	origin := startEcho(t, nil, "127.0.0.1:0")
	var name string
	t.Run("network", func(t *testing.T) {
		n := newNetwork(t, origin)
		name = n.name
		var hosts []*netHost
		var addrs []string
		for k := range 3 {
			ip := fmt.Sprintf("169.254.250.%d", 11+k)
			h := n.host(t, ip)
			hosts = append(hosts, h)
			addrs = append(addrs, startEcho(t, h, ip+":0"))
		}
		// reachable lists, for each host, which others it reaches, and
		// checks that it reaches the origin and itself. An echo gets 5 s:
		// on a loaded machine (CI runs the suite on 2 cores) a first ARP
		// round and a scheduled reply took over 1 s; a cut path costs the
		// whole wait, 4 times in the partition's check.
		const wait = 5 * time.Second
		reachable := func() [][]int {
			t.Helper()
			got := make([][]int, len(hosts))
			for i, h := range hosts {
				for j, addr := range addrs {
					if echoes(h, addr, wait) == nil {
						got[i] = append(got[i], j)
					} else if i == j {
						t.Fatalf("%s does not reach its own address %s", h.ns, addr)
					}
				}
				if err := echoes(h, origin, wait); err != nil {
					t.Fatalf("%s does not reach the forwarded origin: %v", h.ns, err)
				}
			}
			return got
		}
		all := [][]int{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}}
		if got := reachable(); !slices.EqualFunc(got, all, slices.Equal) {
			t.Fatalf("before the partition: reaches %v, want %v", got, all)
		}
		p := partitionHosts(t, hosts[:1], hosts[1:])
		cut := [][]int{{0}, {1, 2}, {1, 2}}
		if got := reachable(); !slices.EqualFunc(got, cut, slices.Equal) {
			t.Fatalf("partitioned {1} {2,3}: reaches %v, want %v", got, cut)
		}
		p.Heal()
		if got := reachable(); !slices.EqualFunc(got, all, slices.Equal) {
			t.Fatalf("after the heal: reaches %v, want %v", got, all)
		}
	})
	for _, ns := range netnsList(t) {
		if strings.HasPrefix(ns, name+"-") {
			t.Errorf("network namespace %s is left after the test", ns)
		}
	}
	if after := hostInterfaces(t); !slices.Equal(before, after) {
		t.Errorf("the host's interfaces changed:\nbefore %q\nafter  %q", before, after)
	}
}

// TestStaleNetnsRemoved checks that the namespaces a test process that died
// left are removed by the next, and that a running process's are kept.
func TestStaleNetnsRemoved(t *testing.T) {
	exists := func(pid int) bool { return pid == 7 }
	listing := "objstore-test-7-1-hub (id: 3)\nobjstore-test-99-2-1\nobjstore-test-x-1\nother-99\n\nobjstore-test-99-2-hub (id: 1)\n"
	if got, want := staleNetns(listing, exists), []string{"objstore-test-99-2-1", "objstore-test-99-2-hub"}; !slices.Equal(got, want) {
		t.Fatalf("staleNetns: %q, want %q", got, want)
	}

	requireNetns(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	ns := netnsPrefix + strconv.Itoa(dead.Process.Pid) + "-1-hub"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if slices.Contains(netnsList(t), ns) {
			_ = exec.Command("ip", "netns", "del", ns).Run() // the test failed already
		}
	})
	removeStaleNetns(t)
	if slices.Contains(netnsList(t), ns) {
		t.Fatalf("namespace %s of dead process %d is still there", ns, dead.Process.Pid)
	}
}

// startEcho serves, on addr in namespace h (nil: the host's), connections
// that echo one line; it returns the bound address.
func startEcho(t testing.TB, h *netHost, addr string) string {
	t.Helper()
	l, err := h.listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = l.Close() // ends the accept loop
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n') // a short read fails the client's check
			_, _ = c.Write([]byte(line))                   // likewise
			_ = c.Close()
		}
	}()
	return l.Addr().String()
}

// echoes dials addr from h and checks that a line comes back.
func echoes(h *netHost, addr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := h.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }() // done with it either way
	if err := c.SetDeadline(time.Now().Add(within)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ping\n" {
		return fmt.Errorf("echo from %s: %q, %v", addr, line, err)
	}
	return nil
}

// netnsList is the names `ip netns list` shows.
func netnsList(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// hostInterfaces lists the host's interfaces with their addresses.
func hostInterfaces(t testing.TB) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, fmt.Sprintf("%s %v %v", i.Name, i.Flags, addrs))
	}
	return list
}
