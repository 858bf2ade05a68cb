package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/clusterkey"
	"sphere.software/objstore/internal/tlsconf"
)

// DefaultPort is the private port assumed for a join address given as a
// bare host.
const DefaultPort = 11999

// DefaultTag is the cluster tag used when Config.Tag is empty; keys are
// derived with the same default (see internal/clusterkey).
const DefaultTag = clusterkey.DefaultTag

// labelPrefix prefixes the tag in memberlist's label; memberlist limits a
// label to 255 bytes.
const labelPrefix = "objstore/"

// maxTagLen keeps labelPrefix+Tag within memberlist's 255-byte label limit.
const maxTagLen = 255 - len(labelPrefix)

// Config configures a cluster member.
type Config struct {
	// NodeID is this node's ID, its memberlist node name. Required.
	NodeID string
	// BindAddr is the private address (host:port) given by --private-addr:
	// gossip (TCP and UDP) and the private HTTP API share this one port. The
	// host must be an IP address; an empty host or 0.0.0.0 / :: listens on
	// every interface. Port 0 picks a free port (see Cluster.Addr).
	BindAddr string
	// AdvertiseAddr is the host:port other members should use to reach this
	// node. Empty means BindAddr, or, when BindAddr's host is unspecified,
	// the address memberlist would pick (a private IP of this machine). A
	// bare host takes BindAddr's port; a host name is resolved at start.
	AdvertiseAddr string
	// Join lists addresses (host:port; a bare host means DefaultPort) of any
	// members to join. Empty starts a cluster of one that others can join.
	// A host name stands for every address it resolves to (A and AAAA),
	// looked up again at each visit: a Kubernetes headless Service's name
	// finds every pod of a StatefulSet, those that come later too.
	Join []string
	// Resolver looks up the host names of Join and AdvertiseAddr. Nil means
	// net.DefaultResolver; tests point it at a DNS server of their own.
	Resolver Resolver
	// Tag names the cluster; empty means DefaultTag. Members with other tags
	// cannot talk to this one (memberlist's label is "objstore/" + Tag).
	Tag string
	// Key is the shared cluster key; empty means none: gossip is then not
	// encrypted. (The private API's authentication, internal/peerapi, is
	// keyed with it too, by the caller.)
	Key string
	// TLS, if set, puts every TCP connection of the private port, gossip
	// streams and HTTP, in and out, under mutual TLS with the cluster's CA;
	// connections without a certificate the CA signed are refused. UDP
	// gossip stays sealed by Key only. Nil: plain TCP.
	TLS *tlsconf.Peer
	// Handler serves the private HTTP API (routes under /private/v1/) on
	// BindAddr; it authenticates requests itself. Nil answers 404 to every
	// request.
	Handler http.Handler
	// Logger receives the cluster's and memberlist's logs. Nil discards.
	Logger *slog.Logger
	// OnChange, if set, is called from a goroutine the Cluster owns when a
	// member joins, changes state or leaves; changes of one member that
	// arrive while a call runs are coalesced to the latest.
	OnChange func(objstore.Member)
}

// Validate reports the first problem with the configuration.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("cluster: node id is required")
	}
	if _, _, err := splitBind(c.BindAddr); err != nil {
		return err
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitAdvertise(c.AdvertiseAddr, 1); err != nil {
			return err
		}
	}
	for _, j := range c.Join {
		if _, err := normalizeJoin(j); err != nil {
			return err
		}
	}
	if len(c.Tag) > maxTagLen {
		return fmt.Errorf("cluster: tag is %d bytes long, at most %d allowed", len(c.Tag), maxTagLen)
	}
	return nil
}

// Resolver looks up a host's IP addresses; *net.Resolver is one.
type Resolver interface {
	LookupIP(ctx context.Context, network, host string) ([]net.IP, error)
}

var _ Resolver = (*net.Resolver)(nil)

// resolver returns the configured resolver or net.DefaultResolver.
func (c Config) resolver() Resolver {
	if c.Resolver == nil {
		return net.DefaultResolver
	}
	return c.Resolver
}

// label is memberlist's Config.Label for the configured tag.
func (c Config) label() string {
	if c.Tag == "" {
		return labelPrefix + DefaultTag
	}
	return labelPrefix + c.Tag
}

// logger returns the configured logger or one that discards.
func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// splitBind parses BindAddr into an IP (nil when unspecified) and a port.
func splitBind(addr string) (net.IP, int, error) {
	host, sport, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: private address %q: %w", addr, err)
	}
	port, err := parsePort(sport)
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: private address %q: %w", addr, err)
	}
	if host == "" {
		return nil, port, nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, 0, fmt.Errorf("cluster: private address %q: host must be an IP address", addr)
	}
	if ip.IsUnspecified() {
		return nil, port, nil
	}
	return ip, port, nil
}

// splitAdvertise parses an advertise address; a bare host takes defPort.
func splitAdvertise(addr string, defPort int) (string, int, error) {
	host, sport, err := net.SplitHostPort(addr)
	if err != nil {
		host, sport = strings.Trim(addr, "[]"), strconv.Itoa(defPort)
	}
	port, err := parsePort(sport)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("cluster: advertise address %q: bad port", addr)
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		return "", 0, fmt.Errorf("cluster: advertise address %q: needs a host other members can reach", addr)
	}
	return host, port, nil
}

// normalizeJoin turns a join address into host:port, adding DefaultPort to
// a bare host (a bare IPv6 address included).
func normalizeJoin(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("cluster: empty join address")
	}
	host, sport, err := net.SplitHostPort(addr)
	if err != nil {
		host, sport = strings.Trim(addr, "[]"), strconv.Itoa(DefaultPort)
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return "", fmt.Errorf("cluster: join address %q: %w", addr, err)
		}
	}
	port, err := parsePort(sport)
	if err != nil || port == 0 || host == "" {
		return "", fmt.Errorf("cluster: join address %q: want host or host:port", addr)
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// parsePort parses a decimal port number 0..65535.
func parsePort(s string) (int, error) {
	port, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return int(port), nil
}

// gossipKey derives memberlist's 32-byte SecretKey (AES-256) from the
// cluster key and tag with HKDF (see internal/clusterkey); nil without a
// key.
func gossipKey(key, tag string) []byte {
	return clusterkey.Derive(key, tag, clusterkey.Gossip)
}
