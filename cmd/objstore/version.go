package main

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// release is the version of this source tree without the v: the next tag
// vX.Y.Z must match it (bump it when tagging).
const release = "0.2.0"

// version is set at link time (-ldflags "-X main.version=v1.2.3") for
// releases built outside the go command's versioning; otherwise
// buildVersion derives one from the build information.
var version = ""

// buildVersion is what `objstore --version`, GET /api/v1/version and the
// start log print; see versionFrom for the format.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return release + "+devel"
	}
	return versionFrom(info)
}

// pseudoVersion matches the Go module pseudo-versions that the go command
// gives a build at a commit without a tag (v0.0.0-20261126141312-941cb6a3c4d4,
// v1.2.4-0.20261126141312-941cb6a3c4d4, v1.3.0-rc.1.0.20261126141312-…),
// with a build suffix such as +dirty; group 1 is the 12-hex commit.
var pseudoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[^+]*\.)?[0-9]{14}-([0-9a-f]{12})(\+.*)?$`)

// versionFrom derives the version from the build information, so that the
// same commit prints the same version however it was built:
//
//   - vX.Y.Z (the tag; Go adds +dirty to a modified tree): go install
//     …@vX.Y.Z, or go build in a clone checked out at the tag;
//   - 0.2.0+<12-hex commit>, with .dirty for a modified tree: go build in a
//     git clone at another commit (Go records vcs.revision, and from Go
//     1.24 a pseudo-version), go install …@latest or …@<commit> when that
//     is not a tag (the pseudo-version carries the commit), and go run
//     -buildvcs=true;
//   - 0.2.0+devel when the build recorded no commit: go run (which stamps
//     no VCS information by default), -buildvcs=false, a git worktree (Go
//     stamps only clones whose .git is a directory), a source archive.
func versionFrom(info *debug.BuildInfo) string {
	mod := info.Main.Version
	rev, modified := vcsRevision(info)
	if m := pseudoVersion.FindStringSubmatch(mod); m != nil {
		return commitVersion(m[1], modified || strings.Contains(m[2], "dirty"))
	}
	if mod != "" && mod != "(devel)" {
		return mod
	}
	if rev == "" {
		return release + "+devel"
	}
	return commitVersion(rev, modified)
}

// vcsRevision is the commit the build recorded, if any, and whether the
// tree had changes.
func vcsRevision(info *debug.BuildInfo) (rev string, modified bool) {
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified
}

// commitVersion is release+<the first 12 hex digits of rev>[.dirty].
func commitVersion(rev string, dirty bool) string {
	v := release + "+" + rev[:min(12, len(rev))]
	if dirty {
		v += ".dirty"
	}
	return v
}
