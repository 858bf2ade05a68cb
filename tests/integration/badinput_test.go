package integration

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"
)

// badRequest is one request that the node must refuse without writing.
type badRequest struct {
	name         string
	method, path string
	body         []byte
	hdr          []string
	want         []int  // acceptable statuses
	id           string // the id the request names, if any: it must stay absent
}

// TestBadInput sends requests that must get a 4xx with a one-line reason and
// must write nothing: no object on the node, none in S3, and no file outside
// the node's files dir touched.
func TestBadInput(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t, "--max-object-size", "1048576")

	// Canaries outside the files dir that a path traversal would reach.
	const secret = "canary-secret-do-not-serve"
	canaries := []string{filepath.Join(n.Dir, "canary"), filepath.Join(filepath.Dir(n.Dir), "canary")}
	for _, c := range canaries {
		if err := os.WriteFile(c, []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	objects := n.ObjectCount(t)
	keys := len(o.Keys(t))

	for _, row := range badRequests() {
		t.Run(row.name, func(t *testing.T) {
			r := n.Do(t, row.method, row.path, row.body, row.hdr...)
			if !slices.Contains(row.want, r.Status) {
				t.Fatalf("%s %.80s: got %s, want one of %v", row.method, row.path, r, row.want)
			}
			if r.Status < 300 || r.Status >= 400 {
				line := strings.TrimRight(string(r.Body), "\r\n")
				if line == "" || strings.ContainsAny(line, "\r\n") {
					t.Errorf("%s %.80s: body %q, want one non-empty line", row.method, row.path, r.Body)
				}
			}
			if bytes.Contains(r.Body, []byte(secret)) {
				t.Errorf("%s %.80s: response shows a file outside the files dir", row.method, row.path)
			}
			if _, err := ulid.ParseStrict(row.id); err == nil {
				wantStatus(t, n.Get(t, row.id), http.StatusNotFound, "GET "+row.id+" after the refused request")
			}
			if got := n.ObjectCount(t); got != objects {
				t.Errorf("stats objects = %d after the refused request, want %d", got, objects)
			}
			if got := len(o.Keys(t)); got != keys {
				t.Errorf("S3 bucket has %d keys after the refused request, want %d", got, keys)
			}
		})
	}
	for _, c := range canaries {
		if b, err := os.ReadFile(c); err != nil || string(b) != secret {
			t.Errorf("canary %s: %q, %v; want it untouched", c, b, err)
		}
	}

	t.Run("lower level", func(t *testing.T) {
		id := newID()
		first := []byte("level two body")
		n.MustPut(t, id, 2, first, "X-Meta-Name", "two.txt")
		r := n.Put(t, id, 0, []byte("level zero body"), "X-Meta-Name", "zero.txt")
		wantStatus(t, r, http.StatusConflict, "PUT at level 0 over level 2")
		get := n.MustGet(t, id, first)
		wantHeader(t, get, "X-Meta-Consistencylevel", "2", "GET after refused lowering")
		wantHeader(t, get, "X-Meta-Name", "two.txt", "GET after refused lowering")
	})
}

func badRequests() []badRequest {
	put := func(name string, want int, body []byte, hdr ...string) badRequest {
		id := ""
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "X-Meta-ID" {
				id = hdr[i+1]
			}
		}
		return badRequest{name: name, method: http.MethodPost, path: "/api/v1/put", body: body, hdr: hdr, want: []int{want}, id: id}
	}
	body := []byte("must not be stored")
	rows := []badRequest{
		put("missing id", 400, body, "X-Meta-ConsistencyLevel", "1", "X-Meta-Name", "a.txt"),
		put("invalid id", 400, body, putHeaders("not-a-ulid", 1)...),
		put("traversal id header", 400, body, putHeaders("../../canary", 1)...),
		put("level 3", 400, body, "X-Meta-ID", newID(), "X-Meta-ConsistencyLevel", "3"),
		put("level -1", 400, body, "X-Meta-ID", newID(), "X-Meta-ConsistencyLevel", "-1"),
		put("level abc", 400, body, "X-Meta-ID", newID(), "X-Meta-ConsistencyLevel", "abc"),
		put("user meta malformed", 400, body, putHeaders(newID(), 1, "X-Meta-UserMeta", `{"a":`)...),
		put("user meta array", 400, body, putHeaders(newID(), 1, "X-Meta-UserMeta", `[1,2]`)...),
		put("user meta too large", 400, body, putHeaders(newID(), 1, "X-Meta-UserMeta",
			`{"big":"`+strings.Repeat("x", 4096)+`"}`)...),
		put("body over max size", 413, make([]byte, 2<<20), putHeaders(newID(), 1)...),
		put("header over limit", 431, body, putHeaders(newID(), 1, "X-Meta-Name", strings.Repeat("n", 1<<20+64<<10))...),
		{name: "unknown route", method: http.MethodGet, path: "/api/v1/nope", want: []int{404}},
		{name: "GET put", method: http.MethodGet, path: "/api/v1/put", want: []int{405}},
		{name: "DELETE get", method: http.MethodDelete, path: "/api/v1/get/x", want: []int{405}},
	}
	// Ids that escape the files dir once unescaped; the mux matches
	// {id} on the escaped path, so these reach the handlers.
	escaped := []string{"..%2Fcanary", "..%2F..%2Fcanary", "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
		"%2E%2E%2F%2E%2E%2Fcanary", "..%5C..%5Ccanary", "%2Fetc%2Fpasswd"}
	for _, id := range escaped {
		for _, ep := range []struct{ method, prefix string }{
			{http.MethodGet, "/api/v1/get/"}, {http.MethodGet, "/api/v1/meta/"}, {http.MethodPost, "/api/v1/delete/"},
		} {
			rows = append(rows, badRequest{name: ep.method + " " + ep.prefix + id, method: ep.method,
				path: ep.prefix + id, want: []int{400, 404}})
		}
	}
	// Raw dot segments, sent as they are (the client neither cleans the
	// path nor follows redirects).
	for _, p := range []string{"/api/v1/get/../../etc/passwd", "/api/v1/meta/../../../canary", "/api/v1/delete/../../canary"} {
		method := http.MethodGet
		if strings.Contains(p, "delete") {
			method = http.MethodPost
		}
		rows = append(rows, badRequest{name: method + " " + p, method: method, path: p,
			want: []int{400, 404}})
	}
	return rows
}

