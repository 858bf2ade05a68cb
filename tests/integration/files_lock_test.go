package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFilesDirBelongsToOneNode starts a second node, with a state dir of
// its own, on the files dir of a running node: it must fail at start
// naming the holder, and again, naming the owner, once the first has
// stopped; the first node's level-0 bodies (which exist nowhere else) must
// survive both attempts and a restart.
func TestFilesDirBelongsToOneNode(t *testing.T) {
	o := newOrigin(t)
	first := o.StartNode(t)
	firstID := first.NodeID(t)
	bodies := map[string][]byte{}
	for i := range 3 {
		id := first.NewID(t)
		bodies[id] = []byte(fmt.Sprintf("level-0 body %d of node %s", i, firstID))
		first.MustPut(t, id, 0, bodies[id])
	}

	out := startFailing(t, first)
	for _, want := range []string{"in use by another process", "pid " + strconv.Itoa(first.proc.cmd.Process.Pid),
		"node " + firstID, first.FilesDir} {
		if !strings.Contains(out, want) {
			t.Errorf("second node on a running node's files dir: output does not name %q:\n%s", want, out)
		}
	}

	first.Stop()
	out = startFailing(t, first)
	for _, want := range []string{"belongs to node " + firstID, filepath.Join(first.FilesDir, "owner")} {
		if !strings.Contains(out, want) {
			t.Errorf("second node on a stopped node's files dir: output does not name %q:\n%s", want, out)
		}
	}

	first.Restart(t)
	for id, body := range bodies {
		first.MustGet(t, id, body)
	}
}

// startFailing runs a node with a new state dir on the files dir of n and
// the same origin, expects it to exit with an error before it serves, and
// returns its output.
func startFailing(t *testing.T, n *Node) string {
	t.Helper()
	dir := t.TempDir()
	second := &Node{opts: n.opts, StateDir: filepath.Join(dir, "state"), FilesDir: n.FilesDir,
		PublicAddr: freeAddr(t, nil, ""), PrivateAddr: freeAddr(t, nil, ""), S3Addr: freeAddr(t, nil, "")}
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, objstoreBin, second.Args()...)
	cmd.Env = append(os.Environ(), n.opts.S3.Env()...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("second node on %s: %v (want it to exit with an error at once); output:\n%s", n.FilesDir, err, out)
	}
	return string(out)
}
