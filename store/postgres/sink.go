package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// Checkpoint statuses (the status column of scheduler_checkpoints).
const (
	CheckpointRunning   = "running"
	CheckpointCompleted = "completed"
	CheckpointFailed    = "failed"
)

// plannedGuard is the condition every UPDATE and DELETE of email_schedules
// carries: only this scheduler's rows. It is written so that no index on
// status can serve it: the rows are always found through their ids (the
// primary key). Right after a first run inserted millions of planned rows,
// the statistics may still say that hardly any row is planned, and a plan
// that scanned the (status, date) index for "the few planned rows" would
// then read all of them for every batch.
const plannedGuard = `(e.status IN ('pre-scheduled', 'skipped')) IS TRUE`

// The statements of a batch. Rows are passed as arrays and joined with
// unnest, so that a batch of a thousand contacts costs a few round trips.
const (
	// lockSQL locks the rows a batch updates or deletes that are still the
	// named contact's planned rows; the others were taken. The locks hold
	// until the batch commits: the sending system cannot take a row over
	// between this check and the write.
	lockSQL = `SELECT e.id, e.contact_id FROM {schema}.email_schedules e
		JOIN unnest($1::bigint[], $2::bigint[]) AS t(id, contact_id) ON e.id = t.id AND e.contact_id = t.contact_id
		WHERE ` + plannedGuard + ` ORDER BY e.id FOR UPDATE OF e`
	deleteSQL = `DELETE FROM {schema}.email_schedules e USING unnest($1::bigint[], $2::bigint[]) AS t(id, contact_id)
		WHERE e.id = t.id AND e.contact_id = t.contact_id AND ` + plannedGuard
	updateSQL = `UPDATE {schema}.email_schedules e SET email_type = t.email_type, scheduled_send_date = t.send_date::date,
		scheduled_send_time = $16, status = t.status, skip_reason = t.skip_reason, priority = t.priority,
		campaign_instance_id = t.instance, email_template = t.template, sms_template = t.sms, scheduler_run_id = $17,
		event_year = t.ey, event_month = t.em, event_day = t.ed, catchup_note = t.note, metadata = t.metadata, updated_at = $18
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[],
			$9::text[], $10::text[], $11::int[], $12::int[], $13::int[], $14::text[], $15::text[])
			AS t(id, contact_id, email_type, send_date, status, skip_reason, priority, instance, template, sms, ey, em, ed, note, metadata)
		WHERE e.id = t.id AND e.contact_id = t.contact_id AND ` + plannedGuard
	// parkSQL moves rows out of the way of every unique index that
	// includes email_type, so that rows of one contact can swap keys.
	parkSQL = `UPDATE {schema}.email_schedules e SET email_type = '~parked~' || e.id
		FROM unnest($1::bigint[], $2::bigint[]) AS t(id, contact_id)
		WHERE e.id = t.id AND e.contact_id = t.contact_id AND ` + plannedGuard
	stagingSQL = `CREATE TEMPORARY TABLE IF NOT EXISTS emailsched_staging (
		ord integer, contact_id bigint, email_type text, send_date text, status text, skip_reason text, priority integer,
		campaign_instance_id bigint, email_template text, sms_template text, event_year integer, event_month integer,
		event_day integer, catchup_note text, metadata text)`
	// insertSQL moves the staged rows in; a row a unique index refuses is
	// left out (RowCounts.Conflicting) and the others go in.
	insertSQL = `INSERT INTO {schema}.email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
		status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at)
		SELECT contact_id, email_type, send_date::date, $1, status, skip_reason, priority, campaign_instance_id,
			email_template, sms_template, $2, event_year, event_month, event_day, catchup_note, metadata, $3, $3
		FROM emailsched_staging ORDER BY ord ON CONFLICT DO NOTHING`
	// copySQL copies new rows straight in, in the order of the batch (their
	// ids follow it, as the staging path's do).
	copySQL = `COPY {schema}.email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
		status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at) FROM STDIN`
	progressSQL = `UPDATE {schema}.scheduler_checkpoints SET contacts_processed = $2, rows_inserted = $3, rows_updated = $4,
		rows_deleted = $5, rows_unchanged = $6, rows_conflicting = $7, rows_taken = $8 WHERE id = $1`
	finishSQL = `UPDATE {schema}.scheduler_checkpoints SET status = $2, finished_at = $3, error_message = NULL,
		contacts_processed = $4, contacts_checksum = $5, rows_inserted = $6, rows_updated = $7, rows_deleted = $8,
		rows_unchanged = $9, rows_conflicting = $10, rows_taken = $11, contacts_deleted = $12, plan_load = $13
		WHERE id = $1`
	// Only the latest completed run's load is of use.
	dropLoadsSQL = `UPDATE {schema}.scheduler_checkpoints SET plan_load = NULL WHERE plan_load IS NOT NULL AND id <> $1`
	failSQL      = `UPDATE {schema}.scheduler_checkpoints SET status = $2, finished_at = $3, error_message = $4,
		contacts_processed = $5, rows_inserted = $6, rows_updated = $7, rows_deleted = $8, rows_unchanged = $9,
		rows_conflicting = $10, rows_taken = $11 WHERE id = $1 AND status = '` + CheckpointRunning + `'`
	// abandonSQL marks the rows of runs that stopped without finishing:
	// the run that holds the run lock is the only live one.
	abandonSQL = `UPDATE {schema}.scheduler_checkpoints SET status = '` + CheckpointFailed + `',
		finished_at = coalesce(finished_at, $1),
		error_message = coalesce(error_message, 'abandoned: the run stopped without finishing (its database session ended)')
		WHERE status = '` + CheckpointRunning + `' AND run_id IS NOT NULL`
	checkpointSQL = `INSERT INTO {schema}.scheduler_checkpoints (run_id, run_timestamp, started_at, run_date, status,
		rules_checksum, config_checksum, contacts_checksum, owner, contacts_processed, rows_inserted, rows_updated,
		rows_deleted, rows_unchanged, rows_conflicting, rows_taken, contacts_deleted)
		VALUES ($1, $2, $2, $3, '` + CheckpointRunning + `', $4, $5, '', $6, 0, 0, 0, 0, 0, 0, 0, 0) RETURNING id`
)

