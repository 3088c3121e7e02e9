package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
)

// Checkpoint statuses (the status column of scheduler_checkpoints).
const (
	CheckpointRunning   = "running"
	CheckpointCompleted = "completed"
	CheckpointFailed    = "failed"
)

// timeLayout is the text form of the timestamps the adapter writes (UTC,
// the form of SQLite's CURRENT_TIMESTAMP).
const timeLayout = "2006-01-02 15:04:05"

// The guard every UPDATE and DELETE carries: only this scheduler's rows.
const plannedGuard = ` AND status IN ('pre-scheduled','skipped')`

const (
	insertSQL = `INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
		status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	updateSQL = `UPDATE email_schedules SET email_type=?, scheduled_send_date=?, scheduled_send_time=?, status=?,
		skip_reason=?, priority=?, campaign_instance_id=?, email_template=?, sms_template=?, scheduler_run_id=?,
		event_year=?, event_month=?, event_day=?, catchup_note=?, metadata=?, updated_at=?
		WHERE id=? AND contact_id=?` + plannedGuard
	deleteSQL = `DELETE FROM email_schedules WHERE id=? AND contact_id=?` + plannedGuard
	// parkSQL moves a row out of the way of every unique index (email_type
	// is part of both of SPEC §9) inside a transaction, so that rows of
	// one contact can swap their keys.
	parkSQL       = `UPDATE email_schedules SET email_type='~parked~'||id WHERE id=? AND contact_id=?` + plannedGuard
	progressSQL   = `UPDATE scheduler_checkpoints SET contacts_processed=?, rows_inserted=?, rows_updated=?, rows_deleted=?, rows_unchanged=?, rows_conflicting=? WHERE rowid=?`
	checkpointSQL = `INSERT INTO scheduler_checkpoints (run_id, run_timestamp, started_at, run_date, status, rules_checksum,
		contacts_processed, rows_inserted, rows_updated, rows_deleted, rows_unchanged, rows_conflicting)
		VALUES (?,?,?,?,?,?,0,0,0,0,0,0)`
	finishSQL = `UPDATE scheduler_checkpoints SET status=?, finished_at=?, error_message=?, contacts_processed=?,
		contacts_checksum=?, rows_inserted=?, rows_updated=?, rows_deleted=?, rows_unchanged=?, rows_conflicting=?,
		plan_load=? WHERE rowid=?`
	// Only the latest completed run's load is of use: older ones are
	// dropped so that the checkpoint table does not grow by the load's
	// size (tens of kilobytes) every night.
	dropLoadsSQL = `UPDATE scheduler_checkpoints SET plan_load=NULL WHERE plan_load IS NOT NULL AND rowid<>?`
)

// Counts are the rows a run has written so far.
type Counts struct {
	Contacts    int // contacts whose deltas were committed
	Inserted    int
	Updated     int
	Deleted     int
	Unchanged   int
	Conflicting int // rows not stored because a unique index refused them
}

func (c *Counts) add(o Counts) {
	c.Contacts += o.Contacts
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Deleted += o.Deleted
	c.Unchanged += o.Unchanged
	c.Conflicting += o.Conflicting
}

// Begin implements store.ScheduleSink. It takes the optional backup, then
// records a checkpoint row with status "running" and returns a Writer.
//
// # Atomicity
//
// The Writer buffers the deltas of Options.BatchContacts contacts (those
// with changes) and writes each batch in one IMMEDIATE transaction, in the
// order delete, update, insert, with prepared statements on one
// connection. Batches commit as they go: the unit of atomicity is the batch
// of whole contacts, so at any moment, and after a crash, every contact has
// either its complete old plan or its complete new plan, and running again
// finishes the job. Commit writes the last batch and finalises the
// checkpoint in the same transaction. Abort discards the unwritten batch
// and records the failure; batches already committed stay.
//
// A full batch is written on a goroutine of its own while the next one
// fills (never more than one at a time, in order), so that the caller
// reads and plans while the database writes. The error of a batch is
// returned by the next Write, or by Commit.
//
// # Guards
//
// Every UPDATE and DELETE carries "AND status IN ('pre-scheduled',
// 'skipped')" and the contact id, and checks that it changed one row: a
// delta that names any other row fails the batch (rolled back) with an
// error wrapping store.ErrNotPlanned. Rows written get the run id, and
// created_at/updated_at.
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
// and counted in Counts.Conflicting and the checkpoint; never sending an
// email is the safe side.
//
// # Failures
//
// SQLITE_BUSY and SQLITE_LOCKED roll the batch back and retry it with
// bounded exponential backoff (Options.Retry). Any other error rolls the
// batch back, records status "failed" and the error in the checkpoint,
// and is returned (wrapped) by Write or Commit; the Writer is then
// unusable.
func (s *Store) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	if run.ID == "" {
		return nil, errors.New("sqlite: begin: the run has no ID")
	}
	if s.opts.Backup.Dir != "" {
		if _, err := s.Backup(ctx, s.opts.Backup.Dir); err != nil {
			return nil, err
		}
		if _, err := s.PruneBackups(ctx, s.opts.Backup.Dir); err != nil {
			return nil, err
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	w := &writer{s: s, run: run, conn: conn, sendTime: run.SendTime}
	if w.sendTime == "" {
		w.sendTime = "08:30"
	}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{{&w.ins, insertSQL}, {&w.upd, updateSQL}, {&w.del, deleteSQL}, {&w.park, parkSQL}, {&w.progress, progressSQL}, {&w.finish, finishSQL}} {
		if *p.stmt, err = conn.PrepareContext(ctx, p.q); err != nil {
			w.release()
			return nil, fmt.Errorf("sqlite: begin: prepare (has Migrate run?): %w", err)
		}
	}
	started := run.StartedAt
	if started.IsZero() {
		started = s.opts.Now()
	}
	ts := started.UTC().Format(timeLayout)
	err = w.tx(ctx, "begin", func() error {
		res, err := conn.ExecContext(ctx, checkpointSQL, run.ID, ts, ts, nullDate(run.Today), CheckpointRunning, nullText(run.RulesChecksum))
		if err != nil {
			return err
		}
		w.checkpoint, err = res.LastInsertId()
		return err
	})
	if err != nil {
		w.release()
		return nil, err
	}
	return w, nil
}

type writer struct {
	s        *Store
	run      emailsched.RunInfo
	conn     *sql.Conn
	sendTime string

	ins, upd, del, park, progress, finish *sql.Stmt

	checkpoint int64 // rowid of the checkpoint row

	batch      []pending
	rows       []emailsched.Email // the batch's rows: per pending, deletes then updates then inserts
	batchEmpty Counts             // contacts without changes and unchanged rows since the last flush
	total      Counts             // committed
	args       []any

	// A full batch is written on a goroutine of its own while the next one
	// fills, so that the run reads and plans while the database writes.
	// At most one batch is in flight; its outcome arrives on inflight. The
	// writing goroutine uses the connection, the statements, args, open
	// and final; the others are the caller's.
	inflight chan flushed
	spare    *batchBuf // the buffers of the last written batch, for reuse

	err      error // the failure that made the writer unusable
	recorded bool  // err is recorded in the checkpoint
	closed   bool
	open     bool // Atomic: the run's transaction is open
	final    bool // the flush being written is Commit's
}

type pending struct {
	contact       int64
	del, upd, ins int
}

// batchBuf is a batch of contacts' changes on its way to the database.
type batchBuf struct {
	pend  []pending
	rows  []emailsched.Email
	empty Counts
}

// flushed is the outcome of a batch written on its own goroutine.
type flushed struct {
	b   *batchBuf
	got Counts
	err error
}

// Counts returns what the Writer has committed so far. The Writer returned
// by Store.Begin implements it.
func (w *writer) Counts() Counts { return w.total }

// WriteCounts implements store.WriteCounter.
func (w *writer) WriteCounts() store.WriteCounts {
	t := w.total
	return store.WriteCounts{Inserted: t.Inserted, Updated: t.Updated, Deleted: t.Deleted, Unchanged: t.Unchanged, Conflicting: t.Conflicting}
}

func (w *writer) Write(ctx context.Context, d *store.Delta) error {
	if w.closed {
		return store.ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := ctx.Err(); err != nil {
		return w.fail(fmt.Errorf("sqlite: write: %w", err))
	}
	if err := validate(d); err != nil {
		return w.fail(err)
	}
	w.batchEmpty.Unchanged += d.Unchanged
	if d.Empty() {
		w.batchEmpty.Contacts++
		return nil
	}
	w.batch = append(w.batch, pending{contact: d.ContactID, del: len(d.Delete), upd: len(d.Update), ins: len(d.Insert)})
	w.rows = append(w.rows, d.Delete...)
	w.rows = append(w.rows, d.Update...)
	w.rows = append(w.rows, d.Insert...)
	if len(w.batch) >= w.s.opts.BatchContacts {
		return w.flushAsync(ctx)
	}
	return nil
}

// flushAsync hands the filled batch to a goroutine that writes it, after
// the previous batch is written, and continues with empty buffers.
func (w *writer) flushAsync(ctx context.Context) error {
	if err := w.await(); err != nil {
		return w.fail(err)
	}
	b := &batchBuf{pend: w.batch, rows: w.rows, empty: w.batchEmpty}
	if sp := w.spare; sp != nil {
		w.batch, w.rows, w.spare = sp.pend[:0], sp.rows[:0], nil
	} else {
		w.batch, w.rows = nil, nil
	}
	w.batchEmpty = Counts{}
	done := make(chan flushed, 1)
	w.inflight = done
	go func() {
		got, err := w.write(ctx, b, nil)
		done <- flushed{b: b, got: got, err: err}
	}()
	return nil
}

// await waits for the batch in flight, if any, and takes its outcome: what
// it committed, or its error.
func (w *writer) await() error {
	if w.inflight == nil {
		return nil
	}
	f := <-w.inflight
	w.inflight = nil
	clear(f.b.rows[:cap(f.b.rows)]) // drop references to the written strings
	w.spare = f.b
	if f.err != nil {
		return f.err
	}
	w.total.add(f.got)
	return nil
}

func validate(d *store.Delta) error {
	for _, rows := range [][]emailsched.Email{d.Update, d.Delete} {
		for i := range rows {
			if rows[i].ID == 0 {
				return fmt.Errorf("sqlite: contact %d: a row to update or delete has no id: %w", d.ContactID, store.ErrNotPlanned)
			}
		}
	}
	for _, rows := range [][]emailsched.Email{d.Insert, d.Update} {
		for i := range rows {
			if !rows[i].Status.IsPlanned() {
				return fmt.Errorf("sqlite: contact %d: writing status %q: %w", d.ContactID, rows[i].Status, store.ErrNotPlanned)
			}
		}
	}
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
	err := w.flush(ctx, &sum)
	w.closed = true
	w.release()
	return err
}

func (w *writer) Abort(ctx context.Context, cause error) error {
	if w.closed {
		return nil
	}
	w.closed = true
	flushErr := w.await()
	w.release()
	if w.s.opts.Atomic {
		w.total = Counts{} // the run's transaction was rolled back
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

// flush writes the filling batch in one transaction and finalises the
// checkpoint with sum: Commit's, after the batch in flight.
func (w *writer) flush(ctx context.Context, sum *store.Summary) error {
	if err := w.await(); err != nil {
		return w.fail(err)
	}
	got, err := w.write(ctx, &batchBuf{pend: w.batch, rows: w.rows, empty: w.batchEmpty}, sum)
	if err != nil {
		return w.fail(err)
	}
	w.total.add(got)
	if sum != nil { // what the checkpoint recorded
		w.total.Contacts = max(w.total.Contacts, sum.Contacts)
		w.total.Unchanged = max(w.total.Unchanged, sum.Unchanged)
	}
	w.batch, w.rows, w.batchEmpty = w.batch[:0], w.rows[:0], Counts{}
	clear(w.rows[:cap(w.rows)]) // drop references to the written strings
	return nil
}

// write writes batch b in one transaction, with the checkpoint's progress,
// or with sum its final counts, and returns what it committed. It runs
// with no other write in flight, on the caller's goroutine or on the one
// of flushAsync; it changes no state of w but the transaction's.
func (w *writer) write(ctx context.Context, b *batchBuf, sum *store.Summary) (Counts, error) {
	w.final = sum != nil
	var got Counts
	now := w.s.opts.Now().UTC().Format(timeLayout)
	err := w.tx(ctx, "write", func() error {
		got = b.empty
		got.Contacts += len(b.pend)
		off := 0
		for _, p := range b.pend {
			n := p.del + p.upd + p.ins
			if err := w.apply(ctx, p, b.rows[off:off+n], now, &got); err != nil {
				return err
			}
			off += n
		}
		t := w.total
		t.add(got)
		if sum == nil {
			_, err := w.progress.ExecContext(ctx, t.Contacts, t.Inserted, t.Updated, t.Deleted, t.Unchanged, t.Conflicting, w.checkpoint)
			return err
		}
		// Contacts without changes may never reach Write: the summary
		// knows how many contacts and unchanged rows the run had.
		t.Contacts = max(t.Contacts, sum.Contacts)
		t.Unchanged = max(t.Unchanged, sum.Unchanged)
		load, err := encodeLoad(sum.Load)
		if err != nil {
			return err
		}
		if _, err := w.conn.ExecContext(ctx, dropLoadsSQL, w.checkpoint); err != nil {
			return err
		}
		_, err = w.finish.ExecContext(ctx, CheckpointCompleted, now, nil, t.Contacts,
			fmt.Sprintf("%016x", sum.ContactsChecksum), t.Inserted, t.Updated, t.Deleted, t.Unchanged, t.Conflicting, load, w.checkpoint)
		return err
	})
	return got, err
}

// apply writes one contact's changes: deletes, updates, inserts.
func (w *writer) apply(ctx context.Context, p pending, rows []emailsched.Email, now string, got *Counts) error {
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
		e := &ins[i]
		_, err := w.ins.ExecContext(ctx, w.fill(p.contact, e, now, true)...)
		if uniqueViolation(err) {
			got.Conflicting++
			continue
		}
		if err != nil {
			return fmt.Errorf("contact %d: insert %s: %w", p.contact, e.Type, err)
		}
		got.Inserted++
	}
	return nil
}

func (w *writer) update(ctx context.Context, contact int64, e *emailsched.Email, now string) error {
	args := append(w.fill(contact, e, now, false), e.ID, contact)
	return w.guarded(ctx, w.upd, contact, e.ID, args...)
}

// parkAndUpdate moves rows out of the unique indexes' way, then updates
// them one by one; a row that still collides is deleted and counted.
func (w *writer) parkAndUpdate(ctx context.Context, contact int64, rows []emailsched.Email, now string, got *Counts) error {
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

// guarded runs an UPDATE or DELETE that must change exactly one row.
func (w *writer) guarded(ctx context.Context, stmt *sql.Stmt, contact, id int64, args ...any) error {
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("contact %d row %d: %w", contact, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("contact %d row %d: %w", contact, id, err)
	}
	if n != 1 {
		return fmt.Errorf("contact %d row %d: %w", contact, id, store.ErrNotPlanned)
	}
	return nil
}

// fill returns the arguments of insertSQL (insert) or of updateSQL without
// its WHERE arguments.
func (w *writer) fill(contact int64, e *emailsched.Email, now string, insert bool) []any {
	a := w.args[:0]
	if insert {
		a = append(a, contact)
	}
	var ey, em, ed any
	if !e.Event.IsZero() {
		y, m, d := e.Event.Date()
		ey, em, ed = int64(y), int64(m), int64(d)
	}
	a = append(a, string(e.Type), nullDate(e.Date), w.sendTime, string(e.Status), nullText(string(e.SkipReason)),
		int64(e.Priority), nullInt(e.CampaignInstanceID), nullText(e.EmailTemplate), nullText(e.SMSTemplate),
		w.run.ID, ey, em, ed, nullText(e.CatchUpNote), nullText(e.Metadata))
	if insert {
		a = append(a, now)
	}
	a = append(a, now)
	w.args = a
	return a
}

// tx runs f in an IMMEDIATE transaction on the writer's connection,
// retrying transient errors.
func (w *writer) tx(ctx context.Context, what string, f func() error) error {
	if w.s.opts.Atomic && what == "write" {
		return w.atomicTx(ctx, f)
	}
	return w.s.retry(ctx, what, func() error {
		if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		if err := f(); err != nil {
			rollback(w.conn)
			return err
		}
		if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
			rollback(w.conn)
			return err
		}
		return nil
	})
}

// atomicTx runs f in the run's single transaction (Options.Atomic), opening
// it on first use. Holding the write lock, the statements meet no
// SQLITE_BUSY; the final flush (w.final) commits.
func (w *writer) atomicTx(ctx context.Context, f func() error) error {
	if !w.open {
		if err := w.s.retry(ctx, "write", func() error {
			_, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			return err
		}); err != nil {
			return err
		}
		w.open = true
	}
	if err := f(); err != nil {
		rollback(w.conn)
		w.open = false
		return err
	}
	if !w.final {
		return nil
	}
	if err := w.s.retry(ctx, "commit", func() error {
		_, err := w.conn.ExecContext(ctx, "COMMIT")
		return err
	}); err != nil {
		rollback(w.conn)
		w.open = false
		return err
	}
	w.open = false
	return nil
}

// fail makes the writer unusable with err and records it.
func (w *writer) fail(err error) error {
	_ = w.await() // the batch in flight uses the connection; err is the failure to report
	w.err = err
	w.release()
	if w.s.opts.Atomic {
		w.total = Counts{} // the run's transaction was rolled back
	}
	if rerr := w.record(context.Background(), err.Error()); rerr == nil {
		w.recorded = true
	}
	return err
}

// record marks the checkpoint failed with msg (on its own connection, as
// the run's may be gone).
func (w *writer) record(ctx context.Context, msg string) error {
	ctx = context.WithoutCancel(ctx)
	now := w.s.opts.Now().UTC().Format(timeLayout)
	t := w.total
	// Recording a failure is worth more patience than a batch: the
	// database may be locked by what made the run fail.
	s := &Store{db: w.s.db, opts: w.s.opts}
	s.opts.Retry.Attempts = max(s.opts.Retry.Attempts, 20)
	s.opts.Retry.Max = max(s.opts.Retry.Max, 500*time.Millisecond)
	return s.retry(ctx, "record failure", func() error {
		_, err := w.s.db.ExecContext(ctx, `UPDATE scheduler_checkpoints SET status=?, finished_at=?, error_message=?,
			contacts_processed=?, rows_inserted=?, rows_updated=?, rows_deleted=?, rows_unchanged=?, rows_conflicting=?
			WHERE rowid=?`, CheckpointFailed, now, cut(msg, 4000), t.Contacts, t.Inserted, t.Updated, t.Deleted,
			t.Unchanged, t.Conflicting, w.checkpoint)
		return err
	})
}

// release closes the statements and gives the connection back.
func (w *writer) release() {
	for _, st := range []*sql.Stmt{w.ins, w.upd, w.del, w.park, w.progress, w.finish} {
		if st != nil {
			st.Close()
		}
	}
	w.ins, w.upd, w.del, w.park, w.progress, w.finish = nil, nil, nil, nil, nil, nil
	if w.conn != nil {
		rollback(w.conn)
		w.conn.Close()
		w.conn = nil
	}
}

// Checkpoint is one row of scheduler_checkpoints.
type Checkpoint struct {
	RunID            string
	RunDate          string // the run's Today, YYYY-MM-DD
	StartedAt        time.Time
	FinishedAt       time.Time // zero while running (or after a crash)
	Status           string    // CheckpointRunning, CheckpointCompleted or CheckpointFailed
	ContactsChecksum string    // 16 hex digits
	RulesChecksum    string
	Counts           Counts
	Error            string
}

// Checkpoints returns the checkpoint rows, oldest first.
func (s *Store) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, run_date, CAST(started_at AS TEXT), CAST(finished_at AS TEXT), status,
		contacts_checksum, rules_checksum, contacts_processed, rows_inserted, rows_updated, rows_deleted,
		rows_unchanged, rows_conflicting, error_message FROM scheduler_checkpoints ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	v := make([]any, 14)
	p := make([]any, len(v))
	for i := range v {
		p[i] = &v[i]
	}
	n := func(x any) int { i, _ := integer(x); return int(i) }
	for rows.Next() {
		if err := rows.Scan(p...); err != nil {
			return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		c := Checkpoint{RunID: text(v[0]), RunDate: text(v[1]), Status: text(v[4]), ContactsChecksum: text(v[5]),
			RulesChecksum: text(v[6]), Error: text(v[13]),
			Counts: Counts{Contacts: n(v[7]), Inserted: n(v[8]), Updated: n(v[9]), Deleted: n(v[10]), Unchanged: n(v[11]), Conflicting: n(v[12])}}
		c.StartedAt, _ = timestamp(v[2])
		c.FinishedAt, _ = timestamp(v[3])
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return out, nil
}
