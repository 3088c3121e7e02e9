// Command schedule plans the emails of an organisation database (SQLite) in
// place: it reads every contact, plans its emails with the exclusion rules,
// balances the daily volume and writes only what changed since the stored
// plan. It can also explain one contact's plan and list the last runs.
//
// Install it with
//
//	go install github.com/emailsched/emailsched/examples/schedule@latest
//
// or run it from a checkout with "go run ./examples/schedule".
//
// # Usage
//
//	schedule -db org-001.sqlite3 [-config scheduler.yaml] [-rules FILE|DIR] [-today YYYY-MM-DD]
//	         [-dry-run] [-backup] [-atomic] [-bulk] [-batch N] [-wait DURATION] [-create] [-wal]
//	         [-report FILE.json] [-chart FILE.svg] [-log-format text|json]
//	schedule -db org-001.sqlite3 -what-if [-config ...] [-rules ...] [-today ...] [-what-if-out FILE.csv]
//	schedule -db org-001.sqlite3 -explain CONTACT_ID [-config ...] [-rules ...] [-today ...]
//	schedule -db org-001.sqlite3 -upcoming DAYS [-config ...] [-today ...] [-report FILE.json]
//	schedule -db org-001.sqlite3 -status
//	schedule -version
//
// # Flags
//
//	-db PATH          the organisation database (default: "database" of the configuration); it must
//	                  exist and hold a contacts table, unless -create is given
//	-config FILE      the configuration file, YAML or JSON (see package
//	                  scheduler/configfile and testdata/scheduler.yaml); default: every default
//	-rules FILE|DIR   a rules file, or a directory whose *.rules files (the extension in any
//	                  case) form one set (default: "rules" of the configuration, else the
//	                  embedded default rules). Rules that leave a state of the default rules
//	                  without a rule are refused, with the list of those states: a rules file
//	                  that starts with "extends: default" keeps them
//	-allow-missing-states
//	                  accept rules that leave states of the default rules without a rule
//	-today YYYY-MM-DD the run date (default: today in the configured time zone)
//	-dry-run          plan and report, write nothing to the database (it is opened read-only)
//	-backup           take an online backup before the run changes anything (migrations
//	                  included) into backup.dir of the configuration (default: "backups"
//	                  beside the database), then delete backups older than
//	                  backup.retention_days
//	-atomic           make the run one transaction (default: atomic of the configuration,
//	                  false): an interrupted run leaves the previous plan intact, but the
//	                  sending system waits while the whole change is written
//	-bulk             write a large change (at least half the plan's rows: a first run,
//	                  new rules) in bulk, in one transaction, the indexes built once
//	                  (default: bulk_writes of the configuration, false); an atomic run
//	                  does so anyway. For onboarding outside the sending system's hours
//	-batch N          at most N contacts per write transaction when the run is not atomic
//	                  (default: batch_contacts of the configuration, 1000)
//	-wait D           wait up to D (for example 10m) for another run of the same database
//	                  to finish; by default a second run stops at once
//	-create           create the database when the path does not exist (an empty
//	                  organisation database)
//	-wal              switch the database to WAL journal mode before the run: a persistent
//	                  change that every program using the file sees (the sending system
//	                  then never waits for a run's reading); by default the journal mode is
//	                  left as the database's owner set it
//	-report FILE.json write the run report as indented JSON (the field names of scheduler.Report)
//	-chart FILE.svg   draw the pre-scheduled emails per day of the next 12 months, before and
//	                  after load balancing
//	-what-if          preview what a run with these rules and configuration would change in the
//	                  stored plan (read-only): by state and email type, the emails newly skipped,
//	                  newly allowed, moved (and by how many days on average), otherwise changed,
//	                  added and removed, and the rows a run would write
//	-what-if-out FILE with -what-if, write one CSV line per changed row: contact, state, type,
//	                  change, old date/status/reason, new date/status/reason
//	-explain ID       print the decision trail of one contact (read-only)
//	-status           print the last runs recorded in the database (read-only)
//	-upcoming DAYS    print what the stored plan sends on each of the next DAYS days (read-only):
//	                  the total and each email type, with the daily cap, the overage threshold
//	                  and the effective-date soft limit; it reads only those days' rows. With
//	                  -report, also as JSON. A run's -report includes the next 14 days of the
//	                  new plan ("upcoming")
//	-log-format F     "text" (default) or "json": the format of the log lines on stderr
//	-h, -help         print the usage (with examples) on stdout and exit
//	-version          print the program's name and version (the release tag it was built
//	                  from, else 0.1.0-devel and the commit) on stdout and exit
//
// A flag error prints the error and the usage on stderr (exit status 3).
//
// On success a run prints its summary on stdout: contacts, emails by type and
// status, skip reasons, rows written, and the pre-scheduled emails per month
// before and after load balancing. Logs and progress go to stderr: a progress
// line (contacts done, rate, time left) when stderr is a terminal, plain log
// lines otherwise.
//
// -dry-run, -what-if, -explain, -upcoming and -status open the database read-only: they
// change nothing, not even the journal mode, and work on a database that
// this program never wrote to. A dry run and a what-if count the rows a
// unique index of the database would decline, as a run does.
//
// When the rules or a setting that decides the plan differ from those of
// the stored plan (compared by content), a run re-plans every email instead
// of keeping stored dates; the summary says so ("Re-planned" line), and
// -what-if shows the effect beforehand.
//
// A run writes its changes in short transactions of whole contacts (at most
// -batch contacts, about 200 ms each, with pauses between them), so that the
// sending system keeps working: in WAL mode while it reads, in
// rollback-journal mode once it has planned every contact. The summary says
// how long the run held the write lock at most ("Lock" line). Ctrl-C
// (SIGINT) or SIGTERM stops a run: every contact keeps either its complete
// previous plan or its complete new one, and running again finishes the
// job. With -atomic the run is one transaction: an interruption leaves the
// previous plan entirely intact, and the sending system waits while the
// whole change is written. A second Ctrl-C kills the program at once.
//
// # Exit status
//
//	0  success (also for -what-if, -explain, -status, -h and -version)
//	1  the run failed or was interrupted
//	3  bad usage or input: flags, configuration, rules, the database's path or
//	   schema, a contact to explain that does not exist (nothing was written)
//	4  another run of the database is in progress (see -wait)
//
// 2 is never used: it is what a Go program that crashes exits with.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// The exit statuses. 2 is left out: it is the status of a Go runtime crash,
// which a wrapper must be able to tell from bad input.
const (
	exitOK = 0
	// exitRun: the run failed or was interrupted.
	exitRun = 1
	// exitInput: bad usage or input (flags, configuration, rules, the
	// database's path or schema, the contact to explain); nothing was
	// written.
	exitInput = 3
	// exitBusy: another run of the database is in progress.
	exitBusy = 4
)

