package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// sendingSystem is a ScheduleSink that, when the run first writes a
// contact whose delta updates or deletes a row, has "the sending system"
// take that row over (status sent) on a connection of its own: before the
// run writes it (committed at once), or holding the row's lock in an open
// transaction that commits a moment later, while the run waits for it.
type sendingSystem struct {
	store.ScheduleSink
	pool    *pgxpool.Pool
	schema  string
	holding bool
	t       *testing.T

	contact, row int64
	done         chan error
}

func (s *sendingSystem) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	w, err := s.ScheduleSink.Begin(ctx, run)
	if err != nil {
		return nil, err
	}
	return &takingWriter{Writer: w, s: s}, nil
}

type takingWriter struct {
	store.Writer
	s *sendingSystem
}

func (w *takingWriter) WriteReport() store.WriteReport {
	return w.Writer.(store.WriteReporter).WriteReport()
}

func (w *takingWriter) Write(ctx context.Context, d *store.Delta) error {
	s := w.s
	if s.row == 0 && len(d.Update)+len(d.Delete) > 0 {
		rows := append(slices.Clone(d.Update), d.Delete...)
		s.contact, s.row = d.ContactID, rows[0].ID
		take := `UPDATE ` + pgx.Identifier{s.schema, "email_schedules"}.Sanitize() + ` SET status = 'sent' WHERE id = $1`
		if !s.holding {
			if _, err := s.pool.Exec(ctx, take, s.row); err != nil {
				s.t.Fatal(err)
			}
		} else {
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				s.t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, take, s.row); err != nil {
				s.t.Fatal(err)
			}
			s.done = make(chan error, 1)
			go func() {
				time.Sleep(300 * time.Millisecond)
				s.done <- tx.Commit(context.Background())
			}()
		}
	}
	return w.Writer.Write(ctx, d)
}

// TestTakenDuringRun: a row the sending system takes over while a run
// plans is left alone, its contact keeps its previous plan, and the run
// counts the row as Taken; the next run plans the contact afresh.
func TestTakenDuringRun(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 11, Contacts: 120, Today: testToday, StoredFraction: 0.7,
		Campaigns: camps, CampaignFraction: 0.2})
	for _, tc := range []struct {
		name    string
		opts    postgres.Options
		holding bool
	}{
		{"Batches/Committed", postgres.Options{BatchContacts: 10}, false},
		{"Batches/HoldingLock", postgres.Options{BatchContacts: 10}, true},
		{"Atomic/Committed", postgres.Options{Atomic: true, BatchContacts: 10}, false},
		{"Atomic/HoldingLock", postgres.Options{Atomic: true, BatchContacts: 10}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loaded(t, pool, contacts, camps, tc.opts)
			runPlan(t, testToday, s, s, "first")
			later := testToday.AddDays(40)
			before := readAll(t, s)
			sys := &sendingSystem{ScheduleSink: s, pool: pool, schema: s.Schema(), holding: tc.holding, t: t}
			rep := runPlan(t, later, s, sys, "second")
			if sys.row == 0 {
				t.Fatal("the run updated or deleted no row")
			}
			if sys.done != nil {
				if err := <-sys.done; err != nil {
					t.Fatalf("the sending system's commit: %v", err)
				}
			}
			if rep.Rows.Taken != 1 || rep.Rows.Written() == 0 {
				t.Errorf("report rows %+v, want 1 taken and other contacts written", rep.Rows)
			}
			cps, err := s.Checkpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if last := cps[len(cps)-1]; last.RunID != "second" || last.Rows.Taken != 1 || last.Status != postgres.CheckpointCompleted {
				t.Errorf("checkpoint %+v, want run second completed with 1 row taken", last)
			}
			// The contact kept its previous plan, less the row taken,
			// which is history now, as the sending system left it.
			var want emailsched.Contact
			for _, c := range before {
				if c.ID == sys.contact {
					want = c
				}
			}
			got, err := s.Contact(ctx, sys.contact)
			if err != nil {
				t.Fatal(err)
			}
			var wantStored []emailsched.Email
			var taken emailsched.Email
			for _, e := range want.Stored {
				if e.ID == sys.row {
					taken = e
					continue
				}
				wantStored = append(wantStored, e)
			}
			byID := func(a, b emailsched.Email) int { return int(a.ID - b.ID) }
			slices.SortFunc(wantStored, byID)
			slices.SortFunc(got.Stored, byID)
			if diff := cmp.Diff(wantStored, got.Stored); diff != "" {
				t.Errorf("contact %d: the plan changed though a row was taken (-before +after):\n%s", sys.contact, diff)
			}
			i := slices.IndexFunc(got.History, func(e emailsched.Email) bool { return e.ID == sys.row })
			if i < 0 {
				t.Fatalf("row %d is not in the contact's history", sys.row)
			}
			taken.Status = emailsched.StatusSent
			if diff := cmp.Diff(taken, got.History[i]); diff != "" {
				t.Errorf("the taken row was changed by the run (-want +got):\n%s", diff)
			}
			// The next run plans the contact afresh.
			rep = runPlan(t, later, s, s, "third")
			if rep.Rows.Taken != 0 {
				t.Errorf("the next run took %d rows", rep.Rows.Taken)
			}
		})
	}
}

