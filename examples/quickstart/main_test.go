package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/store/storetest"
)

// TestQuickstart generates a small demo database, plans it, and plans it
// again: the second run reuses the database and rewrites nothing.
func TestQuickstart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo", "org-demo.sqlite3")
	var first strings.Builder
	if err := run(context.Background(), &first, path, 400, 1, storetest.DefaultToday); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Generating the demo organisation", "Contacts        400 read", "Email type", "The plan of the first contacts:", "The next day's run would"} {
		if !strings.Contains(first.String(), want) {
			t.Errorf("first run output lacks %q:\n%s", want, first.String())
		}
	}
	var second strings.Builder
	if err := run(context.Background(), &second, path, 400, 1, storetest.DefaultToday); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(second.String(), "Generating") || !strings.Contains(second.String(), "Rows      0 inserted, 0 updated, 0 deleted") {
		t.Errorf("second run did not reuse the plan:\n%s", second.String())
	}
}
