// Command plandb plans an organisation database (SQLite) in place and
// prints a summary of the run.
//
//	go run ./examples/plandb -db org-001.sqlite3 [-today 2025-03-03] [-backup DIR]
//	go run ./examples/plandb -db demo.sqlite3 -generate 100000   # a demo database first
//
// It migrates the database (creating only what is missing), plans every
// contact with the default rules and writes only what changed. Without
// -today the run date is today in America/Chicago.
//
// -generate writes a database in the schema of a production organisation
// database (testdata/schema/org-db.schema.sql; sqlitefixture.Production),
// in journal mode DELETE as production databases are; -shape full or old
// writes one of the fixture's earlier made-up shapes instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "plandb:", err)
		os.Exit(1)
	}
}

func run() error {
	dbPath := flag.String("db", "", "path of the organisation database (required)")
	todayFlag := flag.String("today", "", "run date YYYY-MM-DD (default: today in America/Chicago)")
	backup := flag.String("backup", "", "take an online backup into this directory before the run")
	generate := flag.Int("generate", 0, "first create the database (it must not exist) with this many generated contacts")
	seed := flag.Int64("seed", 1, "seed of -generate")
	shapeName := flag.String("shape", "production", "schema of -generate: production, full or old")
	flag.Parse()
	if *dbPath == "" {
		flag.Usage()
		return errors.New("-db is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := sqlitefixture.Options{Gen: demodata.GenOptions{Seed: *seed, Contacts: *generate}}
	switch *shapeName {
	case "production":
	case "full":
		opts.Shape, opts.ProductionIndexes = sqlitefixture.Full, true
	case "old":
		opts.Shape = sqlitefixture.Old
	default:
		return fmt.Errorf("-shape %q: want production, full or old", *shapeName)
	}
	if *generate > 0 {
		start := time.Now()
		if err := sqlitefixture.Create(ctx, *dbPath, opts); err != nil {
			return err
		}
		fmt.Printf("generated %s: %d contacts in %v\n", *dbPath, *generate, time.Since(start).Round(time.Millisecond))
	}
	if _, err := os.Stat(*dbPath); err != nil {
		return err
	}

	sch, err := scheduler.New(scheduler.Config{})
	if err != nil {
		return err
	}
	today := sch.Today()
	if *todayFlag != "" {
		if today, err = datecalc.Parse(*todayFlag); err != nil {
			return fmt.Errorf("-today: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	s := sqlite.New(db, sqlite.Options{Backup: sqlite.BackupOptions{Dir: *backup}})
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	start := time.Now()
	rep, err := sch.RunAt(ctx, today, s, s)
	if err != nil {
		return err
	}
	if err := rep.WriteSummary(os.Stdout); err != nil {
		return err
	}
	st := s.ReadStats()
	fmt.Printf("read: %d contacts, %d email rows (%d with an unknown type skipped, %d orphans), %d field issues\n",
		st.Contacts, st.Rows, st.UnknownTypeRows, st.OrphanRows, st.FieldIssues)
	if cps, err := s.Checkpoints(ctx); err == nil && len(cps) > 0 {
		c := cps[len(cps)-1]
		fmt.Printf("checkpoint %s: %s, inserted %d, updated %d, deleted %d, unchanged %d, conflicting %d\n",
			c.RunID, c.Status, c.Rows.Inserted, c.Rows.Updated, c.Rows.Deleted, c.Rows.Unchanged, c.Rows.Conflicting)
	}
	fmt.Printf("done in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
