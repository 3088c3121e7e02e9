package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/internal/pgtest"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// TestMain lets the test binary stand in for the program when run
// re-executes it as a scenario process.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(pgtest.Main(m))
}

var (
	rowsLine    = regexp.MustCompile(`(?m)^  rows: inserted (\d+), updated (\d+), deleted (\d+), unchanged (\d+), conflicting (\d+)$`)
	planLine    = regexp.MustCompile(`(?m)^  contacts (\d+) \(.*\); plan (\d+) rows$`)
	keptLine    = regexp.MustCompile(`(?m)^scenario databases kept in (.+)$`)
	firstRatio  = regexp.MustCompile(`^first run: ratio end-to-end/floor with indexes maintained = (\d+\.\d+)$`)
	bulkRatio   = regexp.MustCompile(`^first run: ratio end-to-end/bulk floor = (\d+\.\d+)$`)
	nightlyLine = regexp.MustCompile(`^nightly run: ratio = (\d+\.\d+), rows rewritten = (\d+\.\d+) %$`)
	// The first run's index build: in bulk, or not.
	runBuild = regexp.MustCompile(`(?m)^first run: (?:index build (\d+\.\d\d) s \((\d+) indexes\)|(no index build) \(the indexes maintained\))$`)
	// The bulk floor's index build.
	floorBuild = regexp.MustCompile(`(?m)^bulk floor: index build (\d+\.\d\d) s$`)
	// Whether the run wrote in bulk, and its checkpoints.
	bulkLine       = regexp.MustCompile(`(?m)^  written in bulk        (yes|no)\b.*$`)
	checkpointLine = regexp.MustCompile(`(?m)^  WAL checkpoints        (\d+) after the run's commits, (\d+\.\d\d) s \(Store\.LastWrite\)$`)
	journalLine    = regexp.MustCompile(`(?m)^  journal mode           (\w+)$`)
	// The write-ahead log's peak during a run and during a floor's
	// measures (one per way measured in WAL mode).
	runWAL   = regexp.MustCompile(`(?m)^  write-ahead log peak   (?:no WAL \(journal mode (\w+)\)|(\d+\.\d) MiB) during the run \(.*\)$`)
	floorWAL = regexp.MustCompile(`(?m)^    write-ahead log peak (no WAL \(journal mode \w+\)|\d+\.\d MiB(?: \((?:multi|prepared)\))?(?:, \d+\.\d MiB \((?:multi|prepared)\))*)$`)
)

// lastLines returns the last n lines of out.
func lastLines(t *testing.T, out string, n int) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < n {
		t.Fatalf("output too short:\n%s", out)
	}
	return lines[len(lines)-n:]
}

// positive checks that the matched ratios are positive numbers.
func positive(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v <= 0 {
			t.Errorf("ratio %q: want a positive number", s)
		}
	}
}