// TestShortClusterKeyRefused starts the real binary with a cluster key
// under 16 bytes, from the flag and from the environment: it exits with
// status 2 before it listens or writes anything, saying to use objstore
// keygen and without repeating the key.
func TestShortClusterKeyRefused(t *testing.T) {
	o := newOrigin(t)
	const short = "hunter2-hunter2" // 15 bytes
	for _, tc := range []struct {
		name string
		opts NodeOpts
	}{
		{"flag", NodeOpts{Args: []string{"--cluster-key", short}}},
		{"environment", NodeOpts{Env: []string{"APP_CLUSTER_KEY=" + short}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.S3, opts.Bucket = o.S3Server, o.Bucket
			n := newNode(t, opts)
			err := n.launch()
			if !errors.Is(err, errExited) || !strings.Contains(err.Error(), "exit status 2") {
				t.Fatalf("start with a %d-byte cluster key: %v, want an exit with status 2 before it is ready", len(short), err)
			}
			out := n.log.String()
			if _, after, ok := strings.Cut(out, "\n"); ok && strings.HasPrefix(out, "=== ") {
				out = after // the harness's own line with the command line
			}
			if !strings.Contains(out, "--cluster-key") || !strings.Contains(out, "objstore keygen") || strings.Contains(out, short) {
				t.Errorf("output %q: want it to name --cluster-key and objstore keygen, without the key", out)
			}
			for _, dir := range []string{n.StateDir, n.FilesDir} {
				if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
					t.Errorf("%s holds %d entries after the refused start, want none", dir, len(entries))
				}
			}
			if keys := o.Keys(t); len(keys) != 0 {
				t.Errorf("the origin holds %d keys after the refused start, want none", len(keys))
			}
		})
	}
}
