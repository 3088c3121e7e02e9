package buildinfo

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	const rev = "7f88b631eb14c0ffee0123456789abcdef012345"
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "0.1.0-devel"},
		{"release tag", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.1.0"},
		{"later release tag, vcs ignored", &debug.BuildInfo{Main: debug.Module{Version: "v1.12.3"}, Settings: vcs("vcs.revision", rev, "vcs.modified", "true")}, "v1.12.3"},
		{"devel without vcs (-buildvcs=false)", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "0.1.0-devel"},
		{"empty version", &debug.BuildInfo{}, "0.1.0-devel"},
		{"devel, clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.modified", "false")}, "0.1.0-devel+7f88b631eb14"},
		{"pseudo-version, dirty", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101120000-7f88b631eb14+dirty"}, Settings: vcs("vcs.revision", rev, "vcs.modified", "true")}, "0.1.0-devel+7f88b631eb14-dirty"},
		{"pre-release tag", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0-rc.1"}, Settings: vcs("vcs.revision", rev)}, "0.1.0-devel+7f88b631eb14"},
		{"tag with uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0+dirty"}, Settings: vcs("vcs.revision", rev, "vcs.modified", "true")}, "0.1.0-devel+7f88b631eb14-dirty"},
		{"leading zero is no release", &debug.BuildInfo{Main: debug.Module{Version: "v0.01.0"}}, "0.1.0-devel"},
		{"short revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc123")}, "0.1.0-devel+abc123"},
		{"modified without revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.modified", "true")}, "0.1.0-devel"},
	} {
		if got := fromBuildInfo(tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRelease(t *testing.T) {
	if Release != "0.1.0" {
		t.Errorf("Release %q: the CHANGELOG starts with 0.1.0", Release)
	}
}

// TestLine checks the running test binary's line: built from a checkout,
// it is a development version.
func TestLine(t *testing.T) {
	line := Line("schedule")
	want := regexp.MustCompile(`^schedule 0\.1\.0-devel(\+[0-9a-f]{1,12}(-dirty)?)? \(` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `\)$`)
	if !want.MatchString(line) {
		t.Errorf("Line: %q, want %v", line, want)
	}
	if !strings.Contains(line, Version()) {
		t.Errorf("Line %q lacks Version %q", line, Version())
	}
}
