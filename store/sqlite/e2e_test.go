package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// TestEndToEndProduction plans a database in the exact schema of a
// production organisation database (legacy upper-case history types, its
// unique index, its triggers, its rollback journal), through a connection
// with foreign keys on, as a sequence of days: a first run, the same day
// again (nothing written), the next day, then the same day after the
// application deleted contacts and the sending system took rows over, and
// the read-only work (explain, status, dry run). Its checks are its own,
// computed from the tables with plain date arithmetic, not the library's:
// the sending system's rows stay byte-identical, no pre-scheduled email
// lies in an exclusion period of the default rules or in a year-round
// state, and deleted contacts keep no planned row.
func TestEndToEndProduction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "org-042.sqlite3")
	if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{
		Gen: demodata.GenOptions{Seed: 42, Contacts: 2500, Today: testToday, HistoryFraction: 0.6, StoredFraction: 0.3, DirtyFraction: 0.05},
	}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=1&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var fk, legacy, triggers int
	var journal string
	db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	db.QueryRow("PRAGMA journal_mode").Scan(&journal)
	db.QueryRow("SELECT count(*) FROM email_schedules WHERE email_type IN ('BIRTHDAY','EFFECTIVE_DATE','AEP','POST_WINDOW','SCHEDULED_RATE_INCREASE')").Scan(&legacy)
	db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'email_schedules'").Scan(&triggers)
	if fk != 1 || journal != "delete" || legacy == 0 || triggers == 0 {
		t.Fatalf("not the setting of this test: foreign keys %d, journal %s, %d legacy history rows, %d triggers", fk, journal, legacy, triggers)
	}
	history := sendingRows(t, db)
	s := sqlite.New(db, sqlite.Options{Atomic: true})
	run := func(id string, day time.Time) *scheduler.Report {
		t.Helper()
		sch, err := scheduler.New(scheduler.Config{NewRunID: func(time.Time) string { return id }})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := sch.RunAt(ctx, civil(day), s, s)
		if err != nil {
			t.Fatalf("run %s: %v", id, err)
		}
		return rep
	}
	day := testToday.Time(0, 0, time.UTC)

	first := run("e2e-1", day)
	if first.Rows.Inserted == 0 || first.Contacts != 2500 {
		t.Fatalf("first run: %d contacts, rows %+v", first.Contacts, first.Rows)
	}
	checkPlan(t, db, day, history, nil)

	again := run("e2e-2", day)
	if n := again.Rows.Written(); n != 0 {
		t.Errorf("the same day again wrote %d rows: %+v", n, again.Rows)
	}

	next := day.AddDate(0, 0, 1)
	run("e2e-3", next)
	checkPlan(t, db, next, history, nil)

	// The application deletes contacts (as it does: foreign keys off, so
	// their rows stay), and the sending system takes rows over.
	gone := map[int64]bool{}
	rows, err := db.Query(`SELECT DISTINCT contact_id FROM email_schedules WHERE status IN ('pre-scheduled','skipped')
		ORDER BY contact_id LIMIT 25`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		gone[id] = true
	}
	rows.Close()
	app, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=0&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	for id := range gone {
		if _, err := app.Exec("DELETE FROM contacts WHERE id = ?", id); err != nil {
			t.Fatal(err)
		}
	}
	res, err := app.Exec(`UPDATE email_schedules SET status = 'scheduled', batch_id = 'b-e2e' WHERE id IN (
		SELECT id FROM email_schedules WHERE status = 'pre-scheduled' AND contact_id > 2000 ORDER BY id LIMIT 10)`)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	if n, _ := res.RowsAffected(); n != 10 {
		t.Fatalf("took %d rows over, want 10", n)
	}
	history = sendingRows(t, db) // the rows taken over are the sender's now
	after := run("e2e-4", next)
	if after.DeletedContacts != len(gone) || after.Rows.Deleted == 0 {
		t.Errorf("run after deletions: %d deleted contacts (want %d), rows %+v", after.DeletedContacts, len(gone), after.Rows)
	}
	checkPlan(t, db, next, history, gone)
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One checkpoint per run, and one per run that settled a plan
	// (scheduler.Report.Settled: "e2e-4-settle1").
	wantCPs := 0
	var lastOfE2E4 sqlite.Checkpoint
	for _, cp := range cps {
		if strings.HasPrefix(cp.RunID, "e2e-") {
			wantCPs++
		}
		if strings.HasPrefix(cp.RunID, "e2e-4") {
			lastOfE2E4 = cp
		}
	}
	if len(cps) != wantCPs || cps[len(cps)-1] != lastOfE2E4 || lastOfE2E4.Status != sqlite.CheckpointCompleted {
		t.Errorf("checkpoints: %+v", cps)
	}
	for _, cp := range cps {
		if cp.RunID == "e2e-4" && cp.DeletedContacts != len(gone) {
			t.Errorf("run after deletions: checkpoint %+v", cp)
		}
	}
	// The earlier scheduler's checkpoint rows are still there, untouched.
	var old int
	db.QueryRow("SELECT count(*) FROM scheduler_checkpoints WHERE run_id IS NULL AND scheduler_run_id LIKE 'run_%'").Scan(&old)
	if old == 0 {
		t.Error("the earlier scheduler's checkpoints are gone")
	}
	var noLegacy int
	db.QueryRow("SELECT count(*) FROM scheduler_checkpoints WHERE run_id IS NOT NULL AND (scheduler_run_id IS NULL OR scheduler_run_id <> run_id OR contacts_checksum IS NULL)").Scan(&noLegacy)
	if noLegacy != 0 {
		t.Errorf("%d checkpoints without the earlier layout's columns filled", noLegacy)
	}

	// Read-only work changes nothing.
	before := files(t, filepath.Dir(path))
	ro, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rs := sqlite.New(ro, sqlite.Options{})
	sch, _ := scheduler.New(scheduler.Config{})
	if _, err := sch.ExplainAt(ctx, civil(next), rs, 2100); err != nil {
		t.Errorf("explain: %v", err)
	}
	if cps, err := rs.Checkpoints(ctx); err != nil || len(cps) != wantCPs {
		t.Errorf("status: %d checkpoints, %v", len(cps), err)
	}
	dry, err := sch.RunAt(ctx, civil(next), rs, rs.DryRun())
	if err != nil {
		t.Errorf("dry run: %v", err)
	}

	ro.Close()
	if diff := cmpMaps(before, files(t, filepath.Dir(path))); diff != "" {
		t.Errorf("read-only work changed files: %s", diff)
	}
	rerun := run("e2e-5", next)
	// The dry run counted what the rerun wrote, the rows the unique index
	// declines included.
	if dry.Rows != rerun.Rows {
		t.Errorf("dry run of the same day: rows %+v; the rerun wrote %+v", dry.Rows, rerun.Rows)
	}
	// Settled: the same day again writes nothing (the run after the
	// deletions settled its plan, scheduler.Report.Settled).
	if rerun.Rows.Written() != 0 || rerun.Rows.Conflicting != after.Rows.Conflicting {
		t.Errorf("a rerun of the same day: rows %+v, after %+v", rerun.Rows, after.Rows)
	}
	checkPlan(t, db, next, history, gone)
}

