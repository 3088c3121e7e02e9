package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

const (
	def   = "../../testdata/rules/default.rules"
	age76 = "../../testdata/rules/examples/age76.rules"
)

// TestRun runs the command and compares its output and exit status with
// testdata/NAME.golden. Refresh with: go test ./examples/rulescheck -update
func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"table", []string{def}, 0},
		{"ca_excluded", []string{"-state", "CA", "-birthday", "1950-12-01", "-date", "2024-09-02", def}, 0},
		{"ca_not_excluded", []string{"-state", "CA", "-birthday", "1950-12-01", "-date", "2024-09-01", def}, 0},
		{"nv_zip_wins", []string{"-zip", "89101", "-state", "CA", "-birthday", "1950-03-15", "-date", "2025-02-10", def}, 0},
		{"mo_effective_date", []string{"-state", "MO", "-effective-date", "2010-01-01", "-date", "2025-01-15", def}, 0},
		{"ny_year_round", []string{"-state", "NY", "-date", "2025-01-15", def}, 0},
		{"missing_birthday", []string{"-state", "CA", "-date", "2025-01-15", def}, 0},
		{"conditional", []string{"-state", "FL", "-birthday", "1949-06-01", "-date", "2025-06-15", "-today", "2025-06-01", def, age76}, 0},
		{"conditional_younger", []string{"-state", "FL", "-birthday", "1949-06-02", "-date", "2025-06-01", def, age76}, 0},
		{"rule_fails", []string{"-allow-missing-states", "-state", "KY", "-date", "2025-06-01", "testdata/bad/fails.rules"}, 0},
		{"missing_states", []string{"testdata/bad/fails.rules"}, exitInput},
		{"examples_dir", []string{"../../testdata/rules/examples"}, 0},
		{"empty_dir", []string{"testdata/bad/empty"}, exitInput},
		{"help", []string{"-h"}, 0},
		{"rules_flag", []string{"-rules", def, "-state", "FL", "-birthday", "1949-06-01", "-date", "2025-06-15", "-today", "2025-06-01", age76}, 0},
		{"diagnostics", []string{def, "testdata/bad/bad.rules"}, exitInput},
		{"missing_file", []string{"testdata/none.rules"}, exitInput},
		{"no_file", nil, exitInput},
		{"bad_date", []string{"-date", "2025-13-01", "-state", "CA", def}, exitInput},
		{"date_without_contact", []string{"-date", "2025-01-01", def}, exitInput},
		{"contact_without_date", []string{"-state", "CA", def}, exitInput},
		{"unknown_state", []string{"-state", "ZZ", "-date", "2025-01-01", def}, exitInput},
		{"unknown_zip_no_state", []string{"-zip", "00000", "-date", "2025-01-01", def}, exitInput},
		{"unknown_flag", []string{"-verbose", def}, exitInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			got := "$ rulescheck " + joinArgs(tt.args) + "\n--- stdout\n" + stdout.String() + "--- stderr\n" + stderr.String()
			golden := filepath.Join("testdata", tt.name+".golden")
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
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func joinArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}
