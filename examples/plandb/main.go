// Command plandb plans an organisation database (SQLite) in place and
// prints a summary of the run.
//
//	go run ./examples/plandb -db org-001.sqlite3 [-today 2025-03-03] [-backup]
//	go run ./examples/plandb -db demo.sqlite3 -generate 100000   # a demo database first
//
// It migrates the database (creating only what is missing), plans every
// contact with the rules (the embedded default rules unless -rules or the
// configuration names others) and writes only what changed. Without -today
// the run date is today in the configured time zone (America/Chicago by
// default).
//
// -generate writes a database in the schema of a production organisation
// database (testdata/schema/org-db.schema.sql; sqlitefixture.Production),
// in journal mode DELETE as production databases are; -shape full or old
// writes one of the fixture's earlier made-up shapes instead.
//
// Flags:
//
//	-db PATH               the organisation database (required unless the
//	                       configuration names one: "database")
//	-today YYYY-MM-DD      the run date
//	-backup                take an online backup before the run, into backup.dir of
//	                       the configuration (default: "backups" beside the database),
//	                       then delete the backups older than backup.retention_days
//	-config FILE           the configuration file (see scheduler/configfile): the
//	                       scheduler's settings, database, rules, atomic,
//	                       batch_contacts and backup
//	-rules FILE|DIR        the rules (default: "rules" of the configuration, else the
//	                       embedded default rules)
//	-allow-missing-states  accept rules that leave states of the default rules
//	                       without a rule, as schedule does
//	-generate N            first create the database (it must not exist) with N
//	                       generated contacts
//	-seed N                the seed of -generate (default 1)
//	-shape S               the schema of -generate: production (default), full or old
//	-h, -help              print the usage on stdout
//	-version               print the program's name and version
//
// Exit status: 0 success (also for -h and -version), 1 the run failed or
// was interrupted, 3 bad usage or input (flags, configuration, rules, the
// database's path). 2, the status of a Go program that crashes, is never
// used.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func main() { cli.Main(run) }

// The exit statuses.
const (
	exitOK    = 0
	exitRun   = 1             // the run failed or was interrupted
	exitInput = cli.ExitUsage // bad usage or input
)

const synopsis = `usage: plandb -db PATH [-today YYYY-MM-DD] [-backup] [-config FILE] [-rules FILE|DIR]
              [-allow-missing-states] [-generate N [-seed N] [-shape production|full|old]]`

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cli.New("plandb", synopsis,
		"plandb plans every contact of an organisation database in place, writes only what changed\n"+
			"and prints a summary of the run; -generate first creates a demo database.",
		"plandb -db org-001.sqlite3 -today 2025-03-03 -backup",
		"plandb -db demo.sqlite3 -generate 100000")
	fs := c.Flags
	dbPath := fs.String("db", "", "the organisation database, a SQLite file at `PATH` (required unless the configuration names one)")
	todayFlag := fs.String("today", "", "the run date, `YYYY-MM-DD` (default: today in the configured time zone)")
	backup := fs.Bool("backup", false, "take an online backup before the run (into backup.dir of the configuration, default \"backups\" beside the database)")
	generate := fs.Int("generate", 0, "first create the database (it must not exist) with `N` generated contacts")
	seed := fs.Int64("seed", 1, "the seed of -generate (`N`)")
	shapeName := fs.String("shape", "production", "the schema of -generate: `production|full|old`")
	plan := cli.AddPlan(fs)
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.Fail(stderr, "unexpected argument %q", fs.Arg(0))
	}
	opts := sqlitefixture.Options{Gen: demodata.GenOptions{Seed: *seed, Contacts: *generate}}
	switch *shapeName {
	case "production":
	case "full":
		opts.Shape, opts.ProductionIndexes = sqlitefixture.Full, true
	case "old":
		opts.Shape = sqlitefixture.Old
	default:
		return c.Fail(stderr, "-shape %q: want production, full or old", *shapeName)
	}
	if *generate < 0 {
		return c.Fail(stderr, "-generate %d: want a number of contacts", *generate)
	}
	fail := func(code int, format string, a ...any) int { return c.Error(stderr, code, format, a...) }
	cf, sch, today, err := plan.Scheduler(ctx, *todayFlag)
	if err != nil {
		return fail(exitInput, "%v", err)
	}
	if *dbPath != "" {
		cf.Database = *dbPath
	}
	if cf.Database == "" {
		return c.Fail(stderr, "no database: give -db or \"database\" in the configuration")
	}
	if *generate > 0 {
		if _, err := os.Stat(cf.Database); err == nil {
			return fail(exitInput, "-generate: %s exists", cf.Database)
		}
		start := time.Now()
		if err := sqlitefixture.Create(ctx, cf.Database, opts); err != nil {
			return fail(exitRun, "%v", err)
		}
		fmt.Fprintf(stdout, "generated %s: %d contacts in %v\n", cf.Database, *generate, time.Since(start).Round(time.Millisecond))
	}
	if _, err := os.Stat(cf.Database); err != nil {
		return fail(exitInput, "%v", err)
	}
	if err := planDB(ctx, stdout, sch, today, cf.Database, sqlite.Options{
		Atomic: cf.Atomic, BatchContacts: cf.BatchContacts, Backup: backupOptions(*backup, cf.Database, cf.Backup),
	}); err != nil {
		return fail(exitRun, "%v", err)
	}
	return exitOK
}

// backupOptions are the adapter's backup options: none without -backup,
// else the configuration's (by default into "backups" beside the
// database), as the schedule command takes them.
func backupOptions(backup bool, db string, b configfile.Backup) sqlite.BackupOptions {
	if !backup {
		return sqlite.BackupOptions{}
	}
	o := sqlite.BackupOptions{Dir: b.Dir, KeepDays: b.RetentionDays}
	if o.Dir == "" {
		o.Dir = filepath.Join(filepath.Dir(db), "backups")
	}
	return o
}

// planDB plans the database at path for today and prints the summary.
func planDB(ctx context.Context, stdout io.Writer, sch *scheduler.Scheduler, today datecalc.Date, path string, opts sqlite.Options) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	s := sqlite.New(db, opts)
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	rep, err := sch.RunAt(ctx, today, s, s)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(stdout); err != nil {
		return err
	}
	st := s.ReadStats()
	fmt.Fprintf(stdout, "read: %d contacts, %d email rows (%d with an unknown type skipped, %d orphans), %d field issues\n",
		st.Contacts, st.Rows, st.UnknownTypeRows, st.OrphanRows, st.FieldIssues)
	if cps, err := s.Checkpoints(ctx); err == nil && len(cps) > 0 {
		c := cps[len(cps)-1]
		fmt.Fprintf(stdout, "checkpoint %s: %s, inserted %d, updated %d, deleted %d, unchanged %d, conflicting %d\n",
			c.RunID, c.Status, c.Rows.Inserted, c.Rows.Updated, c.Rows.Deleted, c.Rows.Unchanged, c.Rows.Conflicting)
	}
	fmt.Fprintf(stdout, "done in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
