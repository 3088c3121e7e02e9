package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)

var fixtureToday = datecalc.MustNew(2025, 3, 3)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain() // the child process of TestInterrupt
	}
	testHooks.now = func() time.Time { return fixedNow }
	testHooks.zeroTimings = true
	os.Exit(m.Run())
}

// newRunIDs makes run ids run-test-1, run-test-2, ...
func newRunIDs() func(time.Time) string {
	n := 0
	return func(time.Time) string {
		n++
		return fmt.Sprintf("run-test-%d", n)
	}
}

// createDB writes a generated organisation database into dir, in the
// schema of a production organisation database (rollback journal, or WAL
// when wal is set).
func createDB(t testing.TB, dir string, contacts int, wal bool) string {
	t.Helper()
	path := filepath.Join(dir, "org-001.sqlite3")
	err := sqlitefixture.Create(context.Background(), path, sqlitefixture.Options{
		Gen: demodata.GenOptions{Seed: 1, Contacts: contacts, Today: fixtureToday, StoredFraction: 0.3},
		WAL: wal,
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	rateRE = regexp.MustCompile(`rate_per_s=\d+`)
	etaRE  = regexp.MustCompile(`eta=\S+`)
)

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestCLI runs the command in-process, in order, on one generated database
// of 300 contacts: each step's exit status, stdout and stderr are compared
// with testdata/NAME.golden (temporary paths written as $TMP, rates and
// times left out). Refresh with: go test ./examples/schedule -update
func TestCLI(t *testing.T) {
	tmp := t.TempDir()
	db := createDB(t, tmp, 300, false)
	report := filepath.Join(tmp, "report.json")
	whatIfCSV := filepath.Join(tmp, "changes.csv")
	upcomingJSON := filepath.Join(tmp, "upcoming.json")
	chart := filepath.Join(tmp, "chart.svg")
	emptyDir := filepath.Join(tmp, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(tmp, "notes.txt")
	emptyFile := filepath.Join(tmp, "empty.sqlite3")
	for f, data := range map[string]string{notDB: "not a database\n", emptyFile: ""} {
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fresh := filepath.Join(tmp, "new.sqlite3")
	noContacts := filepath.Join(tmp, "leads.sqlite3")
	func() {
		ldb, err := sql.Open("sqlite3", noContacts)
		if err != nil {
			t.Fatal(err)
		}
		defer ldb.Close()
		if _, err := ldb.Exec("CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT)"); err != nil {
			t.Fatal(err)
		}
	}()
	testHooks.runID = newRunIDs()
	t.Cleanup(func() { testHooks.runID = nil })

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"run", []string{"-db", db, "-today", "2025-03-03", "-report", report, "-chart", chart}, 0},
		{"run_again", []string{"-db", db, "-today", "2025-03-03"}, 0},
		{"dry_run", []string{"-db", db, "-today", "2025-03-17", "-dry-run"}, 0},
		{"custom_config", []string{"-db", db, "-today", "2025-03-17", "-dry-run", "-config", "testdata/custom.yaml", "-log-format", "json"}, 0},
		{"what_if", []string{"-db", db, "-today", "2025-03-17", "-what-if", "-config", "testdata/custom.yaml", "-what-if-out", whatIfCSV}, 0},
		{"what_if_same", []string{"-db", db, "-today", "2025-03-03", "-what-if"}, 0},
		{"what_if_and_dry_run", []string{"-db", db, "-what-if", "-dry-run"}, exitInput},
		{"what_if_out_alone", []string{"-db", db, "-what-if-out", whatIfCSV}, exitInput},
		{"explain", []string{"-db", db, "-today", "2025-03-03", "-explain", "17"}, 0},
		{"explain_missing", []string{"-db", db, "-today", "2025-03-03", "-explain", "99999"}, exitInput},
		{"backup", []string{"-db", db, "-today", "2025-03-03", "-backup", "-batch", "50"}, 0},
		{"status", []string{"-db", db, "-status"}, 0},
		{"upcoming", []string{"-db", db, "-today", "2025-03-04", "-upcoming", "14", "-report", upcomingJSON}, 0},
		{"upcoming_bad_days", []string{"-db", db, "-upcoming", "400"}, exitInput},
		{"upcoming_and_dry_run", []string{"-db", db, "-upcoming", "7", "-dry-run"}, exitInput},
		{"bulk_and_dry_run", []string{"-db", db, "-bulk", "-dry-run"}, exitInput},
		{"help", []string{"-h"}, 0},
		{"unknown_flag", []string{"-db", db, "-verbose"}, exitInput},
		{"bad_today", []string{"-db", db, "-today", "2025-13-01"}, exitInput},
		{"bad_log_format", []string{"-db", db, "-log-format", "xml"}, exitInput},
		{"bad_batch", []string{"-db", db, "-batch", "-1"}, exitInput},
		{"extra_argument", []string{"-db", db, "run"}, exitInput},
		{"bad_explain_id", []string{"-db", db, "-explain", "abc"}, exitInput},
		{"status_and_explain", []string{"-db", db, "-status", "-explain", "1"}, exitInput},
		{"explain_and_report", []string{"-db", db, "-explain", "1", "-report", report}, exitInput},
		{"no_database", []string{"-today", "2025-03-03"}, exitInput},
		{"missing_database", []string{"-db", filepath.Join(tmp, "none.sqlite3")}, exitInput},
		{"missing_database_dry_run", []string{"-db", filepath.Join(tmp, "none.sqlite3"), "-dry-run"}, exitInput},
		{"not_a_database", []string{"-db", notDB, "-today", "2025-03-03"}, exitInput},
		{"empty_file", []string{"-db", emptyFile, "-today", "2025-03-03"}, exitInput},
		{"no_contacts_table", []string{"-db", noContacts, "-status"}, exitInput},
		{"create", []string{"-db", fresh, "-create", "-today", "2025-03-03"}, 0},
		{"status_created", []string{"-db", fresh, "-status"}, 0},
		{"create_dry_run", []string{"-db", fresh, "-create", "-dry-run"}, exitInput},
		{"wal", []string{"-db", db, "-today", "2025-03-04", "-wal", "-batch", "100"}, 0},
		{"bad_config", []string{"-db", db, "-config", "testdata/bad.yaml"}, exitInput},
		{"missing_config", []string{"-db", db, "-config", "testdata/none.yaml"}, exitInput},
		{"bad_rules", []string{"-db", db, "-rules", "testdata/bad.rules"}, exitInput},
		{"empty_rules_dir", []string{"-db", db, "-rules", emptyDir}, exitInput},
		{"rules_missing_states", []string{"-db", db, "-today", "2025-03-03", "-dry-run", "-rules", "testdata/partial.rules"}, exitInput},
		{"rules_missing_allowed", []string{"-db", db, "-today", "2025-03-03", "-what-if", "-rules", "testdata/partial.rules", "-allow-missing-states"}, 0},
		{"rules_extends", []string{"-db", db, "-today", "2025-03-03", "-what-if", "-rules", "../../testdata/rules/examples"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			clean := func(s string) string {
				s = strings.ReplaceAll(s, tmp, "$TMP")
				s = rateRE.ReplaceAllString(s, "rate_per_s=N")
				s = etaRE.ReplaceAllString(s, "eta=T")
				return regexp.MustCompile(`"(rate_per_s|eta)":[^,}]+`).ReplaceAllString(s, `"$1":N`)
			}
			args := strings.ReplaceAll(strings.Join(tt.args, " "), tmp, "$TMP")
			got := fmt.Sprintf("$ schedule %s\n--- exit %d\n--- stdout\n%s--- stderr\n%s", args, code, clean(stdout.String()), clean(stderr.String()))
			golden(t, tt.name+".golden", got)
		})
	}

	t.Run("report", func(t *testing.T) {
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		var rep map[string]any
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatalf("report is not JSON: %v", err)
		}
		golden(t, "run.report.json", string(data))
	})
	t.Run("chart", func(t *testing.T) { checkChart(t, chart) })
	t.Run("upcoming_json", func(t *testing.T) {
		// The run's report carries the next 14 days of its plan, and
		// -upcoming -report writes the same shape.
		var rep struct {
			Upcoming *scheduler.Upcoming `json:"upcoming"`
		}
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &rep); err != nil || rep.Upcoming == nil || len(rep.Upcoming.Days) != 14 || rep.Upcoming.Limits.Cap == 0 {
			t.Errorf("the run report's upcoming days: %+v, %v", rep.Upcoming, err)
		}
		var up scheduler.Upcoming
		data, err = os.ReadFile(upcomingJSON)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &up); err != nil || len(up.Days) != 14 || up.From.String() != "2025-03-04" {
			t.Errorf("-upcoming -report: %+v, %v", up, err)
		}
	})
	t.Run("what_if_csv", func(t *testing.T) {
		data, err := os.ReadFile(whatIfCSV)
		if err != nil {
			t.Fatal(err)
		}
		// One line per changed row, as the preview counted them
		// (testdata/what_if.golden: 915, the rows a run would write).
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 916 || strings.Join(recs[0], ",") != "contact_id,state,type,change,old_date,old_status,old_reason,new_date,new_status,new_reason" {
			t.Errorf("%d lines, header %v", len(recs), recs[0])
		}
		kinds := map[string]int{}
		for _, r := range recs[1:] {
			kinds[r[3]]++
			if (r[3] == "added") != (r[4] == "") || (r[3] == "removed") != (r[7] == "") {
				t.Errorf("line %v: old and new rows do not fit the change", r)
			}
		}
		if len(kinds) != 6 {
			t.Errorf("changes by kind: %v", kinds)
		}
	})
	t.Run("backup_written", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(tmp, "backups", "org-001.backup-*.sqlite3"))
		if len(files) != 1 {
			t.Errorf("backups: %v, want one", files)
		}
	})
}