// TestRun runs the whole program (both scenarios, each in a re-executed
// process) on 2,000 contacts and checks its output for consistency with the
// scenario reports and the databases' checkpoints.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-contacts", "2000", "-dir", dir, "-keep", "-floor-insert", "both"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log(out)

	// The last three lines, exactly: the first run's ratios (floor with
	// the indexes maintained, then bulk floor), the nightly line.
	lines := lastLines(t, out, 3)
	m0 := firstRatio.FindStringSubmatch(lines[0])
	m1 := bulkRatio.FindStringSubmatch(lines[1])
	m2 := nightlyLine.FindStringSubmatch(lines[2])
	if m0 == nil || m1 == nil || m2 == nil {
		t.Fatalf("last lines are not the ratio lines:\n%s", strings.Join(lines, "\n"))
	}
	positive(t, m0[1], m1[1], m2[1])
	rewritten, err := strconv.ParseFloat(m2[2], 64)
	if err != nil || rewritten >= 100 || rewritten < 0 {
		t.Errorf("rows rewritten %q %%: want a number in [0, 100)", m2[2])
	}

	// The printed row counts are the scenario reports' (their results) and
	// the checkpoints'.
	rows := rowsLine.FindAllStringSubmatch(out, -1)
	plans := planLine.FindAllStringSubmatch(out, -1)
	kept := keptLine.FindStringSubmatch(out)
	if len(rows) != 2 || len(plans) != 2 || kept == nil {
		t.Fatalf("want two rows lines, two plan lines and the kept directory; got %d, %d, %v", len(rows), len(plans), kept)
	}
	// Journal mode DELETE (the production default): no WAL anywhere; 2,000
	// contacts are too few rows for the run to write in bulk, but the bulk
	// floor always does.
	if j := journalLine.FindAllStringSubmatch(out, -1); len(j) != 2 || j[0][1] != "delete" || j[1][1] != "delete" {
		t.Errorf("journal mode lines %q: want two, delete", j)
	}
	if w := runWAL.FindAllStringSubmatch(out, -1); len(w) != 2 || w[0][1] != "delete" || w[1][1] != "delete" {
		t.Errorf("run write-ahead log lines %q: want two, no WAL (journal mode delete)", w)
	}
	// Floor with the indexes maintained, bulk floor, nightly floor.
	if w := floorWAL.FindAllStringSubmatch(out, -1); len(w) != 3 || w[0][1] != "no WAL (journal mode delete)" {
		t.Errorf("floor write-ahead log lines %q: want three, no WAL (journal mode delete)", w)
	}
	if c := checkpointLine.FindAllStringSubmatch(out, -1); len(c) != 2 || c[0][1] != "0" || c[1][1] != "0" {
		t.Errorf("checkpoint lines %q: want two, 0 checkpoints in journal mode delete", c)
	}
	if b := bulkLine.FindAllStringSubmatch(out, -1); len(b) != 2 || b[0][1] != "no" || b[1][1] != "no" {
		t.Errorf("written-in-bulk lines %q: want two, no", b)
	}
	if b := runBuild.FindAllStringSubmatch(out, -1); len(b) != 1 || b[0][3] == "" {
		t.Errorf("first run's index build lines %q: want one, no index build", b)
	}
	fb := floorBuild.FindAllStringSubmatch(out, -1)
	if len(fb) != 1 {
		t.Fatalf("bulk floor's index build lines %q: want one", fb)
	}
	for i, scenario := range []string{scenarioFirst, scenarioNightly} {
		data, err := os.ReadFile(filepath.Join(kept[1], scenario+".result.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r result
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		printed := atoi(t, rows[i][1:])
		want := []int{r.Rows.Inserted, r.Rows.Updated, r.Rows.Deleted, r.Rows.Unchanged, r.Rows.Conflicting}
		if !slices.Equal(printed, want) {
			t.Errorf("%s: printed rows %v, report %v", scenario, printed, want)
		}
		if p := atoi(t, plans[i][1:]); p[0] != 2000 || p[1] != r.Planned {
			t.Errorf("%s: printed contacts/plan %v, report %d/%d", scenario, p, r.Contacts, r.Planned)
		}
		// The last checkpoint is the last run's: the scenario's, or the
		// last that settled its plan.
		lastID, lastRows := r.RunID, printed
		if n := len(r.Settled); n > 0 {
			x := r.Settled[n-1].Rows
			lastID, lastRows = r.Settled[n-1].RunID, []int{x.Inserted, x.Updated, x.Deleted, x.Unchanged, x.Conflicting}
		}
		cp := lastCheckpoint(t, filepath.Join(kept[1], scenario+".sqlite3"))
		if cp.RunID != lastID {
			t.Errorf("%s: last checkpoint is run %s, the report's %s", scenario, cp.RunID, lastID)
		}
		c := cp.Rows
		if got := []int{c.Inserted, c.Updated, c.Deleted, c.Unchanged, c.Conflicting}; !slices.Equal(got, lastRows) {
			t.Errorf("%s: checkpoint rows %v, printed %v", scenario, got, lastRows)
		}
		if scenario == scenarioFirst && (r.Rows.Inserted == 0 || r.Rows.Updated+r.Rows.Deleted+r.Rows.Unchanged != 0) {
			t.Errorf("first run rows %+v: want inserts only", r.Rows)
		}
		if scenario == scenarioNightly && r.Rows.Unchanged == 0 {
			t.Errorf("nightly run rows %+v: want unchanged rows", r.Rows)
		}
		if r.PeakRSS < 0 || r.Floor.Total <= 0 || r.EndToEnd <= 0 {
			t.Errorf("%s: peak RSS %d, floor %v, end-to-end %v", scenario, r.PeakRSS, r.Floor.Total, r.EndToEnd)
		}
		if r.Journal != "delete" || r.WALPeak != 0 || r.Write.Bulk || r.Write.Checkpoints != 0 {
			t.Errorf("%s: journal %q, WAL peak %d, write %+v: want delete, no WAL, not in bulk", scenario, r.Journal, r.WALPeak, r.Write)
		}
		if scenario == scenarioFirst {
			checkBulkFloor(t, &r, fb[0][1], m0[1], m1[1])
			if !r.BulkAllowed {
				t.Errorf("first run: bulk writes not allowed by default")
			}
		} else if r.Floor.Bulk != nil || r.BulkAllowed {
			t.Errorf("nightly run: bulk floor %+v, bulk allowed %v: want none", r.Floor.Bulk, r.BulkAllowed)
		}
	}

	// The second run reuses the cached database.
	stdout.Reset()
	if code := run(context.Background(), []string{"-contacts", "2000", "-dir", dir, "-scenario", "first"}, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit code %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "(cached,") {
		t.Errorf("second run did not reuse the cached database:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "nightly run:") {
		t.Errorf("-scenario first printed a nightly line:\n%s", stdout.String())
	}
	if !strings.Contains(out, "stored load ") || strings.Count(out, "counting pass ") != 1 {
		t.Errorf("the nightly run did not start from the first run's stored load:\n%s", out)
	}

	// Several runs of a scenario: each is printed, the median is summed up.
	stdout.Reset()
	if code := run(context.Background(), []string{"-contacts", "2000", "-dir", dir, "-scenario", "nightly", "-runs", "3", "-workers", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("-runs 3: exit code %d\n%s", code, stderr.String())
	}
	out = stdout.String()
	if n := strings.Count(out, "== nightly run"); n != 3 {
		t.Errorf("-runs 3: %d nightly runs printed:\n%s", n, out)
	}
	median := regexp.MustCompile(`(?m)^nightly run: ratios of the 3 runs (\d+\.\d+), (\d+\.\d+), (\d+\.\d+) \(min \d+\.\d+, max \d+\.\d+\); median (\d+\.\d+)$`).FindStringSubmatch(out)
	last := nightlyLine.FindStringSubmatch(strings.TrimRight(out, "\n")[strings.LastIndex(strings.TrimRight(out, "\n"), "\n")+1:])
	if median == nil || last == nil {
		t.Fatalf("-runs 3: no median line or last line:\n%s", out)
	}
	rs := []string{median[1], median[2], median[3]}
	slices.SortFunc(rs, func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return cmp.Compare(x, y)
	})
	if median[4] != rs[1] || last[1] != rs[1] {
		t.Errorf("median %s, last line %s, want %s of %v", median[4], last[1], rs[1], rs)
	}
}

// checkBulkFloor checks the first run's result against its bulk floor
// and the printed figures: the bulk floor's index build, the ratios.
func checkBulkFloor(t *testing.T, r *result, build, ratio, bulk string) {
	t.Helper()
	b := r.Floor.Bulk
	if b == nil {
		t.Fatal("first run: no bulk floor")
	}
	// The production schema's secondary indexes of email_schedules.
	if b.Best.Indexes < 10 || b.Best.Build <= 0 || b.Total != r.Floor.ReadContacts+b.Best.Time || b.Best.Time < b.Best.Drop+b.Best.Build {
		t.Errorf("bulk floor %+v (read %v): want 10 indexes or more, an index build, the floor's read plus the transaction", b, r.Floor.ReadContacts)
	}
	if len(b.Inserts) != len(r.Floor.Inserts) {
		t.Errorf("bulk floor measured %d ways, the floor %d", len(b.Inserts), len(r.Floor.Inserts))
	}
	if got := fmt.Sprintf("%.2f", b.Best.Build.Seconds()); got != build {
		t.Errorf("bulk floor: index build printed %s, result %s", build, got)
	}
	if got := fmt.Sprintf("%.2f", r.ratio()); got != ratio {
		t.Errorf("ratio with indexes maintained printed %s, result %s", ratio, got)
	}
	if got := fmt.Sprintf("%.2f", r.bulkRatio()); got != bulk {
		t.Errorf("bulk ratio printed %s, result %s", bulk, got)
	}
}

// TestRunBulk runs the first run alone in WAL mode on enough contacts for
// the adapter to write it in bulk (more than 20,000 rows, all of them new)
// and checks the bulk lines and the write-ahead log's figures. (Several
// runs' median: TestMedianRun, and TestRun's -runs 3.)
func TestRunBulk(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 contacts")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-contacts", "10000", "-dir", dir, "-keep", "-wal", "-scenario", "first", "-floor-insert", "multi"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log(out)
	lines := lastLines(t, out, 2)
	m0 := firstRatio.FindStringSubmatch(lines[0])
	m1 := bulkRatio.FindStringSubmatch(lines[1])
	if m0 == nil || m1 == nil {
		t.Fatalf("last lines are not the first run's ratio lines:\n%s", strings.Join(lines, "\n"))
	}
	positive(t, m0[1], m1[1])
	if strings.Contains(out, "nightly run:") {
		t.Errorf("-scenario first printed a nightly line")
	}
	if j := journalLine.FindAllStringSubmatch(out, -1); len(j) != 1 || j[0][1] != "wal" {
		t.Errorf("journal mode lines %q: want one, wal", j)
	}
	w := runWAL.FindAllStringSubmatch(out, -1)
	if len(w) != 1 || w[0][2] == "" || w[0][2] == "0.0" {
		t.Errorf("run write-ahead log lines %q: want one, with a size", w)
	}
	if w := floorWAL.FindAllStringSubmatch(out, -1); len(w) != 2 || !strings.HasSuffix(w[0][1], " MiB (multi)") || !strings.HasSuffix(w[1][1], " MiB (multi)") {
		t.Errorf("floor write-ahead log lines %q: want two (the floors), in MiB", w)
	}
	c := checkpointLine.FindAllStringSubmatch(out, -1)
	if len(c) != 1 {
		t.Fatalf("checkpoint lines %q: want one", c)
	}
	if b := bulkLine.FindAllStringSubmatch(out, -1); len(b) != 1 || b[0][1] != "yes" {
		t.Fatalf("written-in-bulk lines %q: want one, yes (did store/sqlite raise its bulk threshold above 10,000 contacts' 31,000 rows?)", b)
	}
	rb := runBuild.FindAllStringSubmatch(out, -1)
	fb := floorBuild.FindAllStringSubmatch(out, -1)
	if len(rb) != 1 || len(fb) != 1 || rb[0][1] == "" {
		t.Fatalf("index build lines %q, %q: want one of each, the run's in bulk", rb, fb)
	}

	kept := keptLine.FindStringSubmatch(out)
	if kept == nil {
		t.Fatal("no kept directory")
	}
	data, err := os.ReadFile(filepath.Join(kept[1], scenarioFirst+".result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Journal != "wal" || r.WALPeak <= 0 || !r.Write.Bulk || !r.BulkAllowed {
		t.Errorf("journal %q, WAL peak %d, write %+v: want wal, a peak, in bulk", r.Journal, r.WALPeak, r.Write)
	}
	if got := fmt.Sprintf("%.1f", float64(r.WALPeak)/(1<<20)); got != w[0][2] {
		t.Errorf("run's WAL peak printed %s MiB, result %s", w[0][2], got)
	}
	if c[0][1] != strconv.Itoa(r.Write.Checkpoints) || c[0][2] != fmt.Sprintf("%.2f", r.Write.CheckpointTime.Seconds()) {
		t.Errorf("checkpoints printed %q, result %d, %v", c[0][0], r.Write.Checkpoints, r.Write.CheckpointTime)
	}
	if r.Write.Indexes != r.Floor.Bulk.Best.Indexes || rb[0][2] != strconv.Itoa(r.Write.Indexes) ||
		rb[0][1] != fmt.Sprintf("%.2f", r.Write.Build.Seconds()) || r.Floor.Bulk.Best.WALPeak <= 0 || r.Floor.Inserts[0].WALPeak <= 0 {
		t.Errorf("run %+v, printed %q; bulk floor %+v", r.Write, rb[0][0], r.Floor.Bulk)
	}
	checkBulkFloor(t, &r, fb[0][1], m0[1], m1[1])
}

// TestMedianRun checks that the first run's median is taken on the bulk
// ratio, the nightly run's on its ratio.
func TestMedianRun(t *testing.T) {
	mk := func(scenario string, floor, bulk time.Duration) *result {
		r := &result{Scenario: scenario, EndToEnd: 10 * time.Second}
		r.Floor.Total = floor
		if bulk > 0 {
			r.Floor.Bulk = &bulkFloor{Total: bulk}
		}
		return r
	}
	// Ratios to the floor 1, 2, 5; to the bulk floor 10, 2, 4: the
	// medians differ.
	firsts := []*result{mk(scenarioFirst, 10*time.Second, time.Second), mk(scenarioFirst, 5*time.Second, 5*time.Second), mk(scenarioFirst, 2*time.Second, 2500*time.Millisecond)}
	var b bytes.Buffer
	if m := medianRun(&b, scenarioFirst, firsts); m != firsts[2] {
		t.Errorf("first: median run %+v, want the third (bulk ratio 4)", m)
	}
	if want := "\nfirst run: ratios end-to-end/bulk floor of the 3 runs 10.00, 2.00, 4.00 (min 2.00, max 10.00); median 4.00\n"; b.String() != want {
		t.Errorf("first: printed %q, want %q", b.String(), want)
	}
	nightlies := []*result{mk(scenarioNightly, 10*time.Second, 0), mk(scenarioNightly, 5*time.Second, 0), mk(scenarioNightly, 2*time.Second, 0)}
	b.Reset()
	if m := medianRun(&b, scenarioNightly, nightlies); m != nightlies[1] {
		t.Errorf("nightly: median run %+v, want the second (ratio 2)", m)
	}
	if want := "\nnightly run: ratios of the 3 runs 1.00, 2.00, 5.00 (min 1.00, max 5.00); median 2.00\n"; b.String() != want {
		t.Errorf("nightly: printed %q, want %q", b.String(), want)
	}
}

// TestTableRow checks that every row of the scaling table has the
// header's columns, and the first run's bulk cells.
func TestTableRow(t *testing.T) {
	header := strings.Split(tableHeader, "\n")
	cols := strings.Count(header[0], "|")
	if strings.Count(header[1], "|") != cols {
		t.Fatalf("header %q: its two lines have different columns", tableHeader)
	}
	first := &result{Scenario: scenarioFirst, Planned: 30, EndToEnd: 3 * time.Second, PeakRSS: 100 << 20,
		Write: writeStats{Bulk: true, Indexes: 11, Build: 1250 * time.Millisecond}}
	first.Floor.Total = 2 * time.Second
	first.Floor.Bulk = &bulkFloor{Total: 1500 * time.Millisecond, Best: insertMeasure{Build: 500 * time.Millisecond}}
	nightly := &result{Scenario: scenarioNightly, Planned: 31, EndToEnd: time.Second}
	nightly.Floor.Total = time.Second
	for _, c := range []struct {
		first, nightly *result
	}{{first, nightly}, {first, nil}, {nil, nightly}} {
		row := tableRow(10, c.first, c.nightly, "1/2/3", "4/5/6")
		if n := strings.Count(row, "|"); n != cols {
			t.Errorf("row %q: %d separators, the header %d", row, n, cols)
		}
	}
	if row := tableRow(10, first, nil, "1/2/3", "4/5/6"); !strings.HasPrefix(row, "| 10 | 30 | 3.00 | 2.00 | 1.50 | 1.50 | 2.00 | 1.25 / 0.50 | 100 | – |") {
		t.Errorf("row %q", row)
	}
	first.Write = writeStats{}
	if row := tableRow(10, first, nil, "1/2/3", "4/5/6"); !strings.Contains(row, " | – / 0.50 | ") {
		t.Errorf("row of a run not in bulk %q: want – / 0.50", row)
	}
}

// TestFlags checks that bad flags are refused with exit code 3 (bad
// usage), the problem and the synopsis on stderr.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-scenario", "weekly"},
		{"-contacts", "0"},
		{"-batch", "-1"},
		{"-unique", "id"},
		{"-shape", "new"},
		{"-unique", "send_date"}, // the default shape is production
		{"-shape", "production", "-unique", "none"},
		{"-floor-insert", "fast"},
		{"-store", "mysql"},
		{"-runs", "0"},
		{"-workers", "-1"},
		{"-bulk=maybe"},
		{"extra"},
		{"-child", "first"},
		{"-verbose"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != cli.ExitUsage || !strings.HasPrefix(stderr.String(), "bench: ") ||
			!strings.Contains(stderr.String(), "usage: bench") || stdout.Len() != 0 {
			t.Errorf("%q: exit code %d, stdout %q, stderr %q; want %d and the usage on stderr", args, code, stdout.String(), stderr.String(), cli.ExitUsage)
		}
	}
}

// TestFixtureOptions checks how -shape, -unique and -wal map to the
// fixture's options and to the name of the cached database.
func TestFixtureOptions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want sqlitefixture.Options
		name string
	}{
		{nil, sqlitefixture.Options{Shape: sqlitefixture.Production}, "org-100000-s1-production.sqlite3"},
		{[]string{"-unique", "event_year", "-wal"}, sqlitefixture.Options{Shape: sqlitefixture.Production, WAL: true}, "org-100000-s1-production-wal.sqlite3"},
		{[]string{"-shape", "full"}, sqlitefixture.Options{Shape: sqlitefixture.Full, ProductionIndexes: true, Unique: sqlitefixture.UniqueEventYear}, "org-100000-s1-full.sqlite3"},
		{[]string{"-shape", "full", "-unique", "send_date", "-wal"}, sqlitefixture.Options{Shape: sqlitefixture.Full, ProductionIndexes: true, Unique: sqlitefixture.UniqueSendDate}, "org-100000-s1-full-send_date.sqlite3"},
		{[]string{"-shape", "old", "-unique", "none"}, sqlitefixture.Options{Shape: sqlitefixture.Old}, "org-100000-s1-old-none.sqlite3"},
	} {
		var stderr bytes.Buffer
		o, code := parseFlags(c.args, io.Discard, &stderr)
		if o == nil {
			t.Fatalf("%q: exit %d: %s", c.args, code, stderr.String())
		}
		got, err := fixtureOptions(o)
		if err != nil || got.Shape != c.want.Shape || got.ProductionIndexes != c.want.ProductionIndexes || got.Unique != c.want.Unique || got.WAL != c.want.WAL {
			t.Errorf("%q: options %+v (%v), want %+v", c.args, got, err, c.want)
		}
		if name := cacheName(o); name != c.name {
			t.Errorf("%q: cache %s, want %s", c.args, name, c.name)
		}
	}
	var stderr bytes.Buffer
	if o, _ := parseFlags([]string{"-unique", "none"}, io.Discard, &stderr); o != nil || !strings.Contains(stderr.String(), "-unique none contradicts -shape production") {
		t.Errorf("-unique none with the default shape: %s", stderr.String())
	}
}

