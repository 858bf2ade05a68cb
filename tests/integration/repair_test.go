package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sphere.software/objstore/internal/disk"
)

// bodyFile is the path of the one body file node n holds for the native
// object id, found by the layout of internal/disk (doc.go): the first 40
// hex digits of sha256(bucket + "\x00" + id), a dot and the version, in
// the shard named by its first two digits. It errs unless exactly one
// version is there.
func bodyFile(n *Node, bucket, id string) (string, error) {
	h := sha256.Sum256([]byte(bucket + "\x00" + id))
	name := hex.EncodeToString(h[:])[:40]
	matches, err := filepath.Glob(filepath.Join(n.FilesDir, name[:2], name+".*"))
	if err != nil {
		return "", err
	}
	if len(matches) != 1 {
		return "", fmt.Errorf("%d body files of %s on %s, want 1", len(matches), id, n.PublicAddr)
	}
	return matches[0], nil
}

// flipByte rots one byte of the file in place, as a failing disk would.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// integrity reads the "integrity" figures of GET /api/v1/stats.
func integrity(t testing.TB, n *Node) map[string]any {
	t.Helper()
	v, ok := n.Stats(t)["integrity"].(map[string]any)
	if !ok {
		t.Fatalf("stats of %s have no integrity object", n.PublicAddr)
	}
	return v
}

// bodyBack reports nil once n holds id's body file with exactly want
// (and its block checksums after it, see internal/disk).
func bodyBack(n *Node, bucket, id string, want []byte) error {
	path, err := bodyFile(n, bucket, id)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(got, want) || int64(len(got)) != disk.FileSize(int64(len(want))) {
		return fmt.Errorf("%s holds %d bytes that differ from the body", path, len(got))
	}
	return nil
}

// wantRepairedByScrub waits until n's scrubber has found one rotted body,
// the repair has put want back in its file, and the counters say so.
func wantRepairedByScrub(t *testing.T, n *Node, bucket, id string, want []byte) {
	t.Helper()
	eventually(t, 60*time.Second, "scrubber finds and repairs the rot", func() error {
		if err := bodyBack(n, bucket, id, want); err != nil {
			return err
		}
		st := integrity(t, n)
		if st["corrupt_found"] != 1.0 || st["repaired"] != 1.0 || st["lost"] != 0.0 {
			return fmt.Errorf("integrity = %v", st)
		}
		return nil
	})
	scrub, _ := integrity(t, n)["scrub"].(map[string]any)
	if b, _ := scrub["bytes_scrubbed"].(float64); b < float64(len(want)) {
		t.Errorf("scrub figures %v: fewer bytes scrubbed than the body", scrub)
	}
	n.MustGet(t, id, want)
}

// TestScrubRepairsLevel2FromPeer: a level-2 copy that rots on one node of
// two is found by that node's scrubber (short period) and copied back from
// the peer; the file holds the right bytes again and the counters say so.
func TestScrubRepairsLevel2FromPeer(t *testing.T) {
	c := StartCluster(t, 2, ClusterOpts{Args: []string{"--scrub-period", "1s"}})
	a, b := c.Nodes[0], c.Nodes[1]
	id, body := newID(), randomBody(71, 300<<10)
	a.MustPut(t, id, 2, body)
	eventually(t, 30*time.Second, "level-2 body on the second node", func() error { return bodyBack(b, c.Origin.Bucket, id, body) })
	path, err := bodyFile(b, c.Origin.Bucket, id)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, path, 123_456)
	wantRepairedByScrub(t, b, c.Origin.Bucket, id, body)
	var fromPeer bool
	for line := range strings.Lines(b.log.String()) {
		fromPeer = fromPeer || strings.Contains(line, "corrupt body repaired") && strings.Contains(line, "from="+a.NodeID(t))
	}
	if !fromPeer {
		t.Error("the node did not log a repair from its peer")
	}
}

// TestScrubRepairsLevel1FromOrigin: a level-1 body rotted on its only node
// is found by the scrubber and read back from the origin.
func TestScrubRepairsLevel1FromOrigin(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--scrub-period", "1s")
	id, body := newID(), randomBody(72, 200<<10)
	n.MustPut(t, id, 1, body)
	path, err := bodyFile(n, o.Bucket, id)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, path, 4321)
	wantRepairedByScrub(t, n, o.Bucket, id, body)
	if !strings.Contains(n.log.String(), "from=origin") {
		t.Error("the node did not log a repair from the origin")
	}
}

