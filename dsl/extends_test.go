package dsl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

// TestExtends: a rules file builds on the default rules or on another
// file, replacing single states; "*" gives every other state a rule; a set
// with no rule at all is refused unless it says so.
func TestExtends(t *testing.T) {
	ctx := context.Background()
	def := rules.Default()
	ext, err := dsl.Load("ext.rules", []byte("extends: default\nTX: year_round()\nCA: no_exclusion()  # lifted\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range emailsched.States() {
		got, _, _ := ext.Describe(s)
		want, _, _ := def.Describe(s)
		switch s.String() {
		case "TX":
			want = rules.YearRound()
		case "CA":
			want = rules.NoExclusion()
		}
		if !got.Equal(want) {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
	if ext.Buffer() != def.Buffer() || len(ext.Uncovered(def)) != 0 {
		t.Errorf("buffer %d, uncovered %v", ext.Buffer(), ext.Uncovered(def))
	}
	// Extending the default rules without changes is the default set.
	same, err := dsl.Load("same.rules", []byte("# nothing of our own\nextends: default\n"))
	if err != nil || same.Checksum() != def.Checksum() {
		t.Errorf("extends: default alone: %v, checksum %s, want %s", err, same.Checksum(), def.Checksum())
	}
	// A buffer of the extending file applies to the whole set.
	buf, err := dsl.Load("buf.rules", []byte("extends: default\npre_window_buffer: 30\n"))
	if err != nil || buf.Buffer() != 30 {
		t.Errorf("buffer with extends: %v, %d", err, buf.Buffer())
	}

	// A chain of files, relative to each file's directory.
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("base/agency.rules", "extends: default\npre_window_buffer: 45\nGA: birthday_window(0, 30)\n")
	top := write("top.rules", "extends: base/agency.rules\nFL: contact.age >= 76 ? year_round() : no_exclusion()\n")
	set, err := dsl.LoadFiles(ctx, top)
	if err != nil {
		t.Fatal(err)
	}
	ga, _, _ := set.Describe(emailsched.MustState("GA"))
	ca, _, _ := set.Describe(emailsched.MustState("CA"))
	_, dyn, _ := set.Describe(emailsched.MustState("FL"))
	if !ga.Equal(rules.Windows(rules.BirthdayWindow(0, 30))) || !ca.Equal(rules.Windows(rules.BirthdayWindow(30, 60))) || !dyn || set.Buffer() != 45 {
		t.Errorf("chain: GA %v, CA %v, FL dynamic %v, buffer %d", ga, ca, dyn, set.Buffer())
	}

	for _, tc := range []struct {
		name, text string
		want       string
	}{
		{"empty", "# nothing\n\n", "the rules hold no rule"},
		{"comments only", "# CA: year_round()\n", "the rules hold no rule"},
		{"buffer only", "pre_window_buffer: 30\n", "the rules hold no rule"},
		{"missing file", "extends: nowhere.rules\nTX: year_round()\n", `extends "nowhere.rules": `},
		{"cycle", "extends: cycle.rules\n", "extends itself"},
		{"twice", "extends: default\nextends: default\n", "extends is set twice"},
		{"empty value", "extends:\n", `expected "default" or the path of a rules file`},
		{"other twice", "*: no_exclusion()\n*: year_round()\n", "the rule of every other state (*) is written twice"},
		{"other without rule", "*:\n", `expected a rule after "*:"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write("cycle.rules", tc.text)
			_, err := dsl.LoadFiles(ctx, p)
			var ds dsl.Diagnostics
			if !errors.As(err, &ds) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want Diagnostics containing %q", err, tc.want)
			}
		})
	}
	// Loaded from memory, only the default rules can be extended.
	if _, err := dsl.Load("mem.rules", []byte("extends: base/agency.rules\n")); err == nil ||
		!strings.Contains(err.Error(), `only "default" can be extended here`) {
		t.Errorf("extends a file from memory: %v", err)
	}
}

// TestLoadPath: a directory's rules files are matched by extension whatever
// its case; other files are left alone; special files and oversized files
// are refused.
func TestLoadPath(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"a.rules":   "CA: year_round()\n",
		"b.RULES":   "TX: year_round()\n",
		"c.Rules":   "NY: no_exclusion()\n*: birthday_window(0, 1)\n",
		"notes.txt": "not rules",
		".d.rules":  "GA: year_round()\n", // an editor's file: hidden, left alone
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := dsl.LoadPath(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]rules.Rule{"CA": rules.YearRound(), "TX": rules.YearRound(), "NY": rules.NoExclusion(),
		"GA": rules.Windows(rules.BirthdayWindow(0, 1))} {
		if got, _, _ := set.Describe(emailsched.MustState(code)); !got.Equal(want) {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
	}
	if _, err := dsl.LoadPath(ctx, t.TempDir()); !errors.Is(err, dsl.ErrNoFiles) {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := dsl.LoadPath(ctx, "/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.rules")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", dsl.MaxFileSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dsl.LoadPath(ctx, big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("oversized: %v", err)
	}
}
