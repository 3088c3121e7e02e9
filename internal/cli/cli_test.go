package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/dsl"
)

// newCommand is a command with a visible flag, a hidden one and the plan
// flags.
func newCommand(examples ...string) (*Command, *int, *Plan) {
	c := New("prog", "usage: prog [-n N] FILE", "prog does things.", examples...)
	n := c.Flags.Int("n", 7, "the number of things (`N`)")
	c.Flags.String("child", "", "")
	return c, n, AddPlan(c.Flags)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		ok             bool
		stdout, stderr string // regular expressions; empty: no output
	}{
		{[]string{"-n", "3", "a"}, 0, true, "", ""},
		{[]string{"-h"}, 0, false, `(?s)^usage: prog \[-n N\] FILE\n\nprog does things\.\n\nFlags:\n.*  -n N\n    \tthe number of things \(N\) \(default 7\)\n.*  -version\n.*\nExample:\n  prog -n 3 x\n$`, ""},
		{[]string{"-n", "9", "-help"}, 0, false, `\(default 7\)`, ""},
		{[]string{"-version", "-n", "3"}, 0, false, `^prog 0\.1\.0-devel\S* \(go\S+ \S+/\S+\)\n$`, ""},
		{[]string{"-verbose"}, ExitUsage, false, "", `(?s)^prog: flag provided but not defined: -verbose\nusage: prog \[-n N\] FILE\n\(prog -h prints every flag, with examples\)\n$`},
		{[]string{"-n", "x"}, ExitUsage, false, "", `^prog: invalid value "x" for flag -n`},
	} {
		c, _, _ := newCommand("prog -n 3 x")
		var stdout, stderr bytes.Buffer
		code, ok := c.Parse(tc.args, &stdout, &stderr)
		if code != tc.code || ok != tc.ok {
			t.Errorf("%q: %d, %v; want %d, %v", tc.args, code, ok, tc.code, tc.ok)
		}
		for _, out := range []struct {
			name, got, want string
		}{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
			if out.want == "" && out.got != "" || !regexp.MustCompile(out.want).MatchString(out.got) {
				t.Errorf("%q: %s %q, want %s", tc.args, out.name, out.got, out.want)
			}
		}
		if tc.code == 0 && !tc.ok && strings.Contains(stdout.String(), "usage:") && strings.Count(stdout.String(), "usage:") != 1 {
			t.Errorf("%q: usage printed %d times", tc.args, strings.Count(stdout.String(), "usage:"))
		}
		if strings.Contains(stdout.String()+stderr.String(), "-child") {
			t.Errorf("%q: the hidden flag is listed", tc.args)
		}
	}
}

func TestUsage(t *testing.T) {
	c := New("prog", "usage: prog", "", "prog -a", "prog -b")
	var b bytes.Buffer
	c.WriteUsage(&b)
	want := "usage: prog\n\nFlags:\n  -version\n    \tprint the program's name and version and exit\n\nExamples:\n  prog -a\n  prog -b\n"
	if b.String() != want {
		t.Errorf("usage %q, want %q", b.String(), want)
	}
	c.SetNotes("Words: w")
	b.Reset()
	c.WriteUsage(&b)
	if !strings.Contains(b.String(), "version and exit\n\nWords: w\n\nExamples:") {
		t.Errorf("usage with notes %q", b.String())
	}
	b.Reset()
	if code := c.Error(&b, 1, "open: %v", "sqlite: dsl: no file"); code != 1 || b.String() != "prog: open: no file\n" {
		t.Errorf("Error: %d, %q", code, b.String())
	}
	if c.Synopsis() != "usage: prog" {
		t.Errorf("synopsis %q", c.Synopsis())
	}
	b.Reset()
	if code := c.Fail(&b, "no %s", "file"); code != ExitUsage || b.String() != "prog: no file\nusage: prog\n(prog -h prints every flag, with examples)\n" {
		t.Errorf("Fail: %d, %q", code, b.String())
	}
}

func TestPlanLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	partial := write("partial.rules", "TX: year_round()\n")
	extends := write("extends.rules", "extends: default\nTX: year_round()\n")
	config := write("config.yaml", "rules: extends.rules\nsend_time: \"09:15\"\n")
	ctx := context.Background()
	for _, tc := range []struct {
		plan  Plan
		rules string // the rule set's name, or the error's text
	}{
		{Plan{}, dsl.Default().Name()},
		{Plan{Rules: extends}, "extends.rules"},
		{Plan{Config: config}, "extends.rules"},
		{Plan{Config: config, Rules: partial, AllowMissingStates: true}, "partial.rules"},
		{Plan{Rules: partial}, "rules: dsl: the rules leave states of the default rules without a rule"},
		{Plan{Rules: filepath.Join(dir, "none.rules")}, "rules: "},
		{Plan{Config: filepath.Join(dir, "none.yaml")}, "none.yaml"},
	} {
		cf, err := tc.plan.Load(ctx)
		var got string
		if err != nil {
			got = err.Error()
		} else {
			got = cf.Scheduler.Rules.Name()
		}
		if !strings.Contains(got, tc.rules) {
			t.Errorf("%+v: %q, want %q", tc.plan, got, tc.rules)
		}
		if tc.plan.Config != "" && err == nil && cf.Scheduler.SendTime != "09:15" {
			t.Errorf("%+v: the configuration's send time is not applied", tc.plan)
		}
	}
	if _, err := (&Plan{Rules: partial}).Load(ctx); !errors.Is(err, dsl.ErrMissingStates) {
		t.Errorf("partial rules: %v, want dsl.ErrMissingStates", err)
	}
}

func TestAddPlan(t *testing.T) {
	c, _, p := newCommand("prog")
	if _, ok := c.Parse([]string{"-config", "c.yaml", "-rules", "r", "-allow-missing-states"}, &bytes.Buffer{}, &bytes.Buffer{}); !ok {
		t.Fatal("parse failed")
	}
	if *p != (Plan{Config: "c.yaml", Rules: "r", AllowMissingStates: true}) {
		t.Errorf("plan %+v", *p)
	}
}

func TestPlanScheduler(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		plan  Plan
		today string
		want  string // the error, or the date
	}{
		{Plan{}, "2025-03-03", "2025-03-03"},
		{Plan{}, "2025-3-3", "-today: "},
		{Plan{Config: filepath.Join(dir, "none.yaml")}, "", "no such file"},
	} {
		_, s, day, err := tc.plan.Scheduler(ctx, tc.today)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v %q: %v, want %q", tc.plan, tc.today, err, tc.want)
			}
		case day.String() != tc.want || s == nil:
			t.Errorf("%+v %q: %v, want %s", tc.plan, tc.today, day, tc.want)
		}
	}
	_, s, _, err := (&Plan{}).Scheduler(ctx, "")
	if day, derr := RunDate(s, ""); err != nil || derr != nil || day != s.Today() {
		t.Errorf("no -today: %v, %v, %v; want the scheduler's today", day, err, derr)
	}
}
