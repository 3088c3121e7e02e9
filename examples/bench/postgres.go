package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// The stores -store selects.
const (
	storeSQLite   = "sqlite"
	storePostgres = "postgres"
)

// postgresEnv names the server -store postgres uses when -pg is not given
// (the variable the tests use too).
const postgresEnv = "EMAILSCHED_TEST_POSTGRES"

// pgResult is what one PostgreSQL scenario measured.
type pgResult struct {
	run, floor          time.Duration
	readFloor, ioFloor  time.Duration // the floor's two parts
	rows                scheduler.Report
	contacts, floorRows int
}

func (r pgResult) ratio() float64 { return r.run.Seconds() / r.floor.Seconds() }

// runPostgres is -store postgres: the first and nightly scenarios against
// an organisation schema in PostgreSQL, each next to its floor measured on
// the same server, in the same process. The generated organisation (the
// SQLite bench's generator: the same contacts, history and campaigns) is
// loaded once into a cache schema, bench_c<N>_s<seed>, and copied into a
// fresh schema for each scenario.
func runPostgres(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	url := o.pg
	if url == "" {
		url = os.Getenv(postgresEnv)
	}
	if url == "" {
		return fmt.Errorf("-store postgres needs a server: -pg postgres://... or %s", postgresEnv)
	}
	pool, err := postgres.NewPool(ctx, url)
	if err != nil {
		return fmt.Errorf("-pg: %w", err)
	}
	defer pool.Close()
	var version string
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return fmt.Errorf("-pg: %w", err)
	}
	loadStart := loadAverage()
	fmt.Fprintf(stdout, "emailsched bench: %d contacts, seed %d, store postgres (server %s), runs written in %s, first run on %s, nightly run on %s\n",
		o.contacts, o.seed, version, pgMode(o), firstDay, firstDay.AddDays(1))
	fmt.Fprintf(stdout, "machine: %d CPUs, load average %s\n", numCPU(), loadStart)
	cache := fmt.Sprintf("bench_c%d_s%d", o.contacts, o.seed)
	if err := ensurePGCache(ctx, pool, cache, o, stdout, stderr); err != nil {
		return err
	}
	const work = "bench_run"
	if !o.keep {
		defer dropSchema(context.WithoutCancel(ctx), pool, work)
	} else {
		fmt.Fprintf(stdout, "scenario schema kept: %s\n", work)
	}
	var first, nightly *pgResult
	var firsts, nightlies []*pgResult
	if o.scenario != scenarioNightly {
		for i := range o.runs {
			if err := copySchema(ctx, pool, cache, work); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\n== first run (%s): no stored plan%s\n", firstDay, runOf(i, o.runs))
			r, err := pgFirst(ctx, pool, o, cache, work, stdout, stderr)
			if err != nil {
				return err
			}
			firsts = append(firsts, r)
		}
		first = medianPG(stdout, scenarioFirst, firsts)
	}
	if o.scenario != scenarioFirst {
		for i := range o.runs {
			r, err := pgNightlyScenario(ctx, pool, o, cache, work, runOf(i, o.runs), stdout, stderr)
			if err != nil {
				return err
			}
			nightlies = append(nightlies, r)
		}
		nightly = medianPG(stdout, scenarioNightly, nightlies)
	}
	fmt.Fprintf(stdout, "\nload average at the start %s, at the end %s\n", loadStart, loadAverage())
	if first != nil {
		fmt.Fprintf(stdout, "first run: ratio end-to-end/floor = %.2f\n", first.ratio())
	}
	if nightly != nil {
		written := nightly.rows.Rows.Written()
		fmt.Fprintf(stdout, "nightly run: ratio = %.2f, rows rewritten = %.3f %%\n", nightly.ratio(), 100*float64(written)/float64(max(1, nightly.floorRows)))
	}
	return nil
}