// retries bounds the attempts of a batch that meets a deadlock with the
// sending system (PostgreSQL rolls one of the two back).
const retries = 5

// progress is what a run has written: contacts and rows.
type progress struct {
	contacts int
	rows     store.RowCounts
}

func (p *progress) add(o progress) {
	p.contacts += o.contacts
	p.rows.Add(o.rows)
}

// pending is one contact's changes in the writer's buffer: del deletes,
// then upd updates, then ins inserts in rows.
type pending struct {
	contact       int64
	del, upd, ins int
}

// batchBuf is a run of contacts' changes on its way to the database: per
// pending, its deletes, updates and inserts in rows; empty counts the
// contacts without changes and the unchanged rows seen since the last
// batch.
type batchBuf struct {
	pend  []pending
	rows  []emailsched.Email
	empty progress
}

// flushed is the outcome of a batch written on its own goroutine: what it
// wrote, and its error.
type flushed struct {
	b   *batchBuf
	got progress
	err error
}

// Begin implements store.ScheduleSink. It migrates (the first time), takes
// the organisation's run lock, marks the checkpoint rows of runs that
// stopped without finishing as failed, and records the run's checkpoint
// row (status running).
//
// The run lock is a session advisory lock (pg_advisory_lock) on a key
// derived from the schema name, held by a connection taken from the pool
// for the run alone: every write of the run goes through it, and it is
// closed when the run ends. Two runs of one organisation never overlap: the
// second waits up to Options.LockTimeout, then fails with a
// *RunInProgressError. A run that crashes loses its session, and the lock
// with it.
//
// The Writer applies each contact's store.Delta under guards that never
// let it touch a row of the sending system: see Write.
func (s *Store) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	if run.ID == "" || run.SendTime == "" {
		return nil, errors.New("postgres: begin: the run has no ID or no send time")
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	// The connection leaves the pool: it holds the run lock and the
	// staging table, and is closed at the end of the run, which releases
	// both whatever state the run left it in.
	conn := pc.Hijack()
	w := &writer{s: s, run: run, conn: conn, atomic: s.opts.Atomic, copyDirect: true}
	if err := w.lock(ctx); err != nil {
		w.release()
		return nil, err
	}
	started := run.StartedAt
	if started.IsZero() {
		started = s.opts.Now()
	}
	_, err = conn.Exec(ctx, stagingSQL)
	if err == nil {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.sql(abandonSQL), s.opts.Now()); err != nil {
				return err
			}
			return tx.QueryRow(ctx, s.sql(checkpointSQL), run.ID, started, storecol.NullDate(run.Today), storecol.NullText(run.RulesChecksum),
				storecol.NullText(run.ConfigChecksum), owner()).Scan(&w.checkpoint)
		})
	}
	if err != nil {
		w.release()
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	return w, nil
}

