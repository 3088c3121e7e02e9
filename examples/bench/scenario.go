package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// result is what a scenario process measured; it travels to the parent as
// JSON.
type result struct {
	Scenario string `json:"scenario"`
	Today    string `json:"today"`
	RunID    string `json:"run_id"`
	Contacts int    `json:"contacts"`
	// Planned is the number of emails in the new plan (Report.Planned).
	Planned int               `json:"planned"`
	Rows    store.RowCounts   `json:"rows"`
	Timings scheduler.Timings `json:"timings"`
	// Settled are the runs that settled the plan, in order
	// (scheduler.Report.Settled): part of the scenario's cost.
	Settled []settledRun `json:"settled,omitempty"`
	// Open is sqlite.Open plus Migrate; Run is the RunAt call; EndToEnd
	// is both (the copy of the database is not part of it).
	Open     time.Duration `json:"open_ns"`
	Run      time.Duration `json:"run_ns"`
	EndToEnd time.Duration `json:"end_to_end_ns"`
	// PeakRSS is the scenario process's VmHWM in bytes, read right after
	// the run (before the floor).
	PeakRSS int64 `json:"peak_rss"`
	// MarkedSent is the number of rows marked sent before a nightly run
	// (filled in by the parent).
	MarkedSent int64 `json:"marked_sent,omitempty"`
	// Sender is what the sending system beside the run saw (-sender).
	Sender *senderResult `json:"sender,omitempty"`
	Floor  floor         `json:"floor"`
}

// floor is what SQLite alone needs for the scenario's I/O.
type floor struct {
	ReadContacts time.Duration `json:"read_contacts_ns"`
	ContactRows  int           `json:"contact_rows"`
	// ReadSchedules is the full scan of email_schedules (nightly run).
	ReadSchedules time.Duration `json:"read_schedules_ns,omitempty"`
	ScheduleRows  int           `json:"schedule_rows,omitempty"`
	// Insert is the fastest way measured of inserting the first run's
	// rows (first run); Inserts lists every way measured.
	Insert     time.Duration   `json:"insert_ns,omitempty"`
	InsertRows int             `json:"insert_rows,omitempty"`
	InsertMode string          `json:"insert_mode,omitempty"`
	Inserts    []insertMeasure `json:"inserts,omitempty"`
	Total      time.Duration   `json:"total_ns"`
}

// insertMeasure is one way of inserting the rows and its time.
type insertMeasure struct {
	Mode string        `json:"mode"`
	Time time.Duration `json:"time_ns"`
}

// ratio is the scenario's end-to-end time over its floor.
func (r *result) ratio() float64 {
	if r.Floor.Total <= 0 {
		return 0
	}
	return r.EndToEnd.Seconds() / r.Floor.Total.Seconds()
}

// settledRun is a run that settled a scenario's plan.
type settledRun struct {
	RunID string          `json:"run_id"`
	Rows  store.RowCounts `json:"rows"`
}

// rewrittenPercent is the share of the plan's rows that the run wrote
// (inserted, updated or deleted), with the runs that settled it.
func (r *result) rewrittenPercent() float64 {
	if r.Planned == 0 {
		return 0
	}
	n := r.Rows.Inserted + r.Rows.Updated + r.Rows.Deleted
	for _, s := range r.Settled {
		n += s.Rows.Inserted + s.Rows.Updated + s.Rows.Deleted
	}
	return 100 * float64(n) / float64(r.Planned)
}

// runChild is a scenario process: it runs the scheduler on o.db as of
// o.today, prints the figures, measures the floor and writes the result.
func runChild(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	today, err := datecalc.Parse(o.today)
	if err != nil {
		return fmt.Errorf("-today: %w", err)
	}
	r := &result{Scenario: o.child, Today: today.String()}
	rep, err := runScheduler(ctx, o, today, r, stderr)
	if err != nil {
		return err
	}
	r.PeakRSS = peakRSS()
	if o.child == scenarioPrepare {
		fmt.Fprintf(stdout, "  prepared in %.2f s: %d rows inserted\n", r.EndToEnd.Seconds(), rep.Rows.Inserted)
		return nil
	}
	for x := rep; x != nil; x = x.Settled {
		if err := checkCheckpoint(ctx, o.db, x); err != nil {
			return err
		}
	}
	printRun(stdout, o, r, rep)

	switch o.child {
	case scenarioFirst:
		err = firstFloor(ctx, o, r, stdout)
	case scenarioNightly:
		err = nightlyFloor(ctx, o, r, stdout)
	}
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return os.WriteFile(o.result, data, 0o644)
}

