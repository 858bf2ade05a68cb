package main

import (
	"context"
	"log/slog"
	"time"

	"sphere.software/objstore/internal/localdir"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/s3"
)

// origin is what the node needs of the origin: objects, buckets and listings.
type origin interface {
	node.Remote
	node.Catalog
}

// openRemote opens the origin: S3 when configured, else the local
// directory. An S3 origin is probed before it is returned, so the start-up
// log says what is wrong with it (access denied, no such bucket, no
// credentials, unreachable), and then in the background until stopRemote;
// the node starts whatever the probe finds. wrap, when set, wraps the S3
// origin's HTTP client (metrics count its requests there).
func openRemote(ctx context.Context, cfg Config, log *slog.Logger, wrap func(s3.HTTPClient) s3.HTTPClient) (origin, error) {
	if !cfg.UseS3() {
		return localdir.Open(cfg.OriginDir, log.With("part", "origin"))
	}
	r, err := s3.New(ctx, s3.Config{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: cfg.S3Endpoint,
		PathStyle: cfg.S3PathStyle, Logger: log.With("part", "origin"), Deadlines: cfg.Deadlines.Origin, WrapHTTP: wrap})
	if err != nil {
		return nil, err
	}
	r.Start(ctx)
	return r, nil
}

// stopRemote stops an S3 origin's background probe.
func stopRemote(log *slog.Logger, remote origin, wait time.Duration) {
	r, ok := remote.(*s3.Remote)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		log.Warn("origin probe did not stop in time", "err", err)
	}
}
