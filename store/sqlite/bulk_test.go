package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/store"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// masterOf returns every entry of sqlite_master but its root page, byte
// for byte, in a fixed order: what a run must leave as it was.
func masterOf(t testing.TB, db *sql.DB) []string {
	t.Helper()
	return queryStrings(t, db, `SELECT type||'|'||name||'|'||tbl_name||'|'||coalesce(sql, '<null>') FROM sqlite_master ORDER BY type, name`)
}

// statsOf returns the rows of sqlite_stat1.
func statsOf(t testing.TB, db *sql.DB) []string {
	t.Helper()
	return queryStrings(t, db, `SELECT tbl||'|'||coalesce(idx, '')||'|'||stat FROM sqlite_stat1 ORDER BY tbl, idx`)
}

// TestBulkWrite plans a production database whose stored plan is empty
// (a first run) with each way of writing, on copies of one database: a
// bulk run leaves sqlite_master as it was, byte for byte (the indexes are
// created again with their own statements, partial and expression indexes
// included), keeps ANALYZE's statistics and the triggers, and writes the
// same plan as a run that keeps its indexes up to date.
func TestBulkWrite(t *testing.T) {
	old := sqlite.SetBulkMinRows(1)
	t.Cleanup(func() { sqlite.SetBulkMinRows(old) })
	base := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 11, Contacts: 600}})
	func() {
		db, err := sql.Open("sqlite3", base)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Indexes of every kind that CREATE INDEX makes, and statistics.
		for _, q := range []string{
			`CREATE INDEX idx_partial ON email_schedules (contact_id, scheduled_send_date) WHERE status = 'pre-scheduled'`,
			`CREATE INDEX "idx expr" ON email_schedules (lower(email_type) COLLATE NOCASE DESC, event_year)`,
			`CREATE UNIQUE INDEX idx_unique_keep ON email_schedules (id, contact_id)`,
			`ANALYZE`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}()

	for _, tc := range []struct {
		name string
		opts sqlite.Options
		bulk bool
	}{
		{"atomic", sqlite.Options{Atomic: true}, true},
		{"opt-in", sqlite.Options{BulkWrites: true, BatchContacts: 50}, true},
		{"opt-in spilled", sqlite.Options{BulkWrites: true, BatchContacts: 50, BufferRows: 100}, true},
		{"batches", sqlite.Options{BatchContacts: 50}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/org.sqlite3"
			copyFile(t, base, path)
			s, db := openStore(t, path, tc.opts)
			master, stats := masterOf(t, db), statsOf(t, db)
			history := dump(t, db, false, false)
			rep := runPlan(t, s, "run-1")
			secondary := 0
			for _, m := range master {
				if strings.HasPrefix(m, "index|") && strings.Contains(m, "|email_schedules|CREATE INDEX ") {
					secondary++
				}
			}
			if got := s.LastWrite(); got.Bulk != tc.bulk || tc.bulk && (got.Indexes != secondary || secondary < 10) {
				t.Errorf("LastWrite %+v, want bulk %v with the %d secondary indexes", got, tc.bulk, secondary)
			}
			if rep.Rows.Inserted == 0 || rep.Rows.Conflicting == 0 {
				t.Errorf("rows %+v: want inserts and rows the unique index declined", rep.Rows)
			}
			if diff := cmp.Diff(master, masterOf(t, db)); diff != "" {
				t.Errorf("sqlite_master changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(stats, statsOf(t, db)); diff != "" {
				t.Errorf("sqlite_stat1 changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(history, dump(t, db, false, false)); diff != "" {
				t.Errorf("history changed:\n%s", diff)
			}
			if err := sqlite.IntegrityCheck(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			// The trigger still stamps updated_at.
			if _, err := db.Exec(`UPDATE email_schedules SET updated_at = '2000-01-01' WHERE id = (SELECT min(id) FROM email_schedules)`); err != nil {
				t.Fatal(err)
			}
			var stamped string
			if err := db.QueryRow(`SELECT updated_at FROM email_schedules WHERE id = (SELECT min(id) FROM email_schedules)`).Scan(&stamped); err != nil || stamped == "2000-01-01" {
				t.Errorf("updated_at %q, %v: the trigger did not fire", stamped, err)
			}
			// The plan is the plan of a run that keeps its indexes.
			plain := t.TempDir() + "/plain.sqlite3"
			copyFile(t, base, plain)
			ps, pdb := openStore(t, plain, sqlite.Options{})
			runPlan(t, ps, "run-1")
			if diff := cmp.Diff(dump(t, pdb, true, true), dump(t, db, true, true)); diff != "" {
				t.Errorf("the bulk run's plan differs (-kept indexes +bulk):\n%s", diff)
			}
			// The next day's run changes a small share: no bulk.
			if _, err := newScheduler(t, "run-2").RunAt(context.Background(), testToday.AddDays(1), s, s); err != nil {
				t.Fatal(err)
			}
			if s.LastWrite().Bulk {
				t.Error("a nightly run wrote in bulk")
			}
		})
	}
}

// TestBulkMinimum: a run below the minimum of rows never writes in bulk.
func TestBulkMinimum(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 11, Contacts: 300}})
	s, db := openStore(t, path, sqlite.Options{Atomic: true})
	master := masterOf(t, db)
	runPlan(t, s, "run-1")
	if s.LastWrite().Bulk {
		t.Error("a run of a few hundred rows wrote in bulk")
	}
	if diff := cmp.Diff(master, masterOf(t, db)); diff != "" {
		t.Errorf("sqlite_master changed:\n%s", diff)
	}
}