func main() { cli.Main(run) }

// testHooks make runs reproducible in tests; the program never sets them.
var testHooks struct {
	// now replaces the clock (report, log and database timestamps).
	now func() time.Time
	// runID replaces the run id generator.
	runID func(time.Time) string
	// zeroTimings clears the phase timings of the report before printing.
	zeroTimings bool
	// source wraps the contact source (to slow a run down).
	source func(store.ContactSource) store.ContactSource
	// progressEvery replaces the progress interval, in contacts.
	progressEvery int
	// bufferRows replaces sqlite.Options.BufferRows (small: the run writes
	// while it reads).
	bufferRows int
}

// options are the parsed flags.
type options struct {
	db, config, rules, today, report, chart, logFormat string
	whatIfOut                                          string
	dryRun, backup, status, create, wal, atomic, bulk  bool
	whatIf, allowMissing                               bool
	batch, upcoming                                    int
	wait                                               time.Duration
	explain                                            int64
	explainSet                                         bool
}

const usageLine = `usage: schedule -db PATH [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD] [-dry-run] [-backup]
                [-atomic] [-bulk] [-batch N] [-wait DURATION] [-create] [-wal] [-report FILE.json]
                [-chart FILE.svg] [-log-format text|json]
       schedule -db PATH -what-if [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD] [-what-if-out FILE.csv]
       schedule -db PATH -explain CONTACT_ID [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD]
       schedule -db PATH -upcoming DAYS [-config FILE] [-today YYYY-MM-DD] [-report FILE.json]
       schedule -db PATH -status`

