package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
	"github.com/emailsched/emailsched/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		s, err := memory.New(f.AllContacts(), f.Campaigns)
		if err != nil {
			t.Fatal(err)
		}
		return s, s
	})
}

var (
	today     = datecalc.MustNew(2025, time.March, 3)
	dateEqual = cmp.Comparer(func(a, b datecalc.Date) bool { return a == b })
	opts      = cmp.Options{dateEqual, cmpopts.EquateEmpty()}
)

func row(id int64, typ emailsched.EmailType, days int, st emailsched.Status) emailsched.Email {
	e := emailsched.Email{ID: id, Type: typ, Date: today.AddDays(days), Status: st, Priority: 10}
	if st == emailsched.StatusSkipped {
		e.SkipReason = emailsched.ReasonFrequencyLimit
	}
	return e
}

// sample: contact 2 has a history row (ID 7) and two stored rows, one
// without an ID; contact 1 has nothing.
func sample(t *testing.T) *memory.Store {
	t.Helper()
	s, err := memory.New([]emailsched.Contact{
		{ID: 2, Email: "b@example.com",
			History: []emailsched.Email{row(7, emailsched.TypeBirthday, -100, emailsched.StatusSent)},
			Stored:  []emailsched.Email{row(0, emailsched.TypeAEP, 5, emailsched.StatusPreScheduled), row(3, emailsched.TypeEffectiveDate, 9, emailsched.StatusSkipped)}},
		{ID: 1, Email: "a@example.com"},
	}, demodata.DemoCampaigns(today))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		contacts []emailsched.Contact
		wantErr  bool
	}{
		{"Empty", nil, false},
		{"Distinct", []emailsched.Contact{{ID: 3}, {ID: 1}, {ID: 2}}, false},
		{"Duplicate", []emailsched.Contact{{ID: 3}, {ID: 1}, {ID: 3}}, true},
		{"DuplicateAdjacent", []emailsched.Contact{{ID: 1}, {ID: 1}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := memory.New(tc.contacts, emailsched.Campaigns{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("New: error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && s == nil {
				t.Fatal("New returned a nil Store without an error")
			}
		})
	}
}

func TestNewFilesRowsAndAssignsIDs(t *testing.T) {
	s := sample(t)
	rows, err := s.Rows(2)
	if err != nil {
		t.Fatal(err)
	}
	want := []emailsched.Email{
		row(3, emailsched.TypeEffectiveDate, 9, emailsched.StatusSkipped),
		row(7, emailsched.TypeBirthday, -100, emailsched.StatusSent),
		row(8, emailsched.TypeAEP, 5, emailsched.StatusPreScheduled), // the ID after the highest given
	}
	for i := range want {
		want[i].ContactID = 2
	}
	if diff := cmp.Diff(want, rows, opts); diff != "" {
		t.Errorf("Rows(2) (-want +got):\n%s", diff)
	}
	if rows, err := s.Rows(1); err != nil || len(rows) != 0 {
		t.Errorf("Rows(1) = %v, %v; want none", rows, err)
	}
	if _, err := s.Rows(99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Rows(99): %v, want store.ErrNotFound", err)
	}
	// A planned row given as history is filed as stored, and vice versa.
	s2, err := memory.New([]emailsched.Contact{{ID: 1,
		History: []emailsched.Email{row(1, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)},
		Stored:  []emailsched.Email{row(2, emailsched.TypeAEP, -1, emailsched.StatusDelivered)}}}, emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	for c, err := range s2.Contacts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Stored) != 1 || c.Stored[0].ID != 1 || len(c.History) != 1 || c.History[0].ID != 2 {
			t.Errorf("rows not filed by status: stored %v, history %v", c.Stored, c.History)
		}
	}
}

func TestNewCopiesInput(t *testing.T) {
	in := []emailsched.Contact{{ID: 1, Email: "a@example.com",
		Issues:     []emailsched.FieldIssue{{Field: emailsched.FieldBirthday, Value: "x", Reason: "bad"}},
		History:    []emailsched.Email{row(1, emailsched.TypeAEP, -1, emailsched.StatusSent)},
		Stored:     []emailsched.Email{row(2, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)},
		Engagement: []emailsched.Engagement{{Kind: emailsched.EngagementClick}},
		Campaigns:  []emailsched.CampaignTarget{{InstanceID: 1}}}}
	s, err := memory.New(in, emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	in[0].Email = "changed"
	in[0].Issues[0].Value = "changed"
	in[0].History[0].Type = "changed"
	in[0].Stored[0].Type = "changed"
	in[0].Engagement[0].Kind = 99
	in[0].Campaigns[0].InstanceID = 99
	for c, err := range s.Contacts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "a@example.com" || c.Issues[0].Value != "x" || c.History[0].Type != emailsched.TypeAEP ||
			c.Stored[0].Type != emailsched.TypeAEP || c.Engagement[0].Kind != emailsched.EngagementClick || c.Campaigns[0].InstanceID != 1 {
			t.Errorf("the store shares memory with New's input: %+v", c)
		}
	}
}