// pgNightlyScenario prepares the nightly run's starting point on a fresh
// copy of the organisation (a first run, unmeasured, then the sending
// system marking the rows of the first day sent) and measures it.
func pgNightlyScenario(ctx context.Context, pool *pgxpool.Pool, o *options, cache, work, of string, stdout, stderr io.Writer) (*pgResult, error) {
	if err := copySchema(ctx, pool, cache, work); err != nil {
		return nil, err
	}
	if _, err := pgRun(ctx, pool, o, work, firstDay, stderr); err != nil {
		return nil, err
	}
	day := firstDay.AddDays(1)
	tag, err := pool.Exec(ctx, fmt.Sprintf(`UPDATE %s.email_schedules SET status = 'sent', actual_send_datetime = $1, updated_at = $1
		WHERE status = 'pre-scheduled' AND scheduled_send_date <= $2`, pgx.Identifier{work}.Sanitize()),
		firstDay.Time(14, 30, time.UTC), firstDay.Time(0, 0, time.UTC))
	if err != nil {
		return nil, fmt.Errorf("marking rows sent: %w", err)
	}
	fmt.Fprintf(stdout, "\n== nightly run (%s): the day after the first run, on its result%s\n", day, of)
	fmt.Fprintf(stdout, "  before the run, the sending system marked %d rows sent (the pre-scheduled rows dated <= %s)\n", tag.RowsAffected(), firstDay)
	return pgNightly(ctx, pool, o, work, day, stdout, stderr)
}

// pgQuiet readies the server for a timed phase: VACUUM (ANALYZE) of the
// schema's tables, so that no phase pays for setting the hint bits of rows
// an earlier phase wrote (the one that reads them first would) or meets
// autovacuum doing it, then a CHECKPOINT, so that every phase starts with
// no dirty pages of another one left to write. A nightly run meets tables
// in this state in production: a day after the previous run, autovacuum
// has been through them. Without the privilege to checkpoint (a superuser
// or pg_checkpoint) it says so once and goes on.
func pgQuiet(ctx context.Context, pool *pgxpool.Pool, schema string, stderr io.Writer) error {
	tables, err := schemaTables(ctx, pool, schema)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s.%s: %w", schema, t, err)
		}
	}
	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege
			return fmt.Errorf("checkpoint: %w", err)
		}
		checkpointRefused.Do(func() {
			fmt.Fprintln(stderr, "bench: this role may not CHECKPOINT: the timed phases may meet the server's checkpoints of earlier ones")
		})
	}
	return nil
}

var checkpointRefused sync.Once

// medianPG prints the ratios of several runs of a scenario (see
// medianOf) and returns the run of median ratio.
func medianPG(w io.Writer, scenario string, rs []*pgResult) *pgResult {
	return medianOf(w, scenario, " end-to-end/floor", rs, (*pgResult).ratio)
}

func pgMode(o *options) string {
	if o.atomic {
		return "one transaction"
	}
	return "batches"
}

// ensurePGCache loads the generated organisation into schema unless a
// complete load is there (marked by the table bench_complete, created last).
func ensurePGCache(ctx context.Context, pool *pgxpool.Pool, schema string, o *options, stdout, stderr io.Writer) error {
	var done bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, schema+".bench_complete").Scan(&done); err != nil {
		return err
	}
	if done {
		fmt.Fprintf(stdout, "organisation: schema %s (cached)\n", schema)
		return nil
	}
	if err := dropSchema(ctx, pool, schema); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: loading %d contacts into schema %s ...\n", o.contacts, schema)
	start := time.Now()
	gen := demodata.GenOptions{Seed: o.seed, Contacts: o.contacts, Today: firstDay}
	gen.Campaigns = demodata.DemoCampaigns(gen.Today)
	if err := postgres.Load(ctx, pool, schema, demodata.GenerateSeq(gen), gen.Campaigns); err != nil {
		return err
	}
	q := fmt.Sprintf("ANALYZE; CREATE TABLE %s.bench_complete ()", pgx.Identifier{schema}.Sanitize())
	if _, err := pool.Exec(ctx, q); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "organisation: schema %s (loaded in %.1f s)\n", schema, time.Since(start).Seconds())
	return nil
}

// dropSchema drops one of the bench's schemas (their names start with
// bench_: the bench never drops another).
func dropSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if !strings.HasPrefix(schema, "bench_") {
		return fmt.Errorf("refusing to drop schema %q: not one of the bench's", schema)
	}
	_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// copySchema makes dst a fresh copy of src: the adapter's migrations (its
