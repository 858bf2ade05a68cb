package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// objstoreBin is the race-instrumented objstore binary that TestMain builds.
var objstoreBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "objstore-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
		}
	}()
	objstoreBin = filepath.Join(dir, "objstore")
	if err := build(objstoreBin); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	return m.Run()
}

// build compiles ./cmd/objstore of this module, race-instrumented, to out.
// OBJSTORE_INTEGRATION_RACE=0 builds it without the race detector, as it is
// shipped: scripts/campaign.sh runs hundreds of kill -9 rounds that way.
func build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	args := []string{"build", "-race", "-o", out, "./cmd/objstore"}
	if os.Getenv("OBJSTORE_INTEGRATION_RACE") == "0" {
		args = slices.Delete(args, 1, 2)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