// TestWALCheckpoints: in WAL mode the writer checkpoints the log after its
// commits and counts the time, and gives the connection its automatic
// checkpoint back.
func TestWALCheckpoints(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 400}})
	s, db := openStore(t, path, sqlite.Options{BatchContacts: 50})
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		t.Fatal(err)
	}
	runPlan(t, s, "run-1")
	if got := s.LastWrite(); got.Checkpoints == 0 || got.CheckpointTime <= 0 || got.Bulk {
		t.Errorf("LastWrite %+v, want checkpoints and no bulk", got)
	}
	for range 4 { // whichever connection of the pool answers
		var pages int
		if err := db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil || pages != 1000 {
			t.Errorf("wal_autocheckpoint %d, %v: want the default 1000 back", pages, err)
		}
	}
	// In rollback-journal mode there is no log to checkpoint.
	path = createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 400}})
	s, _ = openStore(t, path, sqlite.Options{BatchContacts: 50})
	runPlan(t, s, "run-1")
	if got := s.LastWrite(); got.Checkpoints != 0 {
		t.Errorf("LastWrite %+v in rollback-journal mode", got)
	}
}

// TestBulkProperty: on any generated production database (a first run, or
// one with part of a plan stored), a run written in bulk stores the same
// plan and the same counts as the same run with its indexes maintained,
// and leaves sqlite_master and the history as they were.
func TestBulkProperty(t *testing.T) {
	old := sqlite.SetBulkMinRows(1)
	t.Cleanup(func() { sqlite.SetBulkMinRows(old) })
	props := proptest.New(t, 8)
	bulked := 0
	props.Property("bulk and row-by-row writes store the same plan", prop.ForAll(func(seed int64, contacts int, stored float64, days int) bool {
		base := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: seed, Contacts: contacts, StoredFraction: stored}})
		var plans, masters, histories [2][]string
		var rows [2]store.RowCounts
		for i, opts := range []sqlite.Options{{BatchContacts: 40}, {Atomic: true}} {
			path := filepath.Join(t.TempDir(), "org.sqlite3")
			copyFile(t, base, path)
			s, db := openStore(t, path, opts)
			before := masterOf(t, db)
			rep, err := newScheduler(t, "run-1").RunAt(context.Background(), testToday.AddDays(days), s, s)
			if err != nil {
				t.Log(err)
				return false
			}
			if i == 0 && s.LastWrite().Bulk {
				t.Logf("a run in short transactions wrote in bulk")
				return false
			}
			if i == 1 && s.LastWrite().Bulk {
				bulked++
			}
			plans[i], histories[i], rows[i] = dump(t, db, true, true), dump(t, db, false, false), rep.Rows
			masters[i] = masterOf(t, db)
			if diff := cmp.Diff(before, masters[i]); diff != "" {
				t.Logf("sqlite_master changed:\n%s", diff)
				return false
			}
		}
		if diff := cmp.Diff(plans[0], plans[1]); diff != "" {
			t.Logf("plans differ (-row by row +bulk):\n%s", diff)
			return false
		}
		return cmp.Equal(histories[0], histories[1]) && rows[0] == rows[1]
	}, gen.Int64Range(1, 1<<30), gen.IntRange(50, 400), gen.OneConstOf(0.0, 0.3, 0.9), gen.IntRange(0, 60)))
	props.TestingRun(t)
	if bulked == 0 {
		t.Error("no case wrote in bulk: the property compared nothing")
	}
}