// owner names this process in the checkpoint row: "host pid".
func owner() string {
	host, _ := os.Hostname()
	return host + " " + strconv.Itoa(os.Getpid())
}

// lock takes the run lock on the writer's connection.
func (w *writer) lock(ctx context.Context) error {
	key := lockKey("run", w.s.opts.Schema)
	wait := w.s.opts.LockTimeout
	if wait <= 0 {
		var ok bool
		if err := w.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
			return fmt.Errorf("postgres: begin: run lock: %w", err)
		}
		if !ok {
			return &RunInProgressError{Schema: w.s.opts.Schema}
		}
		w.locked = true
		return nil
	}
	w.s.opts.Logger.Debug("taking the run lock", "schema", w.s.opts.Schema, "timeout", wait.String())
	// lock_timeout bounds the wait of pg_advisory_lock, and the server
	// wakes the waiter the moment the other run's session lets go.
	ms := max(1, wait.Milliseconds())
	if _, err := w.conn.Exec(ctx, "SET lock_timeout = "+strconv.FormatInt(ms, 10)); err != nil {
		return fmt.Errorf("postgres: begin: run lock: %w", err)
	}
	_, err := w.conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key)
	if pgCode(err) == codeLockNotAvailable {
		return &RunInProgressError{Schema: w.s.opts.Schema, Waited: wait}
	}
	if err != nil {
		return fmt.Errorf("postgres: begin: run lock: %w", err)
	}
	w.locked = true
	if _, err := w.conn.Exec(ctx, "RESET lock_timeout"); err != nil {
		return fmt.Errorf("postgres: begin: run lock: %w", err)
	}
	return nil
}

type writer struct {
	s          *Store
	run        emailsched.RunInfo
	conn       *pgx.Conn // the run's own connection: the run lock, every write
	checkpoint int64
	atomic     bool
	tx         pgx.Tx // an atomic run's transaction, once begun
	locked     bool   // the run lock is held

	// buf holds the contacts buffered for the next batch, and the
	// contacts of empty Deltas since the last batch.
	buf batchBuf

	// A full batch is written on a goroutine of its own while the next
	// one fills, so that the run reads and plans while the server writes.
	// At most one batch is in flight; its outcome arrives on inflight.
	// While it is, the writing goroutine alone uses conn, tx, checkpoint
	// and copyDirect; the caller's goroutine touches only buf.
	inflight chan flushed
	spare    *batchBuf // the buffers of the last batch written, for reuse

	// copyDirect: new rows are copied straight into email_schedules
	// (cleared for the rest of the run once a unique index refused one:
	// see insert).
	copyDirect bool
	copyBuf    []byte   // the COPY data of a batch, reused
	ins        []newRow // the new rows of a batch, reused

	total  progress // committed (an atomic run: written in its transaction)
	closed bool
	err    error // a failure that ended the run: every later call returns it
	done   bool  // the checkpoint row is final (completed, or failed)
}

// KeepsLoad implements store.LoadKeeper: the checkpoint row keeps the
// load, and StoredLoad gives it back.
func (w *writer) KeepsLoad() bool { return true }

// WriteReport implements store.WriteReporter: the rows written so far
// (committed, or in an atomic run written into its transaction). PostgreSQL
// has no store-wide write lock, so LongestLock and Locked are zero: the
// sending system waits only for the rows the run is changing.
func (w *writer) WriteReport() store.WriteReport { return store.WriteReport{Rows: w.total.rows} }

