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
// output is the same everywhere) with the default rules
// read from the embedded default.rules, writes the plan into
// the database (only what changed: run it twice and the second run
// rewrites nothing), prints the run report and the plan of a few contacts,
// and previews the next day's run without writing it.
//
// Flags: -db PATH (another database), -contacts N and -seed S (for a new
// demo database), -today YYYY-MM-DD.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func main() {
	dbPath := flag.String("db", filepath.Join("demo", "org-demo.sqlite3"), "organisation database (generated when missing)")
	contacts := flag.Int("contacts", 10_000, "contacts of a newly generated demo database")
	seed := flag.Int64("seed", 1, "seed of a newly generated demo database")
	today := flag.String("today", demodata.DefaultToday.String(), "run date, YYYY-MM-DD")
	flag.Parse()
	day, err := datecalc.Parse(*today)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *dbPath, *contacts, *seed, day); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, path string, n int, seed int64, today datecalc.Date) error {
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
	// The default rules, read from the embedded
	// default.rules (load your own with dsl.LoadPath).
	s, err := scheduler.New(scheduler.Config{Rules: dsl.Default()})
	if err != nil {
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
