package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// childEnv is set in the environment of the scenario processes. The program
// does not need it (the hidden -child flag selects the mode); a test binary
// re-executed as a scenario process uses it to run the program instead of
// the tests.
const childEnv = "EMAILSCHED_BENCH_CHILD"

// The scenarios, as named by -scenario and by the hidden -child flag
// ("prepare" is a first run that measures nothing, for -scenario nightly).
const (
	scenarioFirst   = "first"
	scenarioNightly = "nightly"
	scenarioBoth    = "both"
	scenarioPrepare = "prepare"
)

// The ways the insert floor writes rows (-floor-insert).
const (
	insertPrepared = "prepared" // one transaction, prepared single-row INSERT
	insertMulti    = "multi"    // one transaction, prepared multi-row INSERT
	insertBoth     = "both"     // both, each on its own fresh copy; the faster is the floor
)

// options are the command-line flags.
type options struct {
	contacts    int
	seed        int64
	dir         string
	scenario    string
	cpuProfile  string
	memProfile  string
	batch       int
	keep        bool
	shape       string
	unique      string
	wal         bool
	floorInsert string
	workers     int
	runs        int
	atomic      bool
	bulk        bool
	sender      time.Duration
	store       string
	pg          string

	// Hidden flags of the scenario processes.
	child   string // the scenario this process runs
	db      string // the scenario database
	floorDB string // the database the floor works on
	today   string // the run date
	result  string // where to write the result (JSON)
}