// runScheduler opens the scenario database and runs the scheduler on it with
// every feature on, profiling the run when asked.
func runScheduler(ctx context.Context, o *options, today datecalc.Date, r *result, stderr io.Writer) (*scheduler.Report, error) {
	every := max(10_000, o.contacts/10/10_000*10_000)
	cfg := scheduler.Config{
		Rules:         dsl.Default(),
		ProgressEvery: scheduler.Int(every),
		Workers:       workers(o.workers),
	}
	if o.contacts >= 500_000 {
		start := time.Now()
		cfg.Progress = func(pass string, done int) {
			fmt.Fprintf(stderr, "bench: %s %s: %s %d/%d contacts (%.0f s)\n", o.child, today, pass, done, o.contacts, time.Since(start).Seconds())
		}
	}
	sch, err := scheduler.New(cfg)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	db, err := sqlite.Open(ctx, o.db)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := sqlite.New(db, sqlite.Options{BatchContacts: o.batch, Atomic: o.atomic})
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	r.Open = time.Since(start)
	var snd *sender
	if o.sender > 0 {
		if snd, err = startSender(o.db, o.sender); err != nil {
			return nil, err
		}
	}

	stopProfile := func() {}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stopProfile = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
	}
	t := time.Now()
	rep, err := sch.RunAt(ctx, today, s, s)
	r.Run = time.Since(t)
	stopProfile()
	if snd != nil {
		sr := snd.finish()
		r.Sender = &sr
	}
	if err != nil {
		return nil, err
	}
	r.EndToEnd = time.Since(start)
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return nil, err
		}
	}
	r.RunID, r.Contacts, r.Planned, r.Rows, r.Timings = rep.RunID, rep.Contacts, rep.Planned(), rep.Rows, rep.Timings
	for x := rep.Settled; x != nil; x = x.Settled {
		r.Settled = append(r.Settled, settledRun{RunID: x.RunID, Rows: x.Rows})
	}
	return rep, nil
}

// writeHeapProfile writes the heap profile (allocations since the process
// started, which is the run, and what is in use after a GC).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkCheckpoint verifies that the run's checkpoint row counts what the
// report counts: the figures printed are the database's as well.
func checkCheckpoint(ctx context.Context, path string, rep *scheduler.Report) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	cps, err := sqlite.New(db, sqlite.Options{}).Checkpoints(ctx)
	if err != nil {
		return err
	}
	for _, cp := range cps {
		if cp.RunID != rep.RunID {
			continue
		}
		if cp.Status != sqlite.CheckpointCompleted || cp.Rows != rep.Rows {
			return fmt.Errorf("checkpoint of %s (%s) counts %+v, the report %+v", rep.RunID, cp.Status, cp.Rows, rep.Rows)
		}
		return nil
	}
	return fmt.Errorf("no checkpoint row for run %s", rep.RunID)
}

// printRun prints the scheduler run's figures.
func printRun(w io.Writer, o *options, r *result, rep *scheduler.Report) {
	t := r.Timings
	fmt.Fprintf(w, "  open + migrate          %8.2f s\n", r.Open.Seconds())
	fmt.Fprintf(w, "  scheduler run          %8.2f s   (Report.Timings.Total %.2f s)\n", r.Run.Seconds(), t.Total.Seconds())
	if rep.LoadFrom == scheduler.LoadStored {
		fmt.Fprintf(w, "    stored load          %8.2f s   (load balancing's per-day volume, from the plan of %s: one read)\n", t.Count.Seconds(), rep.LoadPlanDate)
	} else {
		fmt.Fprintf(w, "    counting pass        %8.2f s   (load balancing: read + plan every contact)\n", t.Count.Seconds())
	}
	fmt.Fprintf(w, "    read + plan          %8.2f s   (planning pass, without the sink's Write calls)\n", t.ReadPlan.Seconds())
	fmt.Fprintf(w, "    write                %8.2f s   (the sink's Write calls)\n", t.Write.Seconds())
	fmt.Fprintf(w, "    commit               %8.2f s\n", t.Commit.Seconds())
	fmt.Fprintf(w, "  write lock held        %8.2f s   at most in one stretch (%.2f s in all): the sending system's writes wait that long\n",
		t.LongestLock.Seconds(), t.Locked.Seconds())
	fmt.Fprintf(w, "  end-to-end             %8.2f s   %.0f contacts/s\n", r.EndToEnd.Seconds(), float64(r.Contacts)/r.EndToEnd.Seconds())
	fmt.Fprintf(w, "  contacts %d (valid %d, opted out %d, invalid %d); plan %d rows\n", rep.Contacts, rep.Valid, rep.OptedOut, rep.Invalid, r.Planned)
	fmt.Fprintf(w, "  rows: inserted %d, updated %d, deleted %d, unchanged %d, conflicting %d\n",
		r.Rows.Inserted, r.Rows.Updated, r.Rows.Deleted, r.Rows.Unchanged, r.Rows.Conflicting)
	for _, s := range r.Settled {
		fmt.Fprintf(w, "  settled by run %s (the stored volume differed where emails move): inserted %d, updated %d, deleted %d\n",
			s.RunID, s.Rows.Inserted, s.Rows.Updated, s.Rows.Deleted)
	}
	if r.Sender != nil {
		fmt.Fprintf(w, "  rows taken by the sending system during the run: %d\n", r.Rows.Taken)
		r.Sender.print(w, o.sender)
	}
	fmt.Fprintf(w, "  peak RSS               %s (VmHWM of this scenario's process, before the floor)\n", mib(r.PeakRSS))
}

