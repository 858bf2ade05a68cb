package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientCtl builds cmd/objstorectl once per test process, beside the
// objstore binary TestMain built (and removes).
var clientCtl = sync.OnceValues(func() (string, error) {
	out := filepath.Join(filepath.Dir(objstoreBin), "objstorectl")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	args := []string{"build", "-race", "-o", out, "./cmd/objstorectl"}
	if os.Getenv("OBJSTORE_INTEGRATION_RACE") == "0" {
		args = slices.Delete(args, 1, 2)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return out, nil
})

// clientRun is one run of objstorectl.
type clientRun struct {
	Code           int
	Stdout, Stderr string
}

func (r clientRun) String() string {
	return fmt.Sprintf("exit %d, stdout %.300q, stderr %.500q", r.Code, r.Stdout, r.Stderr)
}

// clientCLI runs objstorectl with args, in dir, with stdin, bounded by a
// minute. Its environment names no endpoint: the tests give -e.
func clientCLI(t testing.TB, dir string, stdin []byte, args ...string) clientRun {
	t.Helper()
	bin, err := clientCtl()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, time.Minute)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	r := clientRun{Stdout: out.String(), Stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("objstorectl %q: %v", args, err)
	}
	if strings.Contains(r.Stderr, "DATA RACE") || strings.Contains(r.Stderr, "panic:") {
		t.Fatalf("objstorectl %q: %s", args, r)
	}
	return r
}

// clientWant runs objstorectl and fails the test unless it exits with code.
func clientWant(t testing.TB, dir string, code int, args ...string) clientRun {
	t.Helper()
	r := clientCLI(t, dir, nil, args...)
	if r.Code != code {
		t.Fatalf("objstorectl %q: %s, want exit %d", args, r, code)
	}
	return r
}

// TestClientCLICluster runs the objstorectl binary against a real 3-node
// cluster on versitygw: a large file put at level 1 through one node and
// got through another (and through a list of endpoints whose first node
// is down), a range, stat, level, ls, nodes, stats, warm-up and rm, in
// text and JSON, with the exit codes scripts rely on; no progress bar is
// drawn when stderr is not a terminal.
func TestClientCLICluster(t *testing.T) {
	c := StartCluster(t, 3, ClusterOpts{})
	a, b, d := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	dir := t.TempDir()
	path, body := clientLargeFile(t, dir, clientLargeSize)
	ea, eb, ed := "--endpoint="+a.URL(""), "--endpoint="+b.URL(""), "--endpoint="+d.URL("")

	put := clientWant(t, dir, 0, ea, "put", path, "--level", "1", "--meta", `{"team":"ops"}`)
	id := strings.TrimSpace(put.Stdout)
	if len(id) != 26 || put.Stderr != "" {
		t.Fatalf("put: %s, want the id alone and a quiet stderr", put)
	}
	clientWant(t, dir, 0, "get", id, "-o", "out.bin", ed) // flags after the arguments too
	if got, err := os.ReadFile(filepath.Join(dir, "out.bin")); err != nil || sum(got) != sum(body) {
		t.Fatalf("get -o: %d bytes, %v; want the file", len(got), err)
	}
	rng := clientWant(t, dir, 0, eb, "get", id, "--range", "1000-1999")
	if !bytes.Equal([]byte(rng.Stdout), body[1000:2000]) {
		t.Errorf("get --range: %d bytes, want bytes 1000-1999", len(rng.Stdout))
	}
	tail := clientWant(t, dir, 0, eb, "get", id, "--range", "-10")
	if !bytes.Equal([]byte(tail.Stdout), body[len(body)-10:]) {
		t.Errorf("get --range -10: %q", tail.Stdout)
	}

	var m struct {
		ID       string            `json:"file_id"`
		Name     string            `json:"file_name"`
		Size     int64             `json:"file_size"`
		Level    int               `json:"consistency"`
		InRemote bool              `json:"in_remote"`
		UserMeta map[string]string `json:"user_meta"`
	}
	clientJSON(t, clientWant(t, dir, 0, ed, "stat", id, "--json"), &m)
	if m.ID != id || m.Name != "large.bin" || m.Size != clientLargeSize || m.Level != 1 || !m.InRemote || m.UserMeta["team"] != "ops" {
		t.Errorf("stat --json: %+v", m)
	}
	text := clientWant(t, dir, 0, ed, "stat", id).Stdout
	for _, want := range []string{"id:", id, "size:", fmt.Sprint(clientLargeSize), "level:", "in origin:"} {
		if !strings.Contains(text, want) {
			t.Errorf("stat: %q lacks %q", text, want)
		}
	}

	clientWant(t, dir, 6, ea, "level", id, "0") // lowering is a conflict
	lv := clientWant(t, dir, 0, ea, "level", id, "2")
	if !strings.Contains(lv.Stdout, "level 2") {
		t.Errorf("level: %s", lv)
	}
	clientCheckCLICluster(t, c, dir, id)

	// The first endpoint is down: the next one answers.
	b.Stop()
	both := "--endpoint=" + b.URL("") + "," + d.URL("")
	clientWant(t, dir, 0, both, "get", id, "-o", "again.bin")
	if got, err := os.ReadFile(filepath.Join(dir, "again.bin")); err != nil || sum(got) != sum(body) {
		t.Errorf("get with the first endpoint down: %d bytes, %v", len(got), err)
	}
	down := clientWant(t, dir, 4, eb, "--attempts", "2", "nodes")
	if !strings.Contains(down.Stderr, "unreachable") || !strings.Contains(down.Stderr, b.PublicAddr) {
		t.Errorf("nodes of a stopped node: %s", down)
	}
	b.Restart(t)
	WaitMembers(t, c.Nodes, 3)

	clientWant(t, dir, 0, ea, "rm", id)
	for _, n := range c.Nodes {
		e := "--endpoint=" + n.URL("")
		eventually(t, 30*time.Second, "rm seen by "+n.PrivateAddr, func() error {
			if r := clientCLI(t, dir, nil, e, "stat", id); r.Code != 3 || !strings.Contains(r.Stderr, "deleted") {
				return errors.New(r.String())
			}
			return nil
		})
	}
	clientWant(t, dir, 3, ea, "rm", id)
	clientWant(t, dir, 3, ea, "get", id, "-o", "gone.bin")
	if _, err := os.Stat(filepath.Join(dir, "gone.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed get left gone.bin behind: %v", err)
	}
}

