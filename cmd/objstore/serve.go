package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"sphere.software/objstore/internal/cluster"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/peerapi"
	"sphere.software/objstore/internal/requestid"
	"sphere.software/objstore/internal/s3api"
	"sphere.software/objstore/internal/warm"
)

// serve opens the node's parts, serves until ctx ends, then shuts down in
// reverse order: stop accepting and drain requests, stop the node's
// background work, close the body store and last the journal.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	// The certificates first: a bad one fails the start before anything
	// is written.
	publicTLS, peerTLS, err := cfg.TLS.load(log.With("part", "tls"))
	if err != nil {
		return err
	}
	j, err := journal.Open(filepath.Join(cfg.StateDir, "journal.db"), journal.Options{Logger: log.With("part", "journal")})
	if err != nil {
		return err
	}
	defer closeLogged(log, "journal", j.Close)
	blobs, err := disk.Open(cfg.FilesDir, disk.Config{Quota: cfg.DiskQuota, NodeID: j.NodeID(), Logger: log.With("part", "disk"), FsyncEach: cfg.Durability.FsyncEachBody})
	if err != nil {
		return err
	}
	defer closeLogged(log, "disk", blobs.Close)
	mx := openMetrics(cfg, log) // before the origin, whose requests it counts
	remote, err := openRemote(ctx, cfg, log, mx.wrapOrigin())
	if err != nil {
		return err
	}
	defer stopRemote(log, remote, cfg.ShutdownWait)
	cache, err := cfg.Cache.nodeConfig(cfg.DiskQuota, cfg.StateDir)
	if err != nil {
		return err
	}
	n, err := node.New(ctx, node.Config{NodeID: j.NodeID(), MaxObjectSize: cfg.MaxObjectSize,
		HotCacheBytes: cfg.MemoryCache, SyncInterval: cfg.SyncInterval, TombstoneGrace: cfg.TombstoneGrace,
		Cache: cache, OriginTTL: cfg.OriginTTL, StaleIfError: cfg.StaleIfError, Scrub: cfg.Scrub.nodeConfig(cfg.StateDir), Outbox: cfg.Outbox.nodeConfig(), SmallBodyMax: cfg.Durability.nodeSmallBodyMax(), Logger: log.With("part", "node")}, j, node.AdaptBlobs(blobs), remote)
	if err != nil {
		return err
	}
	if err := mx.watch(n, j); err != nil {
		return err
	}
	log.Info("objstore node starting", "version", buildVersion(), "node_id", j.NodeID(),
		"origin", remote.String(), "bucket", cfg.Bucket, "state_dir", cfg.StateDir, "files_dir", cfg.FilesDir)
	access, err := openAccessLog(cfg.AccessLog, cfg.Ops.LogFormat, log)
	if err != nil {
		return err
	}
	defer closeLogged(log, "access log", access.Close)
	var s3srv *s3api.Server
	var s3keys *s3Keys
	if cfg.S3APIAddr != "" {
		if s3srv, s3keys, err = openS3API(ctx, cfg, log, n, blobs); err != nil {
			return err
		}
	}
	auth, err := nativeAuth(cfg, s3keys, log.With("part", "api"))
	if err != nil {
		return err
	}
	credsKey := peerapi.CredentialsKey(cfg.ClusterKey, cfg.Tag)
	private := peerapi.Authenticate(cfg.ClusterKey, cfg.Tag, j.NodeID(), privateHandler(peerapi.NewHandler(n, log.With("part", "peerapi")), s3srv, s3keys, credsKey, log), log.With("part", "peerapi"))
	cl, err := cluster.Start(ctx, cluster.Config{NodeID: j.NodeID(), BindAddr: cfg.PrivateAddr, Join: cfg.Nodes,
		Tag: cfg.Tag, Key: cfg.ClusterKey, TLS: peerTLS, Handler: requestid.Middleware(access.Handler("private", private)),
		Logger: log.With("part", "cluster"), OnChange: n.MemberChanged, Resolver: clusterResolver(os.Getenv)})
	if err != nil {
		return err
	}
	hc := peerapi.NewHTTPClient(peerapi.HTTPConfig{NodeID: j.NodeID(), ClusterKey: cfg.ClusterKey, Tag: cfg.Tag, SourceIP: cl.SourceIP(),
		Deadlines: cfg.Deadlines.Peer, TLS: peerTLS})
	defer hc.CloseIdleConnections()
	peers := peerapi.NewClient(hc)
	n.AttachCluster(cl, peers)
	if s3keys != nil {
		s3keys.start(ctx, clusterPeers{members: cl.Members, client: peers, key: credsKey})
	}
	warmer, err := warm.New(warm.Config{Logger: log.With("part", "warm")}, n)
	if err != nil {
		return err
	}
	status, err := startStatus(ctx, cfg.Status, cfg.Prices, n, log.With("part", "status"))
	if err != nil {
		return err
	}
	defer status.Close()
	api := httpapi.NewNative(httpapi.Config{Bucket: cfg.Bucket, Version: buildVersion(), MaxObjectSize: cfg.MaxObjectSize,
		Logger: log.With("part", "api"), Warm: warmer, Prices: cfg.Prices, Auth: auth, Status: status}, n)
	// Not an http.ServeMux: it would clean paths and answer "/api/v1/get/../x"
	// with a redirect, where the native API answers 400 or 404.
	events := httpapi.NewEvents(cfg.EventsToken, n, log.With("part", "events"))
	public := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == httpapi.EventsPath {
			events.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
	// /healthz and /readyz, unauthenticated, before the native API's routes
	// (and not counted in its metrics).
	probes := healthChecks(cfg, j, cl, remote)
	servers := []namedServer{{name: "native", addr: cfg.PublicAddr, handler: cluster.WithPrivateAddr(probes.Wrap(mx.instrument("native", httpapi.Operation, mx.public(public))), cl.Addr()),
		fast: fastAnswerer(cfg, api), onFast: mx.fast("native", "get", "head")}}
	if s3srv != nil {
		s3srv.AttachCluster(peerapi.NewForwarder(hc), n.Members)
		servers = append(servers, namedServer{name: "s3", addr: cfg.S3APIAddr, handler: cluster.WithPrivateAddr(mx.instrument("s3", s3srv.Operation, s3srv), cl.Addr()),
			fast: fastAnswerer(cfg, s3srv), onFast: mx.fast("s3", "GetObject", "HeadObject")})
	}
	if cfg.DebugAddr != "" {
		servers = append(servers, namedServer{name: "debug", addr: cfg.DebugAddr, handler: probes.Wrap(debugHandler())})
	}
	servers = append(servers, mx.servers()...)
	for i := range servers {
		servers[i].tls = publicTLS
	}
	err = runServers(ctx, cfg, log, access, servers)
	// The public API has drained; stop warm-up jobs and the node's
	// background work (the S3 keys' learning loop included), then leave the cluster (peers stop
	// sending), then the stores close.
	if s3keys != nil {
		s3keys.stopKeys()
	}
	status.Close() // no more samples of a node that is stopping (Close again by the defer is a no-op)
	closeCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
	defer cancel()
	if cerr := warmer.Close(closeCtx); cerr != nil { // warm-up reads through the node: stop it first
		log.Warn("warm-up did not stop in time", "err", cerr)
	}
	if cerr := n.Close(closeCtx); cerr != nil {
		log.Warn("node did not stop in time", "err", cerr)
	}
	if cerr := cl.Close(closeCtx); cerr != nil {
		log.Warn("cluster did not stop cleanly", "err", cerr)
	}
	return err
}