// Write implements store.Writer. The contact's changes are buffered and
// written with those of the next Options.BatchContacts contacts, in one
// transaction (a run that is not atomic) or in the run's one transaction.
// A full batch is written on a goroutine while the run goes on; its error,
// if any, is returned by the Write that hands over the next batch (or by
// Commit).
//
// A batch first locks, with SELECT ... FOR UPDATE, the rows it updates or
// deletes that are still planned rows (status pre-scheduled or skipped) of
// the contact the Delta names. A contact one of whose rows is not (the
// sending system took it over or removed it, or it never was the
// contact's) keeps its previous plan: none of its changes is written, and
// the rows missing are counted in RowCounts.Taken. The rest is written
// with one DELETE and one UPDATE over unnest'ed arrays, each still
// guarded by the status, and the new rows with COPY straight into
// email_schedules. When a unique index of the organisation refuses a new
// row, the batch is written again (and so are the run's next ones) with
// its new rows going through COPY into a temporary table followed by one
// INSERT ... SELECT ... ON CONFLICT DO NOTHING, so that the rows refused
// are counted in RowCounts.Conflicting instead of failing the run.
func (w *writer) Write(ctx context.Context, d *store.Delta) error {
	if w.closed {
		return store.ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := ctx.Err(); err != nil {
		return w.fail(fmt.Errorf("postgres: write: %w", err))
	}
	if err := d.Check(); err != nil {
		return w.fail(fmt.Errorf("postgres: %w", err))
	}
	b := &w.buf
	b.empty.rows.Unchanged += d.Unchanged
	if d.Empty() {
		b.empty.contacts++
		return nil
	}
	b.pend = append(b.pend, pending{contact: d.ContactID, del: len(d.Delete), upd: len(d.Update), ins: len(d.Insert)})
	b.rows = append(b.rows, d.Delete...)
	b.rows = append(b.rows, d.Update...)
	b.rows = append(b.rows, d.Insert...)
	if len(b.pend) >= w.s.opts.BatchContacts {
		return w.flushAsync(ctx)
	}
	return nil
}

// flushAsync hands the filled buffer to a goroutine that writes it, once
// the batch before it is written, and goes on with empty buffers. An
// error of the batch in flight is returned by the next call that waits
// for it (a Write, Commit or Abort): the run ends there.
func (w *writer) flushAsync(ctx context.Context) error {
	if err := w.await(); err != nil {
		return w.fail(err)
	}
	b := &batchBuf{pend: w.buf.pend, rows: w.buf.rows, empty: w.buf.empty}
	if sp := w.spare; sp != nil {
		w.buf.pend, w.buf.rows, w.spare = sp.pend[:0], sp.rows[:0], nil
	} else {
		w.buf.pend, w.buf.rows = nil, nil
	}
	w.buf.empty = progress{}
	done := make(chan flushed, 1)
	w.inflight = done
	go func() {
		got, err := w.write(ctx, b, nil)
		done <- flushed{b: b, got: got, err: err}
	}()
	return nil
}

// await waits for the batch in flight, if any, and takes its outcome.
func (w *writer) await() error {
	if w.inflight == nil {
		return nil
	}
	f := <-w.inflight
	w.inflight = nil
	clear(f.b.rows[:cap(f.b.rows)]) // drop the references to the written strings
	w.spare = f.b
	if f.err != nil {
		return f.err
	}
	w.total.add(f.got)
	return nil
}

// Commit implements store.Writer: it writes what is buffered and completes
// the checkpoint row with the summary and its load, in the last
// transaction (an atomic run: its one transaction, committed now).
func (w *writer) Commit(ctx context.Context, sum store.Summary) error {
	if w.closed {
		return store.ErrClosed
	}
	if err := w.await(); err != nil {
		w.fail(err)
	}
	if w.err == nil {
		if err := w.flush(ctx, &sum); err != nil {
			w.fail(err)
		}
	}
	if w.err != nil {
		err := w.err
		w.finish(ctx, err)
		return err
	}
	// What the checkpoint recorded: contacts without changes never reach
	// Write, the summary knows them.
	w.total.contacts = max(w.total.contacts, sum.Contacts)
	w.total.rows.Unchanged = max(w.total.rows.Unchanged, sum.Rows.Unchanged)
	w.closed = true
	w.release()
	return nil
}

// Abort implements store.Writer: an atomic run's transaction is rolled
// back; a run that is not atomic keeps the batches it committed (whole
// contacts). The checkpoint row is marked failed with cause.
func (w *writer) Abort(ctx context.Context, cause error) error {
	if w.closed {
		return nil
	}
	if cause == nil {
		cause = errors.New("aborted")
	}
	if err := w.await(); err != nil {
		cause = fmt.Errorf("%w; and writing the last batch: %v", cause, err)
	}
	return w.finish(ctx, cause)
}

// fail records the error that ends the run.
func (w *writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// finish closes a run that did not complete: it rolls an atomic run's
// transaction back, marks the checkpoint failed and releases the lock.
func (w *writer) finish(ctx context.Context, cause error) error {
	w.closed = true
	defer w.release()
	if w.tx != nil {
		cctx, cancel := cleanupContext()
		_ = w.tx.Rollback(cctx)
		cancel()
		w.tx = nil
		w.total = progress{}
	}
	if w.done {
		return nil
	}
	w.done = true
	// The run's connection may be broken (a cancelled query closes it):
	// the failure is recorded on a connection of the pool.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r := w.total.rows
	_, err := w.s.pool.Exec(rctx, w.s.sql(failSQL), w.checkpoint, CheckpointFailed, w.s.opts.Now(), cause.Error(),
		w.total.contacts, r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken)
	if err != nil {
		return fmt.Errorf("postgres: recording the failed run: %w", err)
	}
	return nil
}

// release closes the run's connection: its session ends, and with it the
// run lock and the staging table.
func (w *writer) release() {
	if w.conn == nil {
		return
	}
	cctx, cancel := cleanupContext()
	defer cancel()
	// Unlocked first: the server ends a closed session asynchronously,
	// and a run that begins right after this one (the scheduler's
	// settling pass) must find the lock free. A broken connection cannot
	// unlock; its session, and the lock, end with it.
	if w.locked && !w.conn.IsClosed() {
		_, _ = w.conn.Exec(cctx, "SELECT pg_advisory_unlock($1)", lockKey("run", w.s.opts.Schema))
	}
	_ = w.conn.Close(cctx)
	w.conn = nil
}

// flush writes the buffered contacts on the caller's goroutine (no batch
// is in flight); with sum, it also completes the checkpoint (and commits
// an atomic run).
func (w *writer) flush(ctx context.Context, sum *store.Summary) error {
	got, err := w.write(ctx, &w.buf, sum)
	if err != nil {
		if w.atomic && sum != nil && w.tx == nil {
			w.total = progress{} // the commit failed: nothing of the run remains
		}
		return err
	}
	w.total.add(got)
	w.reset()
	if sum != nil {
		w.done = true
	}
	return nil
}

// write writes the contacts of b, each batch in one transaction (a run
// that is not atomic) or in a savepoint of the run's transaction, and
// returns what it wrote. The checkpoint records the progress (w.total,
// which no one changes while a batch is in flight, plus what b wrote);
// with sum, it is completed instead (and an atomic run commits). It runs
// on the caller's goroutine or on flushAsync's, never two at once.
func (w *writer) write(ctx context.Context, b *batchBuf, sum *store.Summary) (progress, error) {
	if w.atomic {
		return w.writeAtomic(ctx, b, sum)
	}
	var got progress
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, w.conn, func(tx pgx.Tx) error {
			// A batch before the last one does not wait for its commit
			// to reach the disk: the last one's commit does, and with it
			// every earlier one's. A crash of the server may lose the
			// last few batches committed, each whole, with the progress
			// their transactions recorded: the data stays consistent,
			// and the next run writes them again. The run thus never
			// waits for the disk but once.
			if sum == nil {
				if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
					return err
				}
			}
			var err error
			if got, err = w.batch(ctx, tx, b); err != nil {
				return err
			}
			t := w.total
			t.add(got)
			if sum != nil {
				return w.finalise(ctx, tx, t, sum)
			}
			return w.progress(ctx, tx, t)
		})
		if err == nil || !w.again(err) || attempt == retries {
			break
		}
		w.s.opts.Logger.Info("writing a batch again", "attempt", attempt, "err", err.Error())
	}
	if err != nil {
		return got, fmt.Errorf("postgres: write: %w", err)
	}
	return got, nil
}

