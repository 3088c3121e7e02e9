package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/pgtest"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// TestStreamPoolSizes reads one organisation through pools of one to four
// connections: a stream reads its big tables on connections of its own
// when the pool has them to spare, and through cursors otherwise; every
// pool must read the same contacts, and a stream ended early must give its
// connections back (the next read would wait for them forever on a pool
// of one).
func TestStreamPoolSizes(t *testing.T) {
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 3, Contacts: 5000, Today: testToday, HistoryFraction: 0.6,
		DirtyFraction: 0.1, StoredFraction: 0.6, Campaigns: camps, CampaignFraction: 0.2})
	url := pgtest.URL(t)
	var want []emailsched.Contact
	var schema string
	for _, size := range []int32{4, 3, 2, 1} {
		t.Run(fmt.Sprintf("%dconns", size), func(t *testing.T) {
			cfg, err := pgxpool.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxConns = size
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			var s *postgres.Store
			if schema == "" {
				s = loaded(t, pool, contacts, camps, postgres.Options{})
				schema = s.Schema()
			} else {
				s = postgres.New(pool, postgres.Options{Schema: schema})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			n := 0
			for _, err := range s.Contacts(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 10 {
					break
				}
			}
			got := readAll(t, s)
			if want == nil {
				want = got
				if len(want) < len(contacts)/2 {
					t.Fatalf("read %d contacts of %d", len(want), len(contacts))
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("a pool of %d connections reads differently (-4 connections +%d):\n%s", size, size, diff)
			}
			if st := pool.Stat(); st.AcquiredConns() != 0 {
				t.Errorf("%d connections still acquired after the streams ended", st.AcquiredConns())
			}
		})
	}
}

// TestStreamCancelled: a stream whose context ends stops with the
// context's error, whatever it had decoded ahead.
func TestStreamCancelled(t *testing.T) {
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 4, Contacts: 3000, Today: testToday, StoredFraction: 0.6,
		Campaigns: camps})
	s := loaded(t, newPool(t), contacts, camps, postgres.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range s.Contacts(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 100 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("after %d contacts: %v, want context.Canceled", n, last)
	}
}

// TestFailedBatchInFlight: a batch that the server refuses while the run
// goes on (it is written on a goroutine of its own) fails the run at the
// next call that waits for it; the batches committed before it stay (a run
// in batches) or nothing stays (an atomic run), and the checkpoint records
// the failure.
func TestFailedBatchInFlight(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	d := testToday.AddDays
	var contacts []emailsched.Contact
	for id := int64(1); id <= 6; id++ {
		contacts = append(contacts, emailsched.Contact{ID: id, Email: "c@example.com", ZIP: "64101", State: "MO"})
	}
	row := func(day int) emailsched.Email {
		return emailsched.Email{Type: emailsched.TypeBirthday, Date: d(day), Status: emailsched.StatusPreScheduled, Priority: 10,
			Event: d(day + 14)}
	}
	for _, atomic := range []bool{false, true} {
		s := loaded(t, pool, contacts, emailsched.Campaigns{}, postgres.Options{Atomic: atomic, BatchContacts: 2})
		w, err := s.Begin(ctx, emailsched.RunInfo{ID: "inflight", Today: testToday, SendTime: "08:30"})
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		for _, c := range contacts {
			e := row(int(c.ID))
			if c.ID == 3 {
				e.Date = datecalc.Date{} // no date: the server refuses the row
			}
			if werr = w.Write(ctx, &store.Delta{ContactID: c.ID, Insert: []emailsched.Email{e}}); werr != nil {
				break
			}
		}
		if werr == nil {
			werr = w.Commit(ctx, store.Summary{Contacts: len(contacts)})
		} else if err := w.Abort(ctx, werr); err != nil {
			t.Fatal(err)
		}
		if werr == nil || !strings.Contains(werr.Error(), "postgres: write") {
			t.Fatalf("atomic=%v: the run ended with %v, want the failed batch's error", atomic, werr)
		}
		var planned []int64
		for _, c := range readAll(t, s) {
			if len(c.Stored) > 0 {
				planned = append(planned, c.ID)
			}
		}
		want := []int64{1, 2}
		if atomic {
			want = nil
		}
		if diff := cmp.Diff(want, planned); diff != "" {
			t.Errorf("atomic=%v: contacts with a plan after the failed run (-want +got):\n%s", atomic, diff)
		}
		cps, err := s.Checkpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) != 1 || cps[0].Status != postgres.CheckpointFailed || !strings.Contains(cps[0].Error, "postgres: write") {
			t.Errorf("atomic=%v: checkpoints %+v, want one failed run with the batch's error", atomic, cps)
		}
		if err := w.Commit(ctx, store.Summary{}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("atomic=%v: Commit after the failed run: %v, want store.ErrClosed", atomic, err)
		}
	}
}
