package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// explainContacts exercise every kind of decision.
func explainContacts() []emailsched.Contact {
	cs := []emailsched.Contact{
		// CA: window, post-window, a stored date kept.
		{ID: 1, Email: "ca@example.com", ZIP: "90210", State: "TX", Birthday: d(1950, 1, 15), EffectiveDate: d(2015, 6, 1),
			Stored: []emailsched.Email{{ID: 50, Type: edt, Status: emailsched.StatusPreScheduled, Date: d(2025, 5, 4), Event: d(2025, 6, 1)}}},
		// TX: catch-up, a campaign conflict, the frequency limit, a
		// follow-up, history that already holds the AEP email.
		{ID: 2, Email: "tx@example.com", ZIP: "75001", Birthday: d(1950, 12, 20), Carrier: "Humana",
			Campaigns: []emailsched.CampaignTarget{{InstanceID: 1, Trigger: d(2024, 12, 15)}, {InstanceID: 6, Trigger: d(2024, 12, 15)}},
			History: []emailsched.Email{
				{ID: 60, Type: aep, Status: emailsched.StatusSent, Date: d(2024, 12, 9), Event: d(2025, 9, 15), Priority: 20},
			},
			Engagement: []emailsched.Engagement{{Kind: emailsched.EngagementHealthAnswer, At: at(d(2024, 12, 9), 15), MedicalConditions: true}}},
		{ID: 3, Email: "ny@example.com", ZIP: "10001", Birthday: d(1950, 6, 20)},
		{ID: 4, Email: "nobirthday@example.com", ZIP: "90210"},
		{ID: 5, Email: "broken", ZIP: "75001"},
		{ID: 6, Email: "optout@example.com", ZIP: "75001", DoNotCommunicate: true},
		{ID: 7, Email: "fl@example.com", ZIP: "33101"},
		{ID: 9, Email: "nowhere@example.com"},
		// CA: a stored post-window email of an earlier window is carried
		// forward; the current one keeps its stored day; a stored
		// effective-date day now inside the window yields to a free one.
		{ID: 10, Email: "ca2@example.com", ZIP: "90210", Birthday: d(1950, 1, 15), EffectiveDate: d(2015, 4, 20),
			Stored: []emailsched.Email{
				{ID: 70, Type: pw, Status: emailsched.StatusPreScheduled, Date: d(2025, 5, 1), Event: d(2024, 6, 1)},
				{ID: 71, Type: pw, Status: emailsched.StatusPreScheduled, Date: d(2025, 3, 20), Event: d(2025, 1, 15)},
				{ID: 72, Type: edt, Status: emailsched.StatusPreScheduled, Date: d(2025, 3, 10), Event: d(2025, 4, 20)},
			}},
		// OK: a window that covers every day leaves no day for the
		// post-window email.
		{ID: 11, Email: "ok@example.com", ZIP: "73101", Birthday: d(1950, 6, 20)},
	}
	// Crowd the day of contact 8's birthday email so that balancing moves it.
	for i := int64(0); i < 30; i++ {
		cs = append(cs, emailsched.Contact{ID: 100 + i, Email: "crowd@example.com", ZIP: "75001", Birthday: d(1950, 3, 1)})
	}
	return cs
}

