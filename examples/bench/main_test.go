package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// TestMain lets the test binary stand in for the program when run
// re-executes it as a scenario process.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

var (
	rowsLine    = regexp.MustCompile(`(?m)^  rows: inserted (\d+), updated (\d+), deleted (\d+), unchanged (\d+), conflicting (\d+)$`)
	planLine    = regexp.MustCompile(`(?m)^  contacts (\d+) \(.*\); plan (\d+) rows$`)
	keptLine    = regexp.MustCompile(`(?m)^scenario databases kept in (.+)$`)
	firstRatio  = regexp.MustCompile(`^first run: ratio end-to-end/floor = (\d+\.\d+)$`)
	nightlyLine = regexp.MustCompile(`^nightly run: ratio = (\d+\.\d+), rows rewritten = (\d+\.\d+) %$`)
)

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

	// The last two lines, exactly.
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("output too short")
	}
	m1 := firstRatio.FindStringSubmatch(lines[len(lines)-2])
	m2 := nightlyLine.FindStringSubmatch(lines[len(lines)-1])
	if m1 == nil || m2 == nil {
		t.Fatalf("last lines are not the ratio lines:\n%s\n%s", lines[len(lines)-2], lines[len(lines)-1])
	}
	for _, s := range []string{m1[1], m2[1]} {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v <= 0 {
			t.Errorf("ratio %q: want a positive number", s)
		}
	}
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
	median := regexp.MustCompile(`(?m)^nightly run: ratios of the 3 runs (\d+\.\d+), (\d+\.\d+), (\d+\.\d+); median (\d+\.\d+)$`).FindStringSubmatch(out)
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
		{"-runs", "0"},
		{"-workers", "-1"},
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
