package scheduler

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

func fixedClock() time.Time { return time.Date(2024, 12, 10, 14, 0, 0, 0, time.UTC) }

func newTestScheduler(t testing.TB, cfg Config) *Scheduler {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock
	}
	if cfg.NewRunID == nil {
		cfg.NewRunID = func(time.Time) string { return "run-test" }
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func demoContacts() []emailsched.Contact {
	return []emailsched.Contact{
		{ID: 1, Email: "ca@example.com", ZIP: "90210", State: "TX", Birthday: d(1950, 1, 15)},
		{ID: 2, Email: "tx@example.com", ZIP: "75001", Birthday: d(1950, 6, 20), EffectiveDate: d(2015, 3, 1)},
		{ID: 3, Email: "ny@example.com", ZIP: "10001"},
		{ID: 4, Email: "bad", ZIP: "75001"},
		{ID: 5, Email: "", ZIP: "75001"},
		{ID: 6, Email: "nostate@example.com"},
		{ID: 7, Email: "opt@example.com", ZIP: "75001", DoNotCommunicate: true},
		{ID: 8, Email: "dirty@example.com", State: "ok", Birthday: d(2030, 1, 1),
			Issues: []emailsched.FieldIssue{{Field: emailsched.FieldEffectiveDate, Value: "2015-02-30", Reason: "no such day"}}},
	}
}

func TestRunReport(t *testing.T) {
	m, err := memory.New(demoContacts(), emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestScheduler(t, Config{})
	rep, err := s.Run(context.Background(), m, m)
	if err != nil {
		t.Fatal(err)
	}
	got := *rep
	got.Timings = Timings{}
	// Two AEP emails on 2025-09-15 against a cap of 1 (7 % of 4 valid
	// contacts, rounded up): one moves to the next day of the AEP send
	// window.
	if got.Balance == nil || got.Balance.Cap != 1 || got.Balance.Unmovable != 0 || got.Balance.Moved != 1 ||
		got.Balance.MovedByDays[1] != 1 || got.Balance.DaysOverThresholdAfter != 0 {
		t.Errorf("balance report %+v", got.Balance)
	}
	got.Balance = nil
	want := Report{
		RunID: "run-test", Today: d(2024, 12, 10), RulesName: "default.rules", RulesChecksum: s.s.rules.Checksum(), ConfigChecksum: s.Identity().Config,
		StartedAt: fixedClock(), FinishedAt: fixedClock(),
		Contacts: 8, Valid: 4, OptedOut: 1, Invalid: 3,
		InvalidByReason: map[InvalidReason]int{InvalidEmail: 1, InvalidNoEmail: 1, InvalidNoState: 1},
		InvalidContacts: []InvalidContact{{4, InvalidEmail}, {5, InvalidNoEmail}, {6, InvalidNoState}},
		FieldIssues:     map[string]int{emailsched.FieldEffectiveDate: 1, emailsched.FieldBirthday + futureIssue: 1},
		StateFromZIP:    3, StateFromField: 1, StateMismatches: 1,
		Emails: []TypeCount{
			// Contact 8 is in OK, whose window is anchored on the
			// birthday, and its birthday is in the future: unknown window.
			{Type: aep, PreScheduled: 2, Skipped: 2},
			{Type: bd, PreScheduled: 1, Skipped: 1},
			{Type: edt, PreScheduled: 1},
			{Type: pw, PreScheduled: 1},
		},
		Stages:      StageCounts{Anniversary: 7, PostWindow: 1, Excluded: 3},
		SkipReasons: map[emailsched.SkipReason]int{"exclusion_window:CA:birthday": 1, "year_round:NY": 1, "missing_anchor:OK:birthday": 1},
		Rows:        store.RowCounts{Inserted: 8},
		LoadFrom:    LoadCounted,
		// Planned through today + 364 days less the longest lead (30 days);
		// the AEP window of 2024 has ended.
		PlannedThrough: d(2025, 11, 9),
		AEPWindows:     []datecalc.Interval{{Start: d(2025, 9, 15), End: d(2025, 9, 30)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if rep.Planned() != 8 || rep.Count(aep, emailsched.StatusSkipped) != 2 || rep.Count(bd, emailsched.StatusPreScheduled) != 1 || rep.Count("nothing", emailsched.StatusSkipped) != 0 {
		t.Errorf("Planned/Count disagree with %+v", rep.Emails)
	}
	if rep.Timings.Total <= 0 {
		t.Errorf("timings not measured: %+v", rep.Timings)
	}
	runs := m.Runs()
	if len(runs) != 1 || runs[0].Summary.Contacts != 8 || runs[0].Summary.Rows.Inserted != 8 || runs[0].Summary.ContactsChecksum == 0 || runs[0].Info.ID != "run-test" {
		t.Errorf("sink got %+v", runs)
	}
	for _, e := range m.Plan() {
		if e.RunID != "run-test" {
			t.Errorf("row %d has run id %q", e.ID, e.RunID)
		}
	}
}

func TestRunInvalidSamplesBounded(t *testing.T) {
	cs := make([]emailsched.Contact, MaxInvalidSamples+5)
	for i := range cs {
		cs[i] = emailsched.Contact{ID: int64(i + 1)}
	}
	m, _ := memory.New(cs, emailsched.Campaigns{})
	rep, err := newTestScheduler(t, Config{}).Run(context.Background(), m, m)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Invalid != len(cs) || len(rep.InvalidContacts) != MaxInvalidSamples {
		t.Errorf("invalid %d, samples %d", rep.Invalid, len(rep.InvalidContacts))
	}
}

func TestRunDeletesPlanOfContactsThatLeft(t *testing.T) {
	// A contact that opted out (or became invalid) loses its stored plan.
	c := emailsched.Contact{ID: 1, Email: "x@example.com", ZIP: "75001", DoNotCommunicate: true,
		Stored:  []emailsched.Email{{Type: aep, Status: emailsched.StatusPreScheduled, Date: d(2025, 9, 15), Event: d(2025, 9, 15)}},
		History: []emailsched.Email{{Type: bd, Status: emailsched.StatusSent, Date: d(2024, 6, 1)}}}
	m, _ := memory.New([]emailsched.Contact{c}, emailsched.Campaigns{})
	rep, err := newTestScheduler(t, Config{}).Run(context.Background(), m, m)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := m.Rows(1)
	if rep.Rows.Deleted != 1 || len(rows) != 1 || rows[0].Status != emailsched.StatusSent {
		t.Errorf("rows %+v after run %+v", rows, rep.Rows)
	}
}

func TestRunNextDayIsStable(t *testing.T) {
	m, _ := memory.New(demoContacts(), emailsched.Campaigns{})
	s := newTestScheduler(t, Config{})
	if _, err := s.RunAt(context.Background(), d(2024, 12, 10), m, m); err != nil {
		t.Fatal(err)
	}
	before := m.Plan()
	rep, err := s.RunAt(context.Background(), d(2024, 12, 11), m, m)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != (store.RowCounts{Unchanged: len(before)}) {
		t.Errorf("next day rows %+v, want all %d unchanged", rep.Rows, len(before))
	}
}

// fakeSource yields contacts then fails.
type fakeSource struct {
	contacts []emailsched.Contact
	err      error
}

func (f fakeSource) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		for i := range f.contacts {
			if !yield(&f.contacts[i], nil) {
				return
			}
		}
		if f.err != nil {
			yield(nil, f.err)
		}
	}
}

// secondPassFails fails on its second stream.
type secondPassFails struct {
	fakeSource
	calls int
}

func (f *secondPassFails) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	f.calls++
	if f.calls == 2 {
		f.err = errors.New("boom")
	}
	return f.fakeSource.Contacts(ctx)
}

// fakeSink fails where told to and records what happened.
type fakeSink struct {
	beginErr, writeErr, commitErr, abortErr error
	writes                                  int
	aborted                                 error
	committed                               bool
}

func (f *fakeSink) Begin(context.Context, emailsched.RunInfo) (store.Writer, error) {
	if f.beginErr != nil {
		return nil, f.beginErr
	}
	return f, nil
}

func (f *fakeSink) Write(context.Context, *store.Delta) error {
	f.writes++
	return f.writeErr
}

func (f *fakeSink) Commit(context.Context, store.Summary) error {
	f.committed = f.commitErr == nil
	return f.commitErr
}

func (f *fakeSink) Abort(_ context.Context, cause error) error {
	f.aborted = cause
	return f.abortErr
}

func TestRunFailures(t *testing.T) {
	boom := errors.New("boom")
	good := []emailsched.Contact{{ID: 1, Email: "a@example.com", ZIP: "75001"}}
	for _, tc := range []struct {
		name      string
		src       store.ContactSource
		sink      *fakeSink
		ctx       func() context.Context
		wantErr   string
		wantAbort bool
	}{
		{"begin", fakeSource{contacts: good}, &fakeSink{beginErr: boom}, context.Background, "scheduler: begin: boom", false},
		{"source", fakeSource{contacts: good, err: boom}, &fakeSink{}, context.Background, "scheduler: reading contacts (counting pass): boom", true},
		{"source on the second pass", &secondPassFails{fakeSource{contacts: good}, 0}, &fakeSink{}, context.Background, "scheduler: reading contacts: boom", true},
		{"write", fakeSource{contacts: good}, &fakeSink{writeErr: boom}, context.Background, "scheduler: writing contact 1: boom", true},
		{"abort fails too", fakeSource{contacts: good}, &fakeSink{writeErr: boom, abortErr: errors.New("stuck")}, context.Background,
			"scheduler: writing contact 1: boom\nscheduler: abort: stuck", true},
		{"commit", fakeSource{contacts: good}, &fakeSink{commitErr: boom}, context.Background, "scheduler: commit: boom", false},
		{"cancelled", fakeSource{contacts: good}, &fakeSink{}, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "scheduler: context canceled", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := newTestScheduler(t, Config{}).Run(tc.ctx(), tc.src, tc.sink)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if rep == nil {
				t.Fatal("no report with the error")
			}
			if (tc.sink.aborted != nil) != tc.wantAbort || tc.sink.committed {
				t.Errorf("aborted = %v committed = %v", tc.sink.aborted, tc.sink.committed)
			}
		})
	}
	if !errors.Is(func() error {
		_, err := newTestScheduler(t, Config{}).Run(context.Background(), fakeSource{err: boom}, &fakeSink{})
		return err
	}(), boom) {
		t.Error("source error not wrapped")
	}
}

func TestRunAtNeedsADate(t *testing.T) {
	_, err := newTestScheduler(t, Config{}).RunAt(context.Background(), datecalc.Date{}, fakeSource{}, &fakeSink{})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("err = %v", err)
	}
}

