package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"sphere.software/objstore"
)

const (
	// leaveTimeout bounds the wait for the leave broadcast in Close when
	// its context has no earlier deadline.
	leaveTimeout = 3 * time.Second
	// deadNodeReclaimTime lets a node take its name back from a dead member
	// with another address after this long (memberlist's default: never).
	deadNodeReclaimTime = 30 * time.Second
	// readHeaderTimeout and idleTimeout bound slow and idle private clients;
	// there is no write timeout because bodies stream.
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// noKeyWarning is logged at start when the cluster has no key.
const noKeyWarning = "no cluster key: gossip is not encrypted and the private API accepts unauthenticated requests; set --cluster-key"

// Cluster is this node's membership in its cluster and the server of the
// private HTTP API on its port.
type Cluster struct {
	log       *slog.Logger
	id        string
	addr      string   // advertised private host:port
	bind      string   // bound host:port
	join      []string // normalised Config.Join
	seeds     []*seed  // one per distinct join address; maintain's own
	resolver  Resolver // looks up the host names of seeds
	tag       string
	encrypted bool

	tr   *transport
	ml   *memberlist.Memberlist
	ms   *members
	meta *nodeMeta
	srv  *http.Server

	reached atomic.Bool // a seed was joined (or was only this node) once

	cancel    context.CancelFunc // stops maintain and notify
	wg        sync.WaitGroup     // maintain, notify, the HTTP server
	closeOnce sync.Once
	closeErr  error
}

// Start listens on cfg.BindAddr (failing at once if the port is taken),
// starts memberlist and the private HTTP server on that port, and joins
// cfg.Join in the background (see the package doc, "Joining"). ctx bounds
// the start only; the Cluster runs until Close.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		log: cfg.logger(), id: cfg.NodeID, tag: cfg.label()[len(labelPrefix):],
		encrypted: cfg.Key != "",
		ms:        newMembers(cfg.NodeID, cfg.OnChange != nil, cfg.logger()), meta: &nodeMeta{},
		resolver: cfg.resolver(),
	}
	for _, j := range cfg.Join {
		n, _ := normalizeJoin(j) // Validate checked it
		c.join = append(c.join, n)
	}
	c.seeds = newSeeds(c.join)
	tr, err := listen(cfg.BindAddr, cfg.TLS, c.log)
	if err != nil {
		return nil, err
	}
	c.tr = tr
	c.bind = hostPort(tr.bindIP, tr.port())
	if err := c.startMemberlist(ctx, cfg); err != nil {
		_ = tr.Shutdown() // the start error is the one to report
		return nil, err
	}
	c.serveHTTP(cfg)
	c.run(cfg)
	return c, nil
}

// startMemberlist creates the memberlist on the transport and records the
// address it advertises.
func (c *Cluster) startMemberlist(ctx context.Context, cfg Config) error {
	advIP, advPort, err := resolveAdvertise(ctx, c.resolver, cfg.AdvertiseAddr, c.tr.port())
	if err != nil {
		return err
	}
	conf := memberlist.DefaultLANConfig()
	conf.Name = cfg.NodeID
	conf.Transport = c.tr
	conf.BindPort = c.tr.port()
	conf.AdvertiseAddr, conf.AdvertisePort = advIP, advPort
	conf.Label = cfg.label()
	conf.SecretKey = gossipKey(cfg.Key, cfg.Tag)
	conf.GossipVerifyIncoming, conf.GossipVerifyOutgoing = true, true
	conf.DeadNodeReclaimTime = deadNodeReclaimTime
	conf.PushPullInterval = pushPullInterval
	conf.Events = c.ms
	conf.Delegate = c.meta
	conf.Logger = newMemberlistLogger(c.log)
	ml, err := memberlist.Create(conf)
	if err != nil {
		return fmt.Errorf("cluster: start memberlist: %w", err)
	}
	c.ml = ml
	// Create announced this node alive, so the event delegate knows its
	// address. (ml.LocalNode's fields are read without memberlist's lock.)
	c.addr = c.ms.get(cfg.NodeID).Addr
	return nil
}

// serveHTTP serves the private API on the transport's HTTP listener.
func (c *Cluster) serveHTTP(cfg Config) {
	h := cfg.Handler
	if h == nil {
		h = http.NotFoundHandler()
	}
	c.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.srv.Serve(c.tr.http); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("cluster: private HTTP server stopped", "err", err)
		}
	}()
}

// run logs the start and starts the goroutines Close stops.
func (c *Cluster) run(cfg Config) {
	c.log.Info("cluster: started", "id", c.id, "addr", c.addr, "bind", c.bind, "tag", c.tag,
		"encrypted", c.encrypted, "tls", c.tr.tls != nil, "join", c.join)
	if !c.encrypted {
		c.log.Warn(noKeyWarning)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(1)
	go c.maintain(ctx)
	if cfg.OnChange != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.ms.notify(ctx, cfg.OnChange)
		}()
	}
}

// Addr is the private address (host:port) this node advertises.
func (c *Cluster) Addr() string { return c.addr }

// Joined reports whether this node has joined its cluster: it was given
// no member to join (it starts alone, by configuration), or it has joined
// one of them at least once (a seed that is only this node counts), or
// another member is alive (it joined this node). It stays true when peers
// go later: a node cut off from the others still serves what it holds.
func (c *Cluster) Joined() bool {
	return len(c.seeds) == 0 || c.reached.Load() || c.ms.alive() > 1
}

// Members returns every known member, this node included (Self set),
// sorted by ID. Members that are dead or left stay listed for a day.
func (c *Cluster) Members() []objstore.Member { return c.ms.list() }

// SourceIP is the IP this node binds to, from which calls to other members
// should be dialled (see the package doc, "One port"); nil when it is
// bound to every interface.
func (c *Cluster) SourceIP() net.IP { return c.tr.bindIP }

// Close leaves the cluster and stops everything Start started. Order: stop
// the join loop and OnChange calls (no new work); announce the leave, each
// broadcast bounded by ctx and leaveTimeout, so that the others list this
// node as left at once rather than dead after a timeout; drain the HTTP server (bounded by ctx,
// then forced) while memberlist still answers; shut memberlist down, which
// closes the transport and waits for its goroutines; wait for ours.
// Memberlist's own goroutines end on their own shortly after its shutdown.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

func (c *Cluster) close(ctx context.Context) error {
	c.cancel()
	var errs []error
	c.leave(ctx)
	if err := c.srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("cluster: drain private HTTP server: %w", err))
		_ = c.srv.Close() // forced after the drain failed; that error is reported
	}
	if err := c.ml.Shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("cluster: shut down memberlist: %w", err))
	}
	c.wg.Wait()
	c.log.Info("cluster: stopped", "id", c.id)
	return errors.Join(errs...)
}

// leave announces that this node is leaving: first its meta metaLeaving
// (so that the others list it "left", not "dead": see members.NotifyLeave),
// then memberlist's leave. Each waits until its broadcast has gone out.
func (c *Cluster) leave(ctx context.Context) {
	c.meta.leaving.Store(true)
	err := c.ml.UpdateNode(leaveWait(ctx))
	if err == nil {
		err = c.ml.Leave(leaveWait(ctx))
	}
	if err != nil {
		c.log.Warn("cluster: leave not announced; the others will find this node dead", "err", err)
	}
}

// leaveWait is the time Leave may take: leaveTimeout, or less if ctx ends
// sooner (at least a millisecond: memberlist treats 0 as no limit).
func leaveWait(ctx context.Context) time.Duration {
	d := leaveTimeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return max(d, time.Millisecond)
}
