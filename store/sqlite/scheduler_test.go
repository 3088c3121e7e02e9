package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func newScheduler(t testing.TB, run string) *scheduler.Scheduler {
	sch, err := scheduler.New(scheduler.Config{
		Clock:    func() time.Time { return time.Date(2025, time.March, 3, 12, 0, 0, 0, time.UTC) },
		NewRunID: func(time.Time) string { return run },
	})
	if err != nil {
		panic(err) // the configuration is fixed
	}
	return sch
}

func runPlan(t testing.TB, s *sqlite.Store, run string) *scheduler.Report {
	t.Helper()
	rep, err := newScheduler(t, run).RunAt(context.Background(), testToday, s, s)
	if err != nil {
		t.Fatalf("run %s: %v", run, err)
	}
	return rep
}

// TestSecondRunWritesNothing plans a generated database twice with the
// same inputs: the second run writes zero rows, and neither touches a
// history row. With each unique index, with none, and on the old shape.
func TestSecondRunWritesNothing(t *testing.T) {
	type tc struct {
		name  string
		shape sqlitefixture.Shape
		u     sqlitefixture.Unique
		prod  bool
	}
	cases := []tc{{"OldShape", sqlitefixture.Old, sqlitefixture.NoUnique, false}}
	for _, u := range uniques {
		cases = append(cases, tc{"Full" + u.name, sqlitefixture.Full, u.u, u.u == sqlitefixture.UniqueEventYear})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 7, Contacts: 1500, StoredFraction: 0.3},
				Shape: c.shape, Unique: c.u, ProductionIndexes: c.prod})
			s, db := openStore(t, path, sqlite.Options{BatchContacts: 100})
			history := dump(t, db, false, false)
			r1 := runPlan(t, s, "run-1")
			if r1.Rows.Inserted == 0 {
				t.Fatalf("first run inserted nothing: %+v", r1.Rows)
			}
			plan1 := dump(t, db, true, false)
			r2 := runPlan(t, s, "run-2")
			if diff := cmp.Diff(plan1, dump(t, db, true, false)); diff != "" {
				t.Errorf("second run changed the plan (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(history, dump(t, db, false, false)); diff != "" {
				t.Errorf("history changed (-before +after):\n%s", diff)
			}
			cps, err := s.Checkpoints(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(cps) != 2 || cps[0].Status != sqlite.CheckpointCompleted || cps[1].Status != sqlite.CheckpointCompleted {
				t.Fatalf("checkpoints: %+v", cps)
			}
			// The checkpoint counts what was written, and the report takes
			// the writer's counts. A unique index refuses some planned rows
			// (a failed or bounced history row already holds the key); they
			// are counted as conflicting, in both runs.
			c1, c2 := cps[0].Rows, cps[1].Rows
			if diff := cmp.Diff(r1.Rows, c1); diff != "" || cps[0].Contacts != 1500 {
				t.Errorf("checkpoint 1: %d contacts, counts (-want +got):\n%s", cps[0].Contacts, diff)
			}
			if c.u == sqlitefixture.NoUnique && c1.Conflicting != 0 {
				t.Errorf("conflicts without a unique index: %+v", c1)
			}
			if c2.Inserted+c2.Updated+c2.Deleted != 0 || cps[1].Contacts != 1500 || c2.Conflicting != r2.Rows.Conflicting || c2.Conflicting != c1.Conflicting {
				t.Errorf("second run wrote rows: checkpoint %+v, report %+v", c2, r2.Rows)
			}
			if r2.Rows.Inserted+r2.Rows.Updated+r2.Rows.Deleted != 0 {
				t.Errorf("second run wrote rows: %+v", r2.Rows)
			}
			if cps[1].ContactsChecksum == "" || cps[1].ContactsChecksum != cps[0].ContactsChecksum || cps[1].RunDate != "2025-03-03" {
				t.Errorf("checkpoint 2: %+v", cps[1])
			}
			var n, bad int
			if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE created_at IS NULL OR updated_at IS NULL)
				FROM email_schedules WHERE scheduler_run_id = 'run-1'`).Scan(&n, &bad); err != nil {
				t.Fatal(err)
			}
			if n != c1.Inserted+c1.Updated || bad != 0 {
				t.Errorf("%d rows carry run-1 (want %d), %d without timestamps", n, c1.Inserted+c1.Updated, bad)
			}
		})
	}
}

// TestChangeReplans: after a change of a plan-deciding value, a read-only
// explanation and dry run say that the run re-plans, the run does, its
// checkpoint records the new settings, and the next run writes nothing.
func TestChangeReplans(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 400}, Shape: sqlitefixture.Production,
		Unique: sqlitefixture.UniqueEventYear})
	s, _ := openStore(t, path, sqlite.Options{})
	runPlan(t, s, "run-1")
	changed, err := scheduler.New(scheduler.Config{BirthdayDaysBefore: scheduler.Int(21),
		Clock: func() time.Time { return time.Date(2025, time.March, 3, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}

	ro := openReadOnly(t, path)
	ex, err := changed.ExplainAt(ctx, testToday, ro, readAll(t, s)[0].ID)
	if err != nil || !ex.Replan.Config || ex.Replan.Rules {
		t.Fatalf("explain after the change: replan %+v, %v", ex.Replan, err)
	}
	dry, err := changed.RunAt(ctx, testToday, ro, store.Discard{})
	if err != nil || !dry.Replan.Config {
		t.Fatalf("dry run after the change: replan %+v, %v", dry.Replan, err)
	}

	rep, err := changed.RunAt(ctx, testToday, s, s)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Replan.Config || rep.Rows.Updated == 0 {
		t.Errorf("run after the change: replan %+v, rows %+v", rep.Replan, rep.Rows)
	}
	if dry.Rows.Updated != rep.Rows.Updated {
		t.Errorf("the dry run counted %d updates, the run wrote %d", dry.Rows.Updated, rep.Rows.Updated)
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil || len(cps) != 2 {
		t.Fatalf("checkpoints %+v, %v", cps, err)
	}
	if id := changed.Identity(); cps[1].ConfigChecksum != id.Config || cps[1].RulesChecksum != id.Rules || cps[0].ConfigChecksum == id.Config {
		t.Errorf("checkpoints record %q / %q, the run's settings are %+v", cps[0].ConfigChecksum, cps[1].ConfigChecksum, id)
	}
	again, err := changed.RunAt(ctx, testToday, s, s)
	if err != nil || again.Replan.Changed() || again.Rows.Written() != 0 {
		t.Errorf("second run with the new settings: replan %+v, rows %+v, %v", again.Replan, again.Rows, err)
	}
}

// TestDryRunCountsWhatARunWrites: on a production database, whose unique
// index refuses the rows a history row holds the key of, on databases with
// the other unique index or none, and with indexes a dry run cannot
// evaluate, a dry run and a preview (read-only) count exactly what the runs
// then write, conflicts included.
func TestDryRunCountsWhatARunWrites(t *testing.T) {
	type tc struct {
		name  string
		opts  sqlitefixture.Options
		extra string // SQL run on the database before the runs
	}
	gen := demodata.GenOptions{Seed: 9, Contacts: 1500, StoredFraction: 0.3}
	cases := []tc{{name: "Production", opts: sqlitefixture.Options{Gen: gen, Shape: sqlitefixture.Production, Unique: sqlitefixture.UniqueEventYear}}}
	for _, u := range uniques {
		cases = append(cases, tc{name: "Full" + u.name, opts: sqlitefixture.Options{Gen: gen, Shape: sqlitefixture.Full, Unique: u.u}})
	}
	// Unique indexes a dry run leaves out (with a warning) and that never
	// refuse a row of the fixture: on an expression, partial, on a column
	// the adapter does not write.
	cases = append(cases, tc{name: "Unevaluable", opts: sqlitefixture.Options{Gen: gen, Shape: sqlitefixture.Full, Unique: sqlitefixture.NoUnique},
		extra: `CREATE UNIQUE INDEX u_expr ON email_schedules(id, lower(email_type));
			CREATE UNIQUE INDEX u_partial ON email_schedules(contact_id, email_type) WHERE status = 'no such status';
			CREATE UNIQUE INDEX u_id ON email_schedules(id, contact_id)`})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testDryRun(t, c.opts, c.extra)
		})
	}
}

func testDryRun(t *testing.T, opts sqlitefixture.Options, extra string) {
	ctx := context.Background()
	path := createDB(t, opts)
	s, rw := openStore(t, path, sqlite.Options{BatchContacts: 100})
	if extra != "" {
		if _, err := rw.Exec(extra); err != nil {
			t.Fatal(err)
		}
	}
	ro := openReadOnly(t, path)

	dry, err := newScheduler(t, "dry").RunAt(ctx, testToday, ro, ro.DryRun())
	if err != nil {
		t.Fatal(err)
	}
	first := runPlan(t, s, "run-1")
	if opts.Unique != sqlitefixture.NoUnique && first.Rows.Conflicting == 0 {
		t.Fatal("the fixture has no conflicting rows: the test proves nothing")
	}
	if diff := cmp.Diff(first.Rows, dry.Rows); diff != "" {
		t.Errorf("first run (-run +dry run):\n%s", diff)
	}

	changed, err := scheduler.New(scheduler.Config{EffectiveDateDaysBefore: scheduler.Int(45), DailyCapPercent: scheduler.Float(5),
		Clock: func() time.Time { return time.Date(2025, time.March, 3, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	next := testToday.AddDays(1)
	p, err := changed.PreviewAt(ctx, next, ro, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := changed.RunAt(ctx, next, s, s)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Report.Replan.Config || rep.Rows.Updated == 0 {
		t.Errorf("preview replan %+v, run rows %+v", p.Report.Replan, rep.Rows)
	}
	if diff := cmp.Diff(rep.Rows, p.Report.Rows); diff != "" {
		t.Errorf("run after the change (-run +preview):\n%s", diff)
	}
	if n := p.Total.Moved + p.Total.NewlySkipped + p.Total.NewlyAllowed + p.Total.Changed; p.Total.Removed > rep.Rows.Deleted ||
		n < rep.Rows.Updated || p.Total.Added < rep.Rows.Inserted {
		t.Errorf("preview counts %+v do not cover the run's rows %+v", p.Total, rep.Rows)
	}
}

// openReadOnly opens the database at path read-only, closed at the end of
// the test.
func openReadOnly(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqlite.New(db, sqlite.Options{})
}