// writeAtomic writes the contacts of b into the run's transaction, in a
// savepoint so that a deadlock retries the batch alone.
func (w *writer) writeAtomic(ctx context.Context, b *batchBuf, sum *store.Summary) (progress, error) {
	if w.tx == nil {
		tx, err := w.conn.Begin(ctx)
		if err != nil {
			return progress{}, fmt.Errorf("postgres: write: %w", err)
		}
		w.tx = tx
	}
	var got progress
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, w.tx, func(sp pgx.Tx) error { // a savepoint
			var err error
			got, err = w.batch(ctx, sp, b)
			return err
		})
		if err == nil || !w.again(err) || attempt == retries {
			break
		}
	}
	if err != nil {
		return got, fmt.Errorf("postgres: write: %w", err)
	}
	if sum == nil {
		return got, nil
	}
	t := w.total
	t.add(got)
	if err := w.finalise(ctx, w.tx, t, sum); err != nil {
		return got, fmt.Errorf("postgres: commit: %w", err)
	}
	err = w.tx.Commit(ctx)
	w.tx = nil
	if err != nil {
		return got, fmt.Errorf("postgres: commit: %w", err)
	}
	return got, nil
}

func (w *writer) reset() {
	clear(w.buf.rows)
	w.buf.pend, w.buf.rows, w.buf.empty = w.buf.pend[:0], w.buf.rows[:0], progress{}
}

