package clitest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// programs are the programs under examples/.
var programs = []string{"bench", "csvsource", "fleet", "plandb", "quickstart", "rulescheck", "schedule"}

// flagInfo is one flag as the usage lists it.
type flagInfo struct {
	placeholder string // "" for a boolean flag
	usage       string
}

// sharedFlags are the placeholders of the flags that mean the same in
// every program that has them.
var sharedFlags = map[string]string{
	"db":                   "PATH",
	"today":                "YYYY-MM-DD",
	"rules":                "FILE|DIR",
	"config":               "FILE",
	"allow-missing-states": "",
	"log-format":           "text|json",
	"version":              "",
}

// required lists, per shared flag, the programs that must have it.
var required = map[string][]string{
	"version":              programs,
	"db":                   {"plandb", "quickstart", "schedule"},
	"today":                {"csvsource", "fleet", "plandb", "quickstart", "rulescheck", "schedule"},
	"rules":                {"csvsource", "fleet", "plandb", "quickstart", "rulescheck", "schedule"},
	"config":               {"csvsource", "fleet", "plandb", "quickstart", "schedule"},
	"allow-missing-states": {"csvsource", "fleet", "plandb", "quickstart", "rulescheck", "schedule"},
	"log-format":           {"fleet", "schedule"},
}

// TestCommandLine builds every program and checks -h, -help, -version,
// bad usage, and the flags they share.
func TestCommandLine(t *testing.T) {
	checkProgramList(t)
	bin := build(t)
	versions := map[string]string{}
	flags := map[string]map[string]flagInfo{} // program → flag → info
	for _, prog := range programs {
		exe := filepath.Join(bin, prog)
		for _, help := range []string{"-h", "-help"} {
			code, stdout, stderr := runProgram(t, exe, help)
			if code != 0 || stderr != "" {
				t.Errorf("%s %s: exit %d, stderr %q; want 0 and nothing", prog, help, code, stderr)
			}
			checkUsage(t, prog+" "+help, prog, stdout, bin)
			flags[prog] = parseFlags(t, prog, stdout)
		}

		code, stdout, stderr := runProgram(t, exe, "-version")
		m := regexp.MustCompile(`^` + prog + ` (\S+) \(go\S+ \S+/\S+\)\n$`).FindStringSubmatch(stdout)
		if code != 0 || stderr != "" || m == nil {
			t.Errorf("%s -version: exit %d, stdout %q, stderr %q", prog, code, stdout, stderr)
		} else {
			versions[prog] = m[1]
		}

		code, stdout, stderr = runProgram(t, exe, "-no-such-flag")
		if code != 3 || stdout != "" || !strings.HasPrefix(stderr, prog+": flag provided but not defined: -no-such-flag\n") {
			t.Errorf("%s -no-such-flag: exit %d, stdout %q, stderr %q; want 3 and the error on stderr", prog, code, stdout, stderr)
		}
		// Bad usage shows the synopsis and where the rest is, not every flag.
		if strings.Count(stderr, "usage: "+prog) != 1 || !strings.HasSuffix(stderr, "("+prog+" -h prints every flag, with examples)\n") ||
			strings.Contains(stderr, "go-build") || strings.Contains(stderr, bin) {
			t.Errorf("%s -no-such-flag: stderr %q; want the synopsis once and a pointer to -h", prog, stderr)
		}
	}
	if v := slices.Compact(slices.Sorted(maps.Values(versions))); len(v) != 1 || !strings.HasPrefix(v[0], "0.1.0-devel") {
		t.Errorf("versions %v: want one development version of 0.1.0", versions)
	}
	checkSharedFlags(t, flags)
}

// checkProgramList checks that programs lists every directory of examples/
// that holds a program.
func checkProgramList(t *testing.T) {
	t.Helper()
	mains, err := filepath.Glob("../*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range mains {
		dirs = append(dirs, filepath.Base(filepath.Dir(m)))
	}
	if !slices.Equal(dirs, programs) {
		t.Errorf("programs under examples/: %v; the test knows %v", dirs, programs)
	}
}

// build builds every program into a temporary directory, as a user does
// (go build), and returns the directory.
func build(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, p := range programs {
		args = append(args, "./examples/"+p)
	}
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// runProgram runs exe with args in an empty directory and returns its exit
// status and output. The directory must stay empty: -h, -version and bad
// usage do nothing else.
func runProgram(t *testing.T, exe string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", exe, args, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("%s %q wrote into its working directory: %v", filepath.Base(exe), args, entries)
	}
	return code, stdout.String(), stderr.String()
}

