package localdir

import (
	"path/filepath"
	"strings"
	"testing"

	"sphere.software/objstore"
)

func TestCheckKey(t *testing.T) {
	long := strings.Repeat("s", 255)
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"a/b/c.txt", true},
		{"..a", true},
		{"a..b/c", true},
		{".hidden", true},
		{"dir/.objstore-meta", true},
		{"ünï/ファイル 1.txt", true},
		{long, true},
		{long + "/" + long, true},
		{"back\\slash", true},
		{"", false},
		{"/abs", false},
		{"/", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"a/..", false},
		{"nul\x00byte", false},
		{long + "s", false},
		{"a/" + long + "s", false},
		{".objstore-meta", false},
		{".objstore-meta/x", false},
		{"\xff\xfe", false},
		{strings.Repeat("a/", 512) + "b", false},
	} {
		err := checkKey(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("checkKey(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}

func TestCheckBucket(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.v2", true},
		{"0bucket9", true},
		{strings.Repeat("b", 63), true},
		{"ab", false},
		{strings.Repeat("b", 64), false},
		{"Upper", false},
		{"under_score", false},
		{"-start", false},
		{"end-", false},
		{".tmp", false},
		{".objstore-meta", false},
		{"a..b", false},
		{"a.-b", false},
		{"192.168.1.1", false},
		{"xn--abc", false},
		{"foo-s3alias", false},
		{"a/b", false},
		{"..", false},
		{"", false},
	} {
		if err := checkBucket(tt.name); (err == nil) != tt.ok {
			t.Errorf("checkBucket(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestKeyPaths(t *testing.T) {
	p, err := keyPaths("/root", objstore.Key{Bucket: "bkt", ID: "a/b/c"})
	if err != nil {
		t.Fatal(err)
	}
	want := paths{bucket: "/root/bkt", body: "/root/bkt/a/b/c", meta: "/root/bkt/.objstore-meta/a/b/c"}
	if p != want {
		t.Errorf("keyPaths = %+v, want %+v", p, want)
	}
}

// within reports whether path is strictly inside dir.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func FuzzKeyPath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "a/../../b", ".objstore-meta/x", "/abs", "a//b", "x\x00", ".", "a/./b", "..."} {
		f.Add("bucket", s)
	}
	f.Add("..", "x")
	f.Add(".tmp", "x")
	f.Fuzz(func(t *testing.T, bucket, id string) {
		const root = "/srv/origin"
		p, err := keyPaths(root, objstore.Key{Bucket: bucket, ID: id})
		if err != nil {
			return
		}
		metaRoot := filepath.Join(p.bucket, metaDir)
		switch {
		case filepath.Dir(p.bucket) != root || p.bucket == filepath.Join(root, tmpDir):
			t.Fatalf("bucket %q maps to %q, not a bucket directory of %s", bucket, p.bucket, root)
		case !within(p.bucket, p.body):
			t.Fatalf("key %q maps to %q, outside bucket %s", id, p.body, p.bucket)
		case p.body == metaRoot || within(metaRoot, p.body):
			t.Fatalf("key %q maps to %q, inside the sidecar tree", id, p.body)
		case !within(metaRoot, p.meta):
			t.Fatalf("key %q has sidecar %q, outside %s", id, p.meta, metaRoot)
		case filepath.Clean(p.body) != p.body || filepath.ToSlash(strings.TrimPrefix(p.body, p.bucket+"/")) != id:
			t.Fatalf("key %q maps to %q, not segment by segment", id, p.body)
		}
	})
}