func (w *writer) progress(ctx context.Context, tx pgx.Tx, t progress) error {
	r := t.rows
	_, err := tx.Exec(ctx, w.s.sql(progressSQL), w.checkpoint, t.contacts, r.Inserted, r.Updated, r.Deleted, r.Unchanged,
		r.Conflicting, r.Taken)
	return err
}

// finalise completes the checkpoint with the totals t and the summary.
func (w *writer) finalise(ctx context.Context, tx pgx.Tx, t progress, sum *store.Summary) error {
	// Contacts without changes may never reach Write: the summary knows
	// how many contacts and unchanged rows the run had.
	t.contacts = max(t.contacts, sum.Contacts)
	t.rows.Unchanged = max(t.rows.Unchanged, sum.Rows.Unchanged)
	load, err := storecol.EncodeLoad(sum.Load)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if _, err := tx.Exec(ctx, w.s.sql(dropLoadsSQL), w.checkpoint); err != nil {
		return err
	}
	r := t.rows
	_, err = tx.Exec(ctx, w.s.sql(finishSQL), w.checkpoint, CheckpointCompleted, w.s.opts.Now(), t.contacts,
		fmt.Sprintf("%016x", sum.ContactsChecksum), r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken,
		sum.DeletedContacts, load)
	return err
}

// batch writes the contacts of b in tx and returns what it wrote.
func (w *writer) batch(ctx context.Context, tx pgx.Tx, b *batchBuf) (progress, error) {
	got := b.empty
	got.contacts += len(b.pend)
	if len(b.pend) == 0 {
		return got, nil
	}
	// The rows to change, and which of them are still the contacts'.
	var ids, owners []int64
	off := 0
	for _, p := range b.pend {
		for _, e := range b.rows[off : off+p.del+p.upd] {
			ids, owners = append(ids, e.ID), append(owners, p.contact)
		}
		off += p.del + p.upd + p.ins
	}
	ours := map[[2]int64]bool{} // {id, contact}
	if len(ids) > 0 {
		rows, err := tx.Query(ctx, w.s.sql(lockSQL), ids, owners)
		if err != nil {
			return got, err
		}
		var id, contact int64
		_, err = pgx.ForEachRow(rows, []any{&id, &contact}, func() error {
			ours[[2]int64{id, contact}] = true
			return nil
		})
		if err != nil {
			return got, err
		}
	}
	var del, upd columns
	ins := w.ins[:0]
	defer func() { clear(ins); w.ins = ins[:0] }()
	off = 0
	for _, p := range b.pend {
		rows := b.rows[off : off+p.del+p.upd+p.ins]
		off += len(rows)
		taken := 0
		for _, e := range rows[:p.del+p.upd] {
			if !ours[[2]int64{e.ID, p.contact}] {
				taken++
			}
		}
		if taken > 0 { // the contact keeps its previous plan
			got.rows.Taken += taken
			continue
		}
		for i := range rows[:p.del] {
			del.key(rows[i].ID, p.contact)
		}
		for i := p.del; i < p.del+p.upd; i++ {
			upd.key(rows[i].ID, p.contact)
			upd.content(&rows[i])
		}
		for i := p.del + p.upd; i < len(rows); i++ {
			ins = append(ins, newRow{p.contact, &rows[i]})
		}
	}
	now := w.s.opts.Now()
	if len(del.ids) > 0 {
		tag, err := tx.Exec(ctx, w.s.sql(deleteSQL), del.ids, del.contacts)
		if err != nil {
			return got, fmt.Errorf("delete: %w", err)
		}
		if n := int(tag.RowsAffected()); n != len(del.ids) {
			return got, fmt.Errorf("delete: %d of %d locked rows deleted", n, len(del.ids))
		}
		got.rows.Deleted += len(del.ids)
	}
	if len(upd.ids) > 0 {
		if err := w.update(ctx, tx, &upd, now, &got.rows); err != nil {
			return got, fmt.Errorf("update: %w", err)
		}
	}
	if len(ins) > 0 {
		if err := w.insert(ctx, tx, ins, now, &got.rows); err != nil {
			return got, fmt.Errorf("insert: %w", err)
		}
	}
	return got, nil
}

