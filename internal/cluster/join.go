package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"sphere.software/objstore"
)

const (
	// joinBackoffMin and joinBackoffMax bound the wait between attempts to
	// join a seed that could not be joined: it doubles from min to max.
	joinBackoffMin = time.Second
	joinBackoffMax = 10 * time.Second
	// seedCheckInterval is how often a seed that is an alive member is
	// checked again: a look at the member list (and a DNS lookup for a
	// host name), no network traffic to the seed.
	seedCheckInterval = 2 * time.Second
	// seedRejoinInterval is the wait between joins of a seed that answered
	// but is listed under another address (NAT, a host name, a node bound
	// to every interface, or this node itself): it cannot be told from the
	// member list, so it is joined again now and then, which is cheap (one
	// push/pull exchange) and merges islands that formed anyway.
	seedRejoinInterval = 30 * time.Second
	// maintainTick is how often maintain looks at what is due.
	maintainTick = 250 * time.Millisecond
	// reconnectInterval is the wait between attempts to reach members
	// declared dead.
	reconnectInterval = 5 * time.Second
	// syncAfterArrival is the least wait between two state exchanges that
	// new members trigger (see syncState); syncFanout is how many members
	// of the cluster, on average, do one for each arrival.
	syncAfterArrival = time.Second
	syncFanout       = 8
	// pushPullInterval is memberlist's period of full state exchanges with
	// a random member (its default, 30 s, leaves a member that missed the
	// gossip of a merge unaware of the other side that long); memberlist
	// scales it up for clusters above 32 members.
	pushPullInterval = 10 * time.Second
)

// seed is one address of Config.Join and where joining it stands. Only
// maintain's round touches a seed (one goroutine per seed in a round).
type seed struct {
	target  string            // normalised host:port as configured
	backoff time.Duration     // wait after the next failure
	next    time.Time         // earliest next visit
	met     bool              // the last visit found it a member
	logged  string            // the failure last logged at info (or error)
	refusal map[string]string // per address, the line that says why it refused to join
}

// newSeeds returns one seed per distinct join address, all due now.
func newSeeds(targets []string) []*seed {
	var out []*seed
	seen := make(map[string]bool)
	for _, t := range targets {
		if !seen[t] {
			seen[t] = true
			out = append(out, &seed{target: t, backoff: joinBackoffMin, refusal: make(map[string]string)})
		}
	}
	return out
}

// outcome is what a visit to a seed found.
type outcome int

const (
	seedMet     outcome = iota // every address is an alive member (or this node)
	seedReached                // joined, but some address is not a member's
	seedFailed                 // some address could not be joined
)

// schedule sets when s is visited next after a visit at now.
func (s *seed) schedule(now time.Time, o outcome) {
	switch o {
	case seedMet:
		s.backoff, s.next = joinBackoffMin, now.Add(seedCheckInterval)
	case seedReached:
		s.backoff, s.next = joinBackoffMin, now.Add(seedRejoinInterval)
	default:
		s.next = now.Add(s.backoff)
		s.backoff = min(2*s.backoff, joinBackoffMax)
	}
	s.met = o != seedFailed
}

