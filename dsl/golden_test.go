package dsl_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/dsl"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/errors")

// TestDiagnosticsGolden loads each directory of testdata/errors (its *.rules
// files, as one set) and compares the rendered Diagnostics with
// testdata/errors/NAME.golden. Refresh with: go test ./dsl -run Golden -update
func TestDiagnosticsGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/errors/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			set, err := dsl.LoadFS(os.DirFS(dir), "*.rules")
			if set != nil || err == nil {
				t.Fatalf("loaded without error")
			}
			var ds dsl.Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("error %T is not Diagnostics: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := dir + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("diagnostics differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
	if n < 15 {
		t.Errorf("only %d golden cases", n)
	}
}