func explainScheduler(t *testing.T) *Scheduler {
	t.Helper()
	set, err := rules.Build(rules.Options{Buffer: 60, Checksum: "test"},
		rules.Entry{States: []emailsched.State{emailsched.MustState("CA")}, Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "test.rules:1:5"},
		rules.Entry{States: []emailsched.State{emailsched.MustState("NY")}, Rule: rules.YearRound(), Origin: "test.rules:2:5"},
		rules.Entry{States: []emailsched.State{emailsched.MustState("OK")}, Rule: rules.Windows(rules.BirthdayWindow(0, 366).WithBuffer(366)), Origin: "test.rules:4:5"},
		rules.Entry{States: []emailsched.State{emailsched.MustState("FL")}, Origin: "test.rules:3:5",
			Func: func(rules.Input) (rules.Rule, error) { return rules.Rule{}, errors.New("age: birthday missing") }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return newTestScheduler(t, Config{Rules: set, DailyCapPercent: Float(20)})
}

func TestExplainGolden(t *testing.T) {
	m, err := memory.New(explainContacts(), testCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	s := explainScheduler(t)
	var b strings.Builder
	for _, id := range []int64{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 100, 129} {
		ex, err := s.ExplainAt(context.Background(), d(2024, 12, 10), m, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n")
	}
	checkGolden(t, "explain.golden", b.String())
}

func TestExplainMatchesRun(t *testing.T) {
	// The explained plan is the plan the run writes.
	m, _ := memory.New(explainContacts(), testCatalogue())
	s := explainScheduler(t)
	today := d(2024, 12, 10)
	var explained []ExplainedEmail
	for _, c := range explainContacts() {
		ex, err := s.ExplainAt(context.Background(), today, m, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		explained = append(explained, ex.Emails...)
	}
	if _, err := s.RunAt(context.Background(), today, m, m); err != nil {
		t.Fatal(err)
	}
	var written []ExplainedEmail
	for _, e := range m.Plan() {
		written = append(written, ExplainedEmail{Type: e.Type, Date: e.Date, Status: e.Status, SkipReason: e.SkipReason,
			Event: e.Event, Priority: e.Priority, Campaign: e.CampaignInstanceID})
	}
	strip := func(es []ExplainedEmail) []ExplainedEmail {
		out := make([]ExplainedEmail, len(es))
		for i, e := range es {
			e.Trail, e.Row = nil, "" // TestExplainReplan checks Row
			out[i] = e
		}
		return out
	}
	if len(explained) != len(written) {
		t.Fatalf("explained %d emails, run wrote %d", len(explained), len(written))
	}
	byKey := func(es []ExplainedEmail) map[string]int {
		m := map[string]int{}
		for _, e := range es {
			b, _ := json.Marshal(e)
			m[string(b)]++
		}
		return m
	}
	if diff := cmp.Diff(byKey(strip(written)), byKey(strip(explained))); diff != "" {
		t.Errorf("explained plan differs from the written one (-run +explain):\n%s", diff)
	}
}

func TestExplainErrors(t *testing.T) {
	m, _ := memory.New(explainContacts(), testCatalogue())
	s := explainScheduler(t)
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), m, 50); !errors.Is(err, ErrContactNotFound) {
		t.Errorf("missing contact: %v", err)
	}
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), m, 5000); !errors.Is(err, ErrContactNotFound) {
		t.Errorf("contact after the last: %v", err)
	}
	if _, err := s.Explain(context.Background(), m, 1); err != nil {
		t.Errorf("Explain today: %v", err)
	}
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), failingCampaigns{}, 1); err == nil {
		t.Error("campaign error not returned")
	}
	boom := errors.New("boom")
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), fakeSource{err: boom}, 1); !errors.Is(err, boom) {
		t.Errorf("counting pass error: %v", err)
	}
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), &secondPassFails{fakeSource: fakeSource{}}, 1); !errors.Is(err, boom) && (err == nil || !strings.Contains(err.Error(), "boom")) {
		t.Errorf("second pass error: %v", err)
	}
	twice := fakeSource{contacts: []emailsched.Contact{{ID: 2, Email: "a@example.com", ZIP: "75001"}, {ID: 2, Email: "a@example.com", ZIP: "75001"}}}
	if _, err := s.ExplainAt(context.Background(), d(2024, 12, 10), twice, 3); !errors.Is(err, ErrSourceOrder) {
		t.Errorf("unordered: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newTestScheduler(t, Config{DisableLoadBalancing: true}).ExplainAt(ctx, d(2024, 12, 10), fakeSource{}, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := s.ExplainAt(context.Background(), datecalc.Date{}, m, 1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("zero date: %v", err)
	}
	ex := &Explanation{ContactID: 1}
	if err := ex.WriteText(failingWriter{}); err == nil {
		t.Error("write error lost")
	}
	ex.Invalid = InvalidEmail
	if err := ex.WriteText(failingWriter{}); err == nil {
		t.Error("write error lost")
	}
}

// lookupStore is a memory store that can look a contact up, counting the
// contacts it streams.
type lookupStore struct {
	*memory.Store
	streamed int
}

func (l *lookupStore) Contact(ctx context.Context, id int64) (*emailsched.Contact, error) {
	for c, err := range l.Store.Contacts(ctx) {
		if err != nil {
			return nil, err
		}
		if c.ID == id && !c.Deleted {
			cp := c.Clone()
			return &cp, nil
		}
	}
	return nil, store.ErrNotFound
}

func (l *lookupStore) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		for c, err := range l.Store.Contacts(ctx) {
			l.streamed++
			if !yield(c, err) {
				return
			}
		}
	}
}

