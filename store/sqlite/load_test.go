package sqlite_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// The load a run commits comes back from StoredLoad equal to the stored
// plan's pre-scheduled rows per day and priority, and the next night's run
// starts from it instead of a counting pass.
func TestStoredLoad(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 800}, Shape: sqlitefixture.Full})
	s, db := openStore(t, path, sqlite.Options{BatchContacts: 100})
	if _, ok, err := s.StoredLoad(ctx); ok || err != nil {
		t.Fatalf("StoredLoad before any run: %v, %v", ok, err)
	}
	r1 := runPlan(t, s, "run-1")
	if r1.LoadFrom != scheduler.LoadCounted {
		t.Errorf("first run: load from %q", r1.LoadFrom)
	}
	load, ok, err := s.StoredLoad(ctx)
	if err != nil || !ok {
		t.Fatalf("StoredLoad after a run: %v, %v", ok, err)
	}
	if load.Today != testToday || load.ValidContacts != r1.Valid || load.Key == "" {
		t.Errorf("stored load: today %v, valid %d (report %d), key %q", load.Today, load.ValidContacts, r1.Valid, load.Key)
	}
	rows, err := db.QueryContext(ctx, `SELECT scheduled_send_date, priority, email_type = 'effective_date', count(*)
		FROM email_schedules WHERE status = 'pre-scheduled' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	var want []store.LoadEntry
	for rows.Next() {
		var e store.LoadEntry
		var day string
		if err := rows.Scan(&day, &e.Priority, &e.EffectiveDate, &e.Emails); err != nil {
			t.Fatal(err)
		}
		if e.Date, err = datecalc.Parse(day); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, load.Entries); diff != "" {
		t.Errorf("stored load against the pre-scheduled rows (-rows +load):\n%s", diff)
	}

	r2, err := newScheduler(t, "run-2").RunAt(ctx, testToday.AddDays(1), s, s)
	if err != nil {
		t.Fatal(err)
	}
	if r2.LoadFrom != scheduler.LoadStored || r2.LoadPlanDate != testToday {
		t.Errorf("next night: load from %q of %v", r2.LoadFrom, r2.LoadPlanDate)
	}
	var kept int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM scheduler_checkpoints WHERE plan_load IS NOT NULL`).Scan(&kept); err != nil || kept != 1 {
		t.Errorf("checkpoints keeping a load: %d (%v), want only the latest", kept, err)
	}
	if l2, ok, _ := s.StoredLoad(ctx); !ok || l2.Today != testToday.AddDays(1) {
		t.Errorf("StoredLoad after the second run: %v, %v", ok, l2.Today)
	}

	// Runs after the last completed one: those that committed nothing do
	// not matter, one that committed changes hides the load.
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	insertCheckpoint := `INSERT INTO scheduler_checkpoints (run_id, run_timestamp, status, rows_inserted, rows_updated, rows_deleted) VALUES (?, '2025-03-04 12:00:00', ?, 0, ?, 0)`
	exec(insertCheckpoint, "failed-atomic", sqlite.CheckpointFailed, 0)
	exec(insertCheckpoint, "stopped-early", sqlite.CheckpointRunning, 0)
	if _, ok, _ := s.StoredLoad(ctx); !ok {
		t.Error("runs that committed nothing hide the stored load")
	}
	exec(insertCheckpoint, "crashed", sqlite.CheckpointRunning, 12)
	if _, ok, _ := s.StoredLoad(ctx); ok {
		t.Error("a crashed run that committed changes leaves the stored load in use")
	}
	exec(`DELETE FROM scheduler_checkpoints WHERE run_id = 'crashed'`)

	// A load this version cannot read is no load.
	for _, bad := range []string{`{"v":2}`, `not json`} {
		exec(`UPDATE scheduler_checkpoints SET plan_load = ? WHERE plan_load IS NOT NULL`, bad)
		if _, ok, err := s.StoredLoad(ctx); ok || err != nil {
			t.Errorf("plan_load %s: %v, %v", bad, ok, err)
		}
	}

	db.Close()
	if _, _, err := s.StoredLoad(ctx); err == nil {
		t.Error("StoredLoad on a closed database: no error")
	}
}

// A run without a load (a sink given none) records NULL.
func TestStoredLoadNil(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 10}, Shape: sqlitefixture.Full})
	s, _ := openStore(t, path, sqlite.Options{})
	w, err := s.Begin(ctx, emailsched.RunInfo{ID: "no-load", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, store.Summary{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.StoredLoad(ctx); ok || err != nil {
		t.Errorf("StoredLoad after a run without load: %v, %v", ok, err)
	}
}
