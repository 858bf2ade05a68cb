package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	sockaddr "github.com/hashicorp/go-sockaddr"
)

// advertiseIP picks the address to advertise when the node listens on every
// interface and none was configured: a private IP of this machine, as
// memberlist's own transport does; failing that a public one; failing that
// the loopback address, with a warning, so that a node without a network
// still starts.
func advertiseIP(log *slog.Logger) (net.IP, error) {
	for _, get := range []func() (string, error){sockaddr.GetPrivateIP, sockaddr.GetPublicIP} {
		s, err := get()
		if err != nil {
			return nil, fmt.Errorf("cluster: find an address to advertise: %w", err)
		}
		if ip := net.ParseIP(s); ip != nil {
			return ip, nil
		}
	}
	log.Warn("cluster: no private or public IP address found; advertising 127.0.0.1, which other machines cannot reach: set the advertise address")
	return net.IPv4(127, 0, 0, 1).To4(), nil
}

// resolveAdvertise turns Config.AdvertiseAddr into the IP and port given to
// memberlist ("" and 0 when not configured), resolving a host name.
func resolveAdvertise(ctx context.Context, r Resolver, addr string, bindPort int) (string, int, error) {
	if addr == "" {
		return "", 0, nil
	}
	host, port, err := splitAdvertise(addr, bindPort)
	if err != nil {
		return "", 0, err
	}
	if net.ParseIP(host) != nil {
		return host, port, nil
	}
	ips, err := r.LookupIP(ctx, "ip", host)
	if err != nil {
		return "", 0, fmt.Errorf("cluster: resolve advertise address %q: %w", addr, err)
	}
	return preferIPv4(ips).String(), port, nil
}

// preferIPv4 returns the first IPv4 address of ips, else the first one.
func preferIPv4(ips []net.IP) net.IP {
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip
		}
	}
	return ips[0]
}
