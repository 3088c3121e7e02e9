package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

var testToday = datecalc.MustNew(2025, time.March, 3)

// createDB writes a generated database file and returns its path.
func createDB(t testing.TB, opts sqlitefixture.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "org-001.sqlite3")
	if opts.Gen.Today.IsZero() {
		opts.Gen.Today = testToday
	}
	if err := sqlitefixture.Create(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	return path
}

// openStore opens and migrates the database at path.
func openStore(t testing.TB, path string, opts sqlite.Options) (*sqlite.Store, *sql.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := sqlite.New(db, opts)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

// dump returns every email_schedules row as text, one line per row, in id
// order; planned selects the stored plan (true) or the history (false).
// The plan is dumped without id, run id and timestamps when content is set.
func dump(t testing.TB, db *sql.DB, planned, content bool) []string {
	t.Helper()
	cond := "NOT IN"
	if planned {
		cond = "IN"
	}
	cols := "quote(id)||'|'||quote(scheduler_run_id)||'|'||quote(created_at)||'|'||quote(updated_at)||'|'||"
	if content {
		cols = ""
	}
	q := fmt.Sprintf(`SELECT %s quote(contact_id)||'|'||quote(email_type)||'|'||quote(scheduled_send_date)||'|'||
		quote(scheduled_send_time)||'|'||quote(status)||'|'||quote(skip_reason)||'|'||quote(priority)||'|'||
		quote(campaign_instance_id)||'|'||quote(email_template)||'|'||quote(sms_template)||'|'||quote(event_year)||'|'||
		quote(event_month)||'|'||quote(event_day)||'|'||quote(catchup_note)||'|'||quote(metadata)||'|'||
		quote(batch_id)||'|'||quote(actual_send_datetime)
		FROM email_schedules WHERE status %s ('pre-scheduled','skipped') ORDER BY contact_id, email_type, event_year, scheduled_send_date, id`, cols, cond)
	return queryStrings(t, db, q)
}

// queryStrings returns the rows of a query of one text column.
func queryStrings(t testing.TB, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var uniques = []struct {
	name string
	u    sqlitefixture.Unique
}{{"NoUnique", sqlitefixture.NoUnique}, {"UniqueEventYear", sqlitefixture.UniqueEventYear}, {"UniqueSendDate", sqlitefixture.UniqueSendDate}}

// delta builds a Delta for a contact.
func delta(id int64, ins, upd, del []emailsched.Email) *store.Delta {
	return &store.Delta{ContactID: id, Insert: ins, Update: upd, Delete: del}
}

func row(contact int64, typ emailsched.EmailType, date, event datecalc.Date) emailsched.Email {
	return emailsched.Email{ContactID: contact, Type: typ, Date: date, Event: event, Status: emailsched.StatusPreScheduled, Priority: 10}
}

func contactByID(t testing.TB, cs []emailsched.Contact, id int64) *emailsched.Contact {
	t.Helper()
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	t.Fatalf("no contact %d", id)
	return nil
}

// TestUniqueIndexSwap swaps the keys of two stored rows of one contact
// (which a unique index refuses statement by statement) and writes rows
// that collide with history: the swap succeeds, the collisions are left out
// and counted, never an error.
func TestUniqueIndexSwap(t *testing.T) {
	d := datecalc.MustNew
	for _, u := range uniques {
		t.Run(u.name, func(t *testing.T) {
			c := emailsched.Contact{ID: 1, Email: "a@example.com", ZIP: "10001", State: "NY",
				History: []emailsched.Email{{Type: emailsched.TypeFollowUpCold, Date: d(2024, 9, 15), Event: d(2024, 9, 15), Status: emailsched.StatusSent, Priority: 20}},
				Stored: []emailsched.Email{
					row(1, emailsched.TypeBirthday, d(2025, 5, 1), d(2025, 5, 15)),
					row(1, emailsched.TypeBirthday, d(2026, 5, 1), d(2026, 5, 15)),
				}}
			s, db := newStore(t, sqlitefixture.Full, u.u, []emailsched.Contact{c}, emailsched.Campaigns{}, sqlite.Options{})
			got := readAll(t, s)[0]
			a, b := got.Stored[0], got.Stored[1]
			a.Date, a.Event, b.Date, b.Event = b.Date, b.Event, a.Date, a.Event
			a.Metadata, b.Metadata = `{"swapped":1}`, `{"swapped":2}`
			clash := row(1, emailsched.TypeFollowUpCold, d(2024, 9, 15), d(2024, 9, 15))
			w, err := s.Begin(context.Background(), emailsched.RunInfo{ID: "swap", Today: testToday, SendTime: "08:30"})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(context.Background(), delta(1, []emailsched.Email{clash}, []emailsched.Email{a, b}, nil)); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(context.Background(), store.Summary{Contacts: 1}); err != nil {
				t.Fatal(err)
			}
			after := readAll(t, s)[0]
			want := []emailsched.Email{a, b}
			if u.u == sqlitefixture.NoUnique {
				want = append(want, clash)
			}
			opts := cmp.Options{cmp.Comparer(func(x, y datecalc.Date) bool { return x == y }),
				cmpopts.SortSlices(func(x, y emailsched.Email) bool {
					return x.Type+emailsched.EmailType(x.Event.String()) < y.Type+emailsched.EmailType(y.Event.String())
				}),
				cmp.Transformer("noRun", func(e emailsched.Email) emailsched.Email { e.RunID, e.ID = "", 0; return e })}
			if diff := cmp.Diff(want, after.Stored, opts); diff != "" {
				t.Errorf("stored plan (-want +got):\n%s", diff)
			}
			cps, _ := s.Checkpoints(context.Background())
			wantConf := 0
			if u.u != sqlitefixture.NoUnique {
				wantConf = 1
			}
			if cps[0].Rows.Conflicting != wantConf || cps[0].Rows.Updated != 2 {
				t.Errorf("checkpoint counts %+v, want 2 updated and %d conflicting", cps[0].Rows, wantConf)
			}
			var parked int
			db.QueryRow(`SELECT count(*) FROM email_schedules WHERE email_type LIKE '~parked~%'`).Scan(&parked)
			if parked != 0 {
				t.Errorf("%d rows left parked", parked)
			}
		})
	}
}

// writeModes are the ways a Writer gets its changes to the database: kept
// in memory and applied at Commit (rollback journal: atomic or in short
// transactions; WAL: atomic), written while the run reads (WAL: in short
// transactions, or past BufferRows in an atomic run's one transaction) or
// kept in a spill file (rollback journal, past BufferRows).
var writeModes = []struct {
	name string
	wal  bool
	opts sqlite.Options
}{
	{"BufferedAtomic", false, sqlite.Options{Atomic: true}},
	{"BufferedBatches", false, sqlite.Options{BatchContacts: 2}},
	{"BufferedAtomicWAL", true, sqlite.Options{Atomic: true}},
	{"StreamingAtomic", true, sqlite.Options{Atomic: true, BufferRows: 1}},
	{"StreamingBatches", true, sqlite.Options{BatchContacts: 2}},
	{"SpillAtomic", false, sqlite.Options{Atomic: true, BufferRows: 1}},
	{"SpillBatches", false, sqlite.Options{BatchContacts: 2, BufferRows: 1}},
}

// guardStore is a store of n contacts, each with a delivered history row
// and one stored birthday row, in the journal mode of wal.
func guardStore(t *testing.T, n int64, wal bool, opts sqlite.Options) (*sqlite.Store, *sql.DB) {
	t.Helper()
	d := datecalc.MustNew
	var cs []emailsched.Contact
	for id := int64(1); id <= n; id++ {
		cs = append(cs, emailsched.Contact{ID: id, Email: "x@example.com", ZIP: "60601",
			History: []emailsched.Email{{Type: emailsched.TypeAEP, Date: d(2024, 9, 15), Event: d(2024, 9, 15), Status: emailsched.StatusDelivered}},
			Stored:  []emailsched.Email{row(id, emailsched.TypeBirthday, d(2025, 5, 1), d(2025, 5, 15))}})
	}
	s, db := newStore(t, sqlitefixture.Full, sqlitefixture.NoUnique, cs, emailsched.Campaigns{}, opts)
	if wal {
		if err := sqlite.UseWAL(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	return s, db
}

// TestRowsTakenDuringRun: the sending system takes rows over between the
// run's read and its write (one to scheduled, one deleted), and a delta
// names a history row. Those contacts keep their previous plan, the rows
// are counted as taken, every other contact gets its new plan, and the run
// completes; in every write mode.
func TestRowsTakenDuringRun(t *testing.T) {
	d := datecalc.MustNew
	for _, m := range writeModes {
		t.Run(m.name, func(t *testing.T) {
			s, db := guardStore(t, 6, m.wal, m.opts)
			got := readAll(t, s)
			history := dump(t, db, false, false)
			ctx := context.Background()
			w, err := s.Begin(ctx, emailsched.RunInfo{ID: "taken", Today: testToday, SendTime: "08:30"})
			if err != nil {
				t.Fatal(err)
			}
			// The sending system, after the run read the rows: contact
			// 3's row is scheduled, contact 4's deleted. (Once a streaming
			// atomic run has written its first batch it holds the write
			// lock, and the sender waits.)
			if _, err := db.Exec(`UPDATE email_schedules SET status = 'scheduled' WHERE contact_id = 3 AND status = 'pre-scheduled'`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`DELETE FROM email_schedules WHERE contact_id = 4 AND status = 'pre-scheduled'`); err != nil {
				t.Fatal(err)
			}
			newRow := row(0, emailsched.TypePostWindow, d(2025, 7, 1), d(2025, 6, 30))
			var sum store.Summary
			for id := int64(1); id <= 6; id++ {
				c := contactByID(t, got, id)
				moved := c.Stored[0]
				moved.Date = moved.Date.AddDays(1)
				dl := delta(id, []emailsched.Email{newRow}, []emailsched.Email{moved}, nil)
				if id == 5 {
					// A stale delta: it deletes what is a history row.
					dl = delta(id, []emailsched.Email{newRow}, nil, []emailsched.Email{c.History[0]})
				}
				if err := w.Write(ctx, dl); err != nil {
					t.Fatal(err)
				}
				sum.Contacts++
			}
			if err := w.Commit(ctx, sum); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			rep := w.(store.WriteReporter).WriteReport()
			if rep.Rows.Taken != 3 || rep.Rows.Inserted != 3 || rep.Rows.Updated != 3 {
				t.Errorf("WriteReport().Rows = %+v, want 3 taken, 3 inserted, 3 updated", rep.Rows)
			}
			if rep.LongestLock <= 0 || rep.Locked < rep.LongestLock {
				t.Errorf("lock times %v / %v", rep.LongestLock, rep.Locked)
			}
			after := readAll(t, s)
			for id, want := range map[int64]int{1: 2, 2: 2, 3: 0, 4: 0, 5: 1, 6: 2} {
				if n := len(contactByID(t, after, id).Stored); n != want {
					t.Errorf("contact %d has %d stored rows, want %d", id, n, want)
				}
			}
			if c5 := contactByID(t, after, 5); c5.Stored[0].Date != d(2025, 5, 1) {
				t.Errorf("contact 5's plan changed: %+v", c5.Stored)
			}
			if h := dump(t, db, false, false); len(h) != len(history)+1 {
				t.Errorf("history: %d rows, want the %d before and the row taken over", len(h), len(history))
			}
			cps, _ := s.Checkpoints(ctx)
			if cp := cps[0]; cp.Status != sqlite.CheckpointCompleted || cp.Rows.Taken != 3 || cp.Rows.Inserted != 3 {
				t.Errorf("checkpoint %+v", cp)
			}
		})
	}
}

// TestAbortWithFailedBatchInFlight: a batch written in the background
// (WAL mode, past BufferRows) fails, and the run aborts before Commit:
// the checkpoint records both.
func TestAbortWithFailedBatchInFlight(t *testing.T) {
	d := datecalc.MustNew
	s, db := guardStore(t, 1, true, sqlite.Options{BatchContacts: 1, BufferRows: 1})
	if _, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON email_schedules BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := s.Begin(ctx, emailsched.RunInfo{ID: "abort", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []emailsched.Email{row(1, emailsched.TypeAEP, d(2025, 9, 15), d(2025, 9, 15)), row(1, emailsched.TypePostWindow, d(2025, 7, 1), d(2025, 6, 30))}
	if err := w.Write(ctx, delta(1, rows, nil, nil)); err != nil {
		t.Fatalf("Write of a full batch returned before the batch was written: %v", err)
	}
	if err := w.Abort(ctx, errors.New("interrupted")); err != nil {
		t.Fatal(err)
	}
	cps, _ := s.Checkpoints(ctx)
	if cp := cps[0]; cp.Status != sqlite.CheckpointFailed || !strings.Contains(cp.Error, "interrupted; and writing the last batch: ") ||
		!strings.Contains(cp.Error, "disk on fire") {
		t.Errorf("checkpoint %+v", cp)
	}
}

// TestNonTransientError: an error other than busy (here a trigger raising
// one) aborts: the batch is rolled back, the failure recorded, the error
// returned wrapped.
func TestNonTransientError(t *testing.T) {
	d := datecalc.MustNew
	cs := []emailsched.Contact{{ID: 1, Email: "a@example.com"}, {ID: 2, Email: "b@example.com"}}
	s, db := newStore(t, sqlitefixture.Full, sqlitefixture.NoUnique, cs, emailsched.Campaigns{}, sqlite.Options{BatchContacts: 5})
	if _, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON email_schedules WHEN NEW.contact_id = 2
		BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := s.Begin(ctx, emailsched.RunInfo{ID: "boom", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2} {
		if err := w.Write(ctx, delta(id, []emailsched.Email{row(id, emailsched.TypeAEP, d(2025, 9, 15), d(2025, 9, 15))}, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	err = w.Commit(ctx, store.Summary{Contacts: 2})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Fatalf("Commit: %v", err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM email_schedules`).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows written by a failed batch", n)
	}
	cps, _ := s.Checkpoints(ctx)
	if cps[0].Status != sqlite.CheckpointFailed || !strings.Contains(cps[0].Error, "disk on fire") {
		t.Errorf("checkpoint %+v", cps[0])
	}
	if err := w.Write(ctx, delta(1, nil, nil, nil)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Write after Commit: %v", err)
	}
}

// TestBusyRetry holds the write lock from another connection: the writer
// retries with backoff and succeeds once the lock is released, or gives up
// with ErrBusy when it is held longer than the policy allows.
func TestBusyRetry(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 3, Contacts: 50}})
	ctx := context.Background()
	// No busy timeout: every lock conflict reaches the adapter at once.
	open := func() *sql.DB {
		db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, other := open(), open()
	lock := func(hold time.Duration) <-chan struct{} {
		conn, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			time.Sleep(hold)
			conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			close(done)
		}()
		return done
	}
	d := datecalc.MustNew
	write := func(s *sqlite.Store, run string) error {
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: run, Today: testToday, SendTime: "08:30"})
		if err != nil {
			return err
		}
		if err := w.Write(ctx, delta(1, []emailsched.Email{row(1, emailsched.TypeAEP, d(2025, 9, 15), d(2025, 9, 16))}, nil, nil)); err != nil {
			return err
		}
		return w.Commit(ctx, store.Summary{Contacts: 1})
	}

	t.Run("Recovers", func(t *testing.T) {
		s := sqlite.New(db, sqlite.Options{Retry: sqlite.RetryPolicy{Attempts: 12, Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond}})
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		done := lock(300 * time.Millisecond)
		start := time.Now()
		if err := write(s, "busy-ok"); err != nil {
			t.Fatalf("write under a 300ms lock: %v", err)
		}
		if el := time.Since(start); el < 250*time.Millisecond {
			t.Errorf("write finished after %v, before the lock was released", el)
		}
		<-done
	})
	t.Run("GivesUp", func(t *testing.T) {
		s := sqlite.New(db, sqlite.Options{Retry: sqlite.RetryPolicy{Attempts: 3, Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond}})
		done := lock(500 * time.Millisecond)
		err := write(s, "busy-fail")
		if !errors.Is(err, sqlite.ErrBusy) {
			t.Errorf("write under a long lock: %v, want ErrBusy", err)
		}
		<-done
	})
	t.Run("GivesUpMidRun", func(t *testing.T) {
		s := sqlite.New(db, sqlite.Options{Retry: sqlite.RetryPolicy{Attempts: 3, Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond}})
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: "busy-mid", Today: testToday, SendTime: "08:30"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, delta(2, []emailsched.Email{row(2, emailsched.TypeAEP, d(2025, 9, 15), d(2025, 9, 16))}, nil, nil)); err != nil {
			t.Fatal(err)
		}
		done := lock(400 * time.Millisecond)
		err = w.Commit(ctx, store.Summary{Contacts: 1})
		if !errors.Is(err, sqlite.ErrBusy) {
			t.Errorf("Commit under a long lock: %v, want ErrBusy", err)
		}
		<-done
		cps, _ := s.Checkpoints(ctx)
		last := cps[len(cps)-1]
		if last.RunID != "busy-mid" || last.Status != sqlite.CheckpointFailed || !strings.Contains(last.Error, "busy") {
			t.Errorf("checkpoint after giving up: %+v", last)
		}
	})
}

// TestInsertRefusedNotUnique: only a unique index's refusal is counted as
// Conflicting; any other refusal of a new row (here a trigger, as the
// sending system's schema may have; NOT NULL and CHECK behave alike) fails
// the run and writes nothing of it, both in the 100-row statements of a
// large write and row by row.
func TestInsertRefusedNotUnique(t *testing.T) {
	d := datecalc.MustNew
	refusals := []struct {
		name string
		add  func(ctx context.Context, db *sql.DB) error
	}{
		{"trigger", func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_effective BEFORE INSERT ON email_schedules
				WHEN NEW.email_type = 'effective_date' BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: effective dates refused here'); END`)
			return err
		}},
		// A CHECK constraint (which OR IGNORE, unlike an upsert, would
		// swallow), added to the table's definition as SQLite documents
		// it may be: the rows it holds satisfy it.
		{"check", func(ctx context.Context, db *sql.DB) error {
			conn, err := db.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			var version int
			if err := conn.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version); err != nil {
				return err
			}
			for _, q := range []string{`PRAGMA writable_schema = ON`,
				`UPDATE sqlite_master SET sql = replace(sql, 'FOREIGN KEY (contact_id)', 'CHECK (email_type <> ''effective_date''), FOREIGN KEY (contact_id)')
					WHERE type = 'table' AND name = 'email_schedules'`,
				fmt.Sprintf(`PRAGMA schema_version = %d`, version+1), `PRAGMA writable_schema = OFF`} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			var ddl string
			err = conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'email_schedules'`).Scan(&ddl)
			if err == nil && !strings.Contains(ddl, "CHECK") {
				err = fmt.Errorf("no CHECK added to %s", ddl)
			}
			return err
		}},
	}
	for _, refusal := range refusals {
		for _, n := range []int{3, 250} {
			t.Run(fmt.Sprintf("%s/%d_contacts", refusal.name, n), func(t *testing.T) {
				bulk := n > 100 // written in bulk: 100-row statements
				if bulk {
					defer sqlite.SetBulkMinRows(sqlite.SetBulkMinRows(1))
				}
				contacts := make([]emailsched.Contact, n)
				for i := range contacts {
					contacts[i] = emailsched.Contact{ID: int64(i + 1), Email: fmt.Sprintf("c%d@example.com", i+1), ZIP: "10001", State: "NY"}
				}
				// Contact 2 also holds a sent birthday email of 2025: the
				// run's row for it is the unique index's to refuse.
				contacts[1].History = []emailsched.Email{{Type: emailsched.TypeBirthday, Date: d(2025, 5, 1), Event: d(2025, 5, 15), Status: emailsched.StatusSent, Priority: 10}}
				s, db := newStore(t, sqlitefixture.Production, sqlitefixture.UniqueEventYear, contacts, emailsched.Campaigns{}, sqlite.Options{Atomic: true})
				ctx := context.Background()
				run := func(refuse bool) (store.RowCounts, error) {
					t.Helper()
					w, err := s.Begin(ctx, emailsched.RunInfo{ID: fmt.Sprintf("refuse-%v", refuse), Today: testToday, SendTime: "08:30"})
					if err != nil {
						t.Fatal(err)
					}
					for i := range contacts {
						ins := []emailsched.Email{row(int64(i+1), emailsched.TypeBirthday, d(2025, 5, 1), d(2025, 5, 15))}
						if refuse && i == n-1 {
							ins[0].Type = emailsched.TypeEffectiveDate
						}
						if err := w.Write(ctx, delta(int64(i+1), ins, nil, nil)); err != nil {
							return store.RowCounts{}, err
						}
					}
					err = w.Commit(ctx, store.Summary{Contacts: n})
					return w.(store.WriteReporter).WriteReport().Rows, err
				}
				if err := refusal.add(ctx, db); err != nil {
					t.Fatal(err)
				}
				if _, err := run(true); err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") {
					t.Fatalf("a run with a row the schema refuses: err = %v, want the refusal", err)
				}
				var planned int
				db.QueryRow(`SELECT count(*) FROM email_schedules WHERE status = 'pre-scheduled'`).Scan(&planned)
				if planned != 0 {
					t.Fatalf("the failed run left %d planned rows", planned)
				}
				got, err := run(false)
				if err != nil {
					t.Fatal(err)
				}
				if want := (store.RowCounts{Inserted: n - 1, Conflicting: 1}); got != want {
					t.Errorf("rows %+v, want %+v", got, want)
				}
				if s.LastWrite().Bulk != bulk {
					t.Errorf("written in bulk: %v, want %v", s.LastWrite().Bulk, bulk)
				}
			})
		}
	}
}