// parseFlags parses args. It returns nil options and the exit status
// when the program must not go on: after -h, -help or -version (0, their
// output on stdout) or bad usage (cli.ExitUsage, reported on stderr).
func parseFlags(args []string, stdout, stderr io.Writer) (*options, int) {
	c := cli.New("bench", "usage: bench [flags]",
		"bench measures the scheduler SQLite → SQLite against SQLite's own floor, or on PostgreSQL against its floor (-store postgres; see examples/bench/README.md).",
		"bench -contacts 3000000",
		"bench -store postgres -pg postgres://me@localhost/bench -contacts 1000000",
		"bench -contacts 100000 -scenario first -cpuprofile cpu.pprof")
	var o options
	fs := c.Flags
	fs.IntVar(&o.contacts, "contacts", 100_000, "the number of generated contacts (`N`)")
	fs.Int64Var(&o.seed, "seed", 1, "the seed of the generated database (`N`)")
	fs.StringVar(&o.dir, "dir", "", "the cache directory `DIR` of generated databases and of the scenario copies (default: $TMPDIR/emailsched-bench)")
	fs.StringVar(&o.scenario, "scenario", scenarioBoth, "the scenarios to run: `first|nightly|both`")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the scheduler run to `FILE` (with -scenario both, .first/.nightly is inserted before the extension)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken at the end of the scheduler run to `FILE` (named as -cpuprofile)")
	fs.IntVar(&o.batch, "batch", 0, "at most `N` contacts per write transaction of the SQLite adapter (sqlite.Options.BatchContacts; 0 = the adapter's default)")
	fs.BoolVar(&o.keep, "keep", false, "keep the scenario databases (their directory is printed)")
	fs.StringVar(&o.shape, "shape", "production", "the schema of the generated database, `production|full|old`: production (the schema of a production organisation database), full or old (the fixture's earlier made-up shapes)")
	fs.StringVar(&o.unique, "unique", "event_year", "the unique index of email_schedules in the generated database, `event_year|send_date|none` (send_date and none with -shape full or old only: production has its schema's, on event_year)")
	fs.BoolVar(&o.wal, "wal", false, "generate the production database in WAL mode (production databases are in journal mode DELETE; full and old are always WAL)")
	fs.StringVar(&o.floorInsert, "floor-insert", insertBoth, "how the first run's insert floor writes, `both|multi|prepared`: both (multi-row and single-row INSERT, each on its own fresh copy; the faster counts), multi or prepared (one of them: half the floor's time at large sizes)")
	fs.IntVar(&o.workers, "workers", 0, "scheduler.Config.Workers: `N` goroutines that plan while one reads and the run's goroutine writes (0 = the scheduler's default)")
	fs.BoolVar(&o.atomic, "atomic", false, "make each run one transaction (sqlite.Options.Atomic, the schedule command's -atomic); by default the adapter commits in short transactions of whole contacts, as the schedule command does")
	fs.BoolVar(&o.bulk, "bulk", true, "let the first run write in bulk (sqlite.Options.BulkWrites, as an onboarding should): its secondary indexes of email_schedules dropped and created again in one transaction; -bulk=false writes it in batches with the indexes maintained (with -atomic a large run writes in bulk anyway)")
	fs.DurationVar(&o.sender, "sender", 0, "play the sending system beside each measured run: take one pre-scheduled row over every `INTERVAL` (for example 100ms) and report how long its writes waited (0 = no sender)")
	fs.StringVar(&o.store, "store", storeSQLite, "the store to measure, `sqlite|postgres`: postgres runs the first and nightly scenarios against a PostgreSQL schema (-pg) and its floor (COPY in, plain SELECT out)")
	fs.StringVar(&o.pg, "pg", "", "with -store postgres, the server's `URL` (postgres://...; default: $"+postgresEnv+"); the bench creates and drops schemas named bench_* there")
	fs.IntVar(&o.runs, "runs", 1, "`N` runs of each scenario, each on a fresh copy of its database; the table row and the last lines give the run of median ratio")
	// Hidden (no usage): the parent's way of talking to a scenario process.
	fs.StringVar(&o.child, "child", "", "")
	fs.StringVar(&o.db, "db", "", "")
	fs.StringVar(&o.floorDB, "floor-db", "", "")
	fs.StringVar(&o.today, "today", "", "")
	fs.StringVar(&o.result, "result", "", "")
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return nil, code
	}
	if fs.NArg() > 0 {
		return nil, c.Fail(stderr, "unexpected arguments: %q", fs.Args())
	}
	if o.dir == "" {
		o.dir = filepath.Join(os.TempDir(), "emailsched-bench")
	}
	var problems []string
	if o.contacts < 1 || o.contacts > 100_000_000 {
		problems = append(problems, fmt.Sprintf("-contacts %d: want 1 to 100000000", o.contacts))
	}
	switch o.scenario {
	case scenarioFirst, scenarioNightly, scenarioBoth:
	default:
		problems = append(problems, fmt.Sprintf("-scenario %q: want first, nightly or both", o.scenario))
	}
	if o.batch < 0 {
		problems = append(problems, fmt.Sprintf("-batch %d: want 0 (the default) or more", o.batch))
	}
	if o.sender < 0 {
		problems = append(problems, fmt.Sprintf("-sender %v: want 0 (none) or a positive interval", o.sender))
	}
	if o.runs < 1 || o.runs > 99 {
		problems = append(problems, fmt.Sprintf("-runs %d: want 1 to 99", o.runs))
	}
	if o.workers < 0 || o.workers > 256 {
		problems = append(problems, fmt.Sprintf("-workers %d: want 0 (the default) to 256", o.workers))
	}
	if _, err := fixtureOptions(&o); err != nil {
		problems = append(problems, err.Error())
	}
	switch o.store {
	case storeSQLite, storePostgres:
	default:
		problems = append(problems, fmt.Sprintf("-store %q: want sqlite or postgres", o.store))
	}
	switch o.floorInsert {
	case insertPrepared, insertMulti, insertBoth:
	default:
		problems = append(problems, fmt.Sprintf("-floor-insert %q: want multi, prepared or both", o.floorInsert))
	}
	switch o.child {
	case "":
	case scenarioFirst, scenarioNightly, scenarioPrepare:
		if o.db == "" || o.today == "" || (o.child != scenarioPrepare && (o.floorDB == "" || o.result == "")) {
			problems = append(problems, "-child needs -db, -today, -floor-db and -result")
		}
	default:
		problems = append(problems, fmt.Sprintf("-child %q: unknown scenario", o.child))
	}
	if len(problems) > 0 {
		return nil, c.Fail(stderr, "%s", strings.Join(problems, "; "))
	}
	return &o, 0
}

