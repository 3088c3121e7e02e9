package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
	"github.com/emailsched/emailsched/store/postgres"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

var testToday = datecalc.MustNew(2025, time.March, 3)

func newScheduler(run string) *scheduler.Scheduler {
	sch, err := scheduler.New(scheduler.Config{
		Clock:    func() time.Time { return time.Date(2025, time.March, 3, 12, 0, 0, 0, time.UTC) },
		NewRunID: func(time.Time) string { return run },
	})
	if err != nil {
		panic(err) // the configuration is fixed
	}
	return sch
}

// runPlan plans src into sink on day today.
func runPlan(t testing.TB, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink, run string) *scheduler.Report {
	t.Helper()
	rep, err := newScheduler(run).RunAt(context.Background(), today, src, sink)
	if err != nil {
		t.Fatalf("run %s: %v", run, err)
	}
	return rep
}

// planOf returns the stored plan of every contact a source yields, by
// content (row ids and run ids left out), sorted.
func planOf(t testing.TB, src store.ContactSource) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	for c, err := range src.Contacts(context.Background()) {
		if err != nil {
			t.Fatalf("Contacts: %v", err)
		}
		var rows []string
		for _, e := range c.Stored {
			rows = append(rows, fmt.Sprintf("%s|%s|%s|%s|%d|%s|%d|%s|%s|%s|%s", e.Type, e.Date, e.Status, e.SkipReason, e.Priority,
				e.Event, e.CampaignInstanceID, e.EmailTemplate, e.SMSTemplate, e.CatchUpNote, e.Metadata))
		}
		slices.Sort(rows)
		out[c.ID] = rows
	}
	return out
}

// TestSamePlanAsSQLiteAndMemory plans one generated organisation (dirty
// fields, history, a stored plan, campaigns) on PostgreSQL, on SQLite and
// in memory, then plans it again a week later: every store must hold the
// same plan after each run, and report the same counts.
func TestSamePlanAsSQLiteAndMemory(t *testing.T) {
	ctx := context.Background()
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 7, Contacts: 600, Today: testToday, HistoryFraction: 0.6,
		DirtyFraction: 0.1, StoredFraction: 0.5, Campaigns: camps, CampaignFraction: 0.2})

	pg := loaded(t, newPool(t), contacts, camps, postgres.Options{BatchContacts: 50})

	db, err := sqlite.Create(ctx, filepath.Join(t.TempDir(), "org.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lite := sqlite.New(db, sqlite.Options{})
	if err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sqlitefixture.Write(ctx, db, seq(contacts), camps, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
	mem, err := memory.New(contacts, camps)
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(planOf(t, lite), planOf(t, pg)); diff != "" {
		t.Fatalf("the loaded plans differ (-sqlite +postgres):\n%s", diff)
	}
	pc, err := pg.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := lite.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lc, pc); diff != "" {
		t.Fatalf("campaigns (-sqlite +postgres):\n%s", diff)
	}
	if _, err := pg.Contact(ctx, -1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Contact(-1): %v, want store.ErrNotFound", err)
	}
	for i, today := range []datecalc.Date{testToday, testToday.AddDays(7)} {
		run := fmt.Sprintf("same-plan-%d", i)
		reps := map[string]*scheduler.Report{}
		for name, s := range map[string]interface {
			store.ContactSource
			store.ScheduleSink
		}{"postgres": pg, "sqlite": lite, "memory": mem} {
			reps[name] = runPlan(t, today, s, s, run)
		}
		want := planOf(t, lite)
		if diff := cmp.Diff(want, planOf(t, pg)); diff != "" {
			t.Errorf("run %d: plans differ (-sqlite +postgres):\n%s", i, diff)
		}
		if diff := cmp.Diff(planOf(t, mem), planOf(t, pg)); diff != "" {
			t.Errorf("run %d: plans differ (-memory +postgres):\n%s", i, diff)
		}
		rows := 0
		for _, r := range want {
			rows += len(r)
		}
		if rows == 0 {
			t.Fatalf("run %d: empty plan", i)
		}
		// What the other capabilities say of the plan agrees too.
		pv, err := pg.PlannedVolume(ctx, today, today.AddDays(90))
		if err != nil {
			t.Fatal(err)
		}
		lv, err := lite.PlannedVolume(ctx, today, today.AddDays(90))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(lv, pv); diff != "" || len(pv) == 0 {
			t.Errorf("run %d: planned volume (-sqlite +postgres):\n%s", i, diff)
		}
		pl, pok, err := pg.StoredLoad(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ll, lok, err := lite.StoredLoad(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ll, pl); diff != "" || !pok || !lok {
			t.Errorf("run %d: stored load (ok %v, %v) (-sqlite +postgres):\n%s", i, lok, pok, diff)
		}
		pi, err := pg.StoredIdentities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		li, err := lite.StoredIdentities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(li, pi); diff != "" || len(pi) == 0 {
			t.Errorf("run %d: stored identities (-sqlite +postgres):\n%s", i, diff)
		}
		for _, id := range []int64{contacts[0].ID, contacts[len(contacts)/2].ID, contacts[len(contacts)-1].ID} {
			pc, err := pg.Contact(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			lc, err := lite.Contact(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(lc, pc); diff != "" {
				t.Errorf("run %d: contact %d (-sqlite +postgres):\n%s", i, id, diff)
			}
		}
		p, l := reps["postgres"], reps["sqlite"]
		if p.Contacts != l.Contacts || p.Rows != l.Rows {
			t.Errorf("run %d: postgres read %d contacts and wrote %+v; sqlite %d and %+v", i, p.Contacts, p.Rows, l.Contacts, l.Rows)
		}
		t.Logf("run %d: %d contacts, %d planned rows, rows %+v", i, p.Contacts, rows, p.Rows)
	}
	// The checkpoint rows say what the runs did.
	cps, err := pg.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) < 2 || !strings.HasPrefix(cps[len(cps)-1].RunID, "same-plan-1") {
		t.Fatalf("checkpoints = %+v, want the runs' rows", cps)
	}
	for i, cp := range cps {
		if cp.Status != postgres.CheckpointCompleted || cp.HasLoad != (i == len(cps)-1) || cp.Contacts != len(contacts) {
			t.Errorf("checkpoint %d = %+v, want completed, %d contacts, the load kept on the last only", i, cp, len(contacts))
		}
	}
}