// TestCampaignsCopied: the catalogue a Store holds must not change when the
// caller changes what it passed to New or what Campaigns returned (the store
// is documented to hold copies and to be safe for concurrent use).
func TestCampaignsCopied(t *testing.T) {
	in := demodata.DemoCampaigns(today)
	s, err := memory.New(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Types[0].Name = "changed by caller"
	in.Instances[3].TargetStates[0] = emailsched.NoState
	got, err := s.Campaigns(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got.Instances[0].Name = "changed by reader"
	again, _ := s.Campaigns(t.Context())
	if diff := cmp.Diff(demodata.DemoCampaigns(today), again, opts); diff != "" {
		t.Errorf("catalogue changed through aliased slices (-want +got):\n%s", diff)
	}
}

func TestPlanAndRuns(t *testing.T) {
	s := sample(t)
	if s.Runs() != nil {
		t.Errorf("Runs of a new store = %v, want none", s.Runs())
	}
	plan := s.Plan()
	if len(plan) != 2 || plan[0].ID != 3 || plan[1].ID != 8 {
		t.Fatalf("Plan() = %+v, want rows 3 and 8", plan)
	}
	run1 := emailsched.RunInfo{ID: "run-1", Today: today}
	w, err := s.Begin(t.Context(), run1)
	if err != nil {
		t.Fatal(err)
	}
	ins := row(0, emailsched.TypeBirthday, 20, emailsched.StatusPreScheduled)
	d := &store.Delta{ContactID: 1, Insert: []emailsched.Email{ins}}
	if err := w.Write(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	sum := store.Summary{Contacts: 2, Rows: store.RowCounts{Inserted: 1, Unchanged: 2}}
	if err := w.Commit(t.Context(), sum); err != nil {
		t.Fatal(err)
	}
	ins.ID, ins.ContactID, ins.RunID = 9, 1, "run-1"
	if diff := cmp.Diff([]emailsched.Email{ins}, s.Plan()[:1], opts); diff != "" {
		t.Errorf("Plan()[:1] after the run (-want +got):\n%s", diff)
	}

	run2 := emailsched.RunInfo{ID: "run-2", Today: today}
	w2, _ := s.Begin(t.Context(), run2)
	if err := w2.Abort(t.Context(), errors.New("disk full")); err != nil {
		t.Fatal(err)
	}
	run3 := emailsched.RunInfo{ID: "run-3", Today: today}
	w3, _ := s.Begin(t.Context(), run3)
	if err := w3.Abort(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	want := []memory.Run{{Info: run1, Summary: sum}, {Info: run2, Err: "disk full"}, {Info: run3, Err: "aborted"}}
	if diff := cmp.Diff(want, s.Runs(), opts); diff != "" {
		t.Errorf("Runs() (-want +got):\n%s", diff)
	}
}

func TestWriterContext(t *testing.T) {
	s := sample(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "r"})
	d := &store.Delta{ContactID: 1, Insert: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)}}
	if err := w.Write(ctx, d); !errors.Is(err, context.Canceled) {
		t.Errorf("Write(cancelled): %v, want context.Canceled", err)
	}
	if err := w.Write(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, store.Summary{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit(cancelled): %v, want context.Canceled", err)
	}
	if len(s.Plan()) != 2 || len(s.Runs()) != 0 {
		t.Errorf("a cancelled Commit changed the store: plan %v, runs %v", s.Plan(), s.Runs())
	}
	// The writer is still open: a Commit with a live context succeeds.
	if err := w.Commit(t.Context(), store.Summary{}); err != nil {
		t.Errorf("Commit after a cancelled Commit: %v", err)
	}
	if len(s.Plan()) != 3 {
		t.Errorf("plan has %d rows, want 3", len(s.Plan()))
	}
}

func TestCommitRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    store.Delta
		want error
	}{
		{"UnknownContact", store.Delta{ContactID: 5, Insert: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)}}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sample(t)
			before, _ := s.Rows(2)
			w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "r"})
			// A good delta first: a bad one must stop it from applying too.
			good := &store.Delta{ContactID: 1, Insert: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)}}
			if err := w.Write(t.Context(), good); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(t.Context(), &tc.d); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(t.Context(), store.Summary{}); !errors.Is(err, tc.want) {
				t.Errorf("Commit: %v, want %v", err, tc.want)
			}
			after, _ := s.Rows(2)
			if diff := cmp.Diff(before, after, opts); diff != "" {
				t.Errorf("rows changed (-before +after):\n%s", diff)
			}
			if rows, _ := s.Rows(1); len(rows) != 0 {
				t.Errorf("the good delta of a refused commit was applied: %v", rows)
			}
			if err := w.Write(t.Context(), good); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Write after a refused Commit: %v, want store.ErrClosed", err)
			}
		})
	}
}

