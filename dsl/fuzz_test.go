package dsl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/hostile"
	"github.com/emailsched/emailsched/rules"
)

// hostileRules are adversarial rules files of about the size limit:
// nesting opened and closed, huge lines, many lines, duplicates, binary.
func hostileRules() []hostile.Input {
	in := hostile.Shapes("CA: ", "(", ")", "CA,", MaxFileSize-10)
	in = append(in, hostile.Shapes("TX: ", "[", "]", "birthday_window(0, 1) + ", MaxFileSize-10)...)
	in = append(in,
		hostile.Input{Name: "a state 10,000 times", Data: []byte(strings.Repeat("CA,", 10000) + "CA: year_round()\n")},
		hostile.Input{Name: "a valid expression nested 500,000 deep", Data: []byte("CA: " + strings.Repeat("(", 500000) + "year_round()" + strings.Repeat(")", 500000) + "\n")},
		hostile.Input{Name: "a million open brackets", Data: []byte("CA: " + strings.Repeat("(", 1000000-10) + "\n")},
		hostile.Input{Name: "bad lines", Data: []byte(strings.Repeat("x\n", MaxFileSize/2-1))},
		hostile.Input{Name: "long unary chain", Data: []byte("CA: " + strings.Repeat("!", MaxExprSize-20) + "true ? year_round() : no_exclusion()\n")},
	)
	return in
}

// TestHostileRules: every adversarial file is refused, or loaded, within
// hostile.MaxAlloc and hostile.MaxTime, with at most MaxDiagnostics
// problems and a message of bounded size.
func TestHostileRules(t *testing.T) {
	for _, in := range hostileRules() {
		var err error
		hostile.Bounded(t, in.Name, func() { _, err = Load("hostile.rules", in.Data) })
		if err == nil {
			continue
		}
		var ds Diagnostics
		if !errors.As(err, &ds) {
			t.Errorf("%s: %v, want Diagnostics", in.Name, err)
			continue
		}
		if len(ds) > MaxDiagnostics+1 || len(err.Error()) > 64<<10 {
			t.Errorf("%s: %d diagnostics, %d bytes of message", in.Name, len(ds), len(err.Error()))
		}
	}
}

// FuzzLoad checks that the loader never panics, stays within
// hostile.MaxAlloc and hostile.MaxTime, always returns either a set or
// Diagnostics with positions inside the file, and that a loaded set
// evaluates for any contact without panicking. Seeds: the shipped rules
// files, the adversarial shapes and testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, in := range hostileRules() {
		if len(in.Data) <= MaxFileSize {
			f.Add(in.Data)
		}
	}
	for _, pattern := range []string{"../testdata/rules/*.rules", "../testdata/rules/examples/*.rules", "testdata/errors/*/*.rules"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	contacts := []*emailsched.Contact{
		{ID: 1},
		{ID: 2, ZIP: "89101", Birthday: datecalc.MustNew(1940, 2, 29), EffectiveDate: datecalc.MustNew(2019, 12, 31)},
		{ID: 3, Birthday: datecalc.MustNew(1960, 7, 1), Issues: []emailsched.FieldIssue{{Field: emailsched.FieldEffectiveDate}}},
	}
	today := datecalc.MustNew(2025, 6, 1)
	f.Fuzz(func(t *testing.T, src []byte) {
		var (
			set *rules.Set
			err error
		)
		hostile.Bounded(t, "input", func() { set, err = Load("fuzz.rules", src) })
		if err != nil {
			if set != nil {
				t.Fatal("a set and an error")
			}
			var ds Diagnostics
			if !errors.As(err, &ds) {
				if len(src) > MaxFileSize {
					return
				}
				t.Fatalf("error is %T, not Diagnostics: %v", err, err)
			}
			lines := strings.Count(string(src), "\n") + 1
			for _, d := range ds {
				if d.File != "fuzz.rules" || d.Line < 1 || d.Line > lines || d.Column < 1 || d.Message == "" {
					t.Fatalf("bad diagnostic %+v", d)
				}
			}
			if len(ds) > MaxDiagnostics+1 {
				t.Fatalf("%d diagnostics", len(ds))
			}
			_ = ds.Error()
			return
		}
		for _, st := range emailsched.States() {
			for _, c := range contacts {
				a := set.Apply(c, st, today)
				a.Excluded(today)
				_ = a.Err()
			}
		}
	})
}