// sendingRows returns every row of email_schedules that is not this
// scheduler's (status neither pre-scheduled nor skipped), all columns as
// SQL literals, by id.
func sendingRows(t *testing.T, db *sql.DB) map[int64]string {
	t.Helper()
	cols := columnsOfDB(t, db, "email_schedules")
	rows, err := db.Query(`SELECT id, ` + strings.Join(cols, "||'|'||") + ` FROM email_schedules
		WHERE status NOT IN ('pre-scheduled','skipped') OR status IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var line string
		if err := rows.Scan(&id, &line); err != nil {
			t.Fatal(err)
		}
		out[id] = line
	}
	return out
}

func columnsOfDB(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		out = append(out, "quote("+c+")")
	}
	return out
}

// A window of the default rules, as the rules' table states it: days
// before and after the anniversary of the anchor, the birthday or the
// effective date; NV's anchor is the first of the birth month. Every
// window is extended backwards by the pre-window buffer of 60 days.
type window struct {
	birthday          bool
	before, after     int
	firstOfBirthMonth bool
}

var defaultWindows = map[string]window{
	"CA": {true, 30, 60, false}, "ID": {true, 0, 63, false}, "KY": {true, 0, 60, false}, "MD": {true, 0, 30, false},
	"NV": {true, 0, 60, true}, "OK": {true, 0, 60, false}, "OR": {true, 0, 31, false}, "VA": {true, 0, 30, false},
	"MO": {false, 30, 33, false},
}

var yearRound = map[string]bool{"CT": true, "MA": true, "NY": true, "WA": true}

const buffer = 60

// checkPlan checks the database on day: the sending system's rows are
// exactly history; no contact of gone keeps a planned row; every
// pre-scheduled email that windows apply to lies outside every exclusion
// period of its contact and in no year-round state.
func checkPlan(t *testing.T, db *sql.DB, day time.Time, history map[int64]string, gone map[int64]bool) {
	t.Helper()
	got := sendingRows(t, db)
	if len(got) != len(history) {
		t.Errorf("the sending system's rows: %d, want %d", len(got), len(history))
	}
	for id, want := range history {
		if got[id] != want {
			t.Errorf("the sending system's row %d changed:\nwant %s\ngot  %s", id, want, got[id])
		}
	}
	// Campaign types that ignore windows (regulatory notices) may go out
	// anywhere; everything else respects them.
	ignores := map[string]bool{}
	crows, err := db.Query("SELECT name FROM campaign_types WHERE NOT respect_exclusion_windows")
	if err != nil {
		t.Fatal(err)
	}
	for crows.Next() {
		var n string
		crows.Scan(&n)
		ignores["campaign_"+n] = true
	}
	crows.Close()
	rows, err := db.Query(`SELECT e.id, e.contact_id, e.email_type, e.scheduled_send_date, c.id IS NULL,
		c.zip_code, c.state, CAST(c.birth_date AS TEXT), CAST(c.effective_date AS TEXT)
		FROM email_schedules e LEFT JOIN contacts c ON c.id = e.contact_id
		WHERE e.status IN ('pre-scheduled','skipped') AND (e.status = 'pre-scheduled' OR c.id IS NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var id, contact int64
		var typ, date string
		var missing bool
		var zip, state, birth, eff sql.NullString
		if err := rows.Scan(&id, &contact, &typ, &date, &missing, &zip, &state, &birth, &eff); err != nil {
			t.Fatal(err)
		}
		if missing || gone[contact] {
			t.Errorf("row %d: contact %d no longer exists but keeps a planned row", id, contact)
			continue
		}
		if ignores[typ] {
			continue
		}
		res, err := rules.ResolveState(zip.String, state.String)
		if err != nil {
			t.Errorf("row %d: pre-scheduled for contact %d, which has no state", id, contact)
			continue
		}
		st := res.State.String()
		if yearRound[st] {
			t.Errorf("row %d: %s pre-scheduled on %s in the year-round state %s", id, typ, date, st)
			continue
		}
		w, ok := defaultWindows[st]
		if !ok {
			continue
		}
		anchor := eff.String
		if w.birthday {
			anchor = birth.String
		}
		a, err := time.Parse("2006-01-02", firstTen(anchor))
		if err != nil {
			t.Errorf("row %d: %s pre-scheduled for contact %d in %s, whose window's anchor %q is unreadable", id, typ, contact, st, anchor)
			continue
		}
		d, err := time.Parse("2006-01-02", firstTen(date))
		if err != nil {
			t.Errorf("row %d: unreadable send date %q", id, date)
			continue
		}
		for y := d.Year() - 1; y <= d.Year()+1; y++ {
			ann := anniversary(a, y)
			if w.firstOfBirthMonth {
				ann = time.Date(y, ann.Month(), 1, 0, 0, 0, 0, time.UTC)
			}
			from, to := ann.AddDate(0, 0, -w.before-buffer), ann.AddDate(0, 0, w.after)
			if !d.Before(from) && !d.After(to) {
				t.Errorf("row %d: %s of contact %d (%s) pre-scheduled on %s, inside %s…%s around %s", id, typ, contact, st,
					date, from.Format(time.DateOnly), to.Format(time.DateOnly), ann.Format(time.DateOnly))
			}
		}
		checked++
	}
	if checked == 0 {
		t.Error("no pre-scheduled email in a window state was checked")
	}
}

// anniversary is the anniversary of a in year y; Feb 29 is Feb 28 in a
// common year.
func anniversary(a time.Time, y int) time.Time {
	if a.Month() == time.February && a.Day() == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		return time.Date(y, time.February, 28, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
}

func firstTen(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// civil is the calendar day of t.
func civil(t time.Time) datecalc.Date { return datecalc.FromTime(t) }