// fixtureOptions maps the -shape, -unique and -wal flags to the fixture's
// options (without Gen): production is the schema of a production
// organisation database, which has its own indexes and its unique index on
// event_year; full has the fixture's production-like index set and the
// -unique index; old (contacts and email_schedules only) the -unique index
// alone.
func fixtureOptions(o *options) (sqlitefixture.Options, error) {
	var f sqlitefixture.Options
	switch o.unique {
	case "event_year":
		f.Unique = sqlitefixture.UniqueEventYear
	case "send_date":
		f.Unique = sqlitefixture.UniqueSendDate
	case "none":
		f.Unique = sqlitefixture.NoUnique
	default:
		return f, fmt.Errorf("-unique %q: want event_year, send_date or none", o.unique)
	}
	switch o.shape {
	case "production":
		if f.Unique != sqlitefixture.UniqueEventYear {
			return f, fmt.Errorf("-unique %s contradicts -shape production: a production database has the unique index of its schema, on (contact_id, email_type, event_year); use -shape full or old for another", o.unique)
		}
		f.Shape, f.Unique, f.WAL = sqlitefixture.Production, sqlitefixture.NoUnique, o.wal
	case "full":
		f.Shape, f.ProductionIndexes = sqlitefixture.Full, true
	case "old":
		f.Shape = sqlitefixture.Old
	default:
		return f, fmt.Errorf("-shape %q: want production, full or old", o.shape)
	}
	return f, nil
}

// journalName is the journal mode of the generated database.
func journalName(o *options) string {
	if o.shape != "production" || o.wal {
		return "wal"
	}
	return "delete"
}

// cacheName names the cached database of o's size, seed, shape, unique
// index and journal mode.
func cacheName(o *options) string {
	name := fmt.Sprintf("org-%d-s%d-%s", o.contacts, o.seed, o.shape)
	if o.shape != "production" && o.unique != "event_year" {
		name += "-" + o.unique
	}
	if o.shape == "production" && o.wal {
		name += "-wal"
	}
	return name + ".sqlite3"
}