// usageExamples are the command lines the usage ends with.
var usageExamples = []string{
	"schedule -db org-001.sqlite3 -config scheduler.yaml",
	"schedule -db org-001.sqlite3 -what-if -rules new.rules",
	"schedule -db org-001.sqlite3 -explain 17 -today 2025-03-03",
}

// parseFlags parses args; it returns the exit status to end with when the
// command must not go on (also after -h and -version, which print on
// stdout).
func parseFlags(args []string, stdout, stderr io.Writer) (*options, int, bool) {
	var o options
	c := cli.New("schedule", usageLine, "", usageExamples...)
	c.SetNotes(glossary)
	fs := c.Flags
	fs.StringVar(&o.db, "db", "", "the organisation database, a SQLite file at `PATH` (default: \"database\" of the configuration)")
	fs.StringVar(&o.config, "config", "", cli.ConfigUsage)
	fs.StringVar(&o.rules, "rules", "", cli.RulesUsage)
	fs.BoolVar(&o.allowMissing, "allow-missing-states", false, cli.AllowMissingStatesUsage)
	fs.StringVar(&o.today, "today", "", "the run date, `YYYY-MM-DD` (default: today in the configured time zone)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "plan and report, write nothing")
	fs.BoolVar(&o.backup, "backup", false, "take an online backup before the run (into backup.dir of the configuration, default \"backups\" beside the database)")
	fs.BoolVar(&o.bulk, "bulk", false, "write a large change (at least half the plan's rows: a first run, new rules) in bulk, in one transaction, with the indexes built once: several times faster, the sending system waits while it is written (default: bulk_writes of the configuration)")
	fs.BoolVar(&o.atomic, "atomic", false, "make the run one transaction: an interrupted run leaves the previous plan intact, the sending system waits while all of it is written (default: atomic of the configuration)")
	fs.IntVar(&o.batch, "batch", 0, "at most `N` contacts per write transaction when the run is not atomic (default: batch_contacts of the configuration, 1000)")
	fs.DurationVar(&o.wait, "wait", 0, "wait up to `DURATION` for another run of the same database to finish (default: stop at once)")
	fs.BoolVar(&o.create, "create", false, "create the database when the path does not exist")
	fs.BoolVar(&o.wal, "wal", false, "switch the database to WAL journal mode before the run (a persistent change; default: leave the mode as it is)")
	fs.StringVar(&o.report, "report", "", "write the run report as JSON to `FILE.json`")
	fs.StringVar(&o.chart, "chart", "", "write an SVG chart of the pre-scheduled emails per day, before and after load balancing, to `FILE.svg`")
	fs.BoolVar(&o.whatIf, "what-if", false, "preview what a run with these rules and configuration would change in the stored plan, by state and email type, and exit (nothing is written)")
	fs.StringVar(&o.whatIfOut, "what-if-out", "", "with -what-if, write one CSV line per changed row to `FILE.csv`")
	explain := fs.String("explain", "", "print the decision trail of the contact `CONTACT_ID` and exit (nothing is written)")
	fs.BoolVar(&o.status, "status", false, "print the last runs recorded in the database and exit")
	fs.IntVar(&o.upcoming, "upcoming", 0, "print the stored plan's emails of the next `DAYS` days (per day the total and each type, with the daily cap, threshold and effective-date soft limit) and exit (nothing is written)")
	fs.StringVar(&o.logFormat, "log-format", "text", "write the log lines on stderr as `text|json`")
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return nil, code, false
	}
	bad := func(format string, a ...any) (*options, int, bool) {
		return nil, c.Fail(stderr, format, a...), false
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if *explain != "" {
		id, err := strconv.ParseInt(*explain, 10, 64)
		if err != nil {
			return bad("-explain: %q is not a contact id", *explain)
		}
		o.explain, o.explainSet = id, true
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return bad("-log-format must be text or json, not %q", o.logFormat)
	}
	if o.batch < 0 {
		return bad("-batch must be 1 or more, not %d", o.batch)
	}
	if o.wait < 0 {
		return bad("-wait must not be negative, not %v", o.wait)
	}
	if o.upcoming < 0 || o.upcoming > scheduler.MaxUpcomingDays {
		return bad("-upcoming must be 1 to %d days, not %d", scheduler.MaxUpcomingDays, o.upcoming)
	}
	if o.whatIfOut != "" && !o.whatIf {
		return bad("-what-if-out needs -what-if")
	}
	modes := []struct {
		name string
		set  bool
	}{{"-status", o.status}, {"-explain", o.explainSet}, {"-what-if", o.whatIf}, {"-dry-run", o.dryRun}, {"-upcoming", o.upcoming > 0}}
	mode := ""
	for _, m := range modes {
		if !m.set {
			continue
		}
		if mode != "" {
			return bad("%s and %s cannot be combined", mode, m.name)
		}
		mode = m.name
	}
	if mode != "" {
		// The read-only modes.
		for _, f := range []struct {
			name string
			set  bool
		}{{"-backup", o.backup}, {"-batch", o.batch != 0}, {"-atomic", o.atomic}, {"-bulk", o.bulk},
			{"-report", o.report != "" && mode != "-dry-run" && mode != "-upcoming"}, {"-chart", o.chart != "" && mode != "-dry-run"},
			{"-create", o.create}, {"-wal", o.wal}, {"-wait", o.wait != 0}} {
			if f.set {
				return bad("%s cannot be combined with %s", f.name, mode)
			}
		}
	}
	return &o, 0, true
}

// glossary explains the words the command's output keeps because they are
// what the database stores (the README has the same list).
const glossary = `Words the output uses:
  pre-scheduled   planned to go out on its date; the sending system takes it from there
  skipped         will not go out; the skip reason says why
  Email types     birthday (14 days before the birthday), effective_date (30 days before
                  the policy's anniversary), aep (Annual Enrollment Period, Sep 15-30),
                  post_window (first free day after an exclusion period that blocked an
                  email), campaign_NAME, and follow-ups of an email sent in the last 35
                  days: followup_1_cold (no engagement), followup_2_clicked_no_hq (clicked
                  a link), followup_3_hq_no_yes (answered the health questions, no
                  condition), followup_4_hq_with_yes (answered them, with a condition)
  Skip reasons    exclusion_window:CA:birthday (inside CA's exclusion period around the
                  birthday), year_round:NY (NY allows no marketing email all year),
                  missing_anchor:CA:birthday (CA's rule needs the birthday, which is
                  missing or unreadable), rule_error:FL (FL's rule failed for the contact),
                  campaign_conflict (another campaign email wins the day),
                  frequency_limit (more emails in the period than the limit allows)
  priority        lower numbers are more important: birthday and effective date 10,
                  AEP 20, post-window 30; they win under the frequency limit, for a
                  campaign's day and on a day over the cap
  daily cap       load balancing keeps each day near it (7 % of the valid contacts);
                  a day above the threshold (cap x 1.2) gives its excess to later days`

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "schedule: %s\n", cli.Plain(fmt.Sprintf(format, a...)))
		return code
	}
	logger := newLogger(stderr, o.logFormat)

	cf := configfile.Defaults()
	if o.config != "" {
		var err error
		if cf, err = configfile.Load(ctx, o.config); err != nil {
			return fail(exitInput, "configuration file %s", cli.Plain(err.Error()))
		}
	}
	if o.db != "" {
		cf.Database = o.db
	}
	if o.rules != "" {
		cf.Rules = o.rules
	}
	if o.batch > 0 {
		cf.BatchContacts = o.batch
	}
	if o.atomic {
		cf.Atomic = true
	}
	if o.bulk {
		cf.BulkWrites = true
	}
	if cf.Database == "" {
		return fail(exitInput, "no database: give -db or \"database\" in the configuration\n%s", usageLine)
	}
	cfg := cf.Scheduler
	if !o.status && o.upcoming == 0 {
		set, err := cf.LoadRules(ctx)
		if err != nil {
			return fail(exitInput, "rules: %v", err)
		}
		if err := dsl.CheckCoverage(set, o.allowMissing); err != nil {
			return fail(exitInput, "rules: %v", err)
		}
		cfg.Rules = set
	}
	cfg.Logger = logger
	cfg.Clock = testHooks.now
	cfg.NewRunID = testHooks.runID
	prog := newProgress(stderr, logger)
	cfg.Progress = prog.update
	cfg.ProgressEvery = scheduler.Int(cmp.Or(testHooks.progressEvery, 10_000))
	sch, err := scheduler.New(cfg)
	if err != nil {
		return fail(exitInput, "configuration: %v", err)
	}
	today, err := cli.RunDate(sch, o.today)
	if err != nil {
		return fail(exitInput, "%v", err)
	}

	readOnly := o.status || o.explainSet || o.dryRun || o.whatIf || o.upcoming > 0
	db, err := openDB(ctx, cf.Database, readOnly, o.create, logger)
	if err != nil {
		return fail(exitInput, "%v", err)
	}
	defer db.Close()
	if o.wal {
		if err := sqlite.UseWAL(ctx, db); err != nil {
			return fail(exitRun, "%v", err)
		}
		logger.Info("the database is in WAL journal mode (a persistent setting of the file)", "path", cf.Database)
	}
	opts := sqlite.Options{
		Atomic: cf.Atomic, BulkWrites: cf.BulkWrites, BatchContacts: cf.BatchContacts,
		LockWait: o.wait, Logger: logger, Now: testHooks.now, BufferRows: testHooks.bufferRows,
	}
	if o.backup {
		// Begin takes it, before anything changes, migrations included.
		opts.Backup = sqlite.BackupOptions{Dir: cf.Backup.Dir, KeepDays: cf.Backup.RetentionDays}
		if opts.Backup.Dir == "" {
			opts.Backup.Dir = filepath.Join(filepath.Dir(cf.Database), "backups")
		}
	}
	st := sqlite.New(db, opts)
	var src store.ContactSource = st
	if testHooks.source != nil {
		src = testHooks.source(st)
	}

	switch {
	case o.status:
		if err := writeStatus(ctx, stdout, st); err != nil {
			return fail(exitRun, "status: %v", err)
		}
		return exitOK
	case o.upcoming > 0:
		up, err := sch.UpcomingAt(ctx, today, st, o.upcoming)
		if err != nil {
			return fail(exitRun, "upcoming: %v", err)
		}
		if err := up.WriteText(stdout); err != nil {
			return fail(exitRun, "%v", err)
		}
		if o.report != "" {
			if err := writeJSON(o.report, up); err != nil {
				return fail(exitRun, "report: %v", err)
			}
		}
		return exitOK
	case o.explainSet:
		// The contact is read on its own (store.ContactLookup): no
		// progress to show.
		ex, err := sch.ExplainAt(ctx, today, src, o.explain)
		if errors.Is(err, scheduler.ErrContactNotFound) {
			return fail(exitInput, "no contact %d in %s", o.explain, cf.Database)
		}
		if err != nil {
			return fail(exitRun, "explain %d: %v", o.explain, err)
		}
		if err := ex.WriteText(stdout); err != nil {
			return fail(exitRun, "%v", err)
		}
		return exitOK
	}

	if o.whatIf {
		return whatIf(ctx, sch, today, src, o.whatIfOut, stdout, stderr, prog, st)
	}

	var sink store.ScheduleSink = st
	if o.dryRun {
		sink = st.DryRun() // counts what a run would write, rows the database would decline included
	}
	prog.begin(countContacts(ctx, st))
	rep, err := sch.RunAt(ctx, today, src, sink)
	prog.finish()
	if err != nil {
		if ctx.Err() != nil {
			if cf.Atomic {
				return fail(exitRun, "interrupted: %v\nschedule: nothing was committed: the previous plan is intact", err)
			}
			return fail(exitRun, "interrupted: %v\nschedule: contacts not yet committed keep their previous plan; run again to finish", err)
		}
		return fail(runFailure(err), "run failed: %v", err)
	}
	if testHooks.zeroTimings {
		rep.Timings = scheduler.Timings{}
	}
	if err := writeSummary(stdout, rep, o.dryRun); err != nil {
		return fail(exitRun, "%v", err)
	}
	if o.report != "" {
		// The report, with what the new plan sends in the next days
		// (none for a dry run, which wrote no plan).
		out := struct {
			*scheduler.Report
			Upcoming *scheduler.Upcoming `json:"upcoming,omitempty"`
		}{Report: rep}
		if !o.dryRun {
			if out.Upcoming, err = sch.UpcomingAt(ctx, today, st, reportUpcomingDays); err != nil {
				return fail(exitRun, "report: %v", err)
			}
		}
		if err := writeJSON(o.report, out); err != nil {
			return fail(exitRun, "report: %v", err)
		}
	}
	if o.chart != "" {
		if err := writeFile(o.chart, func(w io.Writer) error {
			return writeChart(w, rep, filepath.Base(cf.Database))
		}); err != nil {
			return fail(exitRun, "chart: %v", err)
		}
	}
	return exitOK
}

