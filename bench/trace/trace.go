// Package trace reads the request traces in ../shared/traces (`time id
// size` per line, xz-compressed) for the cache benchmarks.
package trace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Request is one line of a trace: an object id and its size in bytes.
type Request struct {
	ID   string
	Size int64
}

// Read reads a `time id size` trace, decompressed by the xz command
// when the name ends in .xz (so the module needs no xz package).
func Read(ctx context.Context, path string) ([]Request, error) {
	if !strings.HasSuffix(path, ".xz") {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open trace: %w", err)
		}
		defer f.Close()
		return Parse(f)
	}
	cmd := exec.CommandContext(ctx, "xz", "--decompress", "--stdout", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start xz: %w", err)
	}
	reqs, perr := Parse(out)
	if perr != nil {
		_, _ = io.Copy(io.Discard, out) // let xz finish so Wait returns
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("xz %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return reqs, perr
}

func Parse(r io.Reader) ([]Request, error) {
	var reqs []Request
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("trace line %d: want `time id size`, got %q", n, sc.Text())
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("trace line %d: size %q", n, f[2])
		}
		reqs = append(reqs, Request{ID: f[1], Size: size})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	if len(reqs) == 0 {
		return nil, errors.New("trace is empty")
	}
	return reqs, nil
}

// Find returns path if it exists; otherwise, for a relative path, the
// first parent of the working directory that holds it (so the default
// ../shared/... works from the repository root and from a worktree below
// it).
func Find(path string) (string, error) {
	if _, err := os.Stat(path); err == nil || filepath.IsAbs(path) {
		return path, err
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find trace: %w", err)
	}
	rel := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(path)), "../")
	for {
		cand := filepath.Join(dir, rel)
		if _, err := os.Stat(cand); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("trace %s not found here or in a parent directory", path)
		}
		dir = parent
	}
}
