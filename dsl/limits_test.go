package dsl_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/testanchor"
	"github.com/emailsched/emailsched/rules"
)

// loadErr loads text and returns its error's text ("" when it loads).
func loadErr(t *testing.T, text string) string {
	t.Helper()
	_, err := dsl.Load("l.rules", []byte(text))
	if err == nil {
		return ""
	}
	var ds dsl.Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("error %T, not Diagnostics: %v", err, err)
	}
	return err.Error()
}

func TestExpressionLimits(t *testing.T) {
	deep := "CA: " + strings.Repeat("(", dsl.MaxDepth+1) + "year_round()" + strings.Repeat(")", dsl.MaxDepth+1) + "\n"
	if msg := loadErr(t, deep); !strings.Contains(msg, fmt.Sprintf("l.rules:1:%d: the rule nests brackets more than %d deep", 5+dsl.MaxDepth, dsl.MaxDepth)) {
		t.Errorf("deep: %s", msg)
	}
	// MaxDepth deep with the call's brackets; those in strings do not count.
	ok := "CA: " + strings.Repeat("(", dsl.MaxDepth-1) + `"((((" == ')' ? year_round() : no_exclusion()` + strings.Repeat(")", dsl.MaxDepth-1) + "\n"
	if msg := loadErr(t, ok); msg != "" {
		t.Errorf("%d deep, brackets in strings: %s", dsl.MaxDepth, msg)
	}
	long := "CA: " + strings.Repeat("1 + ", dsl.MaxExprSize/4) + "1 > 0 ? year_round() : no_exclusion()\n"
	if msg := loadErr(t, long); !strings.Contains(msg, "the rule is too long: ") {
		t.Errorf("long: %s", msg)
	}
}

// TestTooManyProblems: past MaxDiagnostics, problems are counted, rules are
// no longer compiled, and the last diagnostic says so.
func TestTooManyProblems(t *testing.T) {
	text := strings.Repeat("foo: 1\n", dsl.MaxDiagnostics+10) + "CA: year_round()\n*: no_exclusion()\n"
	_, err := dsl.Load("l.rules", []byte(text))
	var ds dsl.Diagnostics
	if !errors.As(err, &ds) || len(ds) != dsl.MaxDiagnostics+1 {
		t.Fatalf("%d diagnostics: %v", len(ds), err)
	}
	if last := ds[len(ds)-1].Message; last != "and 10 more problems; 2 more rules were not checked" {
		t.Errorf("last: %q", last)
	}
}

// TestTooManyLineProblems: problems found while splitting the file into
// statements are capped and counted too, an indented line that continues
// nothing included.
func TestTooManyLineProblems(t *testing.T) {
	text := strings.Repeat("no colon\n", dsl.MaxDiagnostics+5) + "  indented\nCA: year_round()\n"
	_, err := dsl.Load("l.rules", []byte(text))
	var ds dsl.Diagnostics
	if !errors.As(err, &ds) || len(ds) != dsl.MaxDiagnostics+1 {
		t.Fatalf("%d diagnostics: %v", len(ds), err)
	}
	if last := ds[len(ds)-1].Message; !strings.HasPrefix(last, "and 6 more problems") {
		t.Errorf("last: %q", last)
	}
}