// maintain keeps the node in one cluster with all its seeds until ctx is
// done. Each seed (Config.Join address) is joined, with backoff, until it
// is an alive member, and joined again whenever it is not: a node does not
// stop when someone else has joined it, because then nodes started at once
// would form islands that never meet (node 3 joined by node 4 before it
// reached node 2). Seeds met stay checked, so a seed that restarts or an
// island that formed anyway merges. All along it retries the members
// declared dead: memberlist gossips to a dead member only for a while
// (GossipToTheDeadTime) and never pushes its state to one, so without this
// two sides of a partition that lasted longer would never merge again.
func (c *Cluster) maintain(ctx context.Context) {
	defer c.wg.Done()
	if len(c.seeds) == 0 {
		c.log.Info("cluster: no members to join given: this node starts alone, others may join it", "addr", c.addr)
	}
	tick := time.NewTicker(maintainTick)
	defer tick.Stop()
	var nextReconnect, nextSync time.Time
	var arrivals uint64
	for {
		now := time.Now()
		reconnect := !now.Before(nextReconnect)
		if reconnect {
			c.ms.prune(now)
			nextReconnect = now.Add(reconnectInterval)
		}
		exchange := false
		if a := c.ms.arrivals.Load(); a != arrivals && !now.Before(nextSync) {
			arrivals, nextSync = a, now.Add(syncAfterArrival)
			exchange = rand.IntN(max(c.ms.alive(), syncFanout)) < syncFanout
		}
		c.round(ctx, now, reconnect, exchange)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// round visits every seed that is due, if reconnect every member declared
// dead, and if exchange one random member (see syncState), all at once (an
// address that does not answer may take memberlist's TCP timeout, 10 s),
// and waits for them.
func (c *Cluster) round(ctx context.Context, now time.Time, reconnect, exchange bool) {
	var wg sync.WaitGroup
	for _, s := range c.seeds {
		if now.Before(s.next) {
			continue
		}
		wg.Go(func() {
			o := c.visit(ctx, s)
			if o != seedFailed {
				c.reached.Store(true)
			}
			s.schedule(time.Now(), o)
		})
	}
	if reconnect {
		for _, m := range c.ms.dead() {
			wg.Go(func() { c.reconnect(ctx, m) })
		}
	}
	if exchange {
		wg.Go(c.syncState)
	}
	wg.Wait()
}

// syncState exchanges the full membership with a random alive member
// (memberlist's push/pull, which Join does). maintain calls it after new
// members arrived, at most every syncAfterArrival, on syncFanout members
// of the cluster on average: when islands merge, memberlist's gossip of
// the new members reaches most nodes but, measured with ten nodes started
// at once, not always all, and its own push/pull comes only every
// pushPullInterval.
func (c *Cluster) syncState() {
	m, ok := c.ms.randomAlive()
	if !ok {
		return
	}
	if _, err := c.ml.Join([]string{m.Addr}); err != nil {
		c.log.Debug("cluster: state exchange failed", "id", m.ID, "addr", m.Addr, "err", flatten(err))
	}
}

// visit joins each address of s that is not an alive member.
func (c *Cluster) visit(ctx context.Context, s *seed) outcome {
	addrs, err := resolveJoin(ctx, c.resolver, s.target)
	if err != nil {
		c.joinFailed(s, s.target, err, nil)
		return seedFailed
	}
	o := seedMet
	for _, addr := range addrs {
		if ctx.Err() != nil {
			return seedFailed
		}
		if addr == c.addr || addr == c.bind || c.ms.aliveAt(addr) {
			continue // ourselves (the same list is often given to every node), or met
		}
		if !c.joinOne(ctx, s, addr) {
			o = seedFailed
		} else if o == seedMet && !c.ms.aliveAt(addr) {
			o = seedReached
		}
	}
	return o
}

// joinOne joins the member at addr (an address of s) and reports whether
// it answered and merged its view with ours.
func (c *Cluster) joinOne(ctx context.Context, s *seed, addr string) bool {
	c.tr.forgetDial(addr)
	_, err := c.ml.Join([]string{addr})
	if err == nil {
		level := c.log.Debug
		if !s.met {
			level = c.log.Info
		}
		s.logged = ""
		delete(s.refusal, addr)
		level("cluster: joined cluster", "via", addr, "members", c.ms.alive())
		return true
	}
	dialled, dialErr := c.tr.dialOutcome(addr)
	if !dialled || dialErr != nil {
		c.joinFailed(s, addr, err, dialErr)
		return false
	}
	// The connection was made, then memberlist dropped it or answered with
	// an error: it is not a member's private port, or it did not accept our
	// label or our key.
	// Logged at every attempt: a misconfiguration the operator must fix.
	// The address is looked at once, not at every attempt: the look is a
	// request the other side's private API would log as rejected.
	if s.refusal[addr] == "" {
		s.refusal[addr] = c.refusal(ctx, addr)
	}
	s.logged = s.refusal[addr]
	c.log.Error(s.logged, "tag", c.tag, "encrypted", c.encrypted, "err", flatten(err))
	return false
}

// flatten turns memberlist's multi-line multierror into one line.
func flatten(err error) string {
	var multi interface{ WrappedErrors() []error }
	if !errors.As(err, &multi) {
		return err.Error()
	}
	msgs := make([]string, 0, len(multi.WrappedErrors()))
	for _, e := range multi.WrappedErrors() {
		msgs = append(msgs, e.Error())
	}
	return strings.Join(msgs, "; ")
}

// joinFailed logs that addr (of s) could not be reached, at info the first
// time and whenever the reason changes, at debug otherwise.
func (c *Cluster) joinFailed(s *seed, addr string, err, dialErr error) {
	if dialErr != nil {
		err = dialErr
	}
	msg := "cluster: member to join not reachable (unreachable); retrying"
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "cluster: member to join not reachable (nothing listens there yet); retrying"
	case errors.As(err, &dnsErr):
		// A headless Service's name has no address until a pod is listed.
		msg = "cluster: member to join has no address (its name does not resolve yet); retrying"
	}
	level := c.log.Debug
	if s.logged != msg {
		s.logged = msg
		level = c.log.Info
	}
	level(msg, "addr", addr, "err", flatten(err))
}

// resolveJoin returns the host:port addresses a join address stands for:
// itself for an IP address, one per IP address of a host name (A and AAAA
// records, in the resolver's order, each once). It is called at every
// visit of the seed, so the addresses follow the name: the pods a
// headless Service lists now, not those it listed at start.
func resolveJoin(ctx context.Context, r Resolver, target string) ([]string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip != nil {
		return []string{net.JoinHostPort(ip.String(), port)}, nil
	}
	ips, err := r.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ips))
	seen := make(map[string]bool, len(ips))
	for _, ip := range ips {
		a := net.JoinHostPort(ip.String(), port)
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return out, nil
}

// reconnect tries to join m, a member declared dead; a success merges the
// two views and both sides refute their death.
func (c *Cluster) reconnect(ctx context.Context, m objstore.Member) {
	if ctx.Err() != nil {
		return
	}
	if _, err := c.ml.Join([]string{m.Addr}); err != nil {
		c.log.Debug("cluster: dead member still unreachable", "id", m.ID, "addr", m.Addr, "err", flatten(err))
		return
	}
	c.log.Info("cluster: reached a member declared dead; it should come back alive", "id", m.ID, "addr", m.Addr)
}
