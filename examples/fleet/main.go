// Command fleet plans many organisations on a job queue (River): one job
// per organisation and day, worked by one or several worker processes on
// one or several machines, retried when a run fails for a transient
// reason, and summarised in a table of the queue's database.
//
// Install it with
//
//	go install github.com/emailsched/emailsched/examples/fleet@latest
//
// # Usage
//
//	fleet -orgs DIR|URL [-queue FILE|URL] [-fleet FILE] [-config FILE] [-rules FILE|DIR] [-today YYYY-MM-DD]
//	      [-enqueue | -work] [-workers N] [-log-format text|json]
//	fleet -orgs DIR|URL -status [-queue FILE|URL] [-day YYYY-MM-DD] [-org NAME]
//
// Every NAME.sqlite3 file of -orgs is an organisation database, planned
// with store/sqlite exactly as the schedule command plans it (-config,
// -rules, -allow-missing-states and -today mean the same); with -orgs
// postgres://..., every schema of that database that holds a contacts
// table is an organisation, planned with store/postgres. -enqueue adds a
// job per organisation for the run date, -work works the queue until no
// job of the run date is left, and by default fleet does both. The queue
// is a SQLite file (default fleet-queue.sqlite3 in -orgs) or, with -queue
// postgres://..., a PostgreSQL database that workers on several machines
// share. -status prints the fleet summary of a day.
//
// The fleet file (-fleet, YAML) sets the workers per process, the attempts
// and backoff of a job, its timeout and rescue, which organisations to
// plan, and each organisation's configuration and rules: README.md lists
// its keys.
//
// # Exit status
//
//	0  success: every organisation of the day planned (or already planned)
//	1  a run failed for good, the queue failed, or the command was interrupted
//	3  bad usage or input: flags, the fleet file, the configuration, the rules
//
// 2 is never used: it is what a Go program that crashes exits with.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/postgres"
	"github.com/emailsched/emailsched/store/sqlite"
)

// The exit statuses (see the package documentation).
const (
	exitOK    = 0
	exitRun   = 1
	exitInput = cli.ExitUsage
)

func main() { cli.Main(run) }

// testHooks make runs observable in tests; the program never sets them.
var testHooks struct {
	// now replaces the clock.
	now func() time.Time
	// source wraps each organisation's contact source (to slow a run).
	source func(store.ContactSource) store.ContactSource
	// retry replaces the organisation stores' retry policy.
	retry sqlite.RetryPolicy
	// fetchPoll replaces River's fetch poll interval.
	fetchPoll time.Duration
	// drainPoll replaces how often a worker checks whether the day is done.
	drainPoll time.Duration
}

// defaultQueueFile is the queue's file in -orgs when -queue is not given.
const defaultQueueFile = "fleet-queue.sqlite3"

// options are the parsed flags.
type options struct {
	orgs, queue, fleetFile, today, day, org, logFormat string
	enqueue, work, status                              bool
	workers                                            int
	plan                                               *cli.Plan
}

const usageLine = `usage: fleet -orgs DIR|URL [-queue FILE|URL] [-fleet FILE] [-config FILE] [-rules FILE|DIR]
             [-today YYYY-MM-DD] [-enqueue | -work] [-workers N] [-log-format text|json]
       fleet -orgs DIR|URL -status [-queue FILE|URL] [-day YYYY-MM-DD] [-org NAME]`

var usageExamples = []string{
	"fleet -orgs /data/orgs -fleet fleet.yaml",
	"fleet -orgs /data/orgs -enqueue -queue postgres://fleet@db/fleet",
	"fleet -orgs /data/orgs -work -queue postgres://fleet@db/fleet -workers 4",
	"fleet -orgs /data/orgs -status -day 2025-03-03",
	"fleet -orgs postgres://fleet@db/orgs -fleet fleet.yaml",
}

const description = `fleet plans every organisation database (NAME.sqlite3) of a directory, or
every organisation schema of a PostgreSQL database, through a job queue:
one job per organisation and day, worked by one or several worker
processes. By default it enqueues the day's jobs and works them until none
is left; -enqueue and -work do one of the two.`

