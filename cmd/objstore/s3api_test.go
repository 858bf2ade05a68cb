package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sphere.software/objstore/internal/s3api"
)

func TestS3CredentialsGeneratedOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	keys, source, err := openS3Keys(cfg, "node-a", s3api.AnonymousOff, discard)
	if err != nil || keys.keys.Len() != 1 || !strings.Contains(source, "generated") {
		t.Fatalf("generated credentials: %v %v %q", keys, err, source)
	}
	creds := keys.keys.List()
	path := filepath.Join(cfg.StateDir, generatedCredentials)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	again, _, err := openS3Keys(cfg, "node-a", s3api.AnonymousOff, discard)
	if err != nil || again.keys.List()[0] != creds[0] {
		t.Fatalf("a second start made new credentials: %v %v", again.keys.List(), err)
	}
	if len(creds[0].SecretKey) < 32 {
		t.Fatalf("secret of %d characters", len(creds[0].SecretKey))
	}
}

var discard = slog.New(slog.DiscardHandler)

func TestS3CredentialsConfigured(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# team keys\nAK2 secret-two\n\nAK3:secret:three\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.S3APICredentials = "AK1:secret-one"
	cfg.S3APICredentialsFile = file
	creds, _, err := s3Credentials(cfg)
	if err != nil || len(creds) != 3 || creds[2].SecretKey != "secret:three" {
		t.Fatalf("configured credentials: %v %v", creds, err)
	}
	keys, _, err := openS3Keys(cfg, "node-a", s3api.AnonymousOff, discard)
	if err != nil || keys.keys.Len() != 3 || !keys.share().Configured || len(keys.share().Generated) != 0 {
		t.Fatalf("configured keys: %v %+v", err, keys.share())
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, generatedCredentials)); err == nil {
		t.Fatal("credentials were generated although some were configured")
	}
	cfg.S3APICredentials = "AK2:dup"
	if _, _, err := s3Credentials(cfg); err == nil {
		t.Error("an access key in both the flag and the file: want an error")
	}
	for _, bad := range []string{"nosecret", ":x", "a:", "a b:c"} {
		cfg.S3APICredentials, cfg.S3APICredentialsFile = bad, ""
		if _, _, err := s3Credentials(cfg); err == nil {
			t.Errorf("--s3-api-credentials %q: want an error", bad)
		}
	}
	cfg.S3APICredentials, cfg.S3APICredentialsFile = "", filepath.Join(t.TempDir(), "missing")
	if _, _, err := s3Credentials(cfg); err == nil {
		t.Error("a missing credentials file: want an error")
	}
	cfg.S3APICredentialsFile = ""
	if keys, _, err := openS3Keys(cfg, "node-a", s3api.AnonymousWrite, discard); err != nil || keys.keys.Len() != 0 {
		t.Errorf("anonymous writes need no credentials: %v", err)
	}
}
