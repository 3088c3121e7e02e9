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
//	         [-dry-run] [-backup] [-atomic] [-batch N] [-wait DURATION] [-create] [-wal]
//	         [-report FILE.json] [-chart FILE.svg] [-log-format text|json]
//	schedule -db org-001.sqlite3 -explain CONTACT_ID [-config ...] [-rules ...] [-today ...]
//	schedule -db org-001.sqlite3 -status
//
// # Flags
//
//	-db PATH          the organisation database (default: "database" of the configuration); it must
//	                  exist and hold a contacts table, unless -create is given
//	-config FILE      the configuration file, YAML or JSON (see package
//	                  scheduler/configfile and testdata/scheduler.yaml); default: every default
//	-rules FILE|DIR   a rules file, or a directory whose *.rules files form one set
//	                  (default: "rules" of the configuration, else the embedded default rules)
//	-today YYYY-MM-DD the run date (default: today in the configured time zone)
//	-dry-run          plan and report, write nothing to the database (it is opened read-only)
//	-backup           take an online backup before the run changes anything (migrations
//	                  included) into backup.dir of the configuration (default: "backups"
//	                  beside the database), then delete backups older than
//	                  backup.retention_days
//	-atomic           make the run one transaction (default: atomic of the configuration,
//	                  false): an interrupted run leaves the previous plan intact, but the
//	                  sending system waits while the whole change is written
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
//	-explain ID       print the decision trail of one contact (read-only)
//	-status           print the last runs recorded in the database (read-only)
//	-log-format F     "text" (default) or "json": the format of the log lines on stderr
//
// On success a run prints its summary on stdout: contacts, emails by type and
// status, skip reasons, rows written, and the pre-scheduled emails per month
// before and after load balancing. Logs and progress go to stderr: a progress
// line (contacts done, rate, time left) when stderr is a terminal, plain log
// lines otherwise.
//
// -dry-run, -explain and -status open the database read-only: they change
// nothing, not even the journal mode, and work on a database that this
// program never wrote to.
//
// A run reads and plans without holding the database's write lock, then
// writes its changes in one short transaction: the sending system keeps
// working meanwhile. A run that changes many rows (a first run) holds the
// lock longer; the summary says how long ("Lock" line).
//
// Ctrl-C (SIGINT) or SIGTERM stops a run. Until it has planned every contact
// a run has written nothing, so an interruption leaves the previous plan
// intact. Its changes are then committed in short transactions of whole
// contacts (at most -batch contacts, about 200 ms each), so that the sending
// system waits little: an interruption during the writes leaves every contact
// with either its complete previous plan or its complete new one, and running
// again finishes the job. With -atomic the run is one transaction: an
// interruption leaves the previous plan entirely intact, and the sending
// system waits while the whole change is written. A second Ctrl-C kills the
// program at once.
//
// # Exit status
//
//	0  success (also for -explain and -status)
//	1  the run failed or was interrupted, or the contact to explain does not exist
//	2  bad usage, configuration or rules (nothing was read or written)
package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// The exit statuses.
const (
	exitOK    = 0
	exitRun   = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the program
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

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
	dryRun, backup, status, create, wal, atomic        bool
	batch                                              int
	wait                                               time.Duration
	explain                                            int64
	explainSet                                         bool
}

const usageLine = `usage: schedule -db PATH [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD] [-dry-run] [-backup]
                [-atomic] [-batch N] [-wait DURATION] [-create] [-wal] [-report FILE.json]
                [-chart FILE.svg] [-log-format text|json]
       schedule -db PATH -explain CONTACT_ID [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD]
       schedule -db PATH -status`