// TestUniqueIndexes: an organisation's unique index refuses a new row
// whose key a history row holds (counted as Conflicting, the others go
// in), and rows of one contact swap their keys in one run.
func TestUniqueIndexes(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	d := testToday.AddDays
	c := emailsched.Contact{ID: 1, Email: "a@example.com", ZIP: "64101", State: "MO",
		History: []emailsched.Email{{ID: 10, Type: emailsched.TypeAEP, Date: d(-100), Status: emailsched.StatusSent, Priority: 20, Event: d(-100)}},
		Stored: []emailsched.Email{
			{ID: 11, Type: emailsched.TypeBirthday, Date: d(10), Status: emailsched.StatusPreScheduled, Priority: 10, Event: d(20)},
			{ID: 12, Type: emailsched.TypeEffectiveDate, Date: d(30), Status: emailsched.StatusPreScheduled, Priority: 10, Event: d(40)},
		}}
	for _, atomic := range []bool{false, true} {
		s := loaded(t, pool, []emailsched.Contact{c}, emailsched.Campaigns{}, postgres.Options{Atomic: atomic})
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `CREATE UNIQUE INDEX ON `+pgx.Identifier{s.Schema(), "email_schedules"}.Sanitize()+
			` (contact_id, email_type, event_year)`); err != nil {
			t.Fatal(err)
		}
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: "unique", Today: testToday, SendTime: "08:30"})
		if err != nil {
			t.Fatal(err)
		}
		swapA, swapB := c.Stored[0], c.Stored[1]
		swapA.Type, swapB.Type = swapB.Type, swapA.Type
		dup := emailsched.Email{Type: emailsched.TypeAEP, Date: d(5), Status: emailsched.StatusPreScheduled, Priority: 20, Event: d(-100)}
		fresh := emailsched.Email{Type: emailsched.TypePostWindow, Date: d(6), Status: emailsched.StatusPreScheduled, Priority: 30, Event: d(-1)}
		delta := &store.Delta{ContactID: 1, Update: []emailsched.Email{swapA, swapB}, Insert: []emailsched.Email{dup, fresh}}
		if err := w.Write(ctx, delta); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx, store.Summary{Contacts: 1}); err != nil {
			t.Fatal(err)
		}
		got := w.(store.WriteReporter).WriteReport().Rows
		if want := (store.RowCounts{Inserted: 1, Updated: 2, Conflicting: 1}); got != want {
			t.Errorf("atomic=%v: rows %+v, want %+v", atomic, got, want)
		}
		after := readAll(t, s)[0]
		var types []string
		for _, e := range after.Stored {
			types = append(types, string(e.Type)+"@"+e.Date.String())
		}
		slices.Sort(types)
		want := []string{"birthday@" + d(30).String(), "effective_date@" + d(10).String(), "post_window@" + d(6).String()}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("atomic=%v: stored plan (-want +got):\n%s", atomic, diff)
		}
	}
}