// parseFlags parses args; it returns the exit status to end with when the
// command must not go on.
func parseFlags(args []string, stdout, stderr io.Writer) (*options, int, bool) {
	o := &options{}
	c := cli.New("fleet", usageLine, description, usageExamples...)
	fs := c.Flags
	fs.StringVar(&o.orgs, "orgs", "", "the organisations, `DIR|URL`: a directory of NAME.sqlite3 files, or a postgres:// URL whose schemas with a contacts table are the organisations")
	fs.StringVar(&o.queue, "queue", "", "the job queue, `FILE|URL`: a SQLite file, or a postgres:// URL (default: "+defaultQueueFile+" in the -orgs directory, or the -orgs PostgreSQL database)")
	fs.StringVar(&o.fleetFile, "fleet", "", "read the fleet file `FILE` (YAML): workers per process, attempts, backoff, timeouts, which organisations, their configuration and rules")
	o.plan = cli.AddPlan(fs)
	fs.StringVar(&o.today, "today", "", "the run date, `YYYY-MM-DD` (default: today in the configured time zone)")
	fs.BoolVar(&o.enqueue, "enqueue", false, "only enqueue a job per organisation for the day")
	fs.BoolVar(&o.work, "work", false, "only work the queue, until no job of the day is left")
	fs.IntVar(&o.workers, "workers", 0, "plan up to `N` organisations at a time in this process (default: workers of the fleet file, 2)")
	fs.BoolVar(&o.status, "status", false, "print the fleet summary of a day and exit")
	fs.StringVar(&o.day, "day", "", "with -status, the day to print, `YYYY-MM-DD` (default: the day -today gives)")
	fs.StringVar(&o.org, "org", "", "with -status, print the run summary of the organisation `NAME`")
	fs.StringVar(&o.logFormat, "log-format", "text", "write the log lines on stderr as `text|json`")
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return nil, code, false
	}
	bad := func(format string, a ...any) (*options, int, bool) {
		return nil, c.Fail(stderr, format, a...), false
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case o.logFormat != "text" && o.logFormat != "json":
		return bad("-log-format must be text or json, not %q", o.logFormat)
	case o.workers < 0 || o.workers > 1000:
		return bad("-workers must be 1 to 1000, not %d", o.workers)
	case o.status && (o.enqueue || o.work):
		return bad("-status cannot be combined with -enqueue or -work")
	case o.enqueue && o.work:
		return bad("-enqueue and -work cannot be combined (without either, fleet does both)")
	case !o.status && (o.day != "" || o.org != ""):
		return bad("-day and -org go with -status")
	case o.orgs == "" && !(o.status && isPostgres(o.queue)):
		return bad("-orgs is missing")
	}
	if !o.status && !o.enqueue && !o.work {
		o.enqueue, o.work = true, true
	}
	switch {
	case o.queue != "":
	case isPostgres(o.orgs):
		o.queue = o.orgs
	default:
		o.queue = filepath.Join(o.orgs, defaultQueueFile)
	}
	return o, 0, true
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fleet: %s\n", cli.Plain(fmt.Sprintf(format, a...)))
		return code
	}
	logger := newLogger(stderr, o.logFormat)
	fleet, err := loadFleet(ctx, o.fleetFile)
	if err != nil {
		return fail(exitInput, "%v", err)
	}
	if o.workers > 0 {
		fleet.Workers = o.workers
	}
	if o.orgs != "" && !isPostgres(o.orgs) {
		if st, err := os.Stat(o.orgs); err != nil || !st.IsDir() {
			return fail(exitInput, "-orgs %s is not a directory", o.orgs)
		}
	}
	// The run date, in the time zone of the fleet's configuration; the
	// settings every organisation starts from are checked before anything
	// is enqueued or worked, so that a mistake in them stops here.
	p := &planner{fleet: fleet, plan: *o.plan, logger: logger, wrapSource: testHooks.source}
	day, err := runDate(ctx, p, o)
	if err != nil {
		return fail(exitInput, "%v", err)
	}
	e := &env{o: o, fleet: fleet, p: p, day: day, logger: logger, stdout: stdout, now: time.Now}
	if testHooks.now != nil {
		e.now = testHooks.now
	}
	switch {
	case isPostgres(o.orgs):
		pool, err := postgres.NewPool(ctx, o.orgs)
		if err != nil {
			return fail(exitInput, "-orgs %s: %v", redact(o.orgs), err)
		}
		defer pool.Close()
		orgs := &pgOrgs{pool: pool}
		e.orgs, p.orgs = orgs, orgs
	case o.orgs != "":
		orgs := &sqliteOrgs{dir: o.orgs, retry: testHooks.retry}
		if !isPostgres(o.queue) && sameDir(filepath.Dir(o.queue), o.orgs) {
			orgs.skip = filepath.Base(o.queue)
		}
		e.orgs, p.orgs = orgs, orgs
	}
	if isPostgres(o.queue) {
		code, err = withPgQueue(ctx, o.queue, func(q *queue[pgx.Tx]) int { return runFleet(ctx, q, e) })
	} else {
		code, err = withSQLiteQueue(ctx, o.queue, func(q *queue[*sql.Tx]) int { return runFleet(ctx, q, e) })
	}
	if err != nil {
		return fail(exitRun, "%v", err)
	}
	return code
}

// runDate returns the day to work on: -day with -status, else -today,
// else today in the time zone of the configuration every organisation
// starts from. Outside -status it also checks that configuration and its
// rules.
func runDate(ctx context.Context, p *planner, o *options) (datecalc.Date, error) {
	plan := p.plan
	if plan.Config == "" {
		plan.Config = p.fleet.Config
	}
	if plan.Rules == "" {
		plan.Rules = p.fleet.Rules
	}
	if o.status {
		if o.day != "" {
			day, err := datecalc.Parse(o.day)
			if err != nil {
				return datecalc.Date{}, fmt.Errorf("-day: %w", err)
			}
			return day, nil
		}
		cf := configfile.Defaults()
		if plan.Config != "" {
			var err error
			if cf, err = configfile.Load(ctx, plan.Config); err != nil {
				return datecalc.Date{}, fmt.Errorf("configuration file %w", err)
			}
		}
		sch, err := scheduler.New(cf.Scheduler)
		if err != nil {
			return datecalc.Date{}, fmt.Errorf("configuration: %w", err)
		}
		return cli.RunDate(sch, o.today)
	}
	_, _, day, err := plan.Scheduler(ctx, o.today)
	return day, err
}

// sameDir reports whether a and b are the same directory.
func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// newLogger returns the logger of the command: text or JSON lines on
// stderr.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