// update rewrites the rows of u in one statement. When a unique index
// refuses it (rows of one contact swapping keys, or a key a history row
// holds), it parks the rows out of the indexes' way and updates them one
// by one; a row that still collides is deleted and counted as Conflicting,
// as the SQLite adapter does.
func (w *writer) update(ctx context.Context, tx pgx.Tx, u *columns, now time.Time, got *store.RowCounts) error {
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		tag, err := sp.Exec(ctx, w.s.sql(updateSQL), u.args(w.run.SendTime, w.run.ID, now)...)
		if err != nil {
			return err
		}
		if n := int(tag.RowsAffected()); n != len(u.ids) {
			return fmt.Errorf("%d of %d locked rows updated", n, len(u.ids))
		}
		return nil
	})
	if err == nil {
		got.Updated += len(u.ids)
		return nil
	}
	if pgCode(err) != codeUniqueViolation {
		return err
	}
	if _, err := tx.Exec(ctx, w.s.sql(parkSQL), u.ids, u.contacts); err != nil {
		return err
	}
	for i := range u.ids {
		one := u.slice(i)
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			_, err := sp.Exec(ctx, w.s.sql(updateSQL), one.args(w.run.SendTime, w.run.ID, now)...)
			return err
		})
		switch {
		case err == nil:
			got.Updated++
		case pgCode(err) == codeUniqueViolation:
			if _, err := tx.Exec(ctx, w.s.sql(deleteSQL), one.ids, one.contacts); err != nil {
				return err
			}
			got.Deleted++
			got.Conflicting++
		default:
			return err
		}
	}
	return nil
}

// insert writes the new rows of a batch. While the run may, they are
// copied straight into email_schedules (COPY FROM STDIN): each row is
// written once. When a unique index refuses one of them, the batch fails
// with errCopyRefused, and write runs it again, and the rest of the run,
// with the rows going through the staging table, where ON CONFLICT DO
// NOTHING leaves out the rows refused.
func (w *writer) insert(ctx context.Context, tx pgx.Tx, rows []newRow, now time.Time, got *store.RowCounts) error {
	if !w.copyDirect {
		var c columns
		for _, r := range rows {
			c.key(0, r.contact)
			c.content(r.e)
		}
		return w.insertStaged(ctx, tx, &c, now, got)
	}
	w.copyBuf = w.copyRows(w.copyBuf[:0], rows, now)
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(w.copyBuf), w.s.sql(copySQL))
	if len(w.copyBuf) > 16<<20 {
		w.copyBuf = nil // an unusually large batch: not kept for the next one
	}
	if pgCode(err) == codeUniqueViolation {
		return fmt.Errorf("%w: %w", errCopyRefused, err)
	}
	if err != nil {
		return err
	}
	got.Inserted += int(tag.RowsAffected())
	return nil
}

// errCopyRefused: a unique index of email_schedules refused a row copied
// straight in. The batch is written again through the staging table.
var errCopyRefused = errors.New("a unique index refused a new row")

// again reports whether a batch that failed with err is written again:
// after a deadlock or a serialization failure, or through the staging
// table when a unique index refused a row copied straight in.
func (w *writer) again(err error) bool {
	if errors.Is(err, errCopyRefused) && w.copyDirect {
		w.copyDirect = false
		w.s.opts.Logger.Info("a unique index of email_schedules refused a new row: inserting through the staging table from now on")
		return true
	}
	return retryable(err)
}

// newRow is a new row of a batch: its contact and its content.
type newRow struct {
	contact int64
	e       *emailsched.Email
}

// copyRows appends rows to b in COPY's text format, in the columns of
// copySQL, with the values the staging path writes (NULL for an empty
// text, a zero campaign instance or a zero event date).
func (w *writer) copyRows(b []byte, rows []newRow, now time.Time) []byte {
	stamp := now.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
	for _, r := range rows {
		e := r.e
		b = strconv.AppendInt(b, r.contact, 10)
		b = copyField(b, string(e.Type))
		b = append(b, '\t')
		b = e.Date.AppendFormat(b)
		b = copyField(b, w.run.SendTime)
		b = copyField(b, string(e.Status))
		b = copyNullable(b, string(e.SkipReason))
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(int32(e.Priority)), 10)
		b = append(b, '\t')
		if e.CampaignInstanceID != 0 {
			b = strconv.AppendInt(b, e.CampaignInstanceID, 10)
		} else {
			b = append(b, `\N`...)
		}
		b = copyNullable(b, e.EmailTemplate)
		b = copyNullable(b, e.SMSTemplate)
		b = copyField(b, w.run.ID)
		if e.Event.IsZero() {
			b = append(b, "\t\\N\t\\N\t\\N"...)
		} else {
			y, m, d := e.Event.Date()
			b = append(b, '\t')
			b = strconv.AppendInt(b, int64(int32(y)), 10)
			b = append(b, '\t')
			b = strconv.AppendInt(b, int64(int32(m)), 10)
			b = append(b, '\t')
			b = strconv.AppendInt(b, int64(int32(d)), 10)
		}
		b = copyNullable(b, e.CatchUpNote)
		b = copyNullable(b, e.Metadata)
		b = copyField(b, stamp)
		b = copyField(b, stamp)
		b = append(b, '\n')
	}
	return b
}

