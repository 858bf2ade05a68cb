package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README is executable documentation: TestReadmeBlocks runs every bash
// block of README.md, top to bottom in one shell, as a new user would type
// them into one terminal in a fresh clone. A block may be preceded by one
// directive, an HTML comment that GitHub does not show:
//
//	<!-- readme: skip <why> -->          not run (the test suite itself, say)
//	<!-- readme: background <host:port> -->
//	                                     run in the background (a server);
//	                                     the next block waits for the port
//	<!-- readme: retry <seconds> -->     run again until it succeeds, for a
//	                                     check of something that settles
//	<!-- readme: file <path> -->         (any language) the block is the
//	                                     whole content of that file
//
// The shell runs in a network namespace of its own, so the README's
// default ports are free and nothing it starts is reachable from outside,
// with HOME in a temporary directory, a copy of the tracked files as the
// clone, and no network: Go builds use the module cache already filled.

// readmeDirective is the comment before a fenced block.
var readmeDirective = regexp.MustCompile(`^<!--\s*readme:\s*(\w+)\s*(.*?)\s*-->$`)

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	line      int // of the opening fence, 1-based
	lang      string
	text      string
	directive string // skip, background, retry, file or ""
	arg       string
}

// parseReadme returns the fenced code blocks of a Markdown document with
// the directive that precedes each, if any.
func parseReadme(doc string) ([]readmeBlock, error) {
	var (
		blocks  []readmeBlock
		cur     *readmeBlock
		pending *readmeBlock // a directive waiting for its block
		body    []string
	)
	for i, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if trimmed == "```" {
				cur.text = strings.Join(body, "\n") + "\n"
				blocks = append(blocks, *cur)
				cur, body = nil, nil
				continue
			}
			body = append(body, line)
			continue
		}
		if m := readmeDirective.FindStringSubmatch(trimmed); m != nil {
			switch m[1] {
			case "skip", "background", "retry", "file":
			default:
				return nil, fmt.Errorf("README.md:%d: unknown directive %q", i+1, m[1])
			}
			pending = &readmeBlock{directive: m[1], arg: m[2]}
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			cur = &readmeBlock{line: i + 1, lang: strings.TrimPrefix(trimmed, "```")}
			if pending != nil {
				cur.directive, cur.arg = pending.directive, pending.arg
				pending = nil
			}
			continue
		}
		if trimmed != "" && pending != nil {
			return nil, fmt.Errorf("README.md:%d: a readme directive must be followed by a code block", i+1)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: unterminated code block", cur.line)
	}
	return blocks, nil
}

// readmeScript is the shell script that runs the README's bash blocks in
// order. Each block is announced on stderr, so a failure names it.
func readmeScript(blocks []readmeBlock) (string, int, error) {
	var b strings.Builder
	b.WriteString("set -eo pipefail\n")
	waitFor := ""
	ran := 0
	for k, bl := range blocks {
		if bl.lang != "bash" || bl.directive == "skip" || bl.directive == "file" {
			continue
		}
		ran++
		fmt.Fprintf(&b, "echo '==> README.md:%d' >&2\n", bl.line)
		if waitFor != "" {
			b.WriteString(waitPort(waitFor))
			waitFor = ""
		}
		switch bl.directive {
		case "background":
			host, port, ok := strings.Cut(bl.arg, ":")
			if !ok || host == "" || port == "" {
				return "", 0, fmt.Errorf("README.md:%d: background wants host:port, got %q", bl.line, bl.arg)
			}
			fmt.Fprintf(&b, "{\n%s} >bg-%d.log 2>&1 &\n", bl.text, k)
			waitFor = bl.arg
		case "retry":
			secs, err := strconv.Atoi(bl.arg)
			if err != nil || secs <= 0 {
				return "", 0, fmt.Errorf("README.md:%d: retry wants seconds, got %q", bl.line, bl.arg)
			}
			fmt.Fprintf(&b, "for try in $(seq %d); do\n  if (\n%s  ); then break; fi\n  [ \"$try\" -lt %d ] || { echo 'README.md:%d: still failing after %d s' >&2; exit 1; }\n  sleep 0.5\ndone\n",
				2*secs, bl.text, 2*secs, bl.line, secs)
		default:
			b.WriteString(bl.text)
		}
	}
	if waitFor != "" {
		b.WriteString(waitPort(waitFor))
	}
	b.WriteString("echo '==> README.md: every block ran' >&2\n")
	return b.String(), ran, nil
}