// tables and indexes), then every row of src's tables, and the identity
// sequences moved past the copied ids.
func copySchema(ctx context.Context, pool *pgxpool.Pool, src, dst string) error {
	if err := dropSchema(ctx, pool, dst); err != nil {
		return err
	}
	if err := postgres.New(pool, postgres.Options{Schema: dst}).Migrate(ctx); err != nil {
		return err
	}
	tables, err := schemaTables(ctx, pool, src)
	if err != nil {
		return err
	}
	s, d := pgx.Identifier{src}.Sanitize(), pgx.Identifier{dst}.Sanitize()
	for _, t := range tables {
		if t == "emailsched_migrations" || t == "bench_complete" {
			continue // the migrations made the one, the other marks the cache
		}
		tq := pgx.Identifier{t}.Sanitize()
		if _, err := pool.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM %s.%s", d, tq, s, tq)); err != nil {
			return fmt.Errorf("copying %s: %w", t, err)
		}
		_, err := pool.Exec(ctx, fmt.Sprintf(`SELECT setval(seq, (SELECT coalesce(max(id), 0) + 1 FROM %s.%s), false)
			FROM (SELECT pg_get_serial_sequence($1, 'id') AS seq) x WHERE seq IS NOT NULL`, d, tq), dst+"."+t)
		if err != nil && !isUndefinedColumn(err) {
			return fmt.Errorf("identity of %s: %w", t, err)
		}
	}
	_, err = pool.Exec(ctx, "ANALYZE")
	return err
}

