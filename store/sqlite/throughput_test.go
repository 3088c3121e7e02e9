package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

var (
	throughputRows = flag.Int("throughput.rows", 0, "run TestThroughput with this many planned rows (e.g. 1000000)")
	throughputReps = flag.Int("throughput.reps", 3, "repetitions of each TestThroughput measurement (the median is reported)")
)

// plannedRows returns the synthetic plan of a contact: four rows.
func plannedRows(id int64, buf []emailsched.Email) []emailsched.Email {
	buf = buf[:0]
	base := testToday.AddDays(int(id % 300))
	for i, t := range []emailsched.EmailType{emailsched.TypeBirthday, emailsched.TypeEffectiveDate, emailsched.TypeAEP, emailsched.TypePostWindow} {
		e := emailsched.Email{ContactID: id, Type: t, Date: base.AddDays(i * 20), Event: base.AddDays(i*20 + 14),
			Status: emailsched.StatusPreScheduled, Priority: 10 + 10*i}
		if i == 3 {
			e.Status, e.SkipReason = emailsched.StatusSkipped, "exclusion_window:CA:birthday"
		}
		buf = append(buf, e)
	}
	return buf
}

// TestThroughput writes and reads -throughput.rows planned rows through the
// adapter on a database with the production index set, next to a raw
// database/sql baseline that inserts and reads the same rows in the same
// schema, and logs rows/s and the ratios (medians of -throughput.reps).
//
//	go test -run TestThroughput -throughput.rows 1000000 -v ./store/sqlite/
func TestThroughput(t *testing.T) {
	if *throughputRows == 0 {
		t.Skip("set -throughput.rows to run")
	}
	ctx := context.Background()
	contacts := *throughputRows / 4
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.sqlite3")
	start, c0 := time.Now(), cpuTime()
	if err := sqlitefixture.Create(ctx, pristine, sqlitefixture.Options{
		Gen:   demodata.GenOptions{Seed: 1, Contacts: contacts, Today: testToday},
		Shape: sqlitefixture.Full, ProductionIndexes: true,
	}); err != nil {
		t.Fatal(err)
	}
	gen := time.Since(start)
	t.Logf("fixture (with the production index set): %d contacts in %v (%.0f contacts/s), CPU %v", contacts, gen, float64(contacts)/gen.Seconds(), cpuTime()-c0)
	func() {
		db := openRO(t, pristine)
		if err := sqlite.New(db, sqlite.Options{}).Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}()

	var wA, wB, rA, rB, cwA, cwB, crA, crB []time.Duration
	var rowsRead int
	for rep := range *throughputReps {
		a, b := filepath.Join(dir, fmt.Sprintf("a%d.sqlite3", rep)), filepath.Join(dir, fmt.Sprintf("b%d.sqlite3", rep))
		copyFile(t, pristine, a)
		copyFile(t, pristine, b)
		dbA, dbB := openRO(t, a), openRO(t, b)
		s := sqlite.New(dbA, sqlite.Options{})

		// Adapter write: one Delta per contact, four inserts each.
		start, c0 := time.Now(), cpuTime()
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: "bench", Today: testToday, SendTime: "08:30"})
		if err != nil {
			t.Fatal(err)
		}
		var d store.Delta
		for id := int64(1); id <= int64(contacts); id++ {
			d.Reset(id)
			d.Insert = plannedRows(id, d.Insert)
			if err := w.Write(ctx, &d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Commit(ctx, store.Summary{Contacts: contacts}); err != nil {
			t.Fatal(err)
		}
		wA, cwA = append(wA, time.Since(start)), append(cwA, cpuTime()-c0)

		// Baseline write: the same rows, prepared INSERT, same batching.
		start, c0 = time.Now(), cpuTime()
		rawInsert(t, dbB, contacts)
		wB, cwB = append(wB, time.Since(start)), append(cwB, cpuTime()-c0)

		// Reads, alternating which goes first.
		readA := func() {
			start, c0 := time.Now(), cpuTime()
			n := 0
			for c, err := range s.Contacts(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				n += len(c.Stored) + len(c.History)
			}
			rA, crA = append(rA, time.Since(start)), append(crA, cpuTime()-c0)
			rowsRead = n
		}
		readB := func() {
			start, c0 := time.Now(), cpuTime()
			rawRead(t, dbB)
			rB, crB = append(rB, time.Since(start)), append(crB, cpuTime()-c0)
		}
		if rep%2 == 0 {
			readA()
			readB()
		} else {
			readB()
			readA()
		}
		dbA.Close()
		dbB.Close()
	}
	med := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	rows := float64(contacts * 4)
	t.Logf("write %d rows (10 indexes): adapter %v (%.0f rows/s), raw database/sql %v (%.0f rows/s), ratio %.2f  [all: %v / %v]",
		contacts*4, med(wA), rows/med(wA).Seconds(), med(wB), rows/med(wB).Seconds(), med(wA).Seconds()/med(wB).Seconds(), wA, wB)
	t.Logf("read %d contacts, %d rows: adapter %v (%.0f rows/s), raw database/sql %v (%.0f rows/s), ratio %.2f  [all: %v / %v]",
		contacts, rowsRead, med(rA), float64(rowsRead)/med(rA).Seconds(), med(rB), float64(rowsRead)/med(rB).Seconds(),
		med(rA).Seconds()/med(rB).Seconds(), rA, rB)
	t.Logf("CPU time (user+sys, robust on a shared machine): write adapter %v raw %v ratio %.2f; read adapter %v raw %v ratio %.2f",
		med(cwA), med(cwB), med(cwA).Seconds()/med(cwB).Seconds(), med(crA), med(crB), med(crA).Seconds()/med(crB).Seconds())
}