// parseFlags parses args; it returns the exit status to end with when the
// command must not go on.
func parseFlags(args []string, stderr io.Writer) (*options, int, bool) {
	var o options
	fs := flag.NewFlagSet("schedule", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageLine)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.db, "db", "", "the organisation database `path` (SQLite; default: \"database\" of the configuration)")
	fs.StringVar(&o.config, "config", "", "the configuration `file` (YAML or JSON)")
	fs.StringVar(&o.rules, "rules", "", "a rules file, or a directory of *.rules files (`path`; default: \"rules\" of the configuration, else the embedded default rules)")
	fs.StringVar(&o.today, "today", "", "the run date `YYYY-MM-DD` (default: today in the configured time zone)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "plan and report, write nothing")
	fs.BoolVar(&o.backup, "backup", false, "take an online backup before the run (into backup.dir of the configuration, default \"backups\" beside the database)")
	fs.BoolVar(&o.atomic, "atomic", false, "make the run one transaction: an interrupted run leaves the previous plan intact, the sending system waits while all of it is written (default: atomic of the configuration)")
	fs.IntVar(&o.batch, "batch", 0, "at most `N` contacts per write transaction when the run is not atomic (default: batch_contacts of the configuration, 1000)")
	fs.DurationVar(&o.wait, "wait", 0, "wait up to `duration` for another run of the same database to finish (default: stop at once)")
	fs.BoolVar(&o.create, "create", false, "create the database when the path does not exist")
	fs.BoolVar(&o.wal, "wal", false, "switch the database to WAL journal mode before the run (a persistent change; default: leave the mode as it is)")
	fs.StringVar(&o.report, "report", "", "write the run report as JSON to `file`")
	fs.StringVar(&o.chart, "chart", "", "write an SVG chart of the pre-scheduled emails per day, before and after load balancing, to `file`")
	explain := fs.String("explain", "", "print the decision trail of the contact with this `id` and exit (nothing is written)")
	fs.BoolVar(&o.status, "status", false, "print the last runs recorded in the database and exit")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format` on stderr: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		return nil, exitUsage, false
	}
	bad := func(format string, a ...any) (*options, int, bool) {
		fmt.Fprintf(stderr, "schedule: "+format+"\n", a...)
		fmt.Fprintln(stderr, usageLine)
		return nil, exitUsage, false
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
	if o.status && o.explainSet {
		return bad("-status and -explain cannot be combined")
	}
	if o.status || o.explainSet || o.dryRun {
		// The read-only modes.
		mode := "-status"
		switch {
		case o.explainSet:
			mode = "-explain"
		case o.dryRun:
			mode = "-dry-run"
		}
		for _, f := range []struct {
			name string
			set  bool
		}{{"-dry-run", o.dryRun && mode != "-dry-run"}, {"-backup", o.backup}, {"-batch", o.batch != 0}, {"-atomic", o.atomic},
			{"-report", o.report != "" && mode != "-dry-run"}, {"-chart", o.chart != "" && mode != "-dry-run"},
			{"-create", o.create}, {"-wal", o.wal}, {"-wait", o.wait != 0}} {
			if f.set {
				return bad("%s cannot be combined with %s", f.name, mode)
			}
		}
	}
	return &o, 0, true
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "schedule: "+format+"\n", a...)
		return code
	}
	logger := newLogger(stderr, o.logFormat)

	cf := configfile.Defaults()
	if o.config != "" {
		var err error
		if cf, err = configfile.Load(o.config); err != nil {
			return fail(exitUsage, "%v", err)
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
	if cf.Database == "" {
		return fail(exitUsage, "no database: give -db or \"database\" in the configuration\n%s", usageLine)
	}
	cfg := cf.Scheduler
	if !o.status {
		set, err := cf.LoadRules()
		if err != nil {
			return fail(exitUsage, "rules: %v", err)
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
		return fail(exitUsage, "configuration: %v", err)
	}
	today := sch.Today()
	if o.today != "" {
		if today, err = datecalc.Parse(o.today); err != nil {
			return fail(exitUsage, "-today: %v", err)
		}
	}

	readOnly := o.status || o.explainSet || o.dryRun
	db, err := openDB(ctx, cf.Database, readOnly, o.create, logger)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	defer db.Close()
	if o.wal {
		if err := sqlite.UseWAL(ctx, db); err != nil {
			return fail(exitRun, "%v", err)
		}
		logger.Info("the database is in WAL journal mode (a persistent setting of the file)", "path", cf.Database)
	}
	opts := sqlite.Options{
		Atomic: cf.Atomic, BatchContacts: cf.BatchContacts,
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
	case o.explainSet:
		// The contact is read on its own (store.ContactLookup): no
		// progress to show.
		ex, err := sch.ExplainAt(ctx, today, src, o.explain)
		if err != nil {
			return fail(exitRun, "explain %d: %v", o.explain, err)
		}
		if err := ex.WriteText(stdout); err != nil {
			return fail(exitRun, "%v", err)
		}
		return exitOK
	}

	var sink store.ScheduleSink = st
	if o.dryRun {
		sink = store.Discard{}
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
		return fail(exitRun, "run failed: %v", err)
	}
	if testHooks.zeroTimings {
		rep.Timings = scheduler.Timings{}
	}
	if err := writeSummary(stdout, rep, o.dryRun); err != nil {
		return fail(exitRun, "%v", err)
	}
	if o.report != "" {
		if err := writeFile(o.report, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}); err != nil {
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
func writeFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
