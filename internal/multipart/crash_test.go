package multipart_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crashDirEnv names the directory of the child process of TestCrash.
const crashDirEnv = "MULTIPART_CRASH_DIR"

// TestCrash kills a process with kill -9 while it writes two parts (one
// new, one replacing an acknowledged part) and checks that the next Open
// sees the acknowledged part only.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "writing" {
		if f := strings.Fields(lines.Text()); len(f) == 2 && f[0] == "acked" {
			id = f[1]
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error says so
	if id == "" {
		t.Fatalf("the child acknowledged nothing; stderr:\n%s", stderr.String())
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) == 0 {
		t.Fatal("no write was in flight at the kill")
	}

	s := openStore(t, dir, newClock())
	parts, _, err := s.ListParts(id, 0, 0)
	if err != nil || len(parts) != 1 || parts[0].ETag != etag(randomBytes(1, 1<<20)) {
		t.Fatalf("after the crash ListParts = %+v, %v; want part 1 as acknowledged", parts, err)
	}
	assertEmpty(t, filepath.Join(dir, "tmp"))
}

// stuck is a body that sends n bytes, says so, then blocks until the
// process is killed.
type stuck struct {
	n       int
	started chan<- struct{}
}

func (s *stuck) Read(p []byte) (int, error) {
	if s.n == 0 {
		s.started <- struct{}{}
		select {}
	}
	k := min(len(p), s.n)
	clear(p[:k])
	s.n -= k
	return k, nil
}

// TestCrashChild is the process TestCrash kills.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("the child process of TestCrash")
	}
	s := openStore(t, dir, &clock{t: time.Now()})
	id := create(t, s, "bkt", "k").ID
	put(t, s, id, 1, randomBytes(1, 1<<20))
	fmt.Println("acked", id)
	started := make(chan struct{})
	for _, n := range []int{1, 2} {
		go func() {
			_, err := s.PutPart(context.Background(), id, n, 2<<20, &stuck{n: 1 << 20, started: started})
			t.Errorf("PutPart returned: %v", err)
		}()
	}
	<-started
	<-started
	fmt.Println("writing")
	select {}
}