func TestRunLogs(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	m, _ := memory.New(demoContacts(), emailsched.Campaigns{})
	if _, err := newTestScheduler(t, Config{Logger: log}).Run(context.Background(), m, m); err != nil {
		t.Fatal(err)
	}
	if _, err := newTestScheduler(t, Config{Logger: log}).Run(context.Background(), fakeSource{}, &fakeSink{commitErr: errors.New("disk full")}); err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"run started", "run finished", "contacts=8", "commit failed", "disk full"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunCancelledWithoutBalancing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := &fakeSink{}
	_, err := newTestScheduler(t, Config{DisableLoadBalancing: true}).Run(ctx, fakeSource{contacts: []emailsched.Contact{{ID: 1}}}, sink)
	if !errors.Is(err, context.Canceled) || sink.aborted == nil {
		t.Errorf("err = %v, aborted = %v", err, sink.aborted)
	}
}

// TestRunRejectsUnorderedSource: a source that breaks the order (out of
// order, or a repeated id) stops the run with an error that names the
// contract and both ids, with load balancing, without it, and with
// several planning workers.
func TestRunRejectsUnorderedSource(t *testing.T) {
	a := emailsched.Contact{ID: 12, Email: "a@example.com", ZIP: "75001"}
	b := emailsched.Contact{ID: 2, Email: "b@example.com", ZIP: "75001"}
	for _, tc := range []struct {
		name string
		cs   []emailsched.Contact
		want string
	}{
		{"OutOfOrder", []emailsched.Contact{a, b}, "contact 2 came after contact 12"},
		{"Duplicate", []emailsched.Contact{a, a}, "contact 12 came after contact 12"},
	} {
		for _, cfg := range []struct {
			name string
			c    Config
		}{{"Balancing", Config{}}, {"NoBalancing", Config{DisableLoadBalancing: true}}, {"Workers", Config{Workers: Int(3)}}} {
			t.Run(tc.name+"/"+cfg.name, func(t *testing.T) {
				sink := &fakeSink{}
				_, err := newTestScheduler(t, cfg.c).Run(context.Background(), fakeSource{contacts: tc.cs}, sink)
				if !errors.Is(err, ErrSourceOrder) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want ErrSourceOrder naming %q", err, tc.want)
				}
				if sink.aborted == nil {
					t.Error("the writer was not aborted")
				}
			})
		}
	}
}

