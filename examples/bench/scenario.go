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
	// Journal is the database's journal mode ("wal", "delete", ...).
	Journal string `json:"journal"`
	// WALPeak is the largest size of the database's write-ahead log seen
	// during the run (open + migrate + RunAt), polled every walPoll; 0 in
	// rollback-journal mode.
	WALPeak int64 `json:"wal_peak"`
	// BulkAllowed says whether the run could write in bulk
	// (sqlite.Options.Atomic or BulkWrites); Write is how it wrote
	// ((*sqlite.Store).LastWrite after the run).
	BulkAllowed bool       `json:"bulk_allowed"`
	Write       writeStats `json:"write"`
	Floor       floor      `json:"floor"`
}

// writeStats are sqlite.WriteStats: how a run wrote (in bulk or not, and
// the checkpoints of the write-ahead log after its commits).
type writeStats struct {
	Bulk           bool          `json:"bulk"`
	Indexes        int           `json:"indexes"`
	Drop           time.Duration `json:"drop_ns"`
	Build          time.Duration `json:"build_ns"`
	Checkpoints    int           `json:"checkpoints"`
	CheckpointTime time.Duration `json:"checkpoint_ns"`
}

// floor is what SQLite alone needs for the scenario's I/O.
type floor struct {
	ReadContacts time.Duration `json:"read_contacts_ns"`
	ContactRows  int           `json:"contact_rows"`
	// ReadSchedules is the full scan of email_schedules (nightly run).
	ReadSchedules time.Duration `json:"read_schedules_ns,omitempty"`
	ScheduleRows  int           `json:"schedule_rows,omitempty"`
	// Insert is the fastest way measured of inserting the first run's
	// rows with the indexes maintained (first run); Inserts lists every
	// way measured.
	Insert     time.Duration   `json:"insert_ns,omitempty"`
	InsertRows int             `json:"insert_rows,omitempty"`
	InsertMode string          `json:"insert_mode,omitempty"`
	Inserts    []insertMeasure `json:"inserts,omitempty"`
	// WALPeak is the nightly floor's write-ahead log peak (the first
	// run's are in Inserts and Bulk).
	WALPeak int64         `json:"wal_peak,omitempty"`
	Total   time.Duration `json:"total_ns"`
	// Bulk is the first run's bulk floor: the same read, and the rows
	// inserted with the secondary indexes dropped and created again in
	// the transaction.
	Bulk *bulkFloor `json:"bulk,omitempty"`
}

// bulkFloor is the first run's floor when the rows are written in bulk.
type bulkFloor struct {
	// Best is the fastest way measured (its Time: the whole transaction,
	// index drop and build included); Inserts lists every way measured.
	Best    insertMeasure   `json:"best"`
	Inserts []insertMeasure `json:"inserts"`
	// Total is the floor's ReadContacts + Best.Time.
	Total time.Duration `json:"total_ns"`
}

// insertMeasure is one way of inserting the rows and its time.
type insertMeasure struct {
	Mode string        `json:"mode"`
	Time time.Duration `json:"time_ns"`
	// Indexes, Drop and Build: the secondary indexes a bulk insert
	// dropped and created again, and the time of each (included in Time).
	Indexes int           `json:"indexes,omitempty"`
	Drop    time.Duration `json:"drop_ns,omitempty"`
	Build   time.Duration `json:"build_ns,omitempty"`
	// WALPeak is the largest size of the write-ahead log seen during the
	// measure (the floor's read included for the first way).
	WALPeak int64 `json:"wal_peak"`
}

// fastest returns the measure of least time.
func fastest(ms []insertMeasure) insertMeasure {
	var b insertMeasure
	for i, m := range ms {
		if i == 0 || m.Time < b.Time {
			b = m
		}
	}
	return b
}

// ratio is the scenario's end-to-end time over its floor (for the first
// run: the floor with the indexes maintained).
func (r *result) ratio() float64 {
	if r.Floor.Total <= 0 {
		return 0
	}
	return r.EndToEnd.Seconds() / r.Floor.Total.Seconds()
}

// bulkRatio is the first run's end-to-end time over its bulk floor (0
// without one).
func (r *result) bulkRatio() float64 {
	if r.Floor.Bulk == nil || r.Floor.Bulk.Total <= 0 {
		return 0
	}
	return r.EndToEnd.Seconds() / r.Floor.Bulk.Total.Seconds()
}