// TestExplainLooksUp: a source that looks contacts up is not streamed; the
// explanation says where its balancing's volume came from: nowhere before
// a run, the stored plan's (an estimate) after one.
func TestExplainLooksUp(t *testing.T) {
	m, err := memory.New(explainContacts(), testCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	src := &lookupStore{Store: m}
	s := explainScheduler(t)
	today := d(2024, 12, 10)
	if _, err := s.ExplainAt(context.Background(), today, src, 50); !errors.Is(err, ErrContactNotFound) {
		t.Errorf("missing contact: %v", err)
	}
	ex, err := s.ExplainAt(context.Background(), today, src, 3)
	if err != nil {
		t.Fatal(err)
	}
	if src.streamed != 0 || ex.LoadFrom != LoadUnknown || ex.Estimate {
		t.Errorf("before a run: %d contacts streamed, load from %q, estimate %v", src.streamed, ex.LoadFrom, ex.Estimate)
	}
	var b strings.Builder
	ex.WriteText(&b)
	if !strings.Contains(b.String(), "no email count is stored for this day") {
		t.Errorf("explanation does not say that balancing moved nothing:\n%s", b.String())
	}
	if _, err := s.RunAt(context.Background(), today, m, m); err != nil {
		t.Fatal(err)
	}
	ex, err = s.ExplainAt(context.Background(), today, src, 3)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	ex.WriteText(&b)
	if src.streamed != 0 || ex.LoadFrom != LoadStored || !ex.Estimate || !strings.Contains(b.String(), "an estimate") {
		t.Errorf("after a run: %d contacts streamed, load from %q, estimate %v:\n%s", src.streamed, ex.LoadFrom, ex.Estimate, b.String())
	}
	failing := &lookupFails{Store: m}
	if _, err := s.ExplainAt(context.Background(), today, failing, 3); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("lookup error: %v", err)
	}
}

type lookupFails struct{ *memory.Store }

func (lookupFails) Contact(context.Context, int64) (*emailsched.Contact, error) {
	return nil, errors.New("boom")
}