// lastCheckpoint returns the newest checkpoint row of the database at path.
func lastCheckpoint(t *testing.T, path string) sqlite.Checkpoint {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cps, err := sqlite.New(db, sqlite.Options{}).Checkpoints(context.Background())
	if err != nil || len(cps) == 0 {
		t.Fatalf("checkpoints of %s: %v (%d rows)", path, err, len(cps))
	}
	return cps[len(cps)-1]
}

// atoi converts the matched numbers.
func atoi(t *testing.T, ss []string) []int {
	t.Helper()
	out := make([]int, len(ss))
	for i, s := range ss {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}

var (
	pgFirstRatio = regexp.MustCompile(`^first run: ratio end-to-end/floor = (\d+\.\d+)$`)
	pgRowsLine   = regexp.MustCompile(`(?m)^  contacts (\d+) \(valid \d+, invalid \d+\); rows: inserted (\d+), updated (\d+), deleted (\d+), unchanged (\d+), conflicting \d+, taken \d+$`)
	pgCopyLine   = regexp.MustCompile(`(?m)^    copy rows in +\d+\.\d\d s   \((\d+) rows, COPY FROM STDIN`)
)

// TestRunPostgres runs both scenarios against a PostgreSQL server
// (internal/pgtest) on 1,500 contacts, twice (the second time from the
// cached organisation schema), and checks the ratio lines and that the
// floor copies exactly the rows the first run inserted.
func TestRunPostgres(t *testing.T) {
	url := pgtest.URL(t)
	for i := range 2 {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"-store", "postgres", "-pg", url, "-contacts", "1500"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		out := stdout.String()
		if cached := strings.Contains(out, "(cached)"); cached != (i == 1) {
			t.Errorf("run %d: organisation cached %v, want %v:\n%s", i+1, cached, i == 1, out)
		}
		lines := lastLines(t, out, 2)
		m0, m1 := pgFirstRatio.FindStringSubmatch(lines[0]), nightlyLine.FindStringSubmatch(lines[1])
		if m0 == nil || m1 == nil {
			t.Fatalf("last lines are not the ratio lines:\n%s", strings.Join(lines, "\n"))
		}
		positive(t, m0[1], m1[1])
		rows := pgRowsLine.FindAllStringSubmatch(out, -1)
		copied := pgCopyLine.FindStringSubmatch(out)
		if len(rows) != 2 || copied == nil {
			t.Fatalf("want two rows lines and the floor's copy line:\n%s", out)
		}
		if rows[0][1] != "1500" || rows[0][2] != copied[1] || rows[0][2] == "0" {
			t.Errorf("first run: %d contacts, %s rows inserted, the floor copied %s", 1500, rows[0][2], copied[1])
		}
		written := 0
		for _, n := range rows[1][2:5] {
			v, _ := strconv.Atoi(n)
			written += v
		}
		if written == 0 {
			t.Errorf("the nightly run wrote nothing: %v", rows[1])
		}
	}
	// Nothing of the bench's but its cache is left on the server.
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var left []string
	rows, err := pool.Query(context.Background(), `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		left = append(left, n)
	}
	if want := []string{"bench_c1500_s1"}; !slices.Equal(left, want) {
		t.Errorf("schemas left: %q, want %q", left, want)
	}
}

// TestRunPostgresRuns: -runs 3 runs each scenario three times on fresh
// copies, prints every run and the ratios with their median, and the last
// lines give the median run.
func TestRunPostgresRuns(t *testing.T) {
	url := pgtest.URL(t)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-store", "postgres", "-pg", url, "-contacts", "600", "-runs", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, scenario := range []string{"first", "nightly"} {
		if n := strings.Count(out, "== "+scenario+" run"); n != 3 {
			t.Errorf("%d %s runs, want 3:\n%s", n, scenario, out)
		}
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^first run: ratios end-to-end/floor of the 3 runs (\d+\.\d+), (\d+\.\d+), (\d+\.\d+) \(min (\d+\.\d+), max (\d+\.\d+)\); median (\d+\.\d+)$`),
		regexp.MustCompile(`(?m)^nightly run: ratios of the 3 runs (\d+\.\d+), (\d+\.\d+), (\d+\.\d+) \(min (\d+\.\d+), max (\d+\.\d+)\); median (\d+\.\d+)$`),
	} {
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no line %s:\n%s", re, out)
		}
		rs := []float64{}
		for _, v := range m[1:4] {
			f, _ := strconv.ParseFloat(v, 64)
			rs = append(rs, f)
		}
		slices.Sort(rs)
		if got := fmt.Sprintf("%.2f %.2f %.2f", rs[0], rs[2], rs[1]); got != m[4]+" "+m[5]+" "+m[6] {
			t.Errorf("min, max, median %s %s %s of %v", m[4], m[5], m[6], m[1:4])
		}
	}
	lines := lastLines(t, out, 2)
	m0, m1 := pgFirstRatio.FindStringSubmatch(lines[0]), nightlyLine.FindStringSubmatch(lines[1])
	if m0 == nil || m1 == nil {
		t.Fatalf("last lines are not the ratio lines:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(out, "; median "+m0[1]+"\n") || !strings.Contains(out, "; median "+m1[1]+"\n") {
		t.Errorf("the last lines do not give the medians:\n%s", out)
	}
}