func TestLoadBalancingConfig(t *testing.T) {
	_, err := New(Config{DailyCapPercent: Float(200)})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "DailyCapPercent is 200, must be greater than 0 and at most 100") {
		t.Errorf("err = %v", err)
	}
	if _, err := New(Config{DailyCapPercent: Float(2), DisableLoadBalancing: true}); err != nil {
		t.Errorf("disabled balancing still validated: %v", err)
	}
}

func TestStageCounts(t *testing.T) {
	var s StageCounts
	s.count(kindCampaign, emailsched.ReasonCampaignConflict)
	s.count(kindFollowUp, emailsched.ReasonFrequencyLimit)
	s.count(kindPostWindow, "exclusion_window:CA:birthday")
	s.count(kindAnniversary, "")
	want := StageCounts{Anniversary: 1, Campaign: 1, FollowUp: 1, PostWindow: 1, Excluded: 1, CampaignConflict: 1, FrequencyLimit: 1}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestBalancerKeepsOneCampaignADay(t *testing.T) {
	s := mustSettings(t, Config{DisableFrequencyLimit: true})
	p := newPlanner(s, d(2024, 11, 20), nil)
	c := emailsched.Contact{ID: 1, Email: "a@example.com", ZIP: "75001"}
	var o outcome
	p.plan(&c, &o)
	o.reset()
	o.add(emailsched.Email{Type: ri, Date: d(2024, 12, 1), Status: emailsched.StatusPreScheduled, Event: d(2024, 12, 15)}, emailInfo{kind: kindCampaign, respects: true})
	o.add(emailsched.Email{Type: pro, Date: d(2024, 12, 2), Status: emailsched.StatusPreScheduled, Event: d(2024, 12, 9)}, emailInfo{kind: kindCampaign, respects: true})
	o.add(emailsched.Email{Type: aep, Date: d(2024, 12, 3), Status: emailsched.StatusPreScheduled, Event: d(2025, 9, 15)}, emailInfo{kind: kindAnniversary, respects: true})
	b := newBalancer(s)
	b.candidates(&o)
	if b.isLegal(1, d(2024, 12, 1)) {
		t.Error("a campaign email may not join another on its day")
	}
	if !b.isLegal(2, d(2024, 12, 1)) || !b.isLegal(1, d(2024, 12, 4)) {
		t.Error("other moves are legal")
	}
}

func TestProgress(t *testing.T) {
	var got []string
	cfg := Config{ProgressEvery: Int(3), Progress: func(pass string, done int) { got = append(got, fmt.Sprint(pass, done)) }}
	m, _ := memory.New(demoContacts(), emailsched.Campaigns{})
	if _, err := newTestScheduler(t, cfg).Run(context.Background(), m, m); err != nil {
		t.Fatal(err)
	}
	want := []string{"counting3", "counting6", "counting8", "planning3", "planning6", "planning8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

// countingSink reports what it "stored".
type countingSink struct {
	fakeSink
	report store.WriteReport
}

func (c *countingSink) Begin(context.Context, emailsched.RunInfo) (store.Writer, error) {
	return c, nil
}
func (c *countingSink) WriteReport() store.WriteReport { return c.report }

func TestRunReportsTheSinksCounts(t *testing.T) {
	sink := &countingSink{report: store.WriteReport{Rows: store.RowCounts{Inserted: 7, Conflicting: 1, Taken: 2},
		LongestLock: 1500 * time.Millisecond, Locked: 2 * time.Second}}
	m, _ := memory.New(demoContacts(), emailsched.Campaigns{})
	rep, err := newTestScheduler(t, Config{}).Run(context.Background(), m, sink)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != (store.RowCounts{Inserted: 7, Conflicting: 1, Taken: 2}) {
		t.Errorf("rows %+v", rep.Rows)
	}
	if rep.Timings.LongestLock != 1500*time.Millisecond || rep.Timings.Locked != 2*time.Second {
		t.Errorf("lock timings %+v", rep.Timings)
	}
	var b strings.Builder
	if err := rep.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 planned emails not written: the history already holds them", "2 rows taken over by the sending system", "held 1.5s at most"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// leftOutSource is a source that could not yield some of its contacts.
type leftOutSource struct{ fakeSource }

func (leftOutSource) LeftOut() map[string]int {
	return map[string]int{store.LeftOutInvalidID: 2, store.LeftOutDuplicateID: 1}
}

// TestRunDeletedAndLeftOut: the planned rows of a deleted contact are
// deleted and counted, its history kept; the contacts a source left out
// are invalid contacts of the report; a nil sink writes nothing.
func TestRunDeletedAndLeftOut(t *testing.T) {
	today := datecalc.MustNew(2025, 3, 3)
	gone := emailsched.Contact{ID: 77, Deleted: true,
		History: []emailsched.Email{{ID: 1, Type: emailsched.TypeAEP, Date: today.AddDays(-100), Status: emailsched.StatusSent}},
		Stored: []emailsched.Email{
			{ID: 2, Type: emailsched.TypeBirthday, Date: today.AddDays(10), Event: today.AddDays(24), Status: emailsched.StatusPreScheduled},
			{ID: 3, Type: emailsched.TypeAEP, Date: today.AddDays(30), Event: today.AddDays(30), Status: emailsched.StatusSkipped, SkipReason: "x"},
		}}
	m, err := memory.New(append(demoContacts(), gone), emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := newTestScheduler(t, Config{}).RunAt(context.Background(), today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if rep.DeletedContacts != 1 || rep.Rows.Deleted != 2 || rep.Contacts != len(demoContacts()) {
		t.Errorf("deleted contacts %d, rows %+v, contacts %d", rep.DeletedContacts, rep.Rows, rep.Contacts)
	}
	if rows, _ := m.Rows(77); len(rows) != 1 || rows[0].ID != 1 {
		t.Errorf("the deleted contact's rows: %+v, want its history only", rows)
	}
	var b strings.Builder
	rep.WriteSummary(&b)
	if !strings.Contains(b.String(), "1 contacts no longer exist: their planned emails were deleted") {
		t.Errorf("summary:\n%s", b.String())
	}
	plain, err := newTestScheduler(t, Config{}).RunAt(context.Background(), today, fakeSource{contacts: demoContacts()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = newTestScheduler(t, Config{}).RunAt(context.Background(), today, leftOutSource{fakeSource{contacts: demoContacts()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Invalid != plain.Invalid+3 || rep.InvalidByReason[InvalidID] != 2 || rep.InvalidByReason[InvalidDuplicateID] != 1 || rep.Contacts != plain.Contacts+3 {
		t.Errorf("left out: invalid %d %v of %d contacts", rep.Invalid, rep.InvalidByReason, rep.Contacts)
	}
}

// bareLookup looks contacts up but keeps no campaigns nor load.
type bareLookup struct{ fakeSource }

func (b bareLookup) Contact(_ context.Context, id int64) (*emailsched.Contact, error) {
	for i := range b.contacts {
		if b.contacts[i].ID == id {
			return &b.contacts[i], nil
		}
	}
	return nil, store.ErrNotFound
}

func TestExplainBareLookup(t *testing.T) {
	src := bareLookup{fakeSource{contacts: demoContacts()}}
	ex, err := newTestScheduler(t, Config{}).ExplainAt(context.Background(), datecalc.MustNew(2025, 3, 3), src, demoContacts()[0].ID)
	if err != nil || ex.LoadFrom != LoadUnknown {
		t.Errorf("explain: %v, %+v", err, ex)
	}
	ex.LoadFrom, ex.LoadPlanDate = LoadStored, datecalc.MustNew(2025, 3, 2)
	var b strings.Builder
	ex.WriteText(&b)
	if !strings.Contains(b.String(), "Load balancing: each day's email count is the one stored with the plan of 2025-03-02\n") {
		t.Errorf("explanation:\n%s", b.String())
	}
}
