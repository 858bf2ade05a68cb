package cluster

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"
)

const (
	// joinBackoffMin and joinBackoffMax bound the wait between rounds of
	// join attempts while the node is alone: it doubles from min to max.
	joinBackoffMin = time.Second
	joinBackoffMax = 10 * time.Second
	// reconnectInterval is the wait between attempts to reach members
	// declared dead, once the node is in a cluster.
	reconnectInterval = 5 * time.Second
)

// maintain keeps the node in its cluster until ctx is done. While the node
// is alone it joins the configured addresses, with backoff, until a join
// succeeds: so a node started before its peers finds them when they come
// up. All along it retries the members declared dead: memberlist gossips
// to a dead member only for a while (GossipToTheDeadTime) and never pushes
// its state to one, so without this two sides of a partition that lasted
// longer would never merge again.
func (c *Cluster) maintain(ctx context.Context) {
	defer c.wg.Done()
	if len(c.join) == 0 {
		c.log.Info("cluster: no members to join given: this node starts alone, others may join it", "addr", c.addr)
	}
	backoff := joinBackoffMin
	for {
		wait := reconnectInterval
		if c.ms.alive() <= 1 && len(c.join) > 0 {
			if c.joinAny(ctx) {
				backoff = joinBackoffMin
			} else {
				wait, backoff = backoff, min(2*backoff, joinBackoffMax)
			}
		}
		c.reconnect(ctx)
		c.ms.prune(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// joinAny tries the configured addresses in turn until one join makes this
// node part of a cluster, and reports whether one did.
func (c *Cluster) joinAny(ctx context.Context) bool {
	for _, target := range c.join {
		addrs, err := resolveJoin(ctx, target)
		if err != nil {
			c.joinFailed(target, target, err, nil)
			continue
		}
		for _, addr := range addrs {
			if ctx.Err() != nil {
				return false
			}
			if addr == c.addr || addr == c.bind {
				continue // ourselves: the same list is often given to every node
			}
			if c.joinOne(target, addr) {
				return true
			}
		}
	}
	return false
}

// joinOne joins the member at addr (resolved from target) and reports
// whether the node is now in a cluster.
func (c *Cluster) joinOne(target, addr string) bool {
	c.tr.forgetDial(addr)
	_, err := c.ml.Join([]string{addr})
	if err == nil && c.ms.alive() > 1 {
		delete(c.joinLog, target)
		c.log.Info("cluster: joined cluster", "via", addr, "members", c.ms.alive())
		return true
	}
	if err == nil {
		return false // it was this node under another name
	}
	dialled, dialErr := c.tr.dialOutcome(addr)
	if !dialled || dialErr != nil {
		c.joinFailed(target, addr, err, dialErr)
		return false
	}
	// The connection was made, then memberlist dropped it or answered with
	// an error: it did not accept our label or our key.
	c.log.Error("cluster: join refused: "+addr+" answered but did not accept this node: cluster tag mismatch or wrong cluster key?",
		"tag", c.tag, "encrypted", c.encrypted, "err", flatten(err))
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

// joinFailed logs that target could not be reached, at info the first time
// and whenever the reason changes, at debug otherwise.
func (c *Cluster) joinFailed(target, addr string, err, dialErr error) {
	if dialErr != nil {
		err = dialErr
	}
	reason := "unreachable"
	if errors.Is(err, syscall.ECONNREFUSED) {
		reason = "nothing listens there yet"
	}
	level := c.log.Debug
	if c.joinLog[target] != reason {
		c.joinLog[target] = reason
		level = c.log.Info
	}
	level("cluster: member to join not reachable ("+reason+"); retrying", "addr", addr, "err", flatten(err))
}

// resolveJoin returns the host:port addresses a join address stands for:
// itself for an IP address, one per IP address of a host name.
func resolveJoin(ctx context.Context, target string) ([]string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip != nil {
		return []string{net.JoinHostPort(ip.String(), port)}, nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip.String(), port)
	}
	return out, nil
}

// reconnect tries to join each member declared dead; a success merges the
// two views and both sides refute their death.
func (c *Cluster) reconnect(ctx context.Context) {
	for _, m := range c.ms.dead() {
		if ctx.Err() != nil {
			return
		}
		if _, err := c.ml.Join([]string{m.Addr}); err != nil {
			c.log.Debug("cluster: dead member still unreachable", "id", m.ID, "addr", m.Addr, "err", flatten(err))
			continue
		}
		c.log.Info("cluster: reached a member declared dead; it should come back alive", "id", m.ID, "addr", m.Addr)
	}
}
