package main

import (
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3") for
// releases; otherwise buildVersion derives one from the build information.
var version = ""

// buildVersion is the release version, or the module version when installed
// with go install, or "devel+<commit>" (with "-dirty" for uncommitted changes)
// when built from a work tree.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
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
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel+" + rev + dirty
}
