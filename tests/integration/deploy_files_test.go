package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The deployment files of deploy/ are checked with the tools their targets
// use, offline: the systemd unit by systemd-analyze, the Kubernetes
// manifests by kubeconform against schemas derived from the Kubernetes API
// types (deploy/kubeschema). scripts/test.sh installs both tools. Each
// check is also shown to fail on a broken copy, so a check that passes
// everything would not go unnoticed.

// deployRoot is the repository's deploy/ directory.
func deployRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "deploy")
}

// deployTool is the path of a command the checks need, or a failure that
// names what installs it.
func deployTool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH (scripts/test.sh installs it: %s)", name, install)
	}
	return p
}

// deployUnitCopy writes deploy/systemd/objstore.service into a temp dir as
// systemd-analyze can check it here: ExecStart runs a real objstore binary
// (the test's build) and EnvironmentFile is the shipped example; edit, if
// not nil, changes the text further.
func deployUnitCopy(t *testing.T, edit func(string) string) string {
	t.Helper()
	src := filepath.Join(deployRoot(t), "systemd")
	b, err := os.ReadFile(filepath.Join(src, "objstore.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for old, repl := range map[string]string{
		"ExecStart=/usr/local/bin/objstore":          "ExecStart=" + objstoreBin,
		"EnvironmentFile=/etc/objstore/objstore.env": "EnvironmentFile=" + filepath.Join(src, "objstore.env"),
	} {
		if !strings.Contains(unit, old) {
			t.Fatalf("objstore.service has no line %q", old)
		}
		unit = strings.Replace(unit, old, repl, 1)
	}
	if edit != nil {
		unit = edit(unit)
	}
	path := filepath.Join(t.TempDir(), "objstore.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// deployRun runs a command and returns its combined output and whether it
// exited 0.
func deployRun(t *testing.T, dir, name string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return string(out), err == nil
}

func TestDeploySystemdUnit(t *testing.T) {
	sa := deployTool(t, "systemd-analyze", "apt-get install systemd")
	dir := t.TempDir()
	unit := deployUnitCopy(t, nil)
	if out, ok := deployRun(t, dir, sa, "verify", unit); !ok || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify objstore.service: ok=%v, want no output:\n%s", ok, out)
	}
	// The hardening: systemd's own exposure score, 0 (locked down) to 100
	// (none); its threshold is on that scale (the text shows it /10).
	if out, ok := deployRun(t, dir, sa, "security", "--offline=true", "--threshold=20", unit); !ok {
		t.Fatalf("systemd-analyze security: exposure above 2.0 of 10:\n%s", out)
	} else {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		t.Log(lines[len(lines)-1])
	}

	broken := map[string]func(string) string{
		"misspelt option": func(u string) string {
			return strings.Replace(u, "NoNewPrivileges=yes", "NoNewPrivilege=yes", 1)
		},
		"missing binary": func(u string) string {
			return strings.Replace(u, "ExecStart="+objstoreBin, "ExecStart="+filepath.Join(dir, "no-such-objstore"), 1)
		},
	}
	for name, edit := range broken {
		t.Run(name, func(t *testing.T) {
			if out, ok := deployRun(t, dir, sa, "verify", deployUnitCopy(t, edit)); ok && strings.TrimSpace(out) == "" {
				t.Fatal("systemd-analyze verify found nothing wrong with a broken unit")
			}
		})
	}
	t.Run("hardening removed", func(t *testing.T) {
		weak := deployUnitCopy(t, func(u string) string {
			var keep []string
			for _, line := range strings.Split(u, "\n") {
				if !strings.HasPrefix(line, "Protect") && !strings.HasPrefix(line, "Private") &&
					!strings.HasPrefix(line, "Restrict") && !strings.HasPrefix(line, "SystemCall") {
					keep = append(keep, line)
				}
			}
			return strings.Join(keep, "\n")
		})
		out, ok := deployRun(t, dir, sa, "security", "--offline=true", "--threshold=20", weak)
		if ok || !strings.Contains(out, "Overall exposure level") {
			t.Fatalf("systemd-analyze security: ok=%v, want a score above the threshold for a unit without its hardening:\n%s", ok, out)
		}
	})
}

func TestDeployKubernetesManifests(t *testing.T) {
	kc := deployTool(t, "kubeconform", "go install github.com/yannh/kubeconform/cmd/kubeconform")
	root := deployRoot(t)
	schemas := t.TempDir()
	if out, ok := deployRun(t, filepath.Join(root, "kubeschema"), "go", "run", ".", "-out", schemas); !ok {
		t.Fatalf("go run deploy/kubeschema: %s", out)
	}
	check := func(t *testing.T, paths ...string) (string, bool) {
		t.Helper()
		args := append([]string{"-strict", "-summary",
			"-schema-location", filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}, paths...)
		return deployRun(t, root, kc, args...)
	}
	out, ok := check(t, filepath.Join(root, "kubernetes"))
	if !ok || !strings.Contains(out, "Valid: 5, Invalid: 0, Errors: 0, Skipped: 0") {
		t.Fatalf("kubeconform deploy/kubernetes: ok=%v, want 5 valid:\n%s", ok, out)
	}
	t.Log(strings.TrimSpace(out))

	sts, err := os.ReadFile(filepath.Join(root, "kubernetes", "statefulset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := []struct {
		name, old, new, want string
	}{
		{"misspelt field", "readinessProbe:", "readinesProbe:", "additional properties 'readinesProbe' not allowed"},
		{"wrong type", "containerPort: 10997", `containerPort: "s3"`, "got string, want integer"},
		{"required field gone", "- name: objstore\n          image:", "- image:", "missing property 'name'"},
		{"bad quantity", "storage: 5Gi", "storage: five", "does not match pattern"},
	}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			if !strings.Contains(string(sts), b.old) {
				t.Fatalf("statefulset.yaml has no %q", b.old)
			}
			path := filepath.Join(t.TempDir(), "statefulset.yaml")
			if err := os.WriteFile(path, []byte(strings.Replace(string(sts), b.old, b.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, ok := check(t, path)
			if ok || !strings.Contains(out, b.want) {
				t.Fatalf("kubeconform on a StatefulSet with a %s: ok=%v, want %q:\n%s", b.name, ok, b.want, out)
			}
		})
	}
}