// run is the program: it parses args, prepares the databases and runs the
// scenarios, writing the figures to stdout and diagnostics to stderr. It
// returns the exit code: 0 on success (also for -h and -version), 3
// (cli.ExitUsage) for bad usage, 1 for failures.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code := parseFlags(args, stdout, stderr)
	if o == nil {
		return code
	}
	var err error
	switch {
	case o.store == storePostgres:
		err = runPostgres(ctx, o, stdout, stderr)
	case o.child != "":
		err = runChild(ctx, o, stdout, stderr)
	default:
		err = runParent(ctx, o, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// firstDay is the first run's date: the day the fixture generates its data
// around. The nightly run is the day after.
var firstDay = demodata.DefaultToday

// runParent prepares the databases, runs each scenario in a child process and
// prints the summary.
func runParent(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	loadStart := loadAverage()
	mode := "batches"
	switch {
	case o.atomic:
		mode = "one transaction (in bulk when large)"
	case o.bulk:
		mode = "batches, the first run with bulk writes (sqlite.Options.BulkWrites)"
	}
	fmt.Fprintf(stdout, "emailsched bench: %d contacts, seed %d, shape %s, unique index %s, journal %s, runs written in %s, first run on %s, nightly run on %s\n",
		o.contacts, o.seed, o.shape, o.unique, journalName(o), mode, firstDay, firstDay.AddDays(1))
	fmt.Fprintf(stdout, "machine: %d CPUs, load average %s\n", numCPU(), loadStart)
	cache, err := ensureCache(ctx, o, stdout, stderr)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(o.dir, fmt.Sprintf("run-%d-s%d-", o.contacts, o.seed))
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stdout, "scenario databases kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}

	var first, nightly *result
	var firsts, nightlies []*result
	firstDB := filepath.Join(work, "first.sqlite3")
	if o.scenario != scenarioNightly {
		floorDB := filepath.Join(work, "first-floor.sqlite3")
		for i := range o.runs {
			if err := copyFresh(cache, firstDB, floorDB); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\n== first run (%s): no stored plan%s\n", firstDay, runOf(i, o.runs))
			r, err := runScenario(ctx, o, scenarioFirst, firstDay, firstDB, floorDB, work, stdout, stderr)
			if err != nil {
				return err
			}
			firsts = append(firsts, r)
		}
		first = medianRun(stdout, scenarioFirst, firsts)
		if !o.keep {
			removeDB(floorDB)
		}
	}
	if o.scenario != scenarioFirst {
		if first == nil {
			// The nightly run needs the first run's plan: make it, unmeasured.
			if err := copyFresh(cache, firstDB); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\npreparing the nightly run: first run on %s (not measured)\n", firstDay)
			if _, err := runScenario(ctx, o, scenarioPrepare, firstDay, firstDB, "", work, stdout, stderr); err != nil {
				return err
			}
		}
		day := firstDay.AddDays(1)
		nightlyDB := filepath.Join(work, "nightly.sqlite3")
		floorDB := filepath.Join(work, "nightly-floor.sqlite3")
		sent, err := markSent(ctx, firstDB, firstDay)
		if err != nil {
			return err
		}
		for i := range o.runs {
			if err := copyFresh(firstDB, nightlyDB, floorDB); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\n== nightly run (%s): the day after the first run, on its result%s\n", day, runOf(i, o.runs))
			fmt.Fprintf(stdout, "  before the run, the sending system marked %d rows sent: UPDATE status 'sent' (actual_send_datetime %s 14:30:00) of the pre-scheduled rows dated <= %s; nothing else changed\n",
				sent, firstDay, firstDay)
			r, err := runScenario(ctx, o, scenarioNightly, day, nightlyDB, floorDB, work, stdout, stderr)
			if err != nil {
				return err
			}
			r.MarkedSent = sent
			nightlies = append(nightlies, r)
		}
		nightly = medianRun(stdout, scenarioNightly, nightlies)
		if !o.keep {
			removeDB(floorDB)
		}
	}

	loadEnd := loadAverage()
	fmt.Fprintf(stdout, "\nload average at the start %s, at the end %s\n", loadStart, loadEnd)
	fmt.Fprintln(stdout, "scaling table (README.md):")
	fmt.Fprintln(stdout, tableHeader)
	fmt.Fprintln(stdout, tableRow(o.contacts, first, nightly, loadStart, loadEnd))
	if first != nil {
		fmt.Fprintf(stdout, "first run: ratio end-to-end/floor with indexes maintained = %.2f\n", first.ratio())
		fmt.Fprintf(stdout, "first run: ratio end-to-end/bulk floor = %.2f\n", first.bulkRatio())
	}
	if nightly != nil {
		fmt.Fprintf(stdout, "nightly run: ratio = %.2f, rows rewritten = %.3f %%\n", nightly.ratio(), nightly.rewrittenPercent())
	}
	return nil
}

// runOf names run i of n in a heading ("" for a single run).
func runOf(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" [run %d of %d]", i+1, n)
}

// medianRun prints the ratios of several runs of a scenario (see
// medianOf) and returns the run of median key ratio: end-to-end/bulk floor
// for the first run.
func medianRun(w io.Writer, scenario string, rs []*result) *result {
	return medianOf(w, scenario, " end-to-end/bulk floor", rs, (*result).keyRatio)
}

// medianOf prints the ratios of several runs of a scenario, with their
// minimum, maximum and median, and returns the run of median ratio (the
// lower middle one for an even count; the only one, printing nothing, when
// there is one). first names a first run's ratio.
func medianOf[R any](w io.Writer, scenario, first string, rs []R, ratio func(R) float64) R {
	if len(rs) == 1 {
		return rs[0]
	}
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b R) int { return cmp.Compare(ratio(a), ratio(b)) })
	ratios := make([]string, len(rs))
	for i, r := range rs {
		ratios[i] = fmt.Sprintf("%.2f", ratio(r))
	}
	m := sorted[(len(sorted)-1)/2]
	what := ""
	if scenario == scenarioFirst {
		what = first
	}
	fmt.Fprintf(w, "\n%s run: ratios%s of the %d runs %s (min %.2f, max %.2f); median %.2f\n", scenario, what, len(rs),
		strings.Join(ratios, ", "), ratio(sorted[0]), ratio(sorted[len(sorted)-1]), ratio(m))
	return m
}