// lostAnswer checks that n answers the GET of id as lost: 500 with the
// X-Objstore-Lost header and a message that says so, and /meta marks it.
func lostAnswer(n *Node, id string) error {
	r, err := n.do(http.MethodGet, "/api/v1/get/"+id, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusInternalServerError || r.Header.Get("X-Objstore-Lost") != "true" || !strings.Contains(string(r.Body), "lost") {
		return fmt.Errorf("GET on %s: %s, X-Objstore-Lost %q", n.PublicAddr, r, r.Header.Get("X-Objstore-Lost"))
	}
	m, err := n.do(http.MethodGet, "/api/v1/meta/"+id, nil)
	if err != nil {
		return err
	}
	var fields struct {
		Lost bool `json:"lost"`
	}
	if err := json.Unmarshal(m.Body, &fields); err != nil || m.Status != http.StatusOK || !fields.Lost || m.Header.Get("X-Objstore-Lost") != "true" {
		return fmt.Errorf("meta on %s: %s (%v)", n.PublicAddr, m, err)
	}
	return nil
}

// TestRotLosesSoleLevel0Copy: a level-0 body rots on the one node that has
// it, and a GET after a restart finds it. Every node of the cluster then
// answers the same (500, X-Objstore-Lost), /meta says lost on each, the
// finder logs the loss at ERROR with the bucket, key and version, and a new
// PUT of the key clears it everywhere.
func TestRotLosesSoleLevel0Copy(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{Args: []string{"--scrub-period", "0"}})
	a := c.Nodes[0]
	id, body := newID(), randomBody(73, 64<<10)
	a.MustPut(t, id, 0, body)
	for _, n := range c.Nodes {
		eventually(t, 30*time.Second, "record on every node", func() error {
			r, err := n.do(http.MethodGet, "/api/v1/meta/"+id, nil)
			if err != nil || r.Status != http.StatusOK {
				return fmt.Errorf("meta on %s: %v %v", n.PublicAddr, r, err)
			}
			return nil
		})
	}
	path, err := bodyFile(a, c.Origin.Bucket, id)
	if err != nil {
		t.Fatal(err)
	}
	a.Stop()
	flipByte(t, path, 1000)
	a.Restart(t) // the first read in a process verifies the whole body

	if err := lostAnswer(a, id); err != nil {
		t.Fatalf("the finder: %v", err)
	}
	for _, n := range c.Nodes {
		eventually(t, 30*time.Second, "every node reports the loss", func() error { return lostAnswer(n, id) })
	}
	for _, n := range c.Nodes { // the S3 API of every node says the same
		r := n.s3Do(testCtx(t, 30*time.Second), t, http.MethodGet, "/"+c.Origin.Bucket+"/"+id, nil)
		wantS3Error(t, r, http.StatusInternalServerError, "InternalError", "S3 GET of a lost object on "+n.S3Addr)
		wantHeader(t, r, "X-Objstore-Lost", "true", "S3 GET of a lost object on "+n.S3Addr)
		if !strings.Contains(string(r.Body), "lost") {
			t.Errorf("S3 error on %s does not say the body is lost: %s", n.S3Addr, r.Body)
		}
	}
	var logged bool
	for line := range strings.Lines(a.log.String()) {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "object lost") &&
			strings.Contains(line, c.Origin.Bucket) && strings.Contains(line, id) && strings.Contains(line, "version=") {
			logged = true
		}
	}
	if !logged {
		t.Error("no ERROR line names the lost object's bucket, key and version")
	}
	if st := integrity(t, a); st["lost"] != 1.0 || st["corrupt_found"] != 1.0 {
		t.Errorf("integrity on the finder = %v", st)
	}

	fresh := randomBody(74, 5000)
	c.Nodes[1].MustPut(t, id, 0, fresh)
	for _, n := range c.Nodes {
		eventually(t, 30*time.Second, "a new PUT clears the loss", func() error {
			r, err := n.do(http.MethodGet, "/api/v1/get/"+id, nil)
			if err != nil || r.Status != http.StatusOK || !bytes.Equal(r.Body, fresh) || r.Header.Get("X-Objstore-Lost") != "" {
				return fmt.Errorf("GET on %s: %v %v", n.PublicAddr, r, err)
			}
			return nil
		})
	}
}