// reportUpcomingDays is how many days of the new plan a run's -report
// includes ("upcoming").
const reportUpcomingDays = 14

// writeJSON writes v to path as indented JSON.
func writeJSON(path string, v any) error {
	return writeFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// runFailure is the exit status of a run that failed with err.
func runFailure(err error) int {
	switch {
	case errors.Is(err, sqlite.ErrRunInProgress):
		return exitBusy
	case errors.Is(err, sqlite.ErrForeignSchema):
		return exitInput
	}
	return exitRun
}

// openDB opens the database: read-only for the modes that only read, else
// for writing, creating it first when create is set and the path does not
// exist.
func openDB(ctx context.Context, path string, readOnly, create bool, logger *slog.Logger) (*sql.DB, error) {
	if readOnly {
		return sqlite.OpenReadOnly(ctx, path)
	}
	db, err := sqlite.Open(ctx, path)
	if create && errors.Is(err, sqlite.ErrNoDatabase) {
		if db, err = sqlite.Create(ctx, path); err == nil {
			logger.Info("created a new database", "path", path)
		}
	}
	if errors.Is(err, sqlite.ErrNoDatabase) {
		return nil, fmt.Errorf("%w\n(give -create to create a new database there)", err)
	}
	return db, err
}

// countContacts returns the number of contacts of the database, for the
// progress display; 0 when it cannot tell.
func countContacts(ctx context.Context, st *sqlite.Store) int {
	var n int
	if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts").Scan(&n); err != nil {
		return 0
	}
	return n
}

// newLogger returns the logger of the run: text or JSON lines on stderr.
// Tests (testHooks.now set) get no time attribute.
func newLogger(w io.Writer, format string) *slog.Logger {
	opts := &slog.HandlerOptions{}
	if testHooks.now != nil {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// writeFile writes a file through write, replacing it only once complete.
func writeFile(path string, write func(io.Writer) error) error {
	w, done, err := createFile(path)
	if err != nil {
		return err
	}
	return done(write(w))
}

// createFile returns a writer to a temporary file beside path, and done,
// which makes it path when given a nil error (else removes it) and returns
// the first error.
func createFile(path string) (io.Writer, func(error) error, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, err
	}
	done := func(err error) error {
		if err == nil {
			err = tmp.Chmod(0o644)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
		return err
	}
	return tmp, done, nil
}