// copyField appends a tab and s, escaped for COPY's text format.
func copyField(b []byte, s string) []byte {
	b = append(b, '\t')
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

// copyNullable appends a tab and s, NULL when it is empty.
func copyNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "\t\\N"...)
	}
	return copyField(b, s)
}

// insertStaged copies the new rows into the staging table and moves them
// in.
func (w *writer) insertStaged(ctx context.Context, tx pgx.Tx, c *columns, now time.Time, got *store.RowCounts) error {
	if _, err := tx.Exec(ctx, "TRUNCATE emailsched_staging"); err != nil {
		return err
	}
	n := len(c.contacts)
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"emailsched_staging"}, []string{"ord", "contact_id", "email_type", "send_date",
		"status", "skip_reason", "priority", "campaign_instance_id", "email_template", "sms_template", "event_year",
		"event_month", "event_day", "catchup_note", "metadata"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return []any{int32(i), c.contacts[i], c.types[i], c.dates[i], c.statuses[i], c.skips[i], c.priorities[i],
				c.instances[i], c.templates[i], c.sms[i], c.years[i], c.months[i], c.days[i], c.notes[i], c.metadata[i]}, nil
		}))
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, w.s.sql(insertSQL), w.run.SendTime, w.run.ID, now)
	if err != nil {
		return err
	}
	ins := int(tag.RowsAffected())
	got.Inserted += ins
	got.Conflicting += n - ins
	return nil
}

// columns holds rows of a batch column by column, as the statements take
// them.
type columns struct {
	ids, contacts                          []int64
	types, dates, statuses                 []string
	skips, templates, sms, notes, metadata []pgtype.Text
	priorities                             []int32
	instances                              []pgtype.Int8
	years, months, days                    []pgtype.Int4
}

func (c *columns) key(id, contact int64) {
	c.ids, c.contacts = append(c.ids, id), append(c.contacts, contact)
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func (c *columns) content(e *emailsched.Email) {
	var y, m, d pgtype.Int4
	if !e.Event.IsZero() {
		yy, mm, dd := e.Event.Date()
		y, m, d = pgtype.Int4{Int32: int32(yy), Valid: true}, pgtype.Int4{Int32: int32(mm), Valid: true}, pgtype.Int4{Int32: int32(dd), Valid: true}
	}
	c.types = append(c.types, string(e.Type))
	c.dates = append(c.dates, e.Date.String())
	c.statuses = append(c.statuses, string(e.Status))
	c.skips = append(c.skips, text(string(e.SkipReason)))
	c.priorities = append(c.priorities, int32(e.Priority))
	c.instances = append(c.instances, pgtype.Int8{Int64: e.CampaignInstanceID, Valid: e.CampaignInstanceID != 0})
	c.templates = append(c.templates, text(e.EmailTemplate))
	c.sms = append(c.sms, text(e.SMSTemplate))
	c.years, c.months, c.days = append(c.years, y), append(c.months, m), append(c.days, d)
	c.notes = append(c.notes, text(e.CatchUpNote))
	c.metadata = append(c.metadata, text(e.Metadata))
}

// args are the arguments of updateSQL.
func (c *columns) args(sendTime, runID string, now time.Time) []any {
	return []any{c.ids, c.contacts, c.types, c.dates, c.statuses, c.skips, c.priorities, c.instances, c.templates, c.sms,
		c.years, c.months, c.days, c.notes, c.metadata, sendTime, runID, now}
}

// slice returns row i alone.
func (c *columns) slice(i int) *columns {
	return &columns{ids: c.ids[i : i+1], contacts: c.contacts[i : i+1], types: c.types[i : i+1], dates: c.dates[i : i+1],
		statuses: c.statuses[i : i+1], skips: c.skips[i : i+1], priorities: c.priorities[i : i+1],
		instances: c.instances[i : i+1], templates: c.templates[i : i+1], sms: c.sms[i : i+1], years: c.years[i : i+1],
		months: c.months[i : i+1], days: c.days[i : i+1], notes: c.notes[i : i+1], metadata: c.metadata[i : i+1]}
}
