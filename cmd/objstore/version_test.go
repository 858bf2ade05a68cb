package main

import (
	"regexp"
	"runtime/debug"
	"testing"
)

// versionFormat is every form versionFrom may print (see its comment).
var versionFormat = regexp.MustCompile(`^(v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+dirty)?|` + regexp.QuoteMeta(release) + `\+([0-9a-f]{12}(\.dirty)?|devel))$`)

func TestVersionFrom(t *testing.T) {
	const rev = "941cb6a3c4d4f49ed5079e8d6ce178240735d696"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name     string
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"go install at a tag", "v0.2.0", nil, "v0.2.0"},
		{"go build in a clone at a tag", "v0.2.0", vcs("false"), "v0.2.0"},
		{"go build at a tag, modified", "v0.2.0+dirty", vcs("true"), "v0.2.0+dirty"},
		{"go install @latest without tags", "v0.0.0-20261126141312-941cb6a3c4d4", nil, release + "+941cb6a3c4d4"},
		{"go build in a clone without tags", "v0.0.0-20261126141312-941cb6a3c4d4", vcs("false"), release + "+941cb6a3c4d4"},
		{"go build in a modified clone", "v0.0.0-20261126141312-941cb6a3c4d4+dirty", vcs("true"), release + "+941cb6a3c4d4.dirty"},
		{"pseudo-version after a tag", "v0.2.1-0.20261126141312-941cb6a3c4d4", nil, release + "+941cb6a3c4d4"},
		{"pseudo-version after a pre-release", "v0.3.0-rc.1.0.20261126141312-941cb6a3c4d4", nil, release + "+941cb6a3c4d4"},
		{"go run -buildvcs=true, or Go before 1.24", "(devel)", vcs("false"), release + "+941cb6a3c4d4"},
		{"same, modified", "(devel)", vcs("true"), release + "+941cb6a3c4d4.dirty"},
		{"go run, a worktree, -buildvcs=false", "(devel)", nil, release + "+devel"},
		{"no main module version", "", nil, release + "+devel"},
		{"a pre-release tag", "v0.3.0-rc.1", nil, "v0.3.0-rc.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := &debug.BuildInfo{Main: debug.Module{Path: "sphere.software/objstore", Version: tt.main}, Settings: tt.settings}
			got := versionFrom(info)
			if got != tt.want {
				t.Errorf("versionFrom(%q, %v) = %q, want %q", tt.main, tt.settings, got, tt.want)
			}
			if !versionFormat.MatchString(got) {
				t.Errorf("%q does not match the documented format %s", got, versionFormat)
			}
		})
	}
}

// TestBuildVersionOfTestBinary checks that the version of this test binary,
// which go test builds without VCS information, has the documented form.
func TestBuildVersionOfTestBinary(t *testing.T) {
	if v := buildVersion(); !versionFormat.MatchString(v) {
		t.Fatalf("buildVersion() = %q, not of the form %s", v, versionFormat)
	}
}
