package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestCSVSource(t *testing.T) {
	var out, errs strings.Builder
	code := run(context.Background(), []string{"-contacts", "testdata/contacts.csv", "-today", "2025-03-03"}, &out, &errs)
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
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"-contacts", unsorted, "-today", "2025-03-03"}, 1, "id \"1\" is not a number above the previous id 2"},
		{[]string{"-contacts", short, "-today", "2025-03-03"}, 1, "wrong number of fields"},
		{[]string{"-contacts", filepath.Join(dir, "missing.csv"), "-today", "2025-03-03"}, 1, "no such file"},
		{[]string{"-contacts", unsorted, "-today", "2025-3-3"}, 2, "cannot parse"},
	} {
		var out, errs strings.Builder
		if code := run(context.Background(), tc.args, &out, &errs); code != tc.code || !strings.Contains(errs.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs.String(), tc.code, tc.msg)
		}
	}
}