// clientJSON decodes a run's stdout.
func clientJSON(t testing.TB, r clientRun, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatalf("%v in %s", err, r)
	}
}

// clientCheckCLICluster checks put from stdin, ls, nodes, stats and warm.
func clientCheckCLICluster(t *testing.T, c *Cluster, dir, id string) {
	t.Helper()
	ea := "--endpoint=" + c.Nodes[0].URL("")
	r := clientCLI(t, dir, []byte("from stdin\n"), ea, "put", "-", "--json")
	var put struct {
		ID   string `json:"id"`
		Size int64  `json:"size"`
	}
	clientJSON(t, r, &put)
	if r.Code != 0 || put.Size != 11 {
		t.Errorf("put - --json: %s", r)
	}
	var ls []struct {
		ID string `json:"file_id"`
	}
	clientJSON(t, clientWant(t, dir, 0, ea, "ls", "--json"), &ls)
	var ids []string
	for _, o := range ls {
		ids = append(ids, o.ID)
	}
	if !slices.Contains(ids, id) || !slices.Contains(ids, put.ID) {
		t.Errorf("ls --json: %v, want %s and %s", ids, id, put.ID)
	}
	if text := clientWant(t, dir, 0, ea, "ls", "--limit", "1").Stdout; strings.Count(text, "\n") != 2 || !strings.HasPrefix(text, "ID ") {
		t.Errorf("ls --limit 1: %q, want a header and one row", text)
	}
	clientWant(t, dir, 0, ea, "rm", put.ID)

	var ms []member
	clientJSON(t, clientWant(t, dir, 0, ea, "nodes", "--json"), &ms)
	if len(alive(ms)) != 3 {
		t.Errorf("nodes --json: %+v, want 3 alive", ms)
	}
	if text := clientWant(t, dir, 0, ea, "nodes").Stdout; strings.Count(text, "alive") != 3 {
		t.Errorf("nodes: %q", text)
	}
	var st struct {
		NodeID  string `json:"node_id"`
		Objects struct {
			Objects int64 `json:"objects"`
		} `json:"objects"`
	}
	clientJSON(t, clientWant(t, dir, 0, ea, "stats", "--json"), &st)
	if st.NodeID != c.Nodes[0].NodeID(t) || st.Objects.Objects < 1 {
		t.Errorf("stats --json: %+v", st)
	}
	if text := clientWant(t, dir, 0, ea, "stats").Stdout; !strings.Contains(text, "members:  3, 3 alive") || !strings.Contains(text, "origin:   ok") {
		t.Errorf("stats: %q", text)
	}

	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte(id+"\n\nno-such-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := clientWant(t, dir, 1, ea, "warm", c.Origin.Bucket, "--keys", keys) // one key is missing
	if !strings.Contains(w.Stdout, "done: 2 listed, 1 done (1 cached), 1 failed") || !strings.Contains(w.Stderr, "1 of 2 keys not fetched") {
		t.Errorf("warm --keys: %s", w)
	}
	clientWant(t, dir, 0, ea, "warm", c.Origin.Bucket, id[:10]) // a prefix
	clientWant(t, dir, 3, ea, "warm", "no-such-bucket")
}

// TestClientCLIBadInput: an unknown command or flag, missing arguments, a
// missing file, a bad id and an unreachable node each exit non-zero with a
// one-line reason on stderr and nothing on stdout.
func TestClientCLIBadInput(t *testing.T) {
	o := newOrigin(t)
	n := o.StartNode(t)
	dir := t.TempDir()
	e := "--endpoint=" + n.URL("")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{e, "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{e, "put", "--no-such-flag", "x"}, 2, "flag provided but not defined: -no-such-flag"},
		{[]string{e, "get"}, 2, "get: want"},
		{[]string{e, "put", "missing.bin"}, 1, "open missing.bin: no such file or directory"},
		{[]string{e, "stat", "not-an-id"}, 1, `400 Bad Request: invalid id: "not-an-id" is not a ULID`},
		{[]string{e, "stat", newID()}, 3, "404 Not Found"},
		{[]string{"--endpoint=127.0.0.1:1", "--attempts=1", "ping"}, 4, "ping on http://127.0.0.1:1: unreachable"},
	} {
		r := clientCLI(t, dir, nil, tc.args...)
		if r.Code != tc.code || !strings.Contains(r.Stderr, tc.msg) || r.Stdout != "" {
			t.Errorf("objstorectl %q: %s; want exit %d and %q", tc.args, r, tc.code, tc.msg)
		}
	}
}
