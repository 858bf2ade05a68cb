package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// s3cmdREADME is s3cmd with the README's configuration and nothing more:
// it signs for s3cmd's default bucket_location "US", and must learn the
// node's region from the <Region> of AuthorizationHeaderMalformed, as it
// does from AWS S3. extra lines are added to the configuration.
func s3cmdREADME(t *testing.T, ctx context.Context, n *Node, extra ...string) *cli {
	t.Helper()
	requireProgram(t, s3cmdBin, "s3cmd")
	c := newCLI(t, ctx, s3cmdBin)
	config := strings.Join(append([]string{
		"[default]",
		"access_key = " + TestAccessKey,
		"secret_key = " + TestSecretKey,
		"host_base = " + n.S3Addr,
		"host_bucket = " + n.S3Addr,
		"use_https = False",
	}, extra...), "\n") + "\n"
	cfg := filepath.Join(c.dir, "s3cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c.args = []string{"-c", cfg, "--no-progress"}
	return c
}

// s3cmd with the README's configuration lists buckets, makes one, puts an
// object and lists it.
func TestS3cmdREADMEConfig(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	c := s3cmdREADME(t, t.Context(), n)
	out, err := c.run("ls")
	if err != nil {
		t.Fatalf("s3cmd ls: %v", err)
	}
	if !strings.Contains(string(out), "s3://"+o.Bucket) {
		t.Fatalf("s3cmd ls: %q does not list s3://%s", out, o.Bucket)
	}
	file := filepath.Join(c.dir, "hello.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"mb", "s3://readme-bucket"}, {"put", file, "s3://readme-bucket/hello.txt"}} {
		if _, err := c.run(args...); err != nil {
			t.Fatalf("s3cmd %s: %v", strings.Join(args, " "), err)
		}
	}
	if out, err := c.run("ls", "s3://readme-bucket/"); err != nil || !strings.Contains(string(out), "s3://readme-bucket/hello.txt") {
		t.Fatalf("s3cmd ls s3://readme-bucket/: %q, %v", out, err)
	}
}

// s3cmd told to sign with Signature Version 2 gets AWS's answer to it
// (400 InvalidRequest, "Please use AWS4-HMAC-SHA256"), and signs again with
// Version 4.
func TestS3cmdSigV2SwitchesToV4(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	c := s3cmdREADME(t, t.Context(), n, "signature_v2 = True")
	out, err := c.run("ls")
	if err != nil {
		t.Fatalf("s3cmd ls with signature_v2: %v", err)
	}
	if !strings.Contains(string(out), "s3://"+o.Bucket) {
		t.Fatalf("s3cmd ls: %q does not list s3://%s", out, o.Bucket)
	}
}
