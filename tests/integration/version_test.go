package integration

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVersionAgrees builds objstore as users do, in a git clone of this
// source tree made in a temporary directory (go build, go run), and checks
// that `objstore --version` and GET /api/v1/version print the same version,
// of the form the README promises: 0.2.0+<12-hex commit> at a commit,
// .dirty added for a modified tree, the tag at a tag, 0.2.0+devel for go run
// (no VCS stamp unless -buildvcs=true). go install …@<version> takes the
// version from the module proxy's pseudo-version or tag, which
// cmd/objstore's TestVersionFrom covers. The integration binary that
// TestMain built must agree with itself too.
func TestVersionAgrees(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the version test needs git: %v", err)
	}
	if got := runningVersion(t, objstoreBin); got == "" {
		t.Fatal("the integration binary reports an empty version")
	}

	clone := cloneTree(t)
	release := releaseOf(t, clone)
	head := strings.TrimSpace(gitIn(t, clone, "rev-parse", "HEAD"))
	bin := filepath.Join(t.TempDir(), "objstore")
	build := func() string {
		t.Helper()
		goIn(t, clone, "build", "-buildvcs=true", "-o", bin, "./cmd/objstore")
		return runningVersion(t, bin)
	}
	if got, want := build(), release+"+"+head[:12]; got != want {
		t.Errorf("go build at a commit: %q, want %q", got, want)
	}
	if got, want := strings.TrimSpace(goIn(t, clone, "run", "./cmd/objstore", "--version")), release+"+devel"; got != want {
		t.Errorf("go run: %q, want %q", got, want)
	}
	if got, want := strings.TrimSpace(goIn(t, clone, "run", "-buildvcs=true", "./cmd/objstore", "--version")), release+"+"+head[:12]; got != want {
		t.Errorf("go run -buildvcs=true: %q, want %q", got, want)
	}

	untracked := filepath.Join(clone, "scratch.txt")
	if err := os.WriteFile(untracked, []byte("not committed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := build(), release+"+"+head[:12]+".dirty"; got != want {
		t.Errorf("go build in a modified tree: %q, want %q", got, want)
	}
	if err := os.Remove(untracked); err != nil {
		t.Fatal(err)
	}

	gitIn(t, clone, "tag", "v"+release)
	if got, want := build(), "v"+release; got != want {
		t.Errorf("go build at tag v%s: %q, want %q", release, got, want)
	}
}

// runningVersion returns what bin --version prints, after checking that a
// node of bin (local origin, temporary directories) answers the same on
// GET /api/v1/version.
func runningVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	flag := strings.TrimSpace(string(out))

	dir := t.TempDir()
	public := freeAddr(t, nil, "127.0.0.1")
	cmd := exec.Command(bin, "--backend", "local", "--origin-dir", filepath.Join(dir, "origin"),
		"--state-dir", filepath.Join(dir, "state"), "--files-dir", filepath.Join(dir, "files"),
		"--public-addr", public, "--private-addr", freeAddr(t, nil, "127.0.0.1"), "--s3-api-addr", "")
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill() // a version check needs no clean shutdown
		<-exited
		if t.Failed() {
			t.Logf("log of %s:\n%s", bin, log)
		}
	}()
	api, err := getWhenReady(public+"/api/v1/version", exited)
	if err != nil {
		t.Fatalf("GET /api/v1/version of %s: %v", bin, err)
	}
	if api != flag {
		t.Errorf("%s: --version prints %q, GET /api/v1/version answers %q", bin, flag, api)
	}
	return flag
}

// getWhenReady GETs http://addr until it answers 200 and returns the body,
// or fails when the process exits or readyTimeout passes.
func getWhenReady(addr string, exited <-chan error) (string, error) {
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get("http://" + addr)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			_ = resp.Body.Close() // fully read
			if resp.StatusCode == http.StatusOK && rerr == nil {
				return strings.TrimSpace(string(b)), nil
			}
			err = fmt.Errorf("%s %q %v", resp.Status, b, rerr)
		}
		select {
		case werr := <-exited:
			return "", fmt.Errorf("exited (%v) before it answered: %v", werr, err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no answer within %v: %v", readyTimeout, err)
		}
	}
}

// cloneTree copies this module's source tree (without .git) to a temporary
// directory and commits it there as a fresh git repository: the code under
// test, in a clone with a .git directory, which is what go build stamps.
func cloneTree(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		switch {
		case d.Name() == ".git":
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git file
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy the source tree: %v", err)
	}
	gitIn(t, dst, "init", "-q")
	gitIn(t, dst, "add", "-A")
	gitIn(t, dst, "-c", "user.name=objstore test", "-c", "user.email=test@objstore.invalid", "commit", "-q", "-m", "snapshot for TestVersionAgrees")
	return dst
}

// releaseOf reads cmd/objstore's release constant, which versions without
// a tag start with, from the source tree in dir.
func releaseOf(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "cmd", "objstore", "version.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^const release = "([^"]+)"$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("cmd/objstore/version.go declares no const release")
	}
	return string(m[1])
}

// gitIn runs git in dir and returns its output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// goIn runs the go command in dir with VCS stamping at Go's default (auto),
// whatever the user's go env says, and returns its standard output.
func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
