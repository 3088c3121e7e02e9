package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestQuickstart generates a small demo database, plans it, and plans it
// again: the second run reuses the database and rewrites nothing.
func TestQuickstart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo", "org-demo.sqlite3")
	args := []string{"-db", path, "-contacts", "400"}
	var first, stderr strings.Builder
	if code := run(context.Background(), args, &first, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"Generating the demo organisation", "Contacts        400 read", "Email type", "The plan of the first contacts:", "The next day's run would"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, first.String())
		}
	}
	checkProduction(t, path, first.String())
	var second strings.Builder
	if code := run(context.Background(), args, &second, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if strings.Contains(second.String(), "Generating") || !strings.Contains(second.String(), "Rows      0 new, 0 changed, 0 deleted") {
		t.Errorf("second run did not reuse the plan:\n%s", second.String())
	}
}

// TestQuickstartErrors: bad usage and bad input exit 3 and name the
// problem, before any database is generated.
func TestQuickstartErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.sqlite3")
	partial := filepath.Join(dir, "partial.rules")
	file := filepath.Join(dir, "file.txt")
	for name, text := range map[string]string{partial: "TX: year_round()\n", file: "not a directory\n"} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-db", path, "-today", "2025-13-01"}, exitInput, "quickstart: -today: "},
		{[]string{"-db", path, "-contacts", "0"}, exitInput, "quickstart: -contacts 0: want 1 or more\nusage: quickstart"},
		{[]string{"-db", path, "extra"}, exitInput, "unexpected argument \"extra\""},
		{[]string{"-db", path, "-rules", partial}, exitInput, "quickstart: rules: the rules leave states"},
		{[]string{"-db", path, "-config", filepath.Join(dir, "none.yaml")}, exitInput, "none.yaml"},
		{[]string{"-db", path, "-config", "../schedule/testdata/bad.yaml"}, exitInput, "bad.yaml"},
		{[]string{"-db", filepath.Join(file, "demo.sqlite3")}, exitRun, "not a directory"},
	} {
		var stdout, stderr strings.Builder
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("bad usage generated %s", path)
	}
}

// checkProduction checks what the production schema of the demo database
// means for the report: no contact is opted out (the schema cannot store
// it), and the contacts without an address, which have a placeholder, are
// counted with the implausible ones as invalid_email, none as no_email.
func checkProduction(t *testing.T, path, out string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var placeholders, implausible int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE email LIKE 'no-email-%'), count(*) FILTER (WHERE email LIKE '% #%') FROM contacts`).
		Scan(&placeholders, &implausible); err != nil {
		t.Fatal(err)
	}
	if placeholders == 0 || implausible == 0 {
		t.Fatalf("the demo database has %d placeholder and %d implausible addresses: pick a seed with both", placeholders, implausible)
	}
	if m := regexp.MustCompile(`(\d+) opted out`).FindStringSubmatch(out); m != nil && m[1] != "0" {
		t.Errorf("opted out: %v, want 0:\n%s", m, out)
	}
	if m := regexp.MustCompile(`(\d+)   with an email address that is not valid \(invalid_email\)`).FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(placeholders+implausible) {
		t.Errorf("invalid_email: %v, want %d (%d placeholders, %d implausible):\n%s", m, placeholders+implausible, placeholders, implausible, out)
	}
	if strings.Contains(out, "no_email") {
		t.Errorf("the report counts contacts without an address:\n%s", out)
	}
}