// rawInsert is the baseline writer: what a hand-written loop over
// database/sql does, with a prepared statement and 1000 contacts per
// transaction.
func rawInsert(t *testing.T, db *sql.DB, contacts int) {
	ctx := context.Background()
	const q = `INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
		status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	var rows []emailsched.Email
	var tx *sql.Tx
	var stmt *sql.Stmt
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	for id := int64(1); id <= int64(contacts); id++ {
		if tx == nil {
			var err error
			if tx, err = db.BeginTx(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if stmt, err = tx.PrepareContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		rows = plannedRows(id, rows)
		for _, e := range rows {
			var skip any
			if e.SkipReason != "" {
				skip = string(e.SkipReason)
			}
			y, m, d := e.Event.Date()
			if _, err := stmt.ExecContext(ctx, id, string(e.Type), e.Date.String(), "08:30", string(e.Status), skip,
				int64(e.Priority), nil, nil, nil, "bench", int64(y), int64(m), int64(d), nil, nil, now, now); err != nil {
				t.Fatal(err)
			}
		}
		if id%1000 == 0 || id == int64(contacts) {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			tx = nil
		}
	}
}

// rawRead is the baseline reader: the same queries, read one after the
// other into typed variables, without building contacts.
func rawRead(t *testing.T, db *sql.DB) {
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT id, email, zip_code, state, birth_date, effective_date, current_carrier, do_not_communicate FROM contacts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var email, zip, state, birth, eff, carrier sql.NullString
	var dnc sql.NullBool
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id, &email, &zip, &state, &birth, &eff, &carrier, &dnc); err != nil {
			t.Fatal(err)
		}
		_, _ = datecalc.Parse(birth.String)
		_, _ = datecalc.Parse(eff.String)
		n++
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules ORDER BY contact_id`)
	if err != nil {
		t.Fatal(err)
	}
	var cid, rid sql.NullInt64
	var typ, date, status, skip, tmpl, sms, run, note, meta, sent sql.NullString
	var prio, camp, ey, em, ed sql.NullInt64
	for rows.Next() {
		if err := rows.Scan(&cid, &rid, &typ, &date, &status, &skip, &prio, &camp, &tmpl, &sms, &run, &ey, &em, &ed, &note, &meta, &sent); err != nil {
			t.Fatal(err)
		}
		_, _ = datecalc.Parse(date.String)
		n++
	}
	rows.Close()
	for _, q := range []string{`SELECT contact_id, clicked_at FROM tracking_clicks ORDER BY contact_id`,
		`SELECT contact_id, created_at, metadata FROM contact_events WHERE event_type = 'eligibility_answered' ORDER BY contact_id`,
		`SELECT contact_id, campaign_instance_id, trigger_date, status FROM contact_campaigns ORDER BY contact_id`} {
		scanAll[any](t, db, q)
	}
}
