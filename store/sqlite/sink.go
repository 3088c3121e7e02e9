package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// timeLayout is the text form of the timestamps the adapter writes (UTC,
// the form of SQLite's CURRENT_TIMESTAMP).
const timeLayout = "2006-01-02 15:04:05"

// The guard every UPDATE and DELETE carries: only this scheduler's rows.
const plannedGuard = ` AND status IN ('pre-scheduled','skipped')`

const (
	insertHead = `INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
		status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at)
		VALUES `
	insertRow = `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	// insertConflict: a row that a unique index (any of them) refuses is
	// not inserted and the statement goes on with the next row; the
	// statement's changes count the rows inserted, and the others are
	// RowCounts.Conflicting. Unlike OR IGNORE, an upsert without a
	// conflict target covers uniqueness alone: a NOT NULL, CHECK or
	// foreign key failure still fails the statement.
	insertConflict = ` ON CONFLICT DO NOTHING`
	insertSQL      = insertHead + insertRow + insertConflict
	updateSQL      = `UPDATE email_schedules SET email_type=?, scheduled_send_date=?, scheduled_send_time=?, status=?,
		skip_reason=?, priority=?, campaign_instance_id=?, email_template=?, sms_template=?, scheduler_run_id=?,
		event_year=?, event_month=?, event_day=?, catchup_note=?, metadata=?, updated_at=?
		WHERE id=? AND contact_id=?` + plannedGuard
	deleteSQL = `DELETE FROM email_schedules WHERE id=? AND contact_id=?` + plannedGuard
	// parkSQL moves a row out of the way of every unique index (email_type
	// is part of both unique indexes existing databases carry) inside a
	// transaction, so that rows of one contact can swap their keys.
	parkSQL = `UPDATE email_schedules SET email_type='~parked~'||id WHERE id=? AND contact_id=?` + plannedGuard
	// stillPlannedSQL counts the rows of a contact that are still its
	// planned rows, to count what the sending system took.
	stillPlannedSQL = `SELECT count(*) FROM email_schedules WHERE id=? AND contact_id=?` + plannedGuard
	// progressSQL records a batch's counts; its status guard fails when
	// another run took the run lock over (ErrRunLockLost).
	progressSQL = `UPDATE scheduler_checkpoints SET contacts_processed=?, rows_inserted=?, rows_updated=?, rows_deleted=?,
		rows_unchanged=?, rows_conflicting=?, rows_taken=? WHERE rowid=? AND status='` + CheckpointRunning + `'`
	// Only the latest completed run's load is of use: older ones are
	// dropped so that the checkpoint table does not grow by the load's
	// size (tens of kilobytes) every night.
	dropLoadsSQL = `UPDATE scheduler_checkpoints SET plan_load=NULL WHERE plan_load IS NOT NULL AND rowid<>?`
)

// multiRows is the number of rows of one INSERT of a bulk write: one
// statement per row costs a third more than one per hundred rows.
const multiRows = 100

// multiInsertSQL inserts multiRows rows.
var multiInsertSQL = insertHead + strings.TrimSuffix(strings.Repeat(insertRow+",", multiRows), ",") + insertConflict

// progress is what a run has written: contacts and rows.
type progress struct {
	contacts int
	rows     store.RowCounts
}

func (p *progress) add(o progress) {
	p.contacts += o.contacts
	p.rows.Add(o.rows)
}

// Begin implements store.ScheduleSink. Before anything changes it checks
// that the database can be written safely (see Migrate); it then takes the
// optional backup (Options.Backup), migrates what is missing, takes the
// run lock and records a checkpoint row with status "running", and
// returns a Writer. A database opened read-only is refused with
// store.ErrReadOnly, and one that another run is working on with
// ErrRunInProgress (after waiting up to Options.LockWait).
//
// # When the run writes
//
// The sending system cannot write while a run holds the database's write
// lock, so a run holds it briefly:
//   - A run that is not atomic (the default) writes in short transactions
//     of whole contacts: at most Options.BatchContacts contacts and about
//     200 ms each, with a pause after a long one so that a waiting writer
//     gets its turn. In WAL mode it writes them while it reads, on a
//     goroutine of its own (readers never block writers there); in
//     rollback-journal mode, where its own reading would block its
//     commits, it keeps them (in memory, or past Options.BufferRows in a
//     temporary file) and writes them once it has read everything.
//   - An atomic run keeps its changes in memory (past Options.BufferRows,
//     in a temporary file) and applies them at Commit in one transaction:
//     the sending system waits while all of them are written (seconds for
//     a nightly run of a million contacts, about a minute for a first
//     run). So does a run with Options.BulkWrites whose changes are large.
//
// # Bulk writes
//
// A run that writes in one transaction and changes at least half of
// email_schedules' rows (and 20,000 rows; a first run, or new rules that
// re-plan most rows) drops the table's secondary indexes inside that
// transaction, writes, and creates them again from the statements
// sqlite_master holds, with their ANALYZE statistics, before it commits:
// the indexes are built once from sorted rows instead of being kept up to
// date row by row. Indexes that enforce uniqueness stay, and so do the
// triggers. Other connections see the database as it was, indexes
// included, until the commit; a crash rolls the drop back with the rest.
// Store.LastWrite says what the last run did.
//
// The writer reports the longest time it held the lock in one stretch
// (store.WriteReport.LongestLock), and the scheduler's summary prints it.
//
// # Atomicity
//
// An atomic run is one transaction: after a crash or a failure the
// previous plan is intact. Otherwise the unit of atomicity is the batch of
// whole contacts: at any moment, and after a crash, every contact has
// either its complete old plan or its complete new plan, and running
// again finishes the job. Commit writes the last batch and finalises the
// checkpoint in the same transaction. Abort discards what was not
// committed and records the failure.
//
// # Guards
//
// Every UPDATE and DELETE carries "AND status IN ('pre-scheduled',
// 'skipped')" and the contact id, and must change one row. A row whose
// guard fails stopped being this scheduler's after the run read it (the
// sending system took it over, or removed it): the contact's changes are
// rolled back to a savepoint, the contact keeps its previous plan, the row
// is counted in RowCounts.Taken, and the run goes on; the next run plans
// the contact afresh. So is a contact whose changes a foreign key refuses
// (a connection with foreign keys on, the contact deleted meanwhile).
// Rows written get the run id, and created_at/updated_at.
//
// # Unique indexes
//
// Existing databases may have a unique index on (contact_id, email_type,
// event_year) or (contact_id, email_type, scheduled_send_date). When an
// update of a contact collides with another of its rows (two rows swap
// their keys), the contact's remaining updates are parked (email_type set
// to a unique placeholder inside the transaction) and applied again. A row
// that still collides (the plan itself, or a history row, already holds the
// key) cannot be stored: it is left out (an insert) or deleted (an update)
// and counted in RowCounts.Conflicting; never sending an email is the safe
// side.
//
// # Failures
//
// SQLITE_BUSY and SQLITE_LOCKED roll the transaction back and retry it
// with bounded exponential backoff (Options.Retry), logging what the run
// waits for. Any other error rolls the transaction back, records status
// "failed" and the error in the checkpoint, and is returned (wrapped) by
// Write or Commit; the Writer is then unusable.
func (s *Store) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	if run.ID == "" || run.SendTime == "" {
		return nil, errors.New("sqlite: begin: the run has no ID or no send time")
	}
	if err := s.writable(ctx); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if s.opts.Backup.Dir != "" {
		path, err := s.Backup(ctx, s.opts.Backup.Dir)
		if err != nil {
			return nil, err
		}
		s.opts.Logger.Info("backup written", "path", path)
		pruned, err := s.PruneBackups(ctx, s.opts.Backup.Dir)
		if err != nil {
			return nil, err
		}
		for _, p := range pruned {
			s.opts.Logger.Info("old backup deleted", "path", p)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	w := &writer{s: s, run: run, conn: conn, sendTime: run.SendTime}
	if err := w.prepare(ctx); err != nil {
		w.release()
		return nil, err
	}
	started := run.StartedAt
	if started.IsZero() {
		started = s.opts.Now()
	}
	if w.checkpoint, err = s.acquire(ctx, conn, w.layout, run, started.UTC().Format(timeLayout)); err != nil {
		w.release()
		return nil, err
	}
	w.hbStop, w.hbDone = make(chan struct{}), make(chan struct{})
	go s.heartbeat(w.checkpoint, w.hbStop, w.hbDone)
	return w, nil
}

// check is preflight on a connection of its own.
func (s *Store) check(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer conn.Close()
	return preflight(ctx, conn)
}

// prepare learns the database's journal mode, foreign keys and checkpoint
// layout, and prepares the statements.
func (w *writer) prepare(ctx context.Context) error {
	var mode string
	var fk int
	if err := w.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := w.conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	w.wal, w.fk = strings.EqualFold(mode, "wal"), fk != 0
	if w.wal {
		// The writer checkpoints the log itself after its commits, where
		// SQLite's automatic checkpoint would, so that their time is known
		// (WriteStats); release gives the connection its setting back.
		if err := w.conn.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&w.autoCheckpoint); err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		if _, err := w.conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
	}
	// In WAL mode the run's reading never blocks its writing, and a run in
	// short transactions writes as it goes, on a goroutine of its own: the
	// write overlaps the read, and each transaction holds the lock briefly.
	// A run that may write in bulk writes once it has read everything, when
	// it knows how many rows it changes (see commitRows).
	w.atomic = w.s.opts.Atomic
	w.bulkOK = w.s.opts.Atomic || w.s.opts.BulkWrites
	w.streaming = w.wal && !w.bulkOK
	var err error
	if w.layout, err = readLayout(ctx, w.conn); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{{&w.ins, insertSQL}, {&w.upd, updateSQL}, {&w.del, deleteSQL}, {&w.park, parkSQL}, {&w.still, stillPlannedSQL},
		{&w.prog, progressSQL}, {&w.finish, w.layout.finishSQL()},
		{&w.savepoint, "SAVEPOINT emailsched_contact"}, {&w.releaseSP, "RELEASE emailsched_contact"},
		{&w.rollbackSP, "ROLLBACK TO emailsched_contact"}} {
		var err error
		if *p.stmt, err = w.conn.PrepareContext(ctx, p.q); err != nil {
			return fmt.Errorf("sqlite: begin: prepare: %w", err)
		}
	}
	return nil
}

type writer struct {
	s        *Store
	run      emailsched.RunInfo
	conn     *sql.Conn
	sendTime string
	layout   checkpointLayout
	// wal: the database is in WAL mode, where a run may write while it
	// reads; fk: the connection enforces foreign keys.
	wal, fk bool
	// atomic: the run writes in one transaction (Options.Atomic, or a run
	// with Options.BulkWrites whose changes are large); bulkOK: it may
	// write in bulk (see bulk.go); stats: how it wrote (Store.LastWrite);
	// idx: the indexes a bulk run dropped.
	atomic, bulkOK bool
	stats          WriteStats
	idx            []secondaryIndex
	// autoCheckpoint is the connection's wal_autocheckpoint (pages) before
	// the run took it over; lastCheckpoint is when the writer last
	// checkpointed.
	autoCheckpoint int
	lastCheckpoint time.Time
	// A bulk write inserts the rows of contacts that only get new rows
	// multiRows at a time: queued holds them until then, insMulti is the
	// statement.
	queued   []queuedRow
	insMulti *sql.Stmt

	ins, upd, del, park, still, prog, finish *sql.Stmt
	savepoint, releaseSP, rollbackSP         *sql.Stmt

	checkpoint int64 // rowid of the checkpoint row

	// buf holds the changes not yet handed to the database. Past
	// BufferRows they go to the database as they come (streaming, WAL
	// mode) or to spill (rollback-journal mode).
	buf       batchBuf
	streaming bool
	spill     *spill
	total     progress // committed (for an atomic run: written in its transaction)
	args      []any

	// While streaming, a full batch is written on a goroutine of its own
	// while the next one fills, so that the run reads and plans while the
	// database writes. At most one batch is in flight; its outcome arrives
	// on inflight. The writing goroutine uses the connection, the
	// statements, args, open, lock and the checkpoint; the others are the
	// caller's.
	inflight chan flushed
	spare    *batchBuf // the buffers of the last written batch, for reuse

	lock lockClock

	hbStop, hbDone chan struct{} // the run lock's heartbeat

	err      error // the failure that made the writer unusable
	recorded bool  // err is recorded in the checkpoint
	closed   bool
	open     bool // Atomic: the run's transaction is open
}

// queuedRow is a row a bulk write inserts with others.
type queuedRow struct {
	contact int64
	e       *emailsched.Email
}

type pending struct {
	contact       int64
	del, upd, ins int
}

// batchBuf is a run of contacts' changes on its way to the database: per
// pending, its deletes, updates and inserts in rows; empty counts the
// contacts without changes and the unchanged rows seen with it.
type batchBuf struct {
	pend  []pending
	rows  []emailsched.Email
	empty progress
}

// flushed is the outcome of a batch written on its own goroutine: what it
// committed, and its error.
type flushed struct {
	b   *batchBuf
	got progress
	err error
}

// lockClock measures how long the writer holds the write lock.
type lockClock struct {
	since            time.Time // zero when not held
	longest, overall time.Duration
	// free is when a transaction that is not atomic may take the lock
	// again (see yieldAfter).
	free time.Time
}

func (l *lockClock) held() {
	if l.since.IsZero() {
		l.since = time.Now()
	}
}

func (l *lockClock) released() {
	if l.since.IsZero() {
		return
	}
	d := time.Since(l.since)
	l.since = time.Time{}
	l.longest = max(l.longest, d)
	l.overall += d
	l.free = time.Now().Add(yieldAfter(d))
}

// WriteReport implements store.WriteReporter: the rows committed so far,
// and how long the write lock was held.
// KeepsLoad implements store.LoadKeeper: the checkpoint keeps the load,
// StoredLoad gives it back.
func (w *writer) KeepsLoad() bool { return true }

func (w *writer) WriteReport() store.WriteReport {
	return store.WriteReport{Rows: w.total.rows, LongestLock: w.lock.longest, Locked: w.lock.overall}
}

func (w *writer) Write(ctx context.Context, d *store.Delta) error {
	if w.closed {
		return store.ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := ctx.Err(); err != nil {
		return w.failWrite(fmt.Errorf("sqlite: write: %w", err))
	}
	if err := d.Check(); err != nil {
		return w.failWrite(fmt.Errorf("sqlite: %w", err))
	}
	w.buf.empty.rows.Unchanged += d.Unchanged
	if d.Empty() {
		w.buf.empty.contacts++
		return nil
	}
	p := pending{contact: d.ContactID, del: len(d.Delete), upd: len(d.Update), ins: len(d.Insert)}
	if w.spill != nil {
		rows := append(append(append(w.buf.rows[:0], d.Delete...), d.Update...), d.Insert...)
		err := w.spill.add(p, rows)
		clear(rows)
		if err != nil {
			return w.failWrite(fmt.Errorf("sqlite: write: %w", err))
		}
		return nil
	}
	w.buf.pend = append(w.buf.pend, p)
	w.buf.rows = append(w.buf.rows, d.Delete...)
	w.buf.rows = append(w.buf.rows, d.Update...)
	w.buf.rows = append(w.buf.rows, d.Insert...)
	switch {
	case w.streaming:
		if len(w.buf.pend) >= w.s.opts.BatchContacts {
			return w.flushAsync(ctx)
		}
	case len(w.buf.rows) > w.s.opts.BufferRows:
		return w.overflow(ctx)
	}
	return nil
}

// overflow moves a run whose changes outgrew the buffer to writing as it
// reads (WAL mode) or to a spill file (rollback-journal mode).
func (w *writer) overflow(ctx context.Context) error {
	if w.wal && !w.bulkOK {
		w.s.opts.Logger.Info("the run changes many rows: writing them while it reads", "rows_so_far", len(w.buf.rows))
		w.streaming = true
		return w.flushAsync(ctx)
	}
	sp, err := newSpill()
	if err != nil {
		return w.failWrite(err)
	}
	w.s.opts.Logger.Info("the run changes many rows: keeping them in a temporary file until it has read everything",
		"rows_so_far", len(w.buf.rows))
	w.spill = sp
	off := 0
	for _, p := range w.buf.pend {
		n := p.del + p.upd + p.ins
		if err := sp.add(p, w.buf.rows[off:off+n]); err != nil {
			return w.failWrite(fmt.Errorf("sqlite: write: %w", err))
		}
		off += n
	}
	clear(w.buf.rows)
	w.buf.pend, w.buf.rows = nil, nil
	return nil
}

// flushAsync hands the filled buffer to a goroutine that writes it, after
// the previous one is written, and continues with empty buffers.
func (w *writer) flushAsync(ctx context.Context) error {
	if err := w.await(); err != nil {
		return w.failWrite(err)
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
	base := w.total
	go func() {
		got, err := w.write(ctx, b, base, nil)
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
	clear(f.b.rows[:cap(f.b.rows)]) // drop references to the written strings
	w.spare = f.b
	w.total.add(f.got) // what committed, even when a later batch failed
	return f.err
}

// decideBulk decides, once the run has read everything, whether it writes
// in bulk: when it may (Options.Atomic or Options.BulkWrites) and its
// changes are a large share of email_schedules. A run that writes in bulk
// writes in one transaction.
func (w *writer) decideBulk(ctx context.Context) error {
	if !w.bulkOK || w.streaming {
		return nil
	}
	n := len(w.buf.rows)
	if w.spill != nil {
		n = w.spill.rows
	}
	ok, err := large(ctx, w.conn, n)
	if err != nil || !ok {
		return err
	}
	w.stats.Bulk, w.atomic = true, true
	w.s.opts.Logger.Info("bulk write: the run changes a large share of email_schedules; its secondary indexes are created again before the commit",
		"rows", n, "atomic", w.s.opts.Atomic)
	return nil
}

func (w *writer) Commit(ctx context.Context, sum store.Summary) error {
	if w.closed {
		return store.ErrClosed
	}
	if w.err != nil {
		w.closed = true
		w.release()
		return w.err
	}
	err := w.commit(ctx, &sum)
	if err == nil {
		w.s.mu.Lock()
		w.s.lastWrite = w.stats
		w.s.mu.Unlock()
	}
	w.closed = true
	w.release()
	return err
}

// commit writes what is left and finalises the checkpoint with sum.
func (w *writer) commit(ctx context.Context, sum *store.Summary) error {
	if err := w.commitRows(ctx, sum); err != nil {
		return err
	}
	// What the checkpoint recorded: contacts without changes never reach
	// Write, the summary knows them.
	w.total.contacts = max(w.total.contacts, sum.Contacts)
	w.total.rows.Unchanged = max(w.total.rows.Unchanged, sum.Rows.Unchanged)
	return nil
}

func (w *writer) commitRows(ctx context.Context, sum *store.Summary) error {
	if err := w.await(); err != nil {
		return w.fail(err)
	}
	if err := w.decideBulk(ctx); err != nil {
		return w.fail(err)
	}
	if w.spill == nil {
		got, err := w.write(ctx, &w.buf, w.total, sum)
		w.total.add(got)
		if err != nil {
			return w.fail(err)
		}
		return nil
	}
	next, err := w.spill.reader(w.s.opts.BatchContacts)
	if err != nil {
		return w.fail(err)
	}
	for left := w.spill.n; ; {
		b, err := next()
		if err != nil {
			return w.fail(err)
		}
		left -= len(b.pend)
		final := (*store.Summary)(nil)
		if left == 0 {
			b.empty, final = w.buf.empty, sum
		}
		got, err := w.write(ctx, b, w.total, final)
		w.total.add(got)
		if err != nil {
			return w.fail(err)
		}
		if final != nil {
			return nil
		}
	}
}

func (w *writer) Abort(ctx context.Context, cause error) error {
	if w.closed {
		return nil
	}
	w.closed = true
	flushErr := w.await()
	w.release()
	if w.atomic {
		w.total = progress{} // the run's transaction was rolled back
	}
	if w.recorded {
		return nil
	}
	msg := "aborted"
	if cause != nil {
		msg = cause.Error()
	}
	if flushErr != nil {
		msg += "; and writing the last batch: " + flushErr.Error()
	}
	return w.record(ctx, msg)
}

// maxTxTime bounds a write transaction of a run that is not atomic: while
// it lasts the sending system cannot write, so a transaction commits once
// it has held the lock this long (or has Options.BatchContacts contacts),
// at a contact's boundary.
const maxTxTime = 200 * time.Millisecond

// yieldAfter is how long a run that is not atomic leaves the write lock
// free after a transaction that held it for d, before its next one. A
// connection waiting for the lock (the sending system's) polls with
// SQLite's busy handler, every 100 ms once it has waited a while: back to
// back transactions would starve it. Short transactions need no pause.
func yieldAfter(d time.Duration) time.Duration {
	if d < 20*time.Millisecond {
		return 0
	}
	return min(100*time.Millisecond, d/2)
}

// write writes the contacts of b: in an atomic run into the run's one
// transaction, else in transactions of at most Options.BatchContacts
// contacts and about maxTxTime each. Each transaction records the
// checkpoint's progress (base plus what it wrote), or, when sum is set, the
// last one finalises it with sum. It returns what it committed (an atomic
// run: wrote). It runs with no other write in flight, on the caller's
// goroutine or on flushAsync's.
func (w *writer) write(ctx context.Context, b *batchBuf, base progress, sum *store.Summary) (progress, error) {
	var committed progress
	now := w.s.opts.Now().UTC().Format(timeLayout)
	atomic := w.atomic
	for start, off := 0, 0; ; {
		var got progress
		var end, o int
		err := w.tx(ctx, sum != nil, func() error {
			got, end, o = progress{}, start, off
			w.queued = w.queued[:0] // a retried transaction starts afresh
			if start == 0 {
				got = b.empty
			}
			deadline := time.Now().Add(maxTxTime)
			for end < len(b.pend) && (atomic || end-start < w.s.opts.BatchContacts) {
				p := b.pend[end]
				n := p.del + p.upd + p.ins
				// In a bulk write, the rows of contacts that only get new
				// rows (no guard, no savepoint) go in many to a statement.
				if w.stats.Bulk && !w.fk && p.del+p.upd == 0 {
					if err := w.queue(ctx, p.contact, b.rows[o:o+n], now, &got.rows); err != nil {
						return err
					}
				} else {
					if err := w.insertQueued(ctx, now, &got.rows); err != nil {
						return err
					}
					if err := w.contact(ctx, p, b.rows[o:o+n], now, &got.rows); err != nil {
						return err
					}
				}
				o += n
				end++
				if !atomic && time.Now().After(deadline) {
					break
				}
			}
			if err := w.insertQueued(ctx, now, &got.rows); err != nil {
				return err
			}
			got.contacts += end - start
			t := base
			t.add(committed)
			t.add(got)
			if sum != nil && end == len(b.pend) {
				return w.finalise(ctx, t, sum, now)
			}
			return w.recordProgress(ctx, t)
		})
		if err != nil {
			return committed, err
		}
		committed.add(got)
		if end == len(b.pend) {
			return committed, nil
		}
		start, off = end, o
	}
}

// queue queues the new rows of a contact, and inserts them when multiRows
// are queued.
func (w *writer) queue(ctx context.Context, contact int64, rows []emailsched.Email, now string, got *store.RowCounts) error {
	for i := range rows {
		w.queued = append(w.queued, queuedRow{contact: contact, e: &rows[i]})
		if len(w.queued) == multiRows {
			if err := w.insertQueued(ctx, now, got); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertQueued inserts the queued rows, in their order: multiRows in one
// statement, fewer one by one. The rows a unique index refuses are
// counted as RowCounts.Conflicting, as Write does (insertConflict): the
// statement inserts the others, in one pass. (Retrying a refused
// statement's rows one by one made a first run's inserts a quarter
// slower: about one statement in ten meets a conflict.)
func (w *writer) insertQueued(ctx context.Context, now string, got *store.RowCounts) error {
	q := w.queued
	w.queued = w.queued[:0]
	if len(q) == multiRows {
		if w.insMulti == nil {
			var err error
			if w.insMulti, err = w.conn.PrepareContext(ctx, multiInsertSQL); err != nil {
				return err
			}
		}
		args := w.args[:0]
		for _, r := range q {
			args = rowValues(args, r.contact, r.e, w.sendTime, w.run.ID, now, true)
		}
		w.args = args
		res, err := w.insMulti.ExecContext(ctx, args...)
		clear(args)
		clear(q)
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		got.Inserted += int(n)
		got.Conflicting += multiRows - int(n)
		return nil
	}
	for _, r := range q {
		if err := w.insert(ctx, r.contact, r.e, now, got); err != nil {
			return err
		}
	}
	clear(q)
	return nil
}

func (w *writer) recordProgress(ctx context.Context, t progress) error {
	r := t.rows
	res, err := w.prog.ExecContext(ctx, t.contacts, r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken, w.checkpoint)
	return w.ours(res, err)
}

// ours checks that the checkpoint update changed our row: it did not when
// another run took the run lock over.
func (w *writer) ours(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrRunLockLost
	}
	return nil
}

// finalise completes the checkpoint with the totals t and the summary.
func (w *writer) finalise(ctx context.Context, t progress, sum *store.Summary, now string) error {
	// Contacts without changes may never reach Write: the summary knows
	// how many contacts and unchanged rows the run had.
	t.contacts = max(t.contacts, sum.Contacts)
	t.rows.Unchanged = max(t.rows.Unchanged, sum.Rows.Unchanged)
	load, err := storecol.EncodeLoad(sum.Load)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := w.conn.ExecContext(ctx, dropLoadsSQL, w.checkpoint); err != nil {
		return err
	}
	r := t.rows
	res, err := w.finish.ExecContext(ctx, CheckpointCompleted, now, t.contacts, fmt.Sprintf("%016x", sum.ContactsChecksum),
		r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken, sum.DeletedContacts, load,
		sum.PreScheduled, sum.Skipped, w.checkpoint)
	return w.ours(res, err)
}

// errTaken: a guard found a row that is no longer the contact's planned
// row, or a foreign key refused the contact's changes.
var errTaken = errors.New("row taken")

// contact writes one contact's changes: deletes, updates, inserts. When
// one of its rows was taken (errTaken), its changes are rolled back to a
// savepoint and the rows taken are counted instead.
func (w *writer) contact(ctx context.Context, p pending, rows []emailsched.Email, now string, got *store.RowCounts) error {
	// A contact that only gets new rows cannot meet a guard: no savepoint,
	// unless a foreign key may refuse it.
	sp := w.fk || p.del+p.upd > 0
	if sp {
		if _, err := w.savepoint.ExecContext(ctx); err != nil {
			return err
		}
	}
	var c store.RowCounts
	err := w.apply(ctx, p, rows, now, &c)
	if errors.Is(err, errTaken) {
		if _, err := w.rollbackSP.ExecContext(ctx); err != nil {
			return err
		}
		if _, err := w.releaseSP.ExecContext(ctx); err != nil {
			return err
		}
		taken, err := w.countTaken(ctx, p, rows)
		got.Taken += taken
		return err
	}
	if err != nil {
		return err
	}
	if sp {
		if _, err := w.releaseSP.ExecContext(ctx); err != nil {
			return err
		}
	}
	got.Add(c)
	return nil
}

// countTaken counts the rows to delete or update that are no longer the
// contact's planned rows.
func (w *writer) countTaken(ctx context.Context, p pending, rows []emailsched.Email) (int, error) {
	taken := 0
	for _, e := range rows[:p.del+p.upd] {
		var n int
		if err := w.still.QueryRowContext(ctx, e.ID, p.contact).Scan(&n); err != nil {
			return taken, fmt.Errorf("contact %d row %d: %w", p.contact, e.ID, err)
		}
		if n == 0 {
			taken++
		}
	}
	return taken, nil
}

// apply writes one contact's changes: deletes, updates, inserts.
func (w *writer) apply(ctx context.Context, p pending, rows []emailsched.Email, now string, got *store.RowCounts) error {
	dels, upds, ins := rows[:p.del], rows[p.del:p.del+p.upd], rows[p.del+p.upd:]
	for i := range dels {
		if err := w.guarded(ctx, w.del, p.contact, dels[i].ID, dels[i].ID, p.contact); err != nil {
			return err
		}
		got.Deleted++
	}
	for i := range upds {
		err := w.update(ctx, p.contact, &upds[i], now)
		if uniqueViolation(err) {
			if err := w.parkAndUpdate(ctx, p.contact, upds[i:], now, got); err != nil {
				return err
			}
			break
		}
		if err != nil {
			return err
		}
		got.Updated++
	}
	for i := range ins {
		if err := w.insert(ctx, p.contact, &ins[i], now, got); err != nil {
			return err
		}
	}
	return nil
}

// insert inserts one new row of contact. A row a unique index refuses is
// counted as RowCounts.Conflicting; a row a foreign key refuses is
// errTaken (the contact was deleted meanwhile).
func (w *writer) insert(ctx context.Context, contact int64, e *emailsched.Email, now string, got *store.RowCounts) error {
	res, err := w.ins.ExecContext(ctx, w.fill(contact, e, now, true)...)
	switch {
	case err == nil:
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("contact %d: insert %s: %w", contact, e.Type, err)
		}
		if n == 0 { // a unique index refused it (insertConflict)
			got.Conflicting++
			return nil
		}
	case foreignKey(err):
		return fmt.Errorf("contact %d: insert %s: %w", contact, e.Type, errTaken)
	case err != nil:
		return fmt.Errorf("contact %d: insert %s: %w", contact, e.Type, err)
	}
	got.Inserted++
	return nil
}

func (w *writer) update(ctx context.Context, contact int64, e *emailsched.Email, now string) error {
	args := append(w.fill(contact, e, now, false), e.ID, contact)
	return w.guarded(ctx, w.upd, contact, e.ID, args...)
}

// parkAndUpdate moves rows out of the unique indexes' way, then updates
// them one by one; a row that still collides is deleted and counted.
func (w *writer) parkAndUpdate(ctx context.Context, contact int64, rows []emailsched.Email, now string, got *store.RowCounts) error {
	for i := range rows {
		if err := w.guarded(ctx, w.park, contact, rows[i].ID, rows[i].ID, contact); err != nil {
			return err
		}
	}
	for i := range rows {
		err := w.update(ctx, contact, &rows[i], now)
		if uniqueViolation(err) {
			if err := w.guarded(ctx, w.del, contact, rows[i].ID, rows[i].ID, contact); err != nil {
				return err
			}
			got.Deleted++
			got.Conflicting++
			continue
		}
		if err != nil {
			return err
		}
		got.Updated++
	}
	return nil
}

// guarded runs an UPDATE or DELETE that must change exactly one row; when
// it changes none, the row was taken (errTaken).
func (w *writer) guarded(ctx context.Context, stmt *sql.Stmt, contact, id int64, args ...any) error {
	res, err := stmt.ExecContext(ctx, args...)
	if foreignKey(err) {
		return fmt.Errorf("contact %d row %d: %w", contact, id, errTaken)
	}
	if err != nil {
		return fmt.Errorf("contact %d row %d: %w", contact, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("contact %d row %d: %w", contact, id, err)
	}
	if n != 1 {
		return fmt.Errorf("contact %d row %d: %w", contact, id, errTaken)
	}
	return nil
}

// foreignKey reports whether err is a FOREIGN KEY constraint failure.
func foreignKey(err error) bool {
	if err == nil {
		return false
	}
	se, ok := errors.AsType[sqlite3.Error](err)
	return ok && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

// fill returns the arguments of insertSQL (insert) or of updateSQL without
// its WHERE arguments.
func (w *writer) fill(contact int64, e *emailsched.Email, now string, insert bool) []any {
	w.args = rowValues(w.args[:0], contact, e, w.sendTime, w.run.ID, now, insert)
	return w.args
}

// rowValues appends to a the values the adapter writes for e: those of
// insertedColumns, in their order, for an insert; without contact_id and
// created_at for an update.
func rowValues(a []any, contact int64, e *emailsched.Email, sendTime, runID, now string, insert bool) []any {
	if insert {
		a = append(a, contact)
	}
	var ey, em, ed any
	if !e.Event.IsZero() {
		y, m, d := e.Event.Date()
		ey, em, ed = int64(y), int64(m), int64(d)
	}
	a = append(a, string(e.Type), storecol.NullDate(e.Date), sendTime, string(e.Status), storecol.NullText(string(e.SkipReason)),
		int64(e.Priority), storecol.NullInt(e.CampaignInstanceID), storecol.NullText(e.EmailTemplate), storecol.NullText(e.SMSTemplate),
		runID, ey, em, ed, storecol.NullText(e.CatchUpNote), storecol.NullText(e.Metadata))
	if insert {
		a = append(a, now)
	}
	return append(a, now)
}

// tx runs f in a transaction on the writer's connection: in an atomic run
// the run's one transaction, committed when final; otherwise an IMMEDIATE
// transaction of its own, retried on transient errors.
func (w *writer) tx(ctx context.Context, final bool, f func() error) error {
	if w.atomic {
		return w.atomicTx(ctx, final, f)
	}
	// Leave the lock free a while after a long transaction, whether the
	// next one continues this batch or begins the next.
	if pause := time.Until(w.lock.free); pause > 0 {
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: write: %w", ctx.Err())
		case <-t.C:
		}
	}
	return w.s.retry(ctx, "write", func() error {
		if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		w.lock.held()
		defer w.lock.released()
		if err := f(); err != nil {
			rollback(w.conn)
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
			rollback(w.conn)
			return err
		}
		w.checkpointLog(ctx, final)
		return nil
	})
}

// checkpointEvery spaces the writer's checkpoints: a checkpoint syncs the
// database file, which a run in short transactions must not pay after
// each of them. (SQLite's automatic checkpoint counts the log's pages,
// which a program cannot read without checkpointing.)
const checkpointEvery = time.Second

// checkpointLog checkpoints the write-ahead log after a commit, as SQLite's
// automatic checkpoint would, at most once every checkpointEvery (and
// after the commits of the run's last batch), and counts its time. A checkpoint that cannot
// finish (another connection reads an older snapshot) is not an error:
// the next one goes on.
func (w *writer) checkpointLog(ctx context.Context, last bool) {
	if !w.wal || w.autoCheckpoint <= 0 || !last && time.Since(w.lastCheckpoint) < checkpointEvery {
		return
	}
	t := time.Now()
	w.lastCheckpoint = t
	var busy, logPages, done int
	if err := w.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &done); err != nil {
		return
	}
	w.stats.Checkpoints++
	w.stats.CheckpointTime += time.Since(t)
}

// atomicTx runs f in the run's single transaction (Options.Atomic), opening
// it on first use. Holding the write lock, the statements meet no
// SQLITE_BUSY; the final write commits.
func (w *writer) atomicTx(ctx context.Context, final bool, f func() error) error {
	if !w.open {
		if err := w.s.retry(ctx, "write", func() error {
			_, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			return err
		}); err != nil {
			return err
		}
		w.open = true
		w.lock.held()
		if w.stats.Bulk {
			t := time.Now()
			idx, err := dropIndexes(ctx, w.conn)
			if err != nil {
				w.rollbackAtomic()
				return err
			}
			w.idx, w.stats.Indexes, w.stats.Drop = idx, len(idx), time.Since(t)
		}
	}
	if err := f(); err != nil {
		w.rollbackAtomic()
		return err
	}
	if !final {
		return nil
	}
	if w.stats.Bulk {
		t := time.Now()
		if err := createIndexes(ctx, w.conn, w.idx); err != nil {
			w.rollbackAtomic()
			return err
		}
		w.stats.Build = time.Since(t)
		w.s.opts.Logger.Info("bulk write: secondary indexes created again", "indexes", w.stats.Indexes, "build", w.stats.Build.Round(time.Millisecond))
	}
	if err := w.s.retry(ctx, "commit", func() error {
		_, err := w.conn.ExecContext(ctx, "COMMIT")
		return err
	}); err != nil {
		w.rollbackAtomic()
		return err
	}
	w.open = false
	w.lock.released()
	w.checkpointLog(ctx, true)
	return nil
}

func (w *writer) rollbackAtomic() {
	rollback(w.conn)
	w.open = false
	w.lock.released()
}

// failWrite is fail for a Write: it does not record the failure. The
// source may still hold a read transaction open (in rollback-journal mode
// it reads in chunks), which the checkpoint's update would wait for while
// the reading waits for this Write to return: Abort, which the caller
// calls once the reading has stopped, records it (a caller that never
// calls Abort leaves a lease that expires, as a crashed run's does).
func (w *writer) failWrite(err error) error {
	_ = w.await()
	w.err = err
	w.release()
	if w.atomic {
		w.total = progress{}
	}
	return err
}

// fail makes the writer unusable with err and records it (Commit: the
// reading is over).
func (w *writer) fail(err error) error {
	_ = w.await() // the batch in flight uses the connection; err is the failure to report
	w.err = err
	w.release()
	if w.atomic {
		w.total = progress{} // the run's transaction was rolled back
	}
	if rerr := w.record(context.Background(), err.Error()); rerr == nil {
		w.recorded = true
	}
	return err
}

// recordPolicy: recording a failure is worth more patience than a batch:
// the database may be locked by what made the run fail.
var recordPolicy = RetryPolicy{Attempts: 20, Initial: 10 * time.Millisecond, Max: 500 * time.Millisecond}

// record marks the checkpoint failed with msg (on a connection of its own,
// as the run's may be gone).
func (w *writer) record(ctx context.Context, msg string) error {
	ctx = context.WithoutCancel(ctx)
	now := w.s.opts.Now().UTC().Format(timeLayout)
	t := w.total
	r := t.rows
	return w.s.retryWith(ctx, "record failure", recordPolicy, func() error {
		_, err := w.s.db.ExecContext(ctx, `UPDATE scheduler_checkpoints SET status=?, finished_at=?, error_message=?,
			contacts_processed=?, rows_inserted=?, rows_updated=?, rows_deleted=?, rows_unchanged=?, rows_conflicting=?,
			rows_taken=?, lease_until=NULL WHERE rowid=? AND status=?`, CheckpointFailed, now, storecol.Cut(msg, 4000), t.contacts,
			r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken, w.checkpoint, CheckpointRunning)
		return err
	})
}

// release stops the heartbeat, closes the statements and gives the
// connection back; an open transaction is rolled back.
func (w *writer) release() {
	if w.hbStop != nil {
		close(w.hbStop)
		<-w.hbDone
		w.hbStop = nil
	}
	for _, st := range []*sql.Stmt{w.ins, w.upd, w.del, w.park, w.still, w.prog, w.finish, w.savepoint, w.releaseSP, w.rollbackSP, w.insMulti} {
		if st != nil {
			st.Close()
		}
	}
	w.ins, w.upd, w.del, w.park, w.still, w.prog, w.finish, w.insMulti = nil, nil, nil, nil, nil, nil, nil, nil
	w.savepoint, w.releaseSP, w.rollbackSP = nil, nil, nil
	if w.spill != nil {
		w.spill.close()
		w.spill = nil
	}
	if w.conn != nil {
		rollback(w.conn)
		w.lock.released()
		if w.wal {
			_, _ = w.conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", w.autoCheckpoint))
		}
		w.conn.Close()
		w.conn = nil
	}
}