// TestExplainReplan: after a change of a timing parameter, Explain says
// that the run re-plans and what it writes for each email, and the run
// then does exactly that.
func TestExplainReplan(t *testing.T) {
	ctx := context.Background()
	today := d(2024, 12, 10)
	c := emailsched.Contact{ID: 1, Email: "tx@example.com", ZIP: "75001", Birthday: d(1950, 3, 20), EffectiveDate: d(2015, 9, 1)}
	m, err := memory.New([]emailsched.Contact{c}, emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newTestScheduler(t, Config{}).RunAt(ctx, today, m, m); err != nil {
		t.Fatal(err)
	}
	stored, _ := m.Rows(1)
	same := newTestScheduler(t, Config{})
	if ex, err := same.ExplainAt(ctx, today.AddDays(1), m, 1); err != nil || ex.Replan.Changed() {
		t.Fatalf("same settings: replan %+v, %v", ex.Replan, err)
	}

	changed := newTestScheduler(t, Config{BirthdayDaysBefore: Int(21)})
	ex, err := changed.ExplainAt(ctx, today, &lookupStore{Store: m}, 1) // read alone, as from SQLite
	if err != nil {
		t.Fatal(err)
	}
	if ex.Replan != (Replan{Config: true}) {
		t.Errorf("Replan = %+v, want the configuration changed", ex.Replan)
	}
	var bday, aepRow string
	for _, e := range ex.Emails {
		switch e.Type {
		case bd:
			bday = e.Row
		case aep:
			aepRow = e.Row
		}
	}
	var bdayID, aepID int64
	for _, e := range stored {
		switch e.Type {
		case bd:
			bdayID = e.ID
		case aep:
			aepID = e.ID
		}
	}
	if want := fmt.Sprintf("updates row %d (date 2025-03-06 → 2025-02-27)", bdayID); bday != want {
		t.Errorf("birthday row: %q, want %q", bday, want)
	}
	if want := fmt.Sprintf("keeps row %d unchanged", aepID); aepRow != want {
		t.Errorf("AEP row: %q, want %q", aepRow, want)
	}
	var b strings.Builder
	if err := ex.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Re-planned: the configuration changed since the stored plan") {
		t.Errorf("the text does not say that it re-plans:\n%s", b.String())
	}

	rep, err := changed.RunAt(ctx, today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replan != (Replan{Config: true}) || rep.Rows.Updated != 1 || rep.Rows.Inserted != 0 || rep.Rows.Deleted != 0 {
		t.Errorf("run after the change: replan %+v, rows %+v; want one update", rep.Replan, rep.Rows)
	}
	b.Reset()
	if err := rep.WriteSummary(&b); err != nil || !strings.Contains(b.String(), "Re-planned: the configuration changed since the stored plan, so stored dates were not kept") {
		t.Errorf("the summary does not say that the run re-planned (%v):\n%s", err, b.String())
	}
	after, _ := m.Rows(1)
	for _, e := range after {
		if e.ID == bdayID && e.Date != d(2025, 2, 27) {
			t.Errorf("birthday row %d on %s, want 2025-02-27 (21 days before)", e.ID, e.Date)
		}
	}
	// A second run with the same settings keeps everything.
	if rep, err := changed.RunAt(ctx, today, m, m); err != nil || rep.Replan.Changed() || rep.Rows.Written() != 0 {
		t.Errorf("second run: replan %+v, rows %+v, %v", rep.Replan, rep.Rows, err)
	}
}

func TestRowChanges(t *testing.T) {
	base := emailsched.Email{ID: 9, Type: bd, Date: d(2025, 3, 1), Status: emailsched.StatusPreScheduled, Event: d(2025, 3, 15), Priority: 10}
	for _, tc := range []struct {
		name   string
		change func(e *emailsched.Email)
		want   string
	}{
		{"type", func(e *emailsched.Email) { e.Type = pw }, "type birthday → post_window"},
		{"date", func(e *emailsched.Email) { e.Date = d(2025, 3, 2) }, "date 2025-03-01 → 2025-03-02"},
		{"status", func(e *emailsched.Email) { e.Status, e.SkipReason = emailsched.StatusSkipped, "year_round:NY" },
			"status pre-scheduled → skipped: year_round:NY"},
		{"event", func(e *emailsched.Email) { e.Event = d(2026, 3, 15) }, "event 2025-03-15 → 2026-03-15"},
		{"priority", func(e *emailsched.Email) { e.Priority = 1 }, "priority 10 → 1"},
		{"campaign", func(e *emailsched.Email) { e.CampaignInstanceID = 4 }, "campaign instance 0 → 4"},
		{"notes", func(e *emailsched.Email) { e.CatchUpNote, e.SMSTemplate, e.Metadata = CatchUpNote, "x.txt", "{}" },
			"catch-up note, templates, metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := base
			tc.change(&now)
			if got := rowChanges(&base, &now); got != tc.want {
				t.Errorf("rowChanges = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExplainDeletedRows: a stored row that leaves the plan is named.
func TestExplainDeletedRows(t *testing.T) {
	c := emailsched.Contact{ID: 1, Email: "tx@example.com", ZIP: "75001", Birthday: d(1950, 3, 20),
		Stored: []emailsched.Email{{ID: 40, Type: "campaign_promotion", Date: d(2025, 1, 5), Status: emailsched.StatusSkipped,
			SkipReason: "campaign_conflict", CampaignInstanceID: 99, Priority: 40}}}
	m, err := memory.New([]emailsched.Contact{c}, emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := newTestScheduler(t, Config{}).ExplainAt(context.Background(), d(2024, 12, 10), m, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"row 40 (campaign_promotion 2025-01-05 skipped: campaign_conflict)"}
	if diff := cmp.Diff(want, ex.Deleted); diff != "" {
		t.Errorf("Deleted (-want +got):\n%s", diff)
	}
	var b strings.Builder
	if err := ex.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Deletes stored row 40 (campaign_promotion 2025-01-05 skipped: campaign_conflict): no longer in the plan") {
		t.Errorf("the text does not name the deleted row:\n%s", b.String())
	}
}

func TestReplanString(t *testing.T) {
	for _, tc := range []struct {
		r    Replan
		want string
	}{
		{Replan{}, "the stored plan was made with these settings"},
		{Replan{Rules: true}, "the rules changed since the stored plan"},
		{Replan{Config: true}, "the configuration changed since the stored plan"},
		{Replan{Rules: true, Config: true}, "the rules and the configuration changed since the stored plan"},
	} {
		if got := tc.r.String(); got != tc.want || tc.r.Changed() != (tc.r != Replan{}) {
			t.Errorf("%+v: %q, changed %t", tc.r, got, tc.r.Changed())
		}
	}
}