// TestWriteRefusals: what no run may write is refused at Write.
func TestWriteRefusals(t *testing.T) {
	r3 := row(3, emailsched.TypeEffectiveDate, 9, emailsched.StatusSkipped)
	moved := r3
	moved.Date = moved.Date.AddDays(1)
	for _, tc := range []struct {
		name string
		d    store.Delta
	}{
		{"UpdateToSent", store.Delta{ContactID: 2, Update: []emailsched.Email{row(3, emailsched.TypeEffectiveDate, 9, emailsched.StatusSent)}}},
		{"InsertSent", store.Delta{ContactID: 2, Insert: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusSent)}}},
		{"UpdateAndDeleteOneRow", store.Delta{ContactID: 2, Update: []emailsched.Email{moved}, Delete: []emailsched.Email{r3}}},
		{"DeleteWithoutID", store.Delta{ContactID: 2, Delete: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusSkipped)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sample(t)
			w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "r"})
			if err := w.Write(t.Context(), &tc.d); !errors.Is(err, store.ErrNotPlanned) {
				t.Errorf("Write: %v, want store.ErrNotPlanned", err)
			}
		})
	}
}

// TestCommitTaken: rows that are not (any longer) the contact's planned
// rows were taken by the sending system: the contact keeps its rows, the
// others' changes land, and the rows are counted.
func TestCommitTaken(t *testing.T) {
	r3 := row(3, emailsched.TypeEffectiveDate, 9, emailsched.StatusSkipped)
	moved := r3
	moved.Date = moved.Date.AddDays(1)
	for _, tc := range []struct {
		name   string
		deltas []store.Delta
		taken  int
	}{
		{"UpdateHistory", []store.Delta{{ContactID: 2, Update: []emailsched.Email{row(7, emailsched.TypeBirthday, -99, emailsched.StatusPreScheduled)}}}, 1},
		{"DeleteHistory", []store.Delta{{ContactID: 2, Delete: []emailsched.Email{row(7, emailsched.TypeBirthday, -100, emailsched.StatusSent)}}}, 1},
		{"OtherContactsRow", []store.Delta{{ContactID: 1, Delete: []emailsched.Email{r3}}}, 1},
		// Two deltas of one contact break the Writer's contract: the
		// second finds its row gone, as if the sender had taken it.
		{"DeleteThenUpdate", []store.Delta{{ContactID: 2, Delete: []emailsched.Email{r3}}, {ContactID: 2, Update: []emailsched.Email{moved}}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sample(t)
			w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "r"})
			good := &store.Delta{ContactID: 1, Insert: []emailsched.Email{row(0, emailsched.TypeAEP, 1, emailsched.StatusPreScheduled)}}
			if err := w.Write(t.Context(), good); err != nil {
				t.Fatal(err)
			}
			for i := range tc.deltas {
				if err := w.Write(t.Context(), &tc.deltas[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(t.Context(), store.Summary{}); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if got := w.(store.WriteReporter).WriteReport().Rows.Taken; got != tc.taken {
				t.Errorf("Taken = %d, want %d", got, tc.taken)
			}
			if rows, _ := s.Rows(1); len(rows) != 1 {
				t.Errorf("contact 1 has %d rows, want the good delta's 1", len(rows))
			}
		})
	}
}

// TestFailedCommitRecorded: a Commit refused for a bad delta closes the
// Writer, so the caller's Abort is a no-op; the run must still be recorded
// (Run documents "a committed or aborted run"), or the audit loses it.
func TestFailedCommitRecorded(t *testing.T) {
	s := sample(t)
	w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "bad"})
	d := &store.Delta{ContactID: 42}
	if err := w.Write(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	err := w.Commit(t.Context(), store.Summary{})
	if err == nil {
		t.Fatal("Commit accepted a delta for an unknown contact")
	}
	if aerr := w.Abort(t.Context(), err); aerr != nil {
		t.Fatal(aerr)
	}
	runs := s.Runs()
	if len(runs) != 1 || runs[0].Info.ID != "bad" || runs[0].Err == "" {
		t.Errorf("Runs() = %+v, want the failed run recorded with its error", runs)
	}
}