// checkUsage checks a usage text: printed once, under the program's fixed
// name, with examples, and without a temporary path.
func checkUsage(t *testing.T, what, prog, usage, bin string) {
	t.Helper()
	if n := strings.Count(usage, "usage: "+prog); n != 1 {
		t.Errorf("%s: the usage is printed %d times:\n%s", what, n, usage)
	}
	if !strings.Contains(usage, "\nExample") || !regexp.MustCompile(`(?m)^Examples?:\n  `+prog+`\b`).MatchString(usage) {
		t.Errorf("%s: no example command line:\n%s", what, usage)
	}
	for _, bad := range []string{"go-build", bin, os.TempDir() + string(filepath.Separator)} {
		if strings.Contains(usage, bad) {
			t.Errorf("%s: the usage shows a temporary path (%s):\n%s", what, bad, usage)
		}
	}
}

var (
	flagLine  = regexp.MustCompile(`^  -(\S+)(?: (\S+))?$`)
	usageLine = regexp.MustCompile(`^    \t(.*)$`)
)

// parseFlags returns the flags a usage text lists.
func parseFlags(t *testing.T, prog, usage string) map[string]flagInfo {
	t.Helper()
	flags := map[string]flagInfo{}
	lines := strings.Split(usage, "\n")
	for i, line := range lines {
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var u []string
		for _, l := range lines[i+1:] {
			um := usageLine.FindStringSubmatch(l)
			if um == nil {
				break
			}
			u = append(u, um[1])
		}
		if len(u) == 0 {
			t.Errorf("%s: flag -%s has no usage", prog, m[1])
		}
		flags[m[1]] = flagInfo{placeholder: m[2], usage: strings.Join(u, " ")}
	}
	if len(flags) == 0 {
		t.Errorf("%s: no flags in the usage:\n%s", prog, usage)
	}
	return flags
}

// checkSharedFlags checks that the same things have the same flags: a flag
// name means the same (same placeholder) in every program that has it,
// the shared flags are where they belong, and a flag for a shared thing
// (run date, database, rules, configuration, log format) has the shared
// name.
func checkSharedFlags(t *testing.T, flags map[string]map[string]flagInfo) {
	t.Helper()
	placeholders := map[string]map[string][]string{} // flag → placeholder → programs
	for prog, fs := range flags {
		for name, f := range fs {
			if placeholders[name] == nil {
				placeholders[name] = map[string][]string{}
			}
			placeholders[name][f.placeholder] = append(placeholders[name][f.placeholder], prog)

			if want, ok := sharedFlags[name]; ok && f.placeholder != want {
				t.Errorf("%s -%s %s: want -%s %s", prog, name, f.placeholder, name, want)
			}
			u := strings.ToLower(f.usage)
			for _, c := range []struct {
				name, why string
				is        bool
			}{
				{"today", "a run date", f.placeholder == "YYYY-MM-DD" && strings.Contains(u, "run date")},
				{"db", "a database path", f.placeholder == "PATH" && strings.Contains(u, "database")},
				{"rules", "rules", f.placeholder == "FILE|DIR" && strings.Contains(u, "rules")},
				{"config", "a configuration file", strings.Contains(u, "configuration from")},
				{"log-format", "a log format", regexp.MustCompile(`\blog (lines|format)`).MatchString(u)},
			} {
				if c.is && name != c.name {
					t.Errorf("%s -%s is %s: call it -%s", prog, name, c.why, c.name)
				}
			}
		}
	}
	for name, byPlaceholder := range placeholders {
		if len(byPlaceholder) > 1 {
			t.Errorf("-%s takes different values in different programs: %v", name, byPlaceholder)
		}
	}
	for name, progs := range required {
		for _, prog := range progs {
			if _, ok := flags[prog][name]; !ok {
				t.Errorf("%s has no -%s", prog, name)
			}
		}
	}
	// The flags of a plan's configuration and rules read the same
	// everywhere (internal/cli); rulescheck's -rules checks rather than
	// plans.
	for _, name := range []string{"config", "rules", "allow-missing-states", "version"} {
		usages := map[string][]string{}
		for prog, fs := range flags {
			if f, ok := fs[name]; ok && !(prog == "rulescheck" && name == "rules") {
				usages[f.usage] = append(usages[f.usage], prog)
			}
		}
		if len(usages) > 1 {
			t.Errorf("-%s is described differently: %v", name, usages)
		}
	}
}
