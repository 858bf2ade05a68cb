package cluster

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeResolver answers LookupIP for one name from a list the test changes,
// as a headless Service's DNS record follows the pods; other names are
// not found.
type fakeResolver struct {
	name string

	mu      sync.Mutex // guards ips and lookups
	ips     []net.IP
	lookups int
}

func (r *fakeResolver) LookupIP(_ context.Context, _, host string) ([]net.IP, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups++
	if host != r.name || len(r.ips) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return slices.Clone(r.ips), nil
}

func (r *fakeResolver) set(ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ips = r.ips[:0]
	for _, s := range ips {
		r.ips = append(r.ips, net.ParseIP(s))
	}
}

func (r *fakeResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups
}

func TestResolveJoin(t *testing.T) {
	r := &fakeResolver{name: "peers.objstore.svc"}
	r.set("10.0.0.1", "10.0.0.2", "fd00::3", "10.0.0.1")
	tests := []struct {
		target  string
		want    []string
		notName bool // the lookup fails with a DNS error
	}{
		{target: "10.0.0.9:11999", want: []string{"10.0.0.9:11999"}},
		{target: "[fd00::9]:11999", want: []string{"[fd00::9]:11999"}},
		// every address once, IPv6 in brackets, the port of the seed
		{target: "peers.objstore.svc:11999", want: []string{"10.0.0.1:11999", "10.0.0.2:11999", "[fd00::3]:11999"}},
		{target: "unknown.svc:11999", notName: true},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, err := resolveJoin(context.Background(), r, tt.target)
			var dnsErr *net.DNSError
			if tt.notName {
				if !errors.As(err, &dnsErr) {
					t.Fatalf("resolveJoin = %v, %v; want a DNS error", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("resolveJoin = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("no addresses", func(t *testing.T) {
		r.set()
		got, err := resolveJoin(context.Background(), r, "peers.objstore.svc:11999")
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) {
			t.Fatalf("resolveJoin = %v, %v; want a DNS error", got, err)
		}
	})
}

// TestJoinNameFollowsItsAddresses is a StatefulSet behind a headless
// Service in miniature: every member joins one name, on one port, whose
// addresses are the members listed so far. Members listed later are found
// by those already running (the name is looked up again), even a member
// that joins nobody itself; a name that does not resolve yet is retried.
func TestJoinNameFollowsItsAddresses(t *testing.T) {
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	for _, ip := range ips {
		if !canBind(ip) {
			t.Fatalf("cannot bind %s: this test needs the 127.0.0.0/8 loopback range (Linux has it)", ip)
		}
	}
	port := strconv.Itoa(freePort(t, ips[0]))
	name := "objstore-peers.default.svc.cluster.local"
	r := &fakeResolver{name: name}
	joinName := func(c *Config) { c.Join, c.Resolver = []string{net.JoinHostPort(name, port)}, r }

	// The first pod starts before the Service lists anyone.
	a := startNode(t, func(c *Config) { c.BindAddr = net.JoinHostPort(ips[0], port); joinName(c) })
	eventually(t, joinWithin, "a looked its seed name up twice", func() bool { return r.count() >= 2 })
	b := startNode(t, func(c *Config) { c.BindAddr = net.JoinHostPort(ips[1], port); joinName(c) })
	r.set(ips[0], ips[1])
	eventually(t, joinWithin, "a and b joined through the name", func() bool {
		return allAlive(a.Cluster, a.id, b.id) && allAlive(b.Cluster, a.id, b.id)
	})

	// Two more pods: one joins the name too, one joins nobody and is found
	// only because the others look the name up again.
	c := startNode(t, func(c *Config) { c.BindAddr = net.JoinHostPort(ips[2], port); joinName(c) })
	d := startNode(t, func(c *Config) { c.BindAddr = net.JoinHostPort(ips[3], port) })
	r.set(ips...)
	all := []string{a.id, b.id, c.id, d.id}
	for _, n := range []*testNode{a, b, c, d} {
		eventually(t, joinWithin, n.id+" lists all four alive", func() bool { return allAlive(n.Cluster, all...) })
	}
	if !strings.Contains(a.logs.String(), "its name does not resolve yet") {
		t.Errorf("a's log does not say its seed name did not resolve:\n%s", a.logs)
	}
}
