package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/peerapi"
	"sphere.software/objstore/internal/s3api"
	"sphere.software/objstore/internal/sigv4"
)

// How a node without configured S3 credentials gets its cluster's
// generated ones (see docs/DESIGN.md, "S3 API credentials in a cluster").
const (
	// askRetry is how often a node without keys asks its members.
	askRetry = 500 * time.Millisecond
	// generateAfter is how long a node without keys waits for its members
	// before the one with the lowest ID among those alive generates a pair.
	generateAfter = 3 * time.Second
	// generateAnyway is how long it waits before generating regardless.
	generateAnyway = 30 * time.Second
	// askTimeout bounds one request to one member.
	askTimeout = 5 * time.Second
)

// peerKeys is what s3Keys needs of the cluster.
type peerKeys interface {
	// Members lists the cluster's members, this node included.
	Members() []objstore.Member
	// Credentials asks m for its shared credentials.
	Credentials(ctx context.Context, m objstore.Member) (peerapi.SharedCredentials, error)
}

// clusterPeers is peerKeys over the cluster's members and the private API.
type clusterPeers struct {
	members func() []objstore.Member
	client  *peerapi.Client
	key     []byte // peerapi.CredentialsKey of the cluster key
}

func (p clusterPeers) Members() []objstore.Member { return p.members() }

func (p clusterPeers) Credentials(ctx context.Context, m objstore.Member) (peerapi.SharedCredentials, error) {
	return p.client.Credentials(ctx, m, p.key)
}

// s3Keys are the access keys the S3 API accepts, and what the node tells
// its members about them. Configured keys (flag, environment, file) are
// this node's alone. Without them, the node uses its cluster's generated
// pairs: kept in the state dir's s3-credentials file, learned from members
// (only a node that finds no cluster generates one) and handed to them.
type s3Keys struct {
	keys       *s3api.KeySet
	configured bool   // keys came from flag, environment or file
	generated  bool   // keys are the cluster's generated ones
	path       string // the state dir's s3-credentials file, when generated
	nodeID     string
	shared     bool          // generated, and a cluster key: keys may cross the private API
	every      time.Duration // how often a member is asked once the node has keys
	log        *slog.Logger

	warned map[string]bool // members whose configured keys were reported; run's own
	mu     sync.Mutex      // guards stop
	stop   func()          // cancels run and waits for it; nil before start
}

// fixedKeys are configured keys, or none (anonymous writes): nothing to
// learn or share.
func fixedKeys(creds []sigv4.Credentials) (*s3Keys, error) {
	keys, err := s3api.NewKeySet(creds)
	if err != nil {
		return nil, err
	}
	return &s3Keys{keys: keys, configured: len(creds) > 0}, nil
}

