package integration

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The deployment files of deploy/ are checked with the tools their targets
// use, offline: the systemd unit by systemd-analyze, the Kubernetes
// manifests by kubeconform against schemas derived from the Kubernetes API
// types (deploy/check schemas), the compose file by compose-go, the loader
// of docker compose (deploy/check compose), the Dockerfiles by the rules of
// docker build --check (deploy/check dockerfile). scripts/test.sh installs the
// tools. Each check is also shown to fail on broken copies, so a check
// that passes everything would not go unnoticed.

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

// deployCheckBin builds deploy/check (a module of its own) into a temp dir.
func deployCheckBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "check")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(deployRoot(t), "check")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build deploy/check: %v\n%s", err, out)
	}
	return bin
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
	// In deploy/check: it reads the API's source for +optional markers
	// with go list, which needs that module's versions.
	if out, ok := deployRun(t, filepath.Join(root, "check"), deployCheckBin(t), "schemas", "-out", schemas); !ok {
		t.Fatalf("deploy/check schemas: %s", out)
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
		{"no selector", "  selector:\n    matchLabels:\n      app.kubernetes.io/name: objstore\n  template:", "  template:", "missing property 'selector'"},
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

// deployCompose loads compose.yaml with the broken edit applied (none if
// old is empty) in a copy of deploy/compose, with env as the environment,
// and returns deploy/check's output.
func deployCompose(t *testing.T, check string, env []string, old, repl string) (string, bool) {
	t.Helper()
	src := filepath.Join(deployRoot(t), "compose")
	dir := t.TempDir()
	for _, f := range []string{"compose.yaml", "versitygw.Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "compose.yaml" && old != "" {
			if !strings.Contains(string(b), old) {
				t.Fatalf("compose.yaml has no %q", old)
			}
			b = []byte(strings.ReplaceAll(string(b), old, repl))
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(check, "compose", filepath.Join(dir, "compose.yaml"))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("deploy/check compose: %v", err)
	}
	return string(out), err == nil
}

func TestDeployComposeFile(t *testing.T) {
	env := []string{"OBJSTORE_CLUSTER_KEY=" + testClusterKey, "ORIGIN_SECRET_KEY=origin-secret"}
	check := deployCheckBin(t)
	out, ok := deployCompose(t, check, env, "", "")
	if !ok {
		t.Fatalf("compose.yaml does not load:\n%s", out)
	}
	// Three nodes and the origin; every node carries the peers' alias,
	// its own state and files volumes, and the cluster key given.
	var model struct {
		Services map[string]struct {
			Environment map[string]*string `json:"environment"`
			Networks    map[string]struct {
				Aliases []string `json:"aliases"`
			} `json:"networks"`
			Volumes []struct {
				Source string `json:"source"`
				Target string `json:"target"`
			} `json:"volumes"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &model); err != nil {
		t.Fatalf("resolved compose model: %v\n%s", err, out)
	}
	if _, ok := model.Services["versitygw"]; !ok || len(model.Services) != 4 {
		t.Errorf("services: %v; want versitygw and three nodes", slices.Collect(maps.Keys(model.Services)))
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("objstore-%d", i)
		svc, ok := model.Services[name]
		switch {
		case !ok:
			t.Errorf("no service %s", name)
		case !slices.Contains(svc.Networks["default"].Aliases, "objstore-peers"):
			t.Errorf("%s: aliases %v, want objstore-peers", name, svc.Networks["default"].Aliases)
		case svc.Environment["APP_CLUSTER_KEY"] == nil || *svc.Environment["APP_CLUSTER_KEY"] != testClusterKey:
			t.Errorf("%s: APP_CLUSTER_KEY is not the key given", name)
		case len(svc.Volumes) != 2 || svc.Volumes[0].Source != fmt.Sprintf("state%d", i) || svc.Volumes[1].Source != fmt.Sprintf("files%d", i):
			t.Errorf("%s: volumes %+v, want its own state and files", name, svc.Volumes)
		}
	}

	broken := []struct {
		name, old, repl, want string
		env                   []string
	}{
		{"no cluster key", "", "", "required variable OBJSTORE_CLUSTER_KEY is missing a value", env[1:]},
		{"misspelt key", "    healthcheck:", "    healthchek:", "healthchek", env},
		{"bad value", "condition: service_healthy", "condition: service_heathy", "must be one of", env},
		{"undefined volume", "- state2:/var", "- state9:/var", "undefined volume state9", env},
	}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			out, ok := deployCompose(t, check, b.env, b.old, b.repl)
			if ok || !strings.Contains(out, b.want) {
				t.Fatalf("compose.yaml with a %s: ok=%v, want %q:\n%s", b.name, ok, b.want, out)
			}
		})
	}
}

// TestDeployDockerfiles lints both Dockerfiles with the rules of docker
// build --check (BuildKit's own, run in deploy/check: no Docker daemon
// here) and checks the promises of the node's image.
func TestDeployDockerfiles(t *testing.T) {
	check := deployCheckBin(t)
	root := deployRoot(t)
	for _, f := range []string{"Dockerfile", filepath.Join("compose", "versitygw.Dockerfile")} {
		if out, ok := deployRun(t, root, check, "dockerfile", f); !ok {
			t.Errorf("docker build --check rules on deploy/%s:\n%s", f, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"CGO_ENABLED=0 go build", // static
		"USER 10001:10001",       // not root
		`VOLUME ["/var/lib/objstore/state", "/var/lib/objstore/files"]`,
		"EXPOSE 10999/tcp 10997/tcp 11999/tcp 11999/udp",
		"http://127.0.0.1:10999/healthz",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("deploy/Dockerfile has no %q", want)
		}
	}

	broken := []struct{ name, old, repl, want string }{
		{"keyword casing", "AS build", "as build", "FromAsCasing"},
		{"shell-form entrypoint", `ENTRYPOINT ["/usr/local/bin/objstore"]`, "ENTRYPOINT /usr/local/bin/objstore", "JSONArgsRecommended"},
		{"unknown instruction", "WORKDIR /var/lib/objstore", "WORKDIRR /var/lib/objstore", "unknown instruction"},
	}
	for _, br := range broken {
		t.Run(br.name, func(t *testing.T) {
			if !strings.Contains(df, br.old) {
				t.Fatalf("deploy/Dockerfile has no %q", br.old)
			}
			path := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(path, []byte(strings.Replace(df, br.old, br.repl, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, ok := deployRun(t, root, check, "dockerfile", path)
			if ok || !strings.Contains(out, br.want) {
				t.Fatalf("a Dockerfile with a %s: ok=%v, want %q:\n%s", br.name, ok, br.want, out)
			}
		})
	}
}
