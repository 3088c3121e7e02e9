package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// plandb runs the program and returns its exit status, stdout and stderr.
func plandb(args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

var checkpointLine = regexp.MustCompile(`(?m)^checkpoint \S+: completed, inserted (\d+), updated (\d+), deleted (\d+), unchanged (\d+), conflicting \d+$`)

// TestPlanDB generates a database, plans it, and plans it again from a
// configuration that names it, with a backup: the second run rewrites
// nothing.
func TestPlanDB(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "org.sqlite3")
	code, out, errs := plandb("-db", db, "-generate", "300", "-seed", "2", "-shape", "production", "-today", "2025-03-03")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := checkpointLine.FindStringSubmatch(out)
	if !strings.Contains(out, "generated "+db+": 300 contacts") || !strings.Contains(out, "read: 300 contacts") || m == nil || m[1] == "0" {
		t.Errorf("first run:\n%s", out)
	}

	config := filepath.Join(dir, "plandb.yaml")
	if err := os.WriteFile(config, []byte("database: org.sqlite3\nbackup:\n  dir: saved\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = plandb("-config", config, "-today", "2025-03-03", "-backup")
	if code != exitOK {
		t.Fatalf("second run: exit %d: %s", code, errs)
	}
	if m := checkpointLine.FindStringSubmatch(out); m == nil || m[1] != "0" || m[2] != "0" || m[3] != "0" {
		t.Errorf("second run rewrote rows:\n%s", out)
	}
	if backups, _ := filepath.Glob(filepath.Join(dir, "saved", "org.backup-*.sqlite3")); len(backups) != 1 {
		t.Errorf("backups %v, want one in the configuration's backup.dir", backups)
	}
}

// TestPlanDBErrors: bad usage and bad input exit 3, a failed run 1; each
// names the problem.
func TestPlanDBErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.sqlite3")
	partial := filepath.Join(dir, "partial.rules")
	for name, text := range map[string]string{existing: "not a database\n", partial: "TX: year_round()\n"} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitInput, "plandb: no database: give -db or \"database\" in the configuration\nusage: plandb -db PATH"},
		{[]string{"-db", existing, "extra"}, exitInput, "unexpected argument \"extra\""},
		{[]string{"-db", existing, "-shape", "new"}, exitInput, "-shape \"new\": want production, full or old"},
		{[]string{"-db", existing, "-generate", "-1"}, exitInput, "-generate -1: want a number of contacts"},
		{[]string{"-db", existing, "-generate", "10"}, exitInput, "-generate: " + existing + " exists"},
		{[]string{"-db", existing, "-today", "2025-13-01"}, exitInput, "plandb: -today: "},
		{[]string{"-db", existing, "-rules", partial}, exitInput, "plandb: rules: the rules leave states"},
		{[]string{"-db", existing, "-config", "../schedule/testdata/bad.yaml"}, exitInput, "bad.yaml"},
		{[]string{"-db", filepath.Join(dir, "none.sqlite3")}, exitInput, "no such file"},
		{[]string{"-db", existing, "-today", "2025-03-03"}, exitRun, "plandb: "},
		{[]string{"-db", filepath.Join(existing, "new.sqlite3"), "-generate", "10"}, exitRun, "plandb: "},
	} {
		code, _, errs := plandb(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