// openGeneratedKeys loads the node's generated credentials from path. When
// there are none it generates a pair if the node cannot learn one: it joins
// no one (-N is empty) or has no cluster key. Otherwise the set stays empty
// until run learns the cluster's pair.
func openGeneratedKeys(cfg Config, nodeID, path string, log *slog.Logger) (*s3Keys, error) {
	g := &s3Keys{generated: true, path: path, nodeID: nodeID, shared: cfg.ClusterKey != "", every: cfg.SyncInterval,
		log: log, warned: map[string]bool{}}
	stored, err := s3api.ReadCredentialsFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if g.keys, err = s3api.NewKeySet(stored); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !g.shared && len(cfg.Nodes) > 0 {
		log.Warn("no cluster key: generated S3 credentials are not shared with other nodes, so each node accepts its own only; " +
			"set --cluster-key, or the same --s3-api-credentials on every node")
	}
	if g.keys.Len() == 0 && (len(cfg.Nodes) == 0 || !g.shared) {
		if err := g.generate("this node starts a cluster"); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// share is what this node hands its members: its generated keys, or the
// fact that its keys are configured (never the keys themselves).
func (g *s3Keys) share() peerapi.SharedCredentials {
	switch {
	case g.configured:
		return peerapi.SharedCredentials{Configured: true}
	case g.shared:
		return peerapi.SharedCredentials{Generated: g.keys.List()}
	}
	return peerapi.SharedCredentials{}
}

// generate makes a new pair, stores it and adds it to the set.
func (g *s3Keys) generate(why string) error {
	c := s3api.GenerateCredentials()
	if err := g.store([]sigv4.Credentials{c}); err != nil {
		return err
	}
	g.keys.Add(c)
	g.log.Info("generated S3 API credentials", "access_key", c.AccessKey, "file", g.path, "why", why)
	return nil
}

// store writes the set and more to the file, durably, before they are used:
// a key a client was given must survive a restart.
func (g *s3Keys) store(more []sigv4.Credentials) error {
	all := append(g.keys.List(), more...)
	return s3api.WriteCredentialsFile(g.path, all,
		"generated S3 API keys of this node's cluster, shared by its nodes that have no --s3-api-credentials")
}

// start runs the learning loop until stopKeys; without a cluster key there
// is nothing to learn.
func (g *s3Keys) start(ctx context.Context, peers peerKeys) {
	if !g.shared {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.run(ctx, peers)
	}()
	g.mu.Lock()
	g.stop = func() { cancel(); <-done }
	g.mu.Unlock()
}

// stopKeys stops the learning loop and waits for it.
func (g *s3Keys) stopKeys() {
	g.mu.Lock()
	stop := g.stop
	g.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// run first gets the cluster's keys if the node has none, then asks one
// random member per sync interval for keys it lacks: so pairs generated on
// both sides of a cluster that formed in pieces reach every node.
func (g *s3Keys) run(ctx context.Context, peers peerKeys) {
	if g.keys.Len() == 0 {
		g.bootstrap(ctx, peers)
	}
	tick := time.NewTicker(g.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if others := aliveOthers(peers.Members(), g.nodeID); len(others) > 0 {
			g.ask(ctx, peers, others[rand.IntN(len(others))])
		}
	}
}

// bootstrap asks every member until one has keys. Nodes started together
// all have none: after generateAfter the one with the lowest ID among those
// alive (or a node still alone) generates, and the others learn its pair.
func (g *s3Keys) bootstrap(ctx context.Context, peers peerKeys) {
	g.log.Info("S3 API: no credentials yet; asking the cluster for its generated ones")
	start := time.Now()
	tick := time.NewTicker(askRetry)
	defer tick.Stop()
	for {
		others := aliveOthers(peers.Members(), g.nodeID)
		for _, m := range others {
			if g.ask(ctx, peers, m) {
				return
			}
		}
		waited := time.Since(start)
		if waited >= generateAnyway || (waited >= generateAfter && lowestID(g.nodeID, others)) {
			why := fmt.Sprintf("no member had generated credentials after %s (%d alive)", waited.Round(time.Second), len(others))
			if err := g.generate(why); err != nil {
				g.log.Error("cannot store generated S3 API credentials; retrying", "file", g.path, "err", err)
			} else {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ask gets m's shared credentials and keeps those the node lacks; it
// reports whether the node has any keys afterwards.
func (g *s3Keys) ask(ctx context.Context, peers peerKeys, m objstore.Member) bool {
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	sc, err := peers.Credentials(actx, m)
	if err != nil {
		g.log.Debug("cannot get a member's generated S3 credentials", "member", m.ID, "addr", m.Addr, "err", err)
		return g.keys.Len() > 0
	}
	if sc.Configured && !g.warned[m.ID] {
		g.warned[m.ID] = true
		g.log.Warn("a member uses configured S3 credentials while this node uses generated ones: a client's key works on some nodes only; "+
			"set the same --s3-api-credentials on every node", "member", m.ID, "addr", m.Addr)
	}
	g.learn(sc.Generated, m)
	return g.keys.Len() > 0
}

// learn stores and adds the credentials of creds the set lacks.
func (g *s3Keys) learn(creds []sigv4.Credentials, from objstore.Member) {
	var fresh []sigv4.Credentials
	for _, c := range creds {
		secret, ok := g.keys.Secret(c.AccessKey)
		switch {
		case ok && secret != c.SecretKey:
			g.log.Warn("a member has another secret for a generated S3 access key; keeping this node's", "member", from.ID, "access_key", c.AccessKey)
		case !ok && c.AccessKey != "" && c.SecretKey != "" && !slices.ContainsFunc(fresh, func(f sigv4.Credentials) bool { return f.AccessKey == c.AccessKey }):
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 {
		return
	}
	if err := g.store(fresh); err != nil {
		g.log.Error("cannot store the cluster's generated S3 API credentials; will retry", "file", g.path, "err", err)
		return
	}
	g.keys.Add(fresh...)
	g.log.Info("learned the cluster's generated S3 API credentials", "from", from.ID, "access_keys", s3api.AccessKeys(fresh), "file", g.path)
}

// aliveOthers are the members other than self that are alive.
func aliveOthers(ms []objstore.Member, self string) []objstore.Member {
	var out []objstore.Member
	for _, m := range ms {
		if m.ID != self && m.State == "alive" {
			out = append(out, m)
		}
	}
	return out
}

// lowestID reports whether self sorts before every member's ID.
func lowestID(self string, others []objstore.Member) bool {
	for _, m := range others {
		if m.ID < self {
			return false
		}
	}
	return true
}