// schemaTables returns the names of the tables of schema.
func schemaTables(ctx context.Context, pool *pgxpool.Pool, schema string) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'
		ORDER BY 1`, schema)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// isUndefinedColumn: a table without an id column has no identity to move.
func isUndefinedColumn(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42703" // undefined_column
}

// pgRun runs the scheduler on schema for day and returns its report.
func pgRun(ctx context.Context, pool *pgxpool.Pool, o *options, schema string, day datecalc.Date, stderr io.Writer) (*scheduler.Report, error) {
	s := postgres.New(pool, postgres.Options{Schema: schema, Atomic: o.atomic, BatchContacts: o.batch})
	scenario := scenarioFirst
	if day != firstDay {
		scenario = scenarioNightly
	}
	sch, err := newBenchScheduler(o, scenario, day, stderr)
	if err != nil {
		return nil, err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(profilePath(o.cpuProfile, o.scenario, scenario))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	return sch.RunAt(ctx, day, s, s)
}

// pgFirst measures the first run and its floor: the contacts read with one
// plain SELECT, plus the run's rows copied (COPY FROM STDIN, one
// transaction) into a fresh copy of the organisation, indexes maintained.
func pgFirst(ctx context.Context, pool *pgxpool.Pool, o *options, cache, work string, stdout, stderr io.Writer) (*pgResult, error) {
	if err := pgQuiet(ctx, pool, work, stderr); err != nil {
		return nil, err
	}
	start := time.Now()
	rep, err := pgRun(ctx, pool, o, work, firstDay, stderr)
	if err != nil {
		return nil, err
	}
	r := &pgResult{run: time.Since(start), rows: *rep}
	printPGRun(stdout, r)

	// The run's rows, as text for COPY (not measured).
	cols := `contact_id, email_type, scheduled_send_date, scheduled_send_time, status, skip_reason, priority,
		campaign_instance_id, email_template, sms_template, scheduler_run_id, event_year, event_month, event_day,
		catchup_note, metadata, created_at, updated_at`
	spool, err := os.CreateTemp("", "emailsched-bench-copy-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	w := pgx.Identifier{work}.Sanitize()
	tag, err := conn.Conn().PgConn().CopyTo(ctx, spool, fmt.Sprintf("COPY (SELECT %s FROM %s.email_schedules WHERE scheduler_run_id = '%s' ORDER BY id) TO STDOUT",
		cols, w, strings.ReplaceAll(rep.RunID, "'", "''")))
	if err != nil {
		return nil, fmt.Errorf("reading the run's rows back: %w", err)
	}
	r.floorRows = int(tag.RowsAffected())
	if r.floorRows != rep.Rows.Inserted {
		return nil, fmt.Errorf("read back %d rows of run %s, the run inserted %d", r.floorRows, rep.RunID, rep.Rows.Inserted)
	}
	const floorSchema = "bench_floor"
	defer dropSchema(context.WithoutCancel(ctx), pool, floorSchema)
	if err := copySchema(ctx, pool, cache, floorSchema); err != nil {
		return nil, err
	}
	if err := pgQuiet(ctx, pool, floorSchema, stderr); err != nil {
		return nil, err
	}
	if r.readFloor, r.contacts, err = pgReadAll(ctx, pool, fmt.Sprintf("SELECT id, email, zip_code, state, birth_date, effective_date, current_carrier, do_not_communicate FROM %s.contacts ORDER BY id", pgx.Identifier{floorSchema}.Sanitize())); err != nil {
		return nil, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	t := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, spool, fmt.Sprintf("COPY %s.email_schedules (%s) FROM STDIN", pgx.Identifier{floorSchema}.Sanitize(), cols)); err != nil {
		return nil, fmt.Errorf("floor: COPY: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	r.ioFloor = time.Since(t)
	r.floor = r.readFloor + r.ioFloor
	fmt.Fprintf(stdout, "  floor (same server, same process):\n")
	fmt.Fprintf(stdout, "    read contacts        %8.2f s   (%d rows, one plain SELECT)\n", r.readFloor.Seconds(), r.contacts)
	fmt.Fprintf(stdout, "    copy rows in         %8.2f s   (%d rows, COPY FROM STDIN into a fresh copy, one transaction, indexes maintained)\n", r.ioFloor.Seconds(), r.floorRows)
	fmt.Fprintf(stdout, "    floor                %8.2f s\n", r.floor.Seconds())
	fmt.Fprintf(stdout, "  ratio end-to-end/floor %6.2f\n", r.ratio())
	return r, nil
}

// pgNightly measures the nightly run and its floor: the contacts and the
// whole of email_schedules read with one plain SELECT each.
func pgNightly(ctx context.Context, pool *pgxpool.Pool, o *options, work string, day datecalc.Date, stdout, stderr io.Writer) (*pgResult, error) {
	if err := pgQuiet(ctx, pool, work, stderr); err != nil {
		return nil, err
	}
	start := time.Now()
	rep, err := pgRun(ctx, pool, o, work, day, stderr)
	if err != nil {
		return nil, err
	}
	r := &pgResult{run: time.Since(start), rows: *rep}
	printPGRun(stdout, r)
	if err := pgQuiet(ctx, pool, work, stderr); err != nil {
		return nil, err
	}
	w := pgx.Identifier{work}.Sanitize()
	if r.readFloor, r.contacts, err = pgReadAll(ctx, pool, fmt.Sprintf("SELECT id, email, zip_code, state, birth_date, effective_date, current_carrier, do_not_communicate FROM %s.contacts ORDER BY id", w)); err != nil {
		return nil, err
	}
	if r.ioFloor, r.floorRows, err = pgReadAll(ctx, pool, fmt.Sprintf(`SELECT contact_id, id, email_type, scheduled_send_date, status, skip_reason, priority,
		campaign_instance_id, email_template, sms_template, scheduler_run_id, event_year, event_month, event_day, catchup_note, metadata, actual_send_datetime
		FROM %s.email_schedules`, w)); err != nil {
		return nil, err
	}
	r.floor = r.readFloor + r.ioFloor
	fmt.Fprintf(stdout, "  floor (same server, same process):\n")
	fmt.Fprintf(stdout, "    read contacts        %8.2f s   (%d rows, one plain SELECT)\n", r.readFloor.Seconds(), r.contacts)
	fmt.Fprintf(stdout, "    read email_schedules %8.2f s   (%d rows, one plain SELECT)\n", r.ioFloor.Seconds(), r.floorRows)
	fmt.Fprintf(stdout, "    floor                %8.2f s\n", r.floor.Seconds())
	fmt.Fprintf(stdout, "  ratio end-to-end/floor %6.2f\n", r.ratio())
	return r, nil
}

func printPGRun(w io.Writer, r *pgResult) {
	rep := &r.rows
	fmt.Fprintf(w, "  scheduler run        %8.2f s   (counting pass %.2f s, read + plan %.2f s, write %.2f s, commit %.2f s)\n",
		r.run.Seconds(), rep.Timings.Count.Seconds(), rep.Timings.ReadPlan.Seconds(), rep.Timings.Write.Seconds(), rep.Timings.Commit.Seconds())
	fmt.Fprintf(w, "  contacts %d (valid %d, invalid %d); rows: inserted %d, updated %d, deleted %d, unchanged %d, conflicting %d, taken %d\n",
		rep.Contacts, rep.Contacts-rep.Invalid, rep.Invalid, rep.Rows.Inserted, rep.Rows.Updated, rep.Rows.Deleted, rep.Rows.Unchanged, rep.Rows.Conflicting, rep.Rows.Taken)
	fmt.Fprintf(w, "  peak RSS %s (VmHWM of the bench process so far)\n", mib(peakRSS()))
}

// pgReadAll reads every row of query without decoding it (the floor's
// plain SELECT out) and returns the time and the row count.
func pgReadAll(ctx context.Context, pool *pgxpool.Pool, query string) (time.Duration, int, error) {
	t := time.Now()
	rows, err := pool.Query(ctx, query)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for rows.Next() {
		_ = rows.RawValues()
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	return time.Since(t), n, nil
}