// keyRatio is the ratio that picks the median of several runs: the bulk
// ratio for the first run, the ratio for the nightly run.
func (r *result) keyRatio() float64 {
	if r.Scenario == scenarioFirst {
		return r.bulkRatio()
	}
	return r.ratio()
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
		how := "with the indexes maintained"
		if r.Write.Bulk {
			how = fmt.Sprintf("in bulk, index build %.2f s (%d indexes)", r.Write.Build.Seconds(), r.Write.Indexes)
		}
		fmt.Fprintf(stdout, "  prepared in %.2f s: %d rows inserted, %s\n", r.EndToEnd.Seconds(), rep.Rows.Inserted, how)
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

// newBenchScheduler is the scheduler of every scenario, whatever the store:
// every feature on, the default rules, progress on stderr for large runs.
func newBenchScheduler(o *options, scenario string, today datecalc.Date, stderr io.Writer) (*scheduler.Scheduler, error) {
	every := max(10_000, o.contacts/10/10_000*10_000)
	cfg := scheduler.Config{
		Rules:         dsl.Default(),
		ProgressEvery: scheduler.Int(every),
		Workers:       workers(o.workers),
	}
	if o.contacts >= 500_000 {
		start := time.Now()
		cfg.Progress = func(pass string, done int) {
			fmt.Fprintf(stderr, "bench: %s %s: %s %d/%d contacts (%.0f s)\n", scenario, today, pass, done, o.contacts, time.Since(start).Seconds())
		}
	}
	return scheduler.New(cfg)
}

// runScheduler opens the scenario database and runs the scheduler on it with
// every feature on, profiling the run when asked.
func runScheduler(ctx context.Context, o *options, today datecalc.Date, r *result, stderr io.Writer) (*scheduler.Report, error) {
	sch, err := newBenchScheduler(o, o.child, today, stderr)
	if err != nil {
		return nil, err
	}

	// The first run opts in to bulk writes (-bulk), as an onboarding
	// should; an atomic run writes in bulk whenever its changes are large.
	opts := sqlite.Options{BatchContacts: o.batch, Atomic: o.atomic,
		BulkWrites: o.bulk && (o.child == scenarioFirst || o.child == scenarioPrepare)}
	r.BulkAllowed = opts.Atomic || opts.BulkWrites
	wal := watchWAL(o.db)
	defer wal.finish()
	start := time.Now()
	db, err := sqlite.Open(ctx, o.db)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := sqlite.New(db, opts)
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
	r.WALPeak = wal.finish()
	w := s.LastWrite()
	r.Write = writeStats{Bulk: w.Bulk, Indexes: w.Indexes, Drop: w.Drop, Build: w.Build,
		Checkpoints: w.Checkpoints, CheckpointTime: w.CheckpointTime}
	if r.Journal, err = sqlite.JournalMode(ctx, db); err != nil {
		return nil, err
	}
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
	fmt.Fprintf(w, "  journal mode           %s\n", r.Journal)
	fmt.Fprintf(w, "  write-ahead log peak   %s during the run (the -wal file's size, polled every %v)\n", walText(r.Journal, r.WALPeak), walPoll)
	fmt.Fprintf(w, "  WAL checkpoints        %d after the run's commits, %.2f s (Store.LastWrite)\n", r.Write.Checkpoints, r.Write.CheckpointTime.Seconds())
	switch {
	case r.Write.Bulk:
		fmt.Fprintf(w, "  written in bulk        yes: %d secondary indexes of email_schedules dropped (%.2f s) and created again before the commit\n",
			r.Write.Indexes, r.Write.Drop.Seconds())
	case !r.BulkAllowed && r.Scenario == scenarioFirst:
		fmt.Fprintf(w, "  written in bulk        no (-bulk=false: batches of whole contacts, the indexes maintained)\n")
	case !r.BulkAllowed:
		fmt.Fprintf(w, "  written in bulk        no (not asked: -bulk is the first run's; batches of whole contacts, the indexes maintained)\n")
	default:
		fmt.Fprintf(w, "  written in bulk        no (its changes were not a large share of email_schedules: the indexes maintained)\n")
	}
	if r.Scenario == scenarioFirst {
		fmt.Fprintln(w, runBuildLine(r))
	}
}

// runBuildLine is the first run's index build line.
func runBuildLine(r *result) string {
	if !r.Write.Bulk {
		return "first run: no index build (the indexes maintained)"
	}
	return fmt.Sprintf("first run: index build %.2f s (%d indexes)", r.Write.Build.Seconds(), r.Write.Indexes)
}

// firstFloor measures the first run's two floors: the contacts read with
// one plain SELECT, plus the first run's rows inserted into a fresh copy of
// the database in one transaction, with the indexes maintained (the floor)
// or with the secondary indexes dropped and created again in the
// transaction (the bulk floor, as the adapter's bulk writes do). Each way
// of inserting (-floor-insert) is measured for each, on a fresh copy of its
// own; the faster counts.
func firstFloor(ctx context.Context, o *options, r *result, w io.Writer) error {
	modes := []string{o.floorInsert}
	if o.floorInsert == insertBoth {
		modes = []string{insertMulti, insertPrepared}
	}
	// The copies of every measure but the first are made before anything
	// is measured, from o.floorDB as the parent made it.
	var paths, bulkPaths, extra []string
	for i := range modes {
		p := o.floorDB
		if i > 0 {
			p = fmt.Sprintf("%s.%d", o.floorDB, i+1)
			extra = append(extra, p)
		}
		paths = append(paths, p)
		bp := fmt.Sprintf("%s.bulk%d", o.floorDB, i+1)
		bulkPaths = append(bulkPaths, bp)
		extra = append(extra, bp)
	}
	if err := copyFresh(o.floorDB, extra...); err != nil {
		return err
	}
	defer func() {
		for _, p := range extra {
			removeDB(p)
		}
	}()
	src, err := sqlite.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer src.Close()
	measure := func(path, mode string, bulk, read bool) (insertMeasure, error) {
		wal := watchWAL(path)
		defer wal.finish()
		dst, err := sqlite.Open(ctx, path)
		if err != nil {
			return insertMeasure{}, err
		}
		defer dst.Close()
		// The same schema as the run's database (unmeasured).
		if err := sqlite.New(dst, sqlite.Options{}).Migrate(ctx); err != nil {
			return insertMeasure{}, err
		}
		if read {
			if r.Floor.ContactRows, r.Floor.ReadContacts, err = readContacts(ctx, dst); err != nil {
				return insertMeasure{}, err
			}
		}
		n, m, err := insertRows(ctx, src, dst, r.RunID, mode, bulk)
		if err != nil {
			return m, err
		}
		if n != r.Rows.Inserted {
			return m, fmt.Errorf("read back %d rows of run %s, the run inserted %d", n, r.RunID, r.Rows.Inserted)
		}
		r.Floor.InsertRows = n
		m.WALPeak = wal.finish()
		return m, nil
	}
	for i, mode := range modes {
		m, err := measure(paths[i], mode, false, i == 0)
		if err != nil {
			return err
		}
		if i > 0 {
			removeDB(paths[i])
		}
		r.Floor.Inserts = append(r.Floor.Inserts, m)
	}
	best := fastest(r.Floor.Inserts)
	r.Floor.Insert, r.Floor.InsertMode = best.Time, best.Mode
	r.Floor.Total = r.Floor.ReadContacts + r.Floor.Insert

	b := &bulkFloor{}
	for i, mode := range modes {
		m, err := measure(bulkPaths[i], mode, true, false)
		if err != nil {
			return fmt.Errorf("bulk floor: %w", err)
		}
		removeDB(bulkPaths[i])
		b.Inserts = append(b.Inserts, m)
	}
	b.Best = fastest(b.Inserts)
	b.Total = r.Floor.ReadContacts + b.Best.Time
	r.Floor.Bulk = b
	if r.Write.Bulk && r.Write.Indexes != b.Best.Indexes {
		return fmt.Errorf("the run dropped and created again %d secondary indexes, the bulk floor %d: their selections differ (store/sqlite's bulk.go and secondaryIndexesSQL)",
			r.Write.Indexes, b.Best.Indexes)
	}

	fmt.Fprintf(w, "  floor with indexes maintained (same process, same file system, same driver and settings):\n")
	fmt.Fprintf(w, "    read contacts        %8.2f s   (%d rows, one SELECT)\n", r.Floor.ReadContacts.Seconds(), r.Floor.ContactRows)
	fmt.Fprintf(w, "    insert rows          %8.2f s   (%d rows into a fresh copy, one transaction, %s, the indexes maintained; measured: %s)\n",
		r.Floor.Insert.Seconds(), r.Floor.InsertRows, describeInsert(r.Floor.InsertMode), measured(r.Floor.Inserts))
	fmt.Fprintf(w, "    write-ahead log peak %s\n", walPeaks(r.Journal, r.Floor.Inserts))
	fmt.Fprintf(w, "    floor                %8.2f s   %.0f contacts/s\n", r.Floor.Total.Seconds(), float64(r.Floor.ContactRows)/r.Floor.Total.Seconds())
	fmt.Fprintf(w, "  bulk floor (the same read; the same rows into another fresh copy in one transaction: secondary indexes dropped, rows inserted, the indexes created again, COMMIT):\n")
	fmt.Fprintf(w, "    read contacts        %8.2f s   (the floor's)\n", r.Floor.ReadContacts.Seconds())
	fmt.Fprintf(w, "    drop indexes         %8.2f s   (%d secondary indexes of email_schedules, selected as the adapter's bulk writes select them)\n",
		b.Best.Drop.Seconds(), b.Best.Indexes)
	fmt.Fprintf(w, "    insert rows          %8.2f s   (%d rows, %s, and the commit)\n",
		(b.Best.Time - b.Best.Drop - b.Best.Build).Seconds(), r.Floor.InsertRows, describeInsert(b.Best.Mode))
	fmt.Fprintf(w, "    index build          %8.2f s   (their CREATE INDEX statements, from sqlite_master before the drop)\n", b.Best.Build.Seconds())
	fmt.Fprintf(w, "    write-ahead log peak %s\n", walPeaks(r.Journal, b.Inserts))
	fmt.Fprintf(w, "    bulk floor           %8.2f s   %.0f contacts/s (transaction measured: %s)\n",
		b.Total.Seconds(), float64(r.Floor.ContactRows)/b.Total.Seconds(), measured(b.Inserts))
	fmt.Fprintf(w, "bulk floor: index build %.2f s\n", b.Best.Build.Seconds())
	fmt.Fprintf(w, "  ratio end-to-end/floor with indexes maintained %6.2f\n", r.ratio())
	fmt.Fprintf(w, "  ratio end-to-end/bulk floor                    %6.2f\n", r.bulkRatio())
	return nil
}

// measured lists the ways measured and their times.
func measured(ms []insertMeasure) string {
	var all []string
	for _, m := range ms {
		all = append(all, fmt.Sprintf("%s %.2f s", m.Mode, m.Time.Seconds()))
	}
	return strings.Join(all, ", ")
}

// walPeaks formats the write-ahead log peaks of the ways measured.
func walPeaks(journal string, ms []insertMeasure) string {
	if journal != "wal" {
		return walText(journal, 0)
	}
	var all []string
	for _, m := range ms {
		all = append(all, fmt.Sprintf("%s (%s)", walText(journal, m.WALPeak), m.Mode))
	}
	return strings.Join(all, ", ")
}

// nightlyFloor measures the nightly run's floor: the contacts and the whole
// email_schedules table (stored plan and history) read with one plain SELECT
// each, from a copy of the database the nightly run started from.
func nightlyFloor(ctx context.Context, o *options, r *result, w io.Writer) error {
	wal := watchWAL(o.floorDB)
	defer wal.finish()
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
	r.Floor.WALPeak = wal.finish()
	r.Floor.Total = r.Floor.ReadContacts + r.Floor.ReadSchedules
	fmt.Fprintf(w, "  floor (same process, same file system, same driver and settings):\n")
	fmt.Fprintf(w, "    read contacts        %8.2f s   (%d rows, one SELECT)\n", r.Floor.ReadContacts.Seconds(), r.Floor.ContactRows)
	fmt.Fprintf(w, "    read email_schedules %8.2f s   (%d rows: stored plan and history, one full scan)\n", r.Floor.ReadSchedules.Seconds(), r.Floor.ScheduleRows)
	fmt.Fprintf(w, "    write-ahead log peak %s\n", walText(r.Journal, r.Floor.WALPeak))
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