func TestContactsCancel(t *testing.T) {
	s, err := memory.New(demodata.Generate(demodata.GenOptions{Seed: 1, Contacts: 3000}), emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	var last error
	for c, err := range s.Contacts(ctx) {
		if err != nil {
			last = err
			if c != nil {
				t.Error("contact yielded with an error")
			}
			continue
		}
		n++
		if n == 10 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("stream ended with %v after %d contacts, want context.Canceled", last, n)
	}
	// The check runs every 1024 contacts: the stream stops at the next one.
	if n != 1024 {
		t.Errorf("stream yielded %d contacts after cancelling at 10, want 1024", n)
	}
}

func TestContactsSnapshotPerContact(t *testing.T) {
	// A commit during an iteration does not change the contact in hand.
	s := sample(t)
	for c, err := range s.Contacts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != 2 {
			continue
		}
		n := len(c.Stored)
		w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "during"})
		d := &store.Delta{ContactID: 2, Delete: c.Stored[:1]}
		if err := w.Write(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(t.Context(), store.Summary{}); err != nil {
			t.Fatal(err)
		}
		if len(c.Stored) != n {
			t.Errorf("contact in hand changed by a commit: %d stored rows, want %d", len(c.Stored), n)
		}
	}
	if n := len(s.Plan()); n != 1 {
		t.Errorf("plan has %d rows after deleting one of two", n)
	}
}

func TestConcurrentReadWrite(t *testing.T) {
	s, err := memory.New(demodata.Generate(demodata.GenOptions{Seed: 2, Contacts: 500, StoredFraction: 1}), emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		n := 0
		for _, err := range s.Contacts(context.Background()) {
			if err != nil {
				done <- err
				return
			}
			n++
		}
		if n != 500 {
			done <- fmt.Errorf("read %d contacts, want 500", n)
			return
		}
		done <- nil
	}()
	w, _ := s.Begin(t.Context(), emailsched.RunInfo{ID: "concurrent"})
	for id := int64(1); id <= 500; id++ {
		d := &store.Delta{ContactID: id, Insert: []emailsched.Email{row(0, emailsched.TypePostWindow, 3, emailsched.StatusPreScheduled)}}
		if err := w.Write(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(t.Context(), store.Summary{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSend(t *testing.T) {
	s := sample(t)
	sentAt := today.AddDays(5).Time(13, 30, time.UTC)
	if n := s.Send(today.AddDays(4), emailsched.StatusSent, sentAt); n != 0 {
		t.Errorf("Send(day 4) sent %d rows, want 0", n)
	}
	if n := s.Send(today.AddDays(5), emailsched.StatusSent, sentAt); n != 1 {
		t.Errorf("Send(day 5) sent %d rows, want 1", n)
	}
	// Row 8 (pre-scheduled, day 5) is history now; row 3 (skipped) stays.
	for c, err := range s.Contacts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != 2 {
			continue
		}
		want := row(8, emailsched.TypeAEP, 5, emailsched.StatusSent)
		want.ContactID, want.SentAt = 2, sentAt
		if i := slices.IndexFunc(c.History, func(e emailsched.Email) bool { return e.ID == 8 }); i < 0 {
			t.Errorf("row 8 not in history: %+v", c.History)
		} else if diff := cmp.Diff(want, c.History[i], opts); diff != "" {
			t.Errorf("sent row (-want +got):\n%s", diff)
		}
		if len(c.Stored) != 1 || c.Stored[0].ID != 3 {
			t.Errorf("stored after Send: %+v, want row 3", c.Stored)
		}
	}
}

// The store keeps the contacts' rows side by side in one array: a contact
// whose history grows (Send) must not write over the next contact's rows,
// and no slice it yields may be extended into them.
func TestRowsStayApart(t *testing.T) {
	in := []emailsched.Contact{
		{ID: 1, Email: "a@example.com", History: []emailsched.Email{row(1, emailsched.TypeAEP, -400, emailsched.StatusSent)},
			Stored: []emailsched.Email{row(2, emailsched.TypeBirthday, 1, emailsched.StatusPreScheduled)}},
		{ID: 2, Email: "b@example.com", History: []emailsched.Email{row(3, emailsched.TypeAEP, -400, emailsched.StatusSent)},
			Stored: []emailsched.Email{row(4, emailsched.TypeBirthday, 9, emailsched.StatusPreScheduled)}},
	}
	s, err := memory.New(in, emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	for c, err := range s.Contacts(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if cap(c.History) != len(c.History) || cap(c.Stored) != len(c.Stored) {
			t.Errorf("contact %d: history %d/%d, stored %d/%d (len/cap)", c.ID, len(c.History), cap(c.History), len(c.Stored), cap(c.Stored))
		}
	}
	if n := s.Send(today.AddDays(1), emailsched.StatusSent, time.Time{}); n != 1 {
		t.Fatalf("Send sent %d rows, want 1", n)
	}
	for _, tc := range []struct {
		id   int64
		want []int64
	}{{1, []int64{1, 2}}, {2, []int64{3, 4}}} {
		rows, err := s.Rows(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range rows {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("contact %d rows %v, want %v", tc.id, got, tc.want)
		}
	}
}