// firstFloor measures the first run's floor: the contacts read with one plain
// SELECT, plus the first run's rows inserted into a fresh copy of the
// database.
func firstFloor(ctx context.Context, o *options, r *result, w io.Writer) error {
	modes := []string{o.floorInsert}
	if o.floorInsert == insertBoth {
		modes = []string{insertMulti, insertPrepared}
		// The second way needs a fresh copy of its own, made before
		// anything is measured.
		if err := copyFresh(o.floorDB, o.floorDB+".2"); err != nil {
			return err
		}
		defer removeDB(o.floorDB + ".2")
	}
	src, err := sqlite.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer src.Close()
	for i, mode := range modes {
		path := o.floorDB
		if i > 0 {
			path += ".2"
		}
		dst, err := sqlite.Open(ctx, path)
		if err != nil {
			return err
		}
		// The same schema as the run's database (unmeasured).
		if err := sqlite.New(dst, sqlite.Options{}).Migrate(ctx); err != nil {
			dst.Close()
			return err
		}
		if i == 0 {
			if r.Floor.ContactRows, r.Floor.ReadContacts, err = readContacts(ctx, dst); err != nil {
				dst.Close()
				return err
			}
		}
		n, d, err := insertRows(ctx, src, dst, r.RunID, mode)
		dst.Close()
		if err != nil {
			return err
		}
		if n != r.Rows.Inserted {
			return fmt.Errorf("read back %d rows of run %s, the run inserted %d", n, r.RunID, r.Rows.Inserted)
		}
		r.Floor.Inserts = append(r.Floor.Inserts, insertMeasure{Mode: mode, Time: d})
		if r.Floor.InsertMode == "" || d < r.Floor.Insert {
			r.Floor.Insert, r.Floor.InsertMode, r.Floor.InsertRows = d, mode, n
		}
	}
	r.Floor.Total = r.Floor.ReadContacts + r.Floor.Insert
	fmt.Fprintf(w, "  floor (same process, same file system, same driver and settings):\n")
	fmt.Fprintf(w, "    read contacts        %8.2f s   (%d rows, one SELECT)\n", r.Floor.ReadContacts.Seconds(), r.Floor.ContactRows)
	var all []string
	for _, m := range r.Floor.Inserts {
		all = append(all, fmt.Sprintf("%s %.2f s", m.Mode, m.Time.Seconds()))
	}
	fmt.Fprintf(w, "    insert rows          %8.2f s   (%d rows into a fresh copy, one transaction, %s; measured: %s)\n",
		r.Floor.Insert.Seconds(), r.Floor.InsertRows, describeInsert(r.Floor.InsertMode), strings.Join(all, ", "))
	fmt.Fprintf(w, "    floor                %8.2f s   %.0f contacts/s\n", r.Floor.Total.Seconds(), float64(r.Floor.ContactRows)/r.Floor.Total.Seconds())
	fmt.Fprintf(w, "  ratio end-to-end/floor %8.2f\n", r.ratio())
	return nil
}

// nightlyFloor measures the nightly run's floor: the contacts and the whole
// email_schedules table (stored plan and history) read with one plain SELECT
// each, from a copy of the database the nightly run started from.
func nightlyFloor(ctx context.Context, o *options, r *result, w io.Writer) error {
	db, err := sqlite.Open(ctx, o.floorDB)
	if err != nil {
		return err
	}
	defer db.Close()
	if r.Floor.ContactRows, r.Floor.ReadContacts, err = readContacts(ctx, db); err != nil {
		return err
	}
	if r.Floor.ScheduleRows, r.Floor.ReadSchedules, err = readSchedules(ctx, db); err != nil {
		return err
	}
	r.Floor.Total = r.Floor.ReadContacts + r.Floor.ReadSchedules
	fmt.Fprintf(w, "  floor (same process, same file system, same driver and settings):\n")
	fmt.Fprintf(w, "    read contacts        %8.2f s   (%d rows, one SELECT)\n", r.Floor.ReadContacts.Seconds(), r.Floor.ContactRows)
	fmt.Fprintf(w, "    read email_schedules %8.2f s   (%d rows: stored plan and history, one full scan)\n", r.Floor.ReadSchedules.Seconds(), r.Floor.ScheduleRows)
	fmt.Fprintf(w, "    floor                %8.2f s   %.0f contacts/s\n", r.Floor.Total.Seconds(), float64(r.Floor.ContactRows)/r.Floor.Total.Seconds())
	fmt.Fprintf(w, "  ratio end-to-end/floor %8.2f; rows rewritten %.3f %% of the plan's %d\n", r.ratio(), r.rewrittenPercent(), r.Planned)
	return nil
}

// describeInsert says what an insert mode is.
func describeInsert(mode string) string {
	switch mode {
	case insertMulti:
		return fmt.Sprintf("prepared %d-row INSERT", multiRows)
	case insertPrepared:
		return "prepared single-row INSERT"
	}
	return mode
}

// workers is the -workers flag as scheduler.Config.Workers: 0 leaves the
// scheduler's default.
func workers(n int) *int {
	if n == 0 {
		return nil
	}
	return scheduler.Int(n)
}