// privateHandler serves the private API: the replication routes, S3 requests
// that other nodes forward to this one (see internal/s3api), and the S3
// API's generated keys (peerapi.CredentialsPath).
func privateHandler(replicas http.Handler, s3srv *s3api.Server, keys *s3Keys, credsKey []byte, log *slog.Logger) http.Handler {
	if s3srv == nil {
		return replicas
	}
	forwarded := peerapi.Forwarded(http.HandlerFunc(s3srv.ServeForwarded))
	creds := peerapi.NewCredentialsHandler(credsKey, keys.share, log.With("part", "peerapi"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, peerapi.ForwardPrefix+"/"):
			forwarded.ServeHTTP(w, r)
		case r.URL.Path == peerapi.CredentialsPath:
			creds.ServeHTTP(w, r)
		default:
			replicas.ServeHTTP(w, r)
		}
	})
}

// fastAnswerer is api's fast path, or nil when --fast-path=false.
func fastAnswerer(cfg Config, api fastpath.Answerer) fastpath.Answerer {
	if !cfg.FastPath {
		return nil
	}
	return api
}

type namedServer struct {
	name, addr string
	handler    http.Handler
	// fast, when set, answers the API's hot GETs on the raw connection
	// before net/http sees it (internal/fastpath).
	fast fastpath.Answerer
	// onFast, when set, hears of each answer of the fast path (metrics).
	onFast func(net.Addr, *fastpath.Request, fastpath.Answer, time.Time)
	// tls, when set, serves HTTPS: the fast path reads and writes through
	// the TLS connection as through a plain one (see docs/DESIGN.md, TLS).
	tls *tls.Config
}

// The timeouts of every API server.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// runServers listens on every address first (so a port in use fails the
// start, and "listening" is logged only once the port is bound), serves
// until ctx ends, then drains all servers.
func runServers(ctx context.Context, cfg Config, log *slog.Logger, access *accessLog, servers []namedServer) error {
	lns, err := listenAll(servers)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range servers {
		ln := lns[i]
		if s.tls != nil {
			ln = tls.NewListener(ln, s.tls)
		}
		srv := &http.Server{Handler: requestid.Middleware(access.Handler(s.name, s.handler)), MaxHeaderBytes: cfg.MaxHeaderSize,
			ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		serveFn, shutdown := func() error { return srv.Serve(ln) }, srv.Shutdown
		if s.fast != nil {
			front := fastpath.New(srv, ln, s.fast)
			front.OnAnswer = chainAnswers(access.Fast(s.name), s.onFast)
			serveFn, shutdown = front.Serve, front.Shutdown
		}
		log.Info("listening", "api", s.name, "addr", ln.Addr().String(), "tls", s.tls != nil)
		g.Go(func() error {
			if err := serveFn(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s api: %w", s.name, err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("requests cut short at shutdown", "api", s.name, "err", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// listenAll listens on every server's address, or on none if one fails.
func listenAll(servers []namedServer) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(servers))
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close() // the listen error is the one to report
			}
			return nil, fmt.Errorf("%s api: %w", s.name, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func closeLogged(log *slog.Logger, what string, close func() error) {
	if err := close(); err != nil {
		log.Error("close failed", "part", what, "err", err)
	}
}