// ensureCache returns the cached database of o's size, seed, shape, unique
// index and journal mode (see cacheName), generating it first when it is
// missing. The file appears atomically: it is written under a ".partial"
// name and renamed. It is one self-contained file (the fixture closes it:
// no journal or write-ahead log is left), in the journal mode the fixture
// gives it: DELETE for production (WAL with -wal), WAL for full and old.
func ensureCache(ctx context.Context, o *options, stdout, stderr io.Writer) (string, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(o.dir, cacheName(o))
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		fmt.Fprintf(stdout, "database: %s (cached, %s)\n", path, mib(st.Size()))
		return path, nil
	}
	opts, err := fixtureOptions(o)
	if err != nil {
		return "", err
	}
	opts.Gen = demodata.GenOptions{Seed: o.seed, Contacts: o.contacts, Today: firstDay}
	partial := fmt.Sprintf("%s.%d.partial", path, os.Getpid())
	cleanup := func() {
		removeDB(partial)
	}
	cleanup()
	fmt.Fprintf(stderr, "bench: generating %d contacts into %s ...\n", o.contacts, path)
	start := time.Now()
	err = sqlitefixture.Create(ctx, partial, opts)
	if err == nil {
		err = selfContained(partial)
	}
	if err == nil {
		err = os.Rename(partial, path)
	}
	if err != nil {
		cleanup()
		return "", fmt.Errorf("generating %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "database: %s (generated in %.1f s, %s)\n", path, time.Since(start).Seconds(), mib(st.Size()))
	return path, nil
}

// selfContained checks that the database at path is one file, so that a
// rename or a copy of the file alone is the whole database.
func selfContained(path string) error {
	for _, suffix := range []string{"-wal", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			return fmt.Errorf("%s: the fixture left %s beside the database", path, suffix)
		}
	}
	return nil
}

// markSent plays the sending system between the two runs: the pre-scheduled
// rows dated on or before day were sent. It returns the number of rows.
func markSent(ctx context.Context, path string, day datecalc.Date) (int64, error) {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE email_schedules SET status = 'sent', actual_send_datetime = ?, updated_at = ?
		WHERE status = 'pre-scheduled' AND scheduled_send_date <= ?`,
		day.String()+" 14:30:00", day.String()+" 14:30:00", day.String())
	if err != nil {
		return 0, fmt.Errorf("marking rows sent: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return 0, err
	}
	return n, nil
}

// runScenario runs one scenario in a child process of this program and
// returns its result (nil for the prepare scenario).
func runScenario(ctx context.Context, o *options, scenario string, day datecalc.Date, db, floorDB, work string, stdout, stderr io.Writer) (*result, error) {
	resPath := filepath.Join(work, scenario+".result.json")
	args := []string{"-child", scenario, "-db", db, "-today", day.String(),
		"-contacts", fmt.Sprint(o.contacts), "-batch", fmt.Sprint(o.batch), "-floor-insert", o.floorInsert, "-workers", fmt.Sprint(o.workers),
		fmt.Sprintf("-atomic=%v", o.atomic), fmt.Sprintf("-bulk=%v", o.bulk)}
	if scenario != scenarioPrepare && o.sender > 0 {
		args = append(args, "-sender", o.sender.String())
	}
	if scenario != scenarioPrepare {
		args = append(args, "-floor-db", floorDB, "-result", resPath)
		if o.cpuProfile != "" {
			args = append(args, "-cpuprofile", profilePath(o.cpuProfile, o.scenario, scenario))
		}
		if o.memProfile != "" {
			args = append(args, "-memprofile", profilePath(o.memProfile, o.scenario, scenario))
		}
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s scenario: %w", scenario, err)
	}
	if scenario == scenarioPrepare {
		return nil, nil
	}
	data, err := os.ReadFile(resPath)
	if err != nil {
		return nil, fmt.Errorf("%s scenario: %w", scenario, err)
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s scenario: reading its result: %w", scenario, err)
	}
	return &r, nil
}

// profilePath names the profile of one scenario: the flag's path as is for a
// single scenario, with ".first" or ".nightly" before the extension for both.
func profilePath(base, scenarios, scenario string) string {
	if scenarios != scenarioBoth {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + scenario + ext
}
