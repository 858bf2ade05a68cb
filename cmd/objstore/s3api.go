package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"sphere.software/objstore"
	"sphere.software/objstore/internal/multipart"
	"sphere.software/objstore/internal/node"
	"sphere.software/objstore/internal/s3api"
	"sphere.software/objstore/internal/sigv4"
)

// generatedCredentials is the file in the state directory that holds the
// access key a node makes for itself when none is configured, so that the
// S3 API is never open by default and yet works out of the box.
const generatedCredentials = "s3-credentials"

// openS3API builds the S3 API: its credentials, its multipart staging area
// under the files directory, and the loop that expires old uploads.
func openS3API(ctx context.Context, cfg Config, log *slog.Logger, n *node.Node, space multipart.Space) (*s3api.Server, error) {
	anon, err := s3api.ParseAnonymous(cfg.S3APIAnonymous)
	if err != nil {
		return nil, err
	}
	creds, source, err := s3Credentials(cfg, anon)
	if err != nil {
		return nil, err
	}
	// A part may be as large as an object, but never below S3's minimum
	// part size (an object limit below 5 MiB is then enforced at Complete).
	maxPart := cfg.MaxObjectSize
	if maxPart > 0 {
		maxPart = max(maxPart, multipart.DefaultMinPartSize)
	}
	uploads, err := multipart.Open(multipart.Config{Dir: filepath.Join(cfg.FilesDir, "uploads"),
		MaxPartSize: maxPart, Space: space, Logger: log.With("part", "multipart")})
	if err != nil {
		return nil, err
	}
	go expireUploads(ctx, uploads, cfg.MultipartExpiry, log)
	srv, err := s3api.New(s3api.Config{NodeID: n.ID(), Credentials: creds, Region: cfg.Region, Anonymous: anon, Domain: cfg.S3APIDomain,
		DefaultLevel: objstore.Level(cfg.S3DefaultLevel), MaxObjectSize: cfg.MaxObjectSize, Logger: log.With("part", "s3api")},
		n, uploads)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(creds))
	for i, c := range creds {
		keys[i] = c.AccessKey
	}
	log.Info("S3 API ready", "addr", cfg.S3APIAddr, "credentials", source, "access_keys", keys,
		"anonymous", cfg.S3APIAnonymous, "default_level", cfg.S3DefaultLevel, "region", cfg.Region)
	return srv, nil
}

// s3Credentials gathers the access keys from the flag, the file, or, when
// neither gives any and anonymous writes are off, the node's own generated
// pair. It returns where they came from, for the log.
func s3Credentials(cfg Config, anon s3api.Anonymous) ([]sigv4.Credentials, string, error) {
	var creds []sigv4.Credentials
	var sources []string
	if cfg.S3APICredentials != "" {
		c, err := s3api.ParseCredentials(cfg.S3APICredentials)
		if err != nil {
			return nil, "", fmt.Errorf("--s3-api-credentials: %w", err)
		}
		creds = append(creds, c...)
		sources = append(sources, "--s3-api-credentials")
	}
	if cfg.S3APICredentialsFile != "" {
		c, err := s3api.ReadCredentialsFile(cfg.S3APICredentialsFile)
		if err != nil {
			return nil, "", fmt.Errorf("--s3-api-credentials-file: %w", err)
		}
		creds = append(creds, c...)
		sources = append(sources, cfg.S3APICredentialsFile)
	}
	seen := map[string]bool{}
	for _, c := range creds {
		if seen[c.AccessKey] {
			return nil, "", fmt.Errorf("S3 API access key %q is configured twice", c.AccessKey)
		}
		seen[c.AccessKey] = true
	}
	if len(creds) > 0 || anon == s3api.AnonymousWrite {
		return creds, fmt.Sprint(sources), nil
	}
	path := filepath.Join(cfg.StateDir, generatedCredentials)
	if err := ensureGeneratedCredentials(path); err != nil {
		return nil, "", err
	}
	c, err := s3api.ReadCredentialsFile(path)
	if err != nil {
		return nil, "", err
	}
	return c, path + " (generated; set --s3-api-credentials to choose your own)", nil
}

// ensureGeneratedCredentials writes a random access key and secret to path
// (mode 0600) unless the file exists.
func ensureGeneratedCredentials(path string) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	access := "OBJSTORE" + rand.Text()[:12]
	secret := rand.Text() + rand.Text()[:14]
	body := "# objstore S3 API credentials, generated " + time.Now().UTC().Format(time.RFC3339) +
		"\n# one \"ACCESS SECRET\" pair per line\n" + access + " " + secret + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// expireUploads drops multipart uploads older than expiry, hourly.
func expireUploads(ctx context.Context, uploads *multipart.Store, expiry time.Duration, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := uploads.Expire(ctx, expiry); err != nil {
			log.Warn("cannot expire old multipart uploads", "err", err)
		} else if n > 0 {
			log.Info("expired old multipart uploads", "count", n, "older_than", expiry)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
