package dsl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// FuzzLoad checks that the loader never panics, always returns either a
// set or Diagnostics with positions inside the file, and that a loaded set
// evaluates for any contact without panicking. Seeds: the shipped rules
// files and testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
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
		set, err := Load("fuzz.rules", src)
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