// waitPort is shell that waits up to 3 minutes (a first build) for a
// listener on host:port.
func waitPort(addr string) string {
	host, port, _ := strings.Cut(addr, ":")
	return fmt.Sprintf("for try in $(seq 900); do (exec 3<>/dev/tcp/%s/%s) 2>/dev/null && break; "+
		"[ \"$try\" -lt 900 ] || { echo 'nothing listens on %s' >&2; exit 1; }; sleep 0.2; done\n", host, port, addr)
}

func TestReadmeBlocks(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseReadme(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	checkReadmeFiles(t, root, blocks)
	script, ran, err := readmeScript(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if ran == 0 {
		t.Fatal("README.md has no bash block to run")
	}
	work := t.TempDir()
	clone := filepath.Join(work, "objstore")
	copyTracked(t, root, clone)
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	ns := readmeNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "bash", "-c", script)
	cmd.Dir = clone
	cmd.Env = readmeEnv(t, home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Everything the README starts in the background lives in this process
	// group: end it all when the script ends, however it ends.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A file, not a pipe: the servers the README starts in the background
	// keep the script's output open after it ends.
	outFile, err := os.Create(filepath.Join(work, "readme.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // background servers the script left running
	out, _ := os.ReadFile(outFile.Name())
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(clone, "*.log")) // servers' logs
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), tail(string(b), 4000))
		}
		t.Fatalf("README blocks failed: %v\n%s", err, tail(string(out), 12000))
	}
	t.Logf("%d README blocks ran\n%s", ran, tail(string(out), 3000))
}

// checkReadmeFiles checks that every block with a file directive is that
// file, byte for byte, so a program shown in the README is the one that runs.
func checkReadmeFiles(t *testing.T, root string, blocks []readmeBlock) {
	t.Helper()
	for _, bl := range blocks {
		if bl.directive != "file" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(bl.arg)))
		if err != nil {
			t.Errorf("README.md:%d: %v", bl.line, err)
			continue
		}
		if string(b) != bl.text {
			t.Errorf("README.md:%d: the block differs from %s; copy the file into the README", bl.line, bl.arg)
		}
	}
}

// readmeEnv is a new user's environment: a fresh HOME, the system's PATH
// and Go, no AWS settings from this machine, and Go builds that use the
// module and build caches already filled, since the namespace has no network.
func readmeEnv(t *testing.T, home string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	goenv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	return []string{
		"HOME=" + home,
		"PATH=" + filepath.Dir(goBin) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"TERM=dumb",
		"GOMODCACHE=" + goenv("GOMODCACHE"),
		"GOCACHE=" + goenv("GOCACHE"),
		"GOPROXY=off",
		"GOFLAGS=-mod=readonly",
		"GOTOOLCHAIN=local",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// copyTracked copies the files git tracks under root (as they are in the
// work tree) to dst: what a fresh clone holds.
func copyTracked(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		st, err := os.Lstat(src)
		if err != nil {
			continue // deleted in the work tree
		}
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// readmeNetns creates a network namespace with its loopback up, removed
// when the test ends. Its name carries this process's ID, so that one a
// killed run left behind is removed by the next (removeStaleNetns).
func readmeNetns(t *testing.T) string {
	t.Helper()
	requireNetns(t)
	name := fmt.Sprintf("%s%d-readme", netnsPrefix, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("loopback up in %s: %v: %s", name, err, out)
	}
	return name
}
