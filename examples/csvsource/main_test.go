package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/internal/cli"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestCSVSource(t *testing.T) {
	var out, errs strings.Builder
	code := run(context.Background(), []string{"-csv", "testdata/contacts.csv", "-today", "2025-03-03"}, &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	golden := filepath.Join("testdata", "plan.golden.csv")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if got := errs.String(); got != "6 contacts read, 5 planned, 1 invalid; 14 rows written\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestCSVSourceErrors(t *testing.T) {
	dir := t.TempDir()
	unsorted := filepath.Join(dir, "unsorted.csv")
	os.WriteFile(unsorted, []byte("id,email,zip_code,state,birth_date,effective_date\n2,a@b.co,75001,,,\n1,a@b.co,75001,,,\n"), 0o644)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("id,email\n"), 0o644)
	partial := filepath.Join(dir, "partial.rules")
	os.WriteFile(partial, []byte("TX: year_round()\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitInput, "no contacts: give -csv FILE\nusage: csvsource -csv FILE"},
		{[]string{"-csv", unsorted, "extra"}, exitInput, "unexpected argument \"extra\""},
		{[]string{"-csv"}, exitInput, "flag needs an argument: -csv"},
		{[]string{"-csv", unsorted, "-today", "2025-03-03"}, exitRun, "id \"1\" is not a number above the previous id 2"},
		{[]string{"-csv", short, "-today", "2025-03-03"}, exitRun, "wrong number of fields"},
		{[]string{"-csv", filepath.Join(dir, "missing.csv"), "-today", "2025-03-03"}, exitRun, "no such file"},
		{[]string{"-csv", unsorted, "-today", "2025-3-3"}, exitInput, "-today: cannot parse"},
		{[]string{"-csv", unsorted, "-rules", partial}, exitInput, "rules: the rules leave states of the default rules without a rule"},
		{[]string{"-csv", unsorted, "-config", filepath.Join(dir, "none.yaml")}, exitInput, "none.yaml"},
		{[]string{"-csv", unsorted, "-config", "../schedule/testdata/bad.yaml"}, exitInput, "bad.yaml"},
	} {
		var out, errs strings.Builder
		if code := run(context.Background(), tc.args, &out, &errs); code != tc.code || !strings.Contains(errs.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs.String(), tc.code, tc.msg)
		}
	}
}

// TestCSVSourceFlags: -contacts, the former name of -csv, still works;
// the configuration and the rules apply.
func TestCSVSourceFlags(t *testing.T) {
	plan := func(args ...string) string {
		t.Helper()
		var out, errs strings.Builder
		if code := run(context.Background(), append(args, "-today", "2025-03-03"), &out, &errs); code != exitOK {
			t.Fatalf("%q: exit %d: %s", args, code, errs.String())
		}
		return out.String()
	}
	want := plan("-csv", "testdata/contacts.csv")
	if code := run(context.Background(), []string{"-contacts", "testdata/contacts.csv"}, io.Discard, io.Discard); code != cli.ExitUsage {
		t.Errorf("-contacts, the former name of -csv: exit %d, want %d", code, cli.ExitUsage)
	}
	if got := plan("-csv", "testdata/contacts.csv", "-config", "../../testdata/scheduler.yaml"); got != want {
		t.Errorf("the reference configuration (every default) plans otherwise than none:\n%s", got)
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "none.rules")
	os.WriteFile(rules, []byte("*: no_exclusion()\n"), 0o644)
	if got := plan("-csv", "testdata/contacts.csv", "-rules", rules, "-allow-missing-states"); got == want || strings.Contains(got, "skipped") {
		t.Errorf("rules without exclusions: the plan is unchanged or skips emails:\n%s", got)
	}
}
