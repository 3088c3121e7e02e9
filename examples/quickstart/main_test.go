package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/store/demodata"
)

// TestQuickstart generates a small demo database, plans it, and plans it
// again: the second run reuses the database and rewrites nothing.
func TestQuickstart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo", "org-demo.sqlite3")
	var first strings.Builder
	if err := run(context.Background(), &first, path, 400, 1, demodata.DefaultToday); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Generating the demo organisation", "Contacts        400 read", "Email type", "The plan of the first contacts:", "The next day's run would"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, first.String())
		}
	}
	checkProduction(t, path, first.String())
	var second strings.Builder
	if err := run(context.Background(), &second, path, 400, 1, demodata.DefaultToday); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(second.String(), "Generating") || !strings.Contains(second.String(), "Rows      0 inserted, 0 updated, 0 deleted") {
		t.Errorf("second run did not reuse the plan:\n%s", second.String())
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
	if m := regexp.MustCompile(`invalid_email (\d+)`).FindStringSubmatch(out); m == nil || m[1] != strconv.Itoa(placeholders+implausible) {
		t.Errorf("invalid_email: %v, want %d (%d placeholders, %d implausible):\n%s", m, placeholders+implausible, placeholders, implausible, out)
	}
	if strings.Contains(out, "no_email") {
		t.Errorf("the report counts contacts without an address:\n%s", out)
	}
}
