package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"sphere.software/objstore/internal/cluster"
	"sphere.software/objstore/internal/disk"
	"sphere.software/objstore/internal/fastpath"
	"sphere.software/objstore/internal/httpapi"
	"sphere.software/objstore/internal/journal"
	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/replica"
	"sphere.software/objstore/internal/s3"
	"sphere.software/objstore/internal/s3api"
)

// serve opens the node's parts, serves until ctx ends, then shuts down in
// reverse order: stop accepting and drain requests, stop the node's
// background work, close the body store and last the journal.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	j, err := journal.Open(filepath.Join(cfg.StateDir, "journal.db"), journal.Options{Logger: log.With("part", "journal")})
	if err != nil {
		return err
	}
	defer closeLogged(log, "journal", j.Close)
	blobs, err := disk.Open(cfg.FilesDir, disk.Config{Quota: cfg.DiskQuota, Logger: log.With("part", "disk")})
	if err != nil {
		return err
	}
	defer closeLogged(log, "disk", blobs.Close)
	remote, err := openRemote(ctx, cfg, log)
	if err != nil {
		return err
	}
	n, err := node.New(ctx, node.Config{NodeID: j.NodeID(), MaxObjectSize: cfg.MaxObjectSize,
		HotCacheBytes: cfg.MemoryCache, SyncInterval: cfg.SyncInterval, TombstoneGrace: cfg.TombstoneGrace, Logger: log.With("part", "node")}, j, node.AdaptBlobs(blobs), remote)
	if err != nil {
		return err
	}
	log.Info("objstore node starting", "version", buildVersion(), "node_id", j.NodeID(),
		"origin", remote.String(), "bucket", cfg.Bucket, "state_dir", cfg.StateDir, "files_dir", cfg.FilesDir)
	var s3srv *s3api.Server
	if cfg.S3APIAddr != "" {
		if s3srv, err = openS3API(ctx, cfg, log, n, remote, blobs); err != nil {
			return err
		}
	}
	cl, err := cluster.Start(ctx, cluster.Config{NodeID: j.NodeID(), BindAddr: cfg.PrivateAddr, Join: cfg.Nodes,
		Tag: cfg.Tag, Key: cfg.ClusterKey, Handler: privateHandler(replica.NewHandler(n, log.With("part", "replica")), s3srv),
		Logger: log.With("part", "cluster"), OnChange: n.MemberChanged})
	if err != nil {
		return err
	}
	n.AttachCluster(cl, replica.NewClient(cl.Client(), n, log.With("part", "replica")))
	api := httpapi.NewNative(httpapi.Config{Bucket: cfg.Bucket, Version: buildVersion(), MaxObjectSize: cfg.MaxObjectSize,
		Logger: log.With("part", "api")}, n)
	servers := []namedServer{{name: "public", addr: cfg.PublicAddr, handler: cluster.WithPrivateAddr(api, cl.Addr()), fast: api}}
	if s3srv != nil {
		s3srv.AttachCluster(cl.Client(), n.Members)
		servers = append(servers, namedServer{name: "s3", addr: cfg.S3APIAddr, handler: cluster.WithPrivateAddr(s3srv, cl.Addr()), fast: s3srv})
	}
	if cfg.DebugAddr != "" {
		servers = append(servers, namedServer{name: "debug", addr: cfg.DebugAddr, handler: debugHandler()})
	}
	err = runServers(ctx, cfg, log, servers)
	// The public API has drained; stop the node's background work, then
	// leave the cluster (peers stop sending), then the stores close.
	closeCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
	defer cancel()
	if cerr := n.Close(closeCtx); cerr != nil {
		log.Warn("node did not stop in time", "err", cerr)
	}
	if cerr := cl.Close(closeCtx); cerr != nil {
		log.Warn("cluster did not stop cleanly", "err", cerr)
	}
	return err
}

// privateHandler serves the private API: the replica routes, and S3
// requests that other nodes forward to this one (see internal/s3api).
func privateHandler(replicas http.Handler, s3srv *s3api.Server) http.Handler {
	if s3srv == nil {
		return replicas
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, cluster.StreamingPathPrefix) {
			s3srv.ServeForwarded(w, r)
			return
		}
		replicas.ServeHTTP(w, r)
	})
}

// origin is what the node and the S3 API need of the origin.
type origin interface {
	node.Remote
	s3api.Origin
}

// openRemote opens the origin: S3 when configured, else the local directory.
func openRemote(ctx context.Context, cfg Config, log *slog.Logger) (origin, error) {
	if !cfg.UseS3() {
		return localdir.Open(cfg.OriginDir, log.With("part", "origin"))
	}
	r, err := s3.New(ctx, s3.Config{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: cfg.S3Endpoint,
		PathStyle: cfg.S3PathStyle, Logger: log.With("part", "origin")})
	if err != nil {
		return nil, err
	}
	checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.Check(checkCtx); err != nil {
		log.Warn("origin not reachable yet; level 1 and 2 writes and fetches will fail until it is", "origin", r.String(), "err", err)
	}
	return r, nil
}

type namedServer struct {
	name, addr string
	handler    http.Handler
	// fast, when set, answers the API's hot GETs on the raw connection
	// before net/http sees it (internal/fastpath).
	fast fastpath.Answerer
}

// The timeouts of every API server.
const (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// runServers listens on every address first (so a port in use fails the
// start), serves until ctx ends, then drains all servers.
func runServers(ctx context.Context, cfg Config, log *slog.Logger, servers []namedServer) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return fmt.Errorf("%s api: %w", s.name, err)
		}
		srv := &http.Server{Handler: s.handler, MaxHeaderBytes: cfg.MaxHeaderSize,
			ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		var front *fastpath.Server
		if s.fast != nil {
			front = fastpath.New(s.fast, ln, fastpath.Config{IdleTimeout: idleTimeout, ReadHeaderTimeout: readHeaderTimeout,
				OnError: func(err error) { log.Error("accept failed", "api", s.name, "err", err) }})
			ln = front
			srv.ConnState = front.ConnState
		}
		log.Info("listening", "api", s.name, "addr", ln.Addr().String())
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s api: %w", s.name, err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("requests cut short at shutdown", "api", s.name, "err", err)
			}
			if front != nil {
				if err := front.Shutdown(sctx); err != nil {
					log.Warn("requests cut short at shutdown", "api", s.name, "err", err)
				}
			}
			return nil
		})
	}
	<-gctx.Done()
	log.Info("shutting down: draining requests")
	return g.Wait()
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
