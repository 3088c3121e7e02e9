package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// TestInterruptedRunFinishes stops a run in batches after k written
// contacts (its sink fails; the batches before stay committed), runs again,
// and checks that the second run finished the job: every email of an
// uninterrupted run's plan with its status (the days may differ: the
// second run keeps the rows already rewritten and balances the other
// contacts against that volume), and a third run writes nothing. k = 1335
// is a stop after which the second run puts some AEP emails on other days
// than the uninterrupted run; the crash test meets such stops only by
// chance.
func TestInterruptedRunFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("plans seven organisations")
	}
	pool := newPool(t)
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 42, Contacts: 1500, Today: testToday, StoredFraction: 0.4,
		HistoryFraction: 0.5, Campaigns: camps, CampaignFraction: 0.2})
	fresh := func() (*postgres.Store, string) {
		schema := newSchema()
		return loaded(t, pool, contacts, camps, postgres.Options{Schema: schema, BatchContacts: 15}), schema
	}
	ref, refSchema := fresh()
	runPlan(t, testToday, ref, ref, crashRunID)
	want := dumpPlan(t, pool, refSchema)
	for _, k := range []int{1, 700, 1300, 1335, 1350, 1420} {
		s, schema := fresh()
		if _, err := newScheduler(crashRunID).RunAt(context.Background(), testToday, s, stopAfter{s, k}); !errors.Is(err, errStopped) {
			t.Fatalf("k %d: the stopped run: %v", k, err)
		}
		runPlan(t, testToday, s, s, crashRunID)
		got := dumpPlan(t, pool, schema)
		if diff := cmp.Diff(withoutSendDay(want), withoutSendDay(got)); diff != "" {
			t.Errorf("stopped after %d contacts: the next run's emails or statuses differ from the uninterrupted run's (-want +got):\n%s", k, diff)
		}
		if again := runPlan(t, testToday, s, s, crashRunID+"-again"); again.Rows.Written() != 0 {
			t.Errorf("stopped after %d contacts: the run after the next one wrote %+v, want nothing", k, again.Rows)
		}
		days := 0
		for c := range want {
			if !cmp.Equal(want[c], got[c]) {
				days++
			}
		}
		t.Logf("stopped after %d contacts: %d contacts with emails on other days than the uninterrupted run's", k, days)
	}
}

var errStopped = errors.New("stopped")

// stopAfter is a sink whose Writer fails after k written contacts.
type stopAfter struct {
	store.ScheduleSink
	k int
}

func (s stopAfter) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	w, err := s.ScheduleSink.Begin(ctx, run)
	return &stopWriter{Writer: w, left: s.k}, err
}

type stopWriter struct {
	store.Writer
	left int
}

func (w *stopWriter) Write(ctx context.Context, d *store.Delta) error {
	if w.left == 0 {
		return errStopped
	}
	w.left--
	return w.Writer.Write(ctx, d)
}
