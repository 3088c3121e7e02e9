// Command quickstart plans a demo organisation database and prints what the
// scheduler decided. It is the README's first command:
//
//	go run ./examples/quickstart
//
// On its first run it generates demo/org-demo.sqlite3 (in the current
// directory): 10,000 contacts with a fixed seed, in the schema of a
// production organisation database (testdata/schema/org-db.schema.sql),
// with history, engagement and a few campaigns. Later runs reuse it. That
// schema has no column for opt-outs or campaign target lists, so none are
// stored, and a contact without an address gets a placeholder, which the
// scheduler counts as invalid (see store/sqlite/sqlitefixture).
//
// It then plans every contact for a fixed day (2025-03-03, so that the
// output is the same everywhere) with the default rules read from the
// embedded default.rules (or the rules of -rules or -config), writes the
// plan into the database (only what changed: run it twice and the second
// run rewrites nothing), prints the run report and the plan of a few
// contacts, and previews the next day's run without writing it.
//
// Flags:
//
//	-db PATH               another database (generated when missing)
//	-contacts N            the contacts of a newly generated demo database (10000)
//	-seed N                the seed of a newly generated demo database (1)
//	-today YYYY-MM-DD      the run date (2025-03-03)
//	-config FILE           a configuration file (see scheduler/configfile): its
//	                       scheduler settings and rules (its database, atomic,
//	                       batch_contacts and backup keys do not apply: see -db)
//	-rules FILE|DIR        other rules (default: "rules" of the configuration, else
//	                       the embedded default rules)
//	-allow-missing-states  accept rules that leave states of the default rules
//	                       without a rule, as schedule does
//	-h, -help              print the usage on stdout
//	-version               print the program's name and version
//
// Exit status: 0 success (also for -h and -version), 1 the run failed or
// was interrupted, 3 bad usage or input (flags, configuration, rules). 2,
// the status of a Go program that crashes, is never used.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
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

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cli.New("quickstart",
		"usage: quickstart [-db PATH] [-contacts N] [-seed N] [-today YYYY-MM-DD] [-config FILE] [-rules FILE|DIR]\n"+
			"                  [-allow-missing-states]",
		"quickstart plans a demo organisation database (generated on the first run) and prints what\n"+
			"the scheduler decided.",
		"quickstart",
		"quickstart -db demo/org-100k.sqlite3 -contacts 100000 -today 2025-09-01")
	fs := c.Flags
	dbPath := fs.String("db", filepath.Join("demo", "org-demo.sqlite3"), "the organisation database, a SQLite file at `PATH` (generated when missing)")
	contacts := fs.Int("contacts", 10_000, "the number of contacts of a newly generated demo database (`N`)")
	seed := fs.Int64("seed", 1, "the seed of a newly generated demo database (`N`)")
	today := fs.String("today", demodata.DefaultToday.String(), "the run date, `YYYY-MM-DD`")
	plan := cli.AddPlan(fs)
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.Fail(stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *contacts < 1 {
		return c.Fail(stderr, "-contacts %d: want 1 or more", *contacts)
	}
	fail := func(code int, err error) int { return c.Error(stderr, code, "%v", err) }
	_, s, day, err := plan.Scheduler(ctx, *today)
	if err != nil {
		return fail(exitInput, err)
	}
	if err := planDemo(ctx, stdout, s, *dbPath, *contacts, *seed, day); err != nil {
		return fail(exitRun, err)
	}
	return exitOK
}

// planDemo generates the demo database at path when it is missing (n
// contacts, seed), plans it with s for today and prints what s decided.
func planDemo(ctx context.Context, out io.Writer, s *scheduler.Scheduler, path string, n int, seed int64, today datecalc.Date) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		fmt.Fprintf(out, "Generating the demo organisation %s: %d contacts (seed %d)...\n", path, n, seed)
		// Written aside and renamed, so that an interrupted generation
		// never leaves a half-filled database to reuse.
		tmp := path + ".partial"
		os.Remove(tmp)
		// The production schema: sqlitefixture.Production, the default.
		if err := sqlitefixture.Create(ctx, tmp, sqlitefixture.Options{
			Gen: demodata.GenOptions{Seed: seed, Contacts: n, Today: today, Campaigns: demodata.DemoCampaigns(today)},
		}); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	st := sqlite.New(db, sqlite.Options{})
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "Planning %s for %s.\n\n", path, today)
	rep, err := s.RunAt(ctx, today, st, st)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(out); err != nil {
		return err
	}
	if err := printPlans(ctx, out, db, 6); err != nil {
		return err
	}
	// What the next night would change, without writing it: the emails due
	// today (which the sending system takes) and little else.
	next, err := s.RunAt(ctx, today.AddDays(1), st, store.Discard{})
	if err != nil {
		return err
	}
	changed := next.Rows.Inserted + next.Rows.Updated + next.Rows.Deleted
	fmt.Fprintf(out, "\nThe next day's run would insert %d, update %d and delete %d rows and leave %d unchanged (%.2f %% rewritten):\n",
		next.Rows.Inserted, next.Rows.Updated, next.Rows.Deleted, next.Rows.Unchanged,
		100*float64(changed)/float64(max(1, changed+next.Rows.Unchanged)))
	fmt.Fprintln(out, "mostly the emails due today, which the sending system takes overnight. Run this command again: the stored plan is kept.")
	return nil
}

// printPlans prints the stored plan of the first contacts that have one.
func printPlans(ctx context.Context, out io.Writer, db *sql.DB, contacts int) error {
	rows, err := db.QueryContext(ctx, `
		SELECT contact_id, CAST(scheduled_send_date AS TEXT), email_type, status, COALESCE(skip_reason, ''), COALESCE(catchup_note, '')
		FROM email_schedules
		WHERE status IN ('pre-scheduled', 'skipped')
		  AND contact_id IN (SELECT DISTINCT contact_id FROM email_schedules WHERE status IN ('pre-scheduled', 'skipped') ORDER BY contact_id LIMIT ?)
		ORDER BY contact_id, scheduled_send_date, email_type`, contacts)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(out, "\nThe plan of the first contacts:")
	for rows.Next() {
		var id int64
		var date, typ, status, reason, note string
		if err := rows.Scan(&id, &date, &typ, &status, &reason, &note); err != nil {
			return err
		}
		if note != "" {
			reason = strings.TrimSpace(reason + " (catch-up)")
		}
		fmt.Fprintln(out, strings.TrimRight(fmt.Sprintf("  contact %-4d %s  %-26s %-13s %s", id, date, typ, status, reason), " "))
	}
	return rows.Err()
}