// fileHashes returns the sha256 of every file in dir, by name.
func fileHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

// TestReadOnlyCommands runs the commands that only read (dry run, explain,
// status) on a production database that was never migrated, in its
// rollback-journal mode: each works, and the directory holds exactly the
// same files with exactly the same bytes afterwards (no journal, no WAL,
// no migration, no journal-mode switch).
func TestReadOnlyCommands(t *testing.T) {
	tmp := t.TempDir()
	db := createDB(t, tmp, 200, false)
	before := fileHashes(t, tmp)
	for _, args := range [][]string{
		{"-db", db, "-today", "2025-03-03", "-dry-run"},
		{"-db", db, "-today", "2025-03-03", "-dry-run", "-report", filepath.Join(t.TempDir(), "r.json")},
		{"-db", db, "-today", "2025-03-03", "-explain", "17"},
		{"-db", db, "-status"},
		{"-db", db, "-today", "2025-03-03", "-upcoming", "14"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("schedule %v: exit %d\n%s", args, code, stderr.String())
		}
		if diff := cmp.Diff(before, fileHashes(t, tmp)); diff != "" {
			t.Errorf("schedule %v changed the database's files (-before +after):\n%s", args, diff)
		}
	}
}

// TestSpecialFiles: a configuration or rules path that is a device or a
// FIFO is refused at once as bad input, never read without end or waited
// on.
func TestSpecialFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs or /dev/zero")
	}
	tmp := t.TempDir()
	db := createDB(t, tmp, 20, false)
	fifo := filepath.Join(tmp, "config.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	for _, args := range [][]string{
		{"-db", db, "-config", "/dev/zero", "-dry-run"},
		{"-db", db, "-config", fifo, "-dry-run"},
		{"-db", db, "-rules", "/dev/zero", "-dry-run"},
		{"-db", db, "-rules", fifo, "-dry-run"},
	} {
		done := make(chan int, 1)
		var stderr bytes.Buffer
		go func() { done <- run(context.Background(), args, io.Discard, &stderr) }()
		select {
		case code := <-done:
			if code != exitInput || !strings.Contains(stderr.String(), "not a regular file") {
				t.Errorf("schedule %v: exit %d, stderr %q", args, code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("schedule %v did not return", args)
		}
	}
}
