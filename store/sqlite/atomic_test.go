package sqlite_test

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// cancelAfter is a source that cancels the run after n contacts of its
// second stream (the planning pass, after the counting pass).
type cancelAfter struct {
	*sqlite.Store
	n      int
	cancel context.CancelFunc
	calls  int
}

func (c *cancelAfter) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	c.calls++
	inner := c.Store.Contacts(ctx)
	if c.calls < 2 {
		return inner
	}
	return func(yield func(*emailsched.Contact, error) bool) {
		i := 0
		for ct, err := range inner {
			if i++; i == c.n {
				c.cancel()
			}
			if !yield(ct, err) {
				return
			}
		}
	}
}

// TestAtomicRunLeavesPreviousPlan interrupts an atomic run after several
// batches were written: nothing of it is visible afterwards.
func TestAtomicRunLeavesPreviousPlan(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 3, Contacts: 800}})
	s, db := openStore(t, path, sqlite.Options{BatchContacts: 50, Atomic: true})
	runPlan(t, s, "run-1")
	before := dump(t, db, true, false)
	history := dump(t, db, false, false)

	// The next day changes many rows; cancel it two thirds through.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &cancelAfter{Store: s, n: 600, cancel: cancel}
	_, err := newScheduler(t, "run-2").RunAt(ctx, testToday.AddDays(40), src, s)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, dump(t, db, true, false)); diff != "" {
		t.Errorf("the interrupted run changed the plan (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(history, dump(t, db, false, false)); diff != "" {
		t.Errorf("history changed (-before +after):\n%s", diff)
	}
	cps, err := s.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 2 || cps[1].Status != sqlite.CheckpointFailed || cps[1].Contacts != 0 || cps[1].Rows != (store.RowCounts{}) {
		t.Errorf("checkpoints %+v", cps)
	}
	// The same run, complete, commits everything.
	rep, err := newScheduler(t, "run-3").RunAt(context.Background(), testToday.AddDays(40), s, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows.Inserted+rep.Rows.Updated+rep.Rows.Deleted == 0 {
		t.Fatalf("run-3 changed nothing: %+v", rep.Rows)
	}
	if got := dump(t, db, true, false); cmp.Equal(before, got) {
		t.Error("a complete atomic run left the plan unchanged")
	}
}
