package main

import (
	"runtime/debug"
)

// release is the version of this source tree; builds add the commit.
const release = "0.2.0"

// version is set at link time (-ldflags "-X main.version=v1.2.3") for
// releases; otherwise buildVersion derives one from the build information.
var version = ""

// buildVersion is the version set at link time, or the module version when
// installed with go install, or the source release plus the commit it was
// built from ("0.2.0+1a2b3c4d5e6f", ".dirty" for uncommitted changes) when
// the build recorded it, or the bare source release.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return release
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ".dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return release
	}
	return release + "+" + rev + dirty
}