// TestRunLock: two runs of one organisation never overlap; the second
// fails at once, or after LockTimeout, with an error naming the
// organisation, or goes on once the first ends; a crashed run's lock goes
// with its session; other organisations are not held up.
func TestRunLock(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	schema := newSchema()
	first := loaded(t, pool, nil, emailsched.Campaigns{}, postgres.Options{Schema: schema})
	run := func(id string) emailsched.RunInfo {
		return emailsched.RunInfo{ID: id, Today: testToday, SendTime: "08:30"}
	}
	w1, err := first.Begin(ctx, run("one"))
	if err != nil {
		t.Fatal(err)
	}

	for _, wait := range []time.Duration{0, 300 * time.Millisecond} {
		start := time.Now()
		_, err := postgres.New(pool, postgres.Options{Schema: schema, LockTimeout: wait}).Begin(ctx, run("two"))
		took := time.Since(start)
		var rip *postgres.RunInProgressError
		if !errors.Is(err, postgres.ErrRunInProgress) || !errors.As(err, &rip) || rip.Schema != schema ||
			!strings.Contains(err.Error(), schema) {
			t.Fatalf("second Begin (wait %v): %v, want a *RunInProgressError naming %s", wait, err, schema)
		}
		if took < wait || took > wait+2*time.Second {
			t.Errorf("second Begin (wait %v) failed after %v", wait, took)
		}
	}

	// Another organisation runs meanwhile.
	other := loaded(t, pool, nil, emailsched.Campaigns{}, postgres.Options{})
	wo, err := other.Begin(ctx, run("other"))
	if err != nil {
		t.Fatalf("another organisation's run: %v", err)
	}
	if err := wo.Commit(ctx, store.Summary{}); err != nil {
		t.Fatal(err)
	}

	// A waiting run goes on once the first commits.
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = w1.Commit(ctx, store.Summary{})
	}()
	start := time.Now()
	w2, err := postgres.New(pool, postgres.Options{Schema: schema, LockTimeout: 10 * time.Second}).Begin(ctx, run("two"))
	if err != nil {
		t.Fatalf("waiting Begin: %v", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("the waiting Begin took %v: it did not wait for the first run", took)
	}

	// The session of a run that crashes ends, and its lock with it.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	w3, err := postgres.New(pool, postgres.Options{Schema: schema, LockTimeout: 10 * time.Second}).Begin(ctx, run("three"))
	if err != nil {
		t.Fatalf("Begin after the lock holder's session ended: %v", err)
	}
	if err := w3.Commit(ctx, store.Summary{}); err != nil {
		t.Fatal(err)
	}
	if err := w2.Abort(ctx, errors.New("its session ended")); err != nil {
		t.Errorf("Abort of the run whose session ended: %v", err)
	}
	cps, err := first.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cps {
		got = append(got, c.RunID+" "+c.Status)
	}
	want := []string{"one completed", "two failed", "three completed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(cps[1].Error, "abandoned") {
		t.Errorf("the crashed run's checkpoint error = %q, want it marked abandoned by the next run", cps[1].Error)
	}
}

// TestAtomicAbort: an atomic run that wrote batches and then aborts
// leaves the previous plan exactly as it was, reports nothing written and
// records the failure; a run in short transactions keeps the batches it
// committed.
func TestAtomicAbort(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 5, Contacts: 60, Today: testToday, StoredFraction: 0.7,
		Campaigns: camps, CampaignFraction: 0.2})
	for _, atomic := range []bool{true, false} {
		s := loaded(t, pool, contacts, camps, postgres.Options{Atomic: atomic, BatchContacts: 5})
		before := readAll(t, s)
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: "aborted", Today: testToday, SendTime: "08:30"})
		if err != nil {
			t.Fatal(err)
		}
		wrote := 0
		for _, c := range before {
			d := new(store.Delta)
			d.Reset(c.ID)
			store.Diff(c.Stored, nil, d) // delete the whole plan
			if d.Empty() {
				continue
			}
			if err := w.Write(ctx, d); err != nil {
				t.Fatal(err)
			}
			wrote++
		}
		if wrote < 10 {
			t.Fatalf("only %d contacts had a plan", wrote)
		}
		if err := w.Abort(ctx, errors.New("stopped by the test")); err != nil {
			t.Fatal(err)
		}
		rows := w.(store.WriteReporter).WriteReport().Rows
		after := readAll(t, s)
		cps, err := s.Checkpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) != 1 || cps[0].Status != postgres.CheckpointFailed || cps[0].Error != "stopped by the test" || cps[0].Rows != rows {
			t.Errorf("atomic=%v: checkpoints %+v, want one failed run with the error and rows %+v", atomic, cps, rows)
		}
		if atomic {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("an aborted atomic run changed the store (-before +after):\n%s", diff)
			}
			if rows != (store.RowCounts{}) {
				t.Errorf("an aborted atomic run reports rows %+v", rows)
			}
			continue
		}
		// In short transactions every full batch of 5 contacts committed.
		deleted := 0
		for i := range before {
			deleted += len(before[i].Stored) - len(after[i].Stored)
		}
		if rows.Deleted == 0 || rows.Deleted != deleted {
			t.Errorf("batches: %d rows deleted, report says %+v", deleted, rows)
		}
		if err := w.Commit(ctx, store.Summary{}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Commit after Abort: %v, want store.ErrClosed", err)
		}
	}
}
