// Package buildinfo names the version of the programs built from this
// module, for their -version flag.
//
// A binary built from a release tag (go install
// github.com/emailsched/emailsched/examples/schedule@v0.1.0) reports that
// tag. Any other build, from a checkout with go build or go run, reports
// the release under way, Release, as "0.1.0-devel", followed by the
// commit it was built from when the go command recorded one: with
// -buildvcs=false (as .ci/run builds) or outside a repository there is
// none.
package buildinfo

import (
	"regexp"
	"runtime"
	"runtime/debug"
)

// Release is the release under way: the version of a build that is not
// one of a release tag, before its "-devel" suffix.
const Release = "0.1.0"

// releaseTag matches a release tag: vX.Y.Z, without pre-release or build
// parts (a pseudo-version such as v0.0.0-20260101120000-7f88b631eb14 has
// both, a tag built with uncommitted changes "+dirty").
var releaseTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// Version returns the version of the running program: the main module's
// version when it is a release tag (v0.1.0), else Release + "-devel",
// followed, when the build recorded its commit (vcs.revision), by "+" and
// the commit's first 12 hex digits, and by "-dirty" when the work tree had
// uncommitted changes (vcs.modified): "0.1.0-devel+7f88b631eb14-dirty".
func Version() string {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi)
}

// fromBuildInfo is Version for the build information bi; nil stands for
// none (a development build without a commit).
func fromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return Release + "-devel"
	}
	if releaseTag.MatchString(bi.Main.Version) {
		return bi.Main.Version
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	v := Release + "-devel"
	if revision == "" {
		return v
	}
	v += "+" + revision[:min(12, len(revision))]
	if modified {
		v += "-dirty"
	}
	return v
}

// Line returns the line a program prints for -version: its name, its
// version and the Go release and platform it was built for, as in
// "schedule 0.1.0-devel+7f88b631eb14 (go1.26.8 linux/amd64)".
func Line(program string) string {
	return program + " " + Version() + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
