// Command quickstart plans a generated demo organisation and prints what the
// scheduler decided. It is the README's first command:
//
//	go run ./examples/quickstart
//
// It generates 10,000 contacts with a fixed seed (the same data on every
// machine), plans them in memory for a fixed day with the default rules of
// SPEC §4, prints the run report and the plan of a few contacts, then plans
// the next day to show that the plan is stable.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/memory"
	"github.com/emailsched/emailsched/store/storetest"
)

func main() {
	contacts := flag.Int("contacts", 10_000, "number of demo contacts")
	seed := flag.Int64("seed", 1, "seed of the demo data")
	today := flag.String("today", storetest.DefaultToday.String(), "run date, YYYY-MM-DD")
	flag.Parse()
	day, err := datecalc.Parse(*today)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, *contacts, *seed, day); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, n int, seed int64, today datecalc.Date) error {
	demo := storetest.Generate(storetest.GenOptions{Seed: seed, Contacts: n, Today: today})
	db, err := memory.New(demo, emailsched.Campaigns{})
	if err != nil {
		return err
	}
	// The default rules of the specification, read from the embedded
	// default.rules (edit a copy and load it with dsl.LoadFiles to change
	// them).
	s, err := scheduler.New(scheduler.Config{Rules: dsl.Default()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo organisation: %d generated contacts (seed %d), planned for %s.\n\n", n, seed, today)
	rep, err := s.RunAt(ctx, today, db, db)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(out); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe plan of the first contacts:")
	for _, e := range db.Plan() {
		if e.ContactID > 6 {
			break
		}
		note := string(e.SkipReason)
		if e.CatchUpNote != "" {
			note = strings.TrimSpace(note + " (catch-up)")
		}
		fmt.Fprintf(out, "  contact %-3d %s  %-15s %-13s event %s  %s\n", e.ContactID, e.Date, e.Type, e.Status, e.Event, note)
	}
	// Overnight the sending system takes the emails due today; the next
	// run keeps every other stored date.
	sent := db.Send(today, emailsched.StatusSent, today.Time(8, 30, time.UTC))
	next, err := s.RunAt(ctx, today.AddDays(1), db, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nThe sending system sent the %d emails due on %s. The next day's run:\n", sent, today)
	fmt.Fprintf(out, "  %d rows inserted, %d updated, %d deleted, %d unchanged (%.2f %% rewritten).\n",
		next.Rows.Inserted, next.Rows.Updated, next.Rows.Deleted, next.Rows.Unchanged,
		100*float64(next.Rows.Inserted+next.Rows.Updated+next.Rows.Deleted)/float64(max(1, next.Planned())))
	return nil
}
