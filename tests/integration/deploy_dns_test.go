package integration

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// deployDNS is a DNS server on loopback that answers one name with the A
// records the test sets, as Kubernetes' DNS answers a headless Service's
// name with its pods' addresses. Nodes use it through
// $OBJSTORE_TEST_DNS_SERVER (cmd/objstore/resolver.go): the host's
// resolver and hosts file stay as they are.
type deployDNS struct {
	Addr string // host:port the server answers on (UDP)
	name string // fully qualified, with the final dot

	mu  sync.Mutex // guards ips
	ips []net.IP
}

// deployStartDNS serves name on a free UDP port of 127.0.0.1 until the test
// ends.
func deployStartDNS(t *testing.T, name string) *deployDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &deployDNS{Addr: pc.LocalAddr().String(), name: dns.Fqdn(name)}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dns server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("dns server shutdown: %v", err)
		}
		<-done
	})
	return d
}

// Set makes the name answer with ips (none: NXDOMAIN).
func (d *deployDNS) Set(ips ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ips = d.ips[:0]
	for _, s := range ips {
		d.ips = append(d.ips, net.ParseIP(s))
	}
}

// ServeDNS answers A queries for the name with the addresses set, AAAA
// queries with none, and anything else with NXDOMAIN.
func (d *deployDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	ips := slices.Clone(d.ips)
	d.mu.Unlock()
	for _, q := range req.Question {
		if !strings.EqualFold(q.Name, d.name) || len(ips) == 0 {
			m.Rcode = dns.RcodeNameError
			continue
		}
		if q.Qtype != dns.TypeA {
			continue
		}
		for _, ip := range ips {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: ip.To4()})
		}
	}
	_ = w.WriteMsg(m) // a lost answer is a lost UDP packet: the resolver asks again
}

// TestDeployJoinByDNSName runs the real binary as a StatefulSet behind a
// headless Service would run: every node on one private port, each with
// -N set to one name whose A records are the nodes listed so far. The
// first node starts before the name has any address; nodes that are
// listed later are joined by those already running (the name is looked up
// again), including a node that itself joins nobody.
func TestDeployJoinByDNSName(t *testing.T) {
	c := newCluster(t, ClusterOpts{})
	const name = "objstore-peers.objstore.svc.cluster.test"
	srv := deployStartDNS(t, name)
	ips := []string{c.NextIP(), c.NextIP(), c.NextIP(), c.NextIP()}
	port := freeAddr(t, nil, ips[0])
	_, p, _ := net.SplitHostPort(port)
	seed := net.JoinHostPort(name, p)
	privatePort, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}

	start := func(ip string, join bool) *Node {
		t.Helper()
		args := c.Args("")
		if join {
			args = append(args, "-N", seed)
		}
		return StartNode(t, NodeOpts{S3: c.Origin.S3Server, Bucket: c.Origin.Bucket, IP: ip, PrivatePort: privatePort,
			Args: args, Env: []string{"OBJSTORE_TEST_DNS_SERVER=" + srv.Addr}})
	}
	n1 := start(ips[0], true)
	eventually(t, 10*time.Second, "node 1 logs that its seed name does not resolve yet", func() error {
		if !strings.Contains(n1.log.String(), "its name does not resolve yet") {
			return errors.New("not logged yet")
		}
		return nil
	})
	srv.Set(ips[0])
	n2 := start(ips[1], true)
	srv.Set(ips[0], ips[1])
	WaitMembers(t, []*Node{n1, n2}, 2)

	n3 := start(ips[2], true)
	n4 := start(ips[3], false) // joins nobody: found only through the name
	srv.Set(ips...)
	WaitMembers(t, []*Node{n1, n2, n3, n4}, 4)
}
