package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"sphere.software/objstore/client"
)

// clientLargeSize is the size of the large file the client tests move:
// more than a few buffers and a few of the disk store's 64 KiB blocks.
const clientLargeSize = 24<<20 + 12345

// clientFor is a client of the nodes' public APIs, in that order.
func clientFor(t testing.TB, cfg client.Config, nodes ...*Node) *client.Client {
	t.Helper()
	for _, n := range nodes {
		cfg.Endpoints = append(cfg.Endpoints, n.URL(""))
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientLargeFile writes size random bytes to a file in dir and returns
// its path and contents.
func clientLargeFile(t testing.TB, dir string, size int) (string, []byte) {
	t.Helper()
	body := randomBody(uint64(size), size)
	path := filepath.Join(dir, "large.bin")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, body
}

// clientReadAll reads a whole Get and returns its SHA-256.
func clientReadAll(t testing.TB, o *client.Object) (string, int64) {
	t.Helper()
	defer func() { _ = o.Close() }() // read-only
	h := sha256.New()
	n, err := io.Copy(h, o)
	if err != nil {
		t.Fatalf("read %s after %d bytes: %v", o.ID, n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// TestClientLibCluster drives the Go client against a real 3-node
// cluster on versitygw: a large file put from disk at level 1 through one
// node and read whole and in ranges through the others, its record, its
// level raised to 2 until every node holds it, the listing, members and
// stats, a warm-up, failover from nodes that are down, and a delete that
// every node then answers as not found.
func TestClientLibCluster(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{})
	a, b, d := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	ctx := testCtx(t, 3*time.Minute)
	all := clientFor(t, client.Config{}, a, b, d)

	path, body := clientLargeFile(t, t.TempDir(), clientLargeSize)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	put, err := clientFor(t, client.Config{}, a).Put(ctx, "", f, clientLargeSize, client.PutOptions{Name: "large.bin", Level: client.Origin, UserMeta: []byte(`{"owner":"ops"}`)})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if put.Level != client.Origin || put.ETag != `"`+md5Hex(body)+`"` || put.Name != "large.bin" {
		t.Errorf("Put answered %+v, want level 1, name large.bin, ETag of the body", put)
	}
	if _, ok := c.Origin.Head(t, put.ID); !ok {
		t.Error("a level-1 put is not in the origin")
	}

	// Whole, from the node that does not hold the body.
	obj, err := clientFor(t, client.Config{}, d).Get(ctx, put.ID, client.GetOptions{})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if sha, n := clientReadAll(t, obj); sha != sum(body) || n != clientLargeSize || obj.Total != clientLargeSize || obj.Name != "large.bin" {
		t.Errorf("Get: %d bytes sha %.12s name %q total %d, want the file", n, sha, obj.Name, obj.Total)
	}
	clientCheckRanges(t, all, put.ID, body)

	m, err := all.Meta(ctx, put.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != clientLargeSize || m.Level != client.Origin || !m.InRemote || string(m.UserMeta) != `{"owner":"ops"}` || m.ETag != put.ETag {
		t.Errorf("Meta = %+v", m)
	}
	if _, err := all.SetLevel(ctx, put.ID, client.Local); !errors.Is(err, client.ErrConflict) {
		t.Errorf("lowering the level: %v, want ErrConflict", err)
	}
	if m, err = all.SetLevel(ctx, put.ID, client.Full); err != nil || m.Level != client.Full {
		t.Fatalf("SetLevel 2: %+v, %v", m, err)
	}
	for _, n := range c.Nodes {
		nc := clientFor(t, client.Config{}, n)
		eventually(t, 30*time.Second, "level-2 body on "+n.PrivateAddr, func() error {
			m, err := nc.Meta(ctx, put.ID)
			if err == nil && (m.Symlink || m.Level != client.Full) {
				err = errors.New("not held yet")
			}
			return err
		})
	}

	clientCheckCluster(t, c, all, put.ID)
	clientCheckWarm(t, c, all)
	clientCheckFailover(t, c, put.ID, body)

	if _, err := all.Delete(ctx, put.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, n := range c.Nodes {
		nc := clientFor(t, client.Config{}, n)
		eventually(t, 30*time.Second, "delete seen by "+n.PrivateAddr, func() error {
			_, err := nc.Get(ctx, put.ID, client.GetOptions{})
			var e *client.Error
			if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &e) || !e.Deleted {
				return errors.New("not deleted yet")
			}
			return nil
		})
	}
	if _, err := all.Delete(ctx, put.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

// clientCheckRanges reads ranges of id: a middle, an open end, a suffix,
// and one past the end.
func clientCheckRanges(t *testing.T, c *client.Client, id string, body []byte) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	size := int64(len(body))
	for _, tc := range []struct {
		opts  client.GetOptions
		start int64
		end   int64
	}{
		{client.GetOptions{Offset: 1 << 20, Length: 3 << 20}, 1 << 20, 4 << 20},
		{client.GetOptions{Offset: size - 100}, size - 100, size},
		{client.GetOptions{Offset: -5000}, size - 5000, size},
		{client.GetOptions{Offset: 0, Length: 1}, 0, 1},
	} {
		o, err := c.Get(ctx, id, tc.opts)
		if err != nil {
			t.Fatalf("Get %+v: %v", tc.opts, err)
		}
		got, err := io.ReadAll(o)
		_ = o.Close()
		if err != nil || !bytes.Equal(got, body[tc.start:tc.end]) || o.Offset != tc.start || o.Total != size {
			t.Errorf("Get %+v: %d bytes (want %d), offset %d, total %d, %v", tc.opts, len(got), tc.end-tc.start, o.Offset, o.Total, err)
		}
	}
	if _, err := c.Get(ctx, id, client.GetOptions{Offset: size + 10}); !errors.Is(err, client.ErrRange) {
		t.Errorf("a range past the end: %v, want ErrRange", err)
	}
}

// clientCheckCluster checks the listing, the members and the stats.
func clientCheckCluster(t *testing.T, c *Cluster, all *client.Client, id string) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	var ids []string
	for m, err := range all.Objects(ctx, "") {
		if err != nil {
			t.Fatalf("Objects: %v", err)
		}
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, id) {
		t.Errorf("Objects lists %v, without %s", ids, id)
	}
	for _, n := range c.Nodes {
		nc := clientFor(t, client.Config{}, n)
		ms, err := nc.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		alive := 0
		for _, m := range ms {
			if m.State == "alive" {
				alive++
			}
		}
		st, err := nc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if alive != 3 || st.NodeID != n.NodeID(t) || st.Objects.Objects < 1 || len(st.Nodes) != 3 || st.Origin == nil || st.Origin.State != "ok" || len(st.Raw) == 0 {
			t.Errorf("node %s: %d alive, stats %+v", n.PrivateAddr, alive, st)
		}
	}
}

// clientCheckWarm warms keys written straight into the origin.
func clientCheckWarm(t *testing.T, c *Cluster, all *client.Client) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	for _, k := range []string{"client-warm/a", "client-warm/b"} {
		if _, err := c.Origin.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.Origin.Bucket), Key: aws.String(k),
			Body: bytes.NewReader([]byte("warm " + k))}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := all.Warm(ctx, client.WarmPrefix(c.Origin.Bucket, "client-warm/"))
	if err != nil {
		t.Fatalf("Warm: %v", err)
	}
	j, err = all.WaitWarm(ctx, j.ID, 10*time.Second, nil)
	if err != nil || j.State != client.WarmDone || j.Listed != 2 || j.Done != 2 || j.Failed != 0 {
		t.Errorf("warm-up ended %+v, %v; want 2 keys done", j, err)
	}
	if _, err := all.Warm(ctx, client.WarmPrefix("no-such-bucket", "")); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("warm-up of a missing bucket: %v, want ErrNotFound", err)
	}
	if _, err := all.WarmJob(ctx, "no-such-job", 0); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("unknown warm-up job: %v, want ErrNotFound", err)
	}
}

// clientCheckFailover stops the second node: a client that lists it
// first goes on to the third, for reads and writes; a client of the
// stopped node alone reports it unreachable.
func clientCheckFailover(t *testing.T, c *Cluster, id string, body []byte) {
	t.Helper()
	ctx := testCtx(t, time.Minute)
	b, d := c.Nodes[1], c.Nodes[2]
	b.Stop()
	fo := clientFor(t, client.Config{}, b, d)
	o, err := fo.Get(ctx, id, client.GetOptions{})
	if err != nil {
		t.Fatalf("Get with the first node down: %v", err)
	}
	if sha, _ := clientReadAll(t, o); sha != sum(body) {
		t.Error("Get with the first node down: wrong body")
	}
	small := []byte("written while a node is down")
	in, err := fo.Put(ctx, "", bytes.NewReader(small), int64(len(small)), client.PutOptions{})
	if err != nil {
		t.Fatalf("Put with the first node down: %v", err)
	}
	if _, err := fo.Delete(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	_, err = clientFor(t, client.Config{MaxAttempts: 2, MinBackoff: time.Millisecond}, b).Ping(ctx)
	if !errors.Is(err, client.ErrUnreachable) {
		t.Errorf("Ping of a stopped node: %v, want ErrUnreachable", err)
	}
	b.Restart(t)
	WaitMembers(t, c.Nodes, 3)
}

// TestClientLibAuth: against a node with --native-api-auth on, a client
// with no credentials is refused with ErrUnauthorized, a wrong token with
// ErrForbidden, and one with the token or signing with the S3 API's key
// puts and gets.
func TestClientLibAuth(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--native-api-auth", "on", "--native-api-token", nativeToken)
	ctx := testCtx(t, time.Minute)
	body := randomBody(7, 300_000)
	if _, err := clientFor(t, client.Config{}, n).Put(ctx, newID(), bytes.NewReader(body), int64(len(body)), client.PutOptions{}); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("Put without credentials: %v, want ErrUnauthorized", err)
	}
	if _, err := clientFor(t, client.Config{Token: nativeToken + "x"}, n).Stats(ctx); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("Stats with a wrong token: %v, want ErrForbidden", err)
	}
	for _, cfg := range []client.Config{{Token: nativeToken}, {AccessKey: TestAccessKey, SecretKey: TestSecretKey}} {
		c := clientFor(t, cfg, n)
		in, err := c.Put(ctx, "", bytes.NewReader(body), int64(len(body)), client.PutOptions{Level: client.Origin})
		if err != nil {
			t.Fatalf("Put with %+v: %v", cfg, err)
		}
		obj, err := c.Get(ctx, in.ID, client.GetOptions{Offset: 1000, Length: 2000})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		_ = obj.Close()
		if err != nil || !bytes.Equal(got, body[1000:3000]) {
			t.Errorf("ranged Get with %+v: %d bytes, %v", cfg, len(got), err)
		}
	}
}