// TestCanonicalConstants: constants folded at load time count as their
// value: the same rule spelled with a computed string has one identity.
func TestCanonicalConstants(t *testing.T) {
	a, err := dsl.Load("a.rules", []byte(`CA: hasPrefix(contact.zip, "8" + "9") ? year_round() : no_exclusion()`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dsl.Load("b.rules", []byte(`CA: hasPrefix(contact.zip, "89") ? year_round() : no_exclusion()`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dsl.Load("c.rules", []byte(`CA: hasPrefix(contact.zip, "98") ? year_round() : no_exclusion()`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum() != b.Checksum() || a.Checksum() == c.Checksum() {
		t.Errorf("checksums %s %s %s", a.Checksum(), b.Checksum(), c.Checksum())
	}
}

func TestCheckCoverage(t *testing.T) {
	partial, err := dsl.Load("p.rules", []byte("TX: year_round()\nCA: no_exclusion()\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = dsl.CheckCoverage(partial, false)
	if !errors.Is(err, dsl.ErrMissingStates) || !strings.Contains(err.Error(), ": CT, ID, KY, MD, MA, MO, NV, NY, OK, OR, VA, WA. ") {
		t.Errorf("partial: %v", err)
	}
	for _, tc := range []struct {
		set   *rules.Set
		allow bool
	}{{partial, true}, {dsl.Default(), false}, {rules.Default(), false}} {
		if err := dsl.CheckCoverage(tc.set, tc.allow); err != nil {
			t.Errorf("%s (allow %v): %v", tc.set.Name(), tc.allow, err)
		}
	}
}

func TestOtherStates(t *testing.T) {
	var all []string
	for _, s := range emailsched.States() {
		all = append(all, s.String())
	}
	for _, tc := range []struct {
		name, text string
		want       map[string]string // state: rule, or "dynamic"
		err        string
	}{
		{"every state listed", strings.Join(all, ",") + ": year_round()\n*: no_exclusion()\n",
			map[string]string{"CA": "year_round()", "TX": "year_round()"}, ""},
		{"dynamic", "CA: year_round()\n*: contact.age > 70 ? year_round() : no_exclusion()\n",
			map[string]string{"CA": "year_round()", "TX": "dynamic"}, ""},
		{"too long a window", "*: birthday_window(200, 200)\n", nil, "the exclusion period of birthday_window(200, 200) lasts"},
		{"after extends", "extends: default\n*: year_round()\n", map[string]string{"CA": "birthday_window(30, 60)", "TX": "year_round()"}, ""},
		{"quoted extends", "extends: \"default\"\nTX: year_round()\n", map[string]string{"CA": "birthday_window(30, 60)", "TX": "year_round()"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := dsl.Load("o.rules", []byte(tc.text))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for code, want := range tc.want {
				r, dyn, _ := set.Describe(emailsched.MustState(code))
				if got := r.String(); dyn && want != "dynamic" || !dyn && got != want {
					t.Errorf("%s: %s (dynamic %v), want %s", code, got, dyn, want)
				}
			}
		})
	}
}

func TestExtendsMore(t *testing.T) {
	ctx := context.Background()
	// Two files of one set must agree on what they extend.
	_, err := dsl.LoadSources(dsl.Source{Name: "a.rules", Text: []byte("extends: default\nTX: year_round()\n")},
		dsl.Source{Name: "b.rules", Text: []byte("extends: other.rules\nGA: year_round()\n")})
	if err == nil || !strings.Contains(err.Error(), `conflicting settings: extends is "other.rules" here but "default" at a.rules:1:10`) {
		t.Errorf("conflicting extends: %v", err)
	}
	// A chain longer than MaxExtends.
	dir := t.TempDir()
	for i := range dsl.MaxExtends + 1 {
		text := fmt.Sprintf("extends: f%d.rules\n", i+1)
		if i == dsl.MaxExtends {
			text = "extends: default\n"
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.rules", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dsl.LoadFiles(ctx, filepath.Join(dir, "f0.rules")); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("more than %d rules files extend one another", dsl.MaxExtends)) {
		t.Errorf("a chain too long: %v", err)
	}
	if _, err := dsl.RulesFiles(filepath.Join(dir, "none")); err == nil {
		t.Error("RulesFiles of a missing path: no error")
	}
	// The default rules extended in a language with another anchor.
	opts := dsl.Options{Anchors: []rules.Anchor{testanchor.Retirement}}
	set, err := opts.Load("x.rules", []byte("extends: default\nFL: retirement_window(0, 10)\n"))
	if err != nil {
		t.Fatal(err)
	}
	ca, _, _ := set.Describe(emailsched.MustState("CA"))
	fl, _, _ := set.Describe(emailsched.MustState("FL"))
	if ca.String() != "birthday_window(30, 60)" || fl.String() != "retirement_window(0, 10)" {
		t.Errorf("CA %s, FL %s", ca, fl)
	}
}

// failFS fails to open, or to stat, the file named bad.
type failFS struct {
	fstest.MapFS
	openFails bool
}

func (f failFS) Open(name string) (fs.File, error) {
	if name != "bad.rules" {
		return f.MapFS.Open(name)
	}
	if f.openFails {
		return nil, errors.New("no access")
	}
	file, err := f.MapFS.Open(name)
	return statFails{file}, err
}

type statFails struct{ fs.File }

func (statFails) Stat() (fs.FileInfo, error) { return nil, errors.New("no stat") }

// TestLoadFSBounds: LoadFS reads regular files of at most MaxFileSize
// bytes, and reports what it cannot read.
func TestLoadFSBounds(t *testing.T) {
	fsys := fstest.MapFS{
		"big.rules":  {Data: []byte(strings.Repeat("#", dsl.MaxFileSize+1))},
		"pipe.rules": {Mode: fs.ModeNamedPipe},
		"bad.rules":  {Data: []byte("CA: year_round()\n")},
	}
	for _, tc := range []struct {
		fsys    fs.FS
		pattern string
		want    string
	}{
		{fsys, "big.rules", "file too large"},
		{fsys, "pipe.rules", "not a regular file (a named pipe)"},
		{failFS{fsys, true}, "bad.rules", "no access"},
		{failFS{fsys, false}, "bad.rules", "no stat"},
	} {
		if _, err := dsl.LoadFS(tc.fsys, tc.pattern); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.pattern, err, tc.want)
		}
	}
	if msg := loadErr(t, "*: birthday_window(160, 150)\n"); !strings.Contains(msg, "(buffer 60 + 160 before + the day + 150 after)") {
		t.Errorf("every other state, too long a window with the buffer: %s", msg)
	}
}
