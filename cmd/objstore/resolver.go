package main

import (
	"context"
	"net"

	"sphere.software/objstore/internal/cluster"
)

// testDNSServerEnv names a DNS server (host:port, UDP and TCP) that the
// node asks for the host names of -N and nothing else. It exists for the
// tests, which cannot change the host's resolver or hosts file: they run a
// DNS server on loopback whose name lists several nodes, as a Kubernetes
// headless Service does. Not a user option, so it is not in --help.
const testDNSServerEnv = "OBJSTORE_TEST_DNS_SERVER"

// clusterResolver is the resolver of the cluster's host names: the
// system's, or one that asks only the server named by testDNSServerEnv.
func clusterResolver(getenv func(string) string) cluster.Resolver {
	server := getenv(testDNSServerEnv)
	if server == "" {
		return net.DefaultResolver
	}
	var d net.Dialer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, server)
	}}
}
