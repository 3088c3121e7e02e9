package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// The nightly path: the second run starts from the load the first stored,
// reads its source once, and still keeps every rule and every status.
func TestRunFromStoredLoad(t *testing.T) {
	today := demodata.DefaultToday
	cat := demodata.DemoCampaigns(today)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 11, Contacts: 2000, Today: today, Campaigns: cat})
	cfg := scheduler.Config{DailyCapPercent: scheduler.Float(1)}
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, _ := memory.New(contacts, cat)
	if _, ok, _ := m.StoredLoad(ctx); ok {
		t.Fatal("a store without runs has a load")
	}
	first, err := s.RunAt(ctx, today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if first.LoadFrom != scheduler.LoadCounted || !first.LoadPlanDate.IsZero() {
		t.Errorf("first run: load from %q of %v, want a counting pass", first.LoadFrom, first.LoadPlanDate)
	}

	// The stored load is exactly the plan's pre-scheduled emails by day,
	// priority and effective-date flag.
	load, ok, err := m.StoredLoad(ctx)
	if err != nil || !ok {
		t.Fatalf("StoredLoad after a run: %v, %v", ok, err)
	}
	type key struct {
		d    datecalc.Date
		prio int
		ed   bool
	}
	want := map[key]int{}
	for _, e := range m.Plan() {
		if e.Status == emailsched.StatusPreScheduled {
			want[key{e.Date, e.Priority, e.Type == emailsched.TypeEffectiveDate}]++
		}
	}
	got := map[key]int{}
	for i, e := range load.Entries {
		got[key{e.Date, e.Priority, e.EffectiveDate}] += e.Emails
		if i > 0 {
			p := load.Entries[i-1]
			if c := p.Date.Compare(e.Date); c > 0 || c == 0 && (p.Priority > e.Priority || p.Priority == e.Priority && (p.EffectiveDate || !e.EffectiveDate)) {
				t.Errorf("entries %d and %d out of order: %+v, %+v", i-1, i, p, e)
			}
		}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(key{})); diff != "" {
		t.Errorf("stored load against the stored plan (-plan +load):\n%s", diff)
	}
	if load.Today != today || load.ValidContacts != first.Valid || load.Key == "" {
		t.Errorf("stored load: today %v, valid %d (report %d), key %q", load.Today, load.ValidContacts, first.Valid, load.Key)
	}

	// The next night, from the stored load, and the same night counted
	// afresh on an identical store: both keep every rule, and balancing
	// changes no status, so the two plans agree email by email but for
	// their days.
	m.Send(today, emailsched.StatusSent, today.Time(14, 0, nil))
	twin, _ := memory.New(withPlan(contacts, m), cat)
	next := today.AddDays(1)
	stored, err := s.RunAt(ctx, next, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if stored.LoadFrom != scheduler.LoadStored || stored.LoadPlanDate != today || stored.Timings.Count > stored.Timings.Total {
		t.Errorf("next run: load from %q of %v", stored.LoadFrom, stored.LoadPlanDate)
	}
	var summary strings.Builder
	if err := stored.WriteSummary(&summary); err != nil || !strings.Contains(summary.String(), "each day's email count came from the plan stored on 2025-03-03 (the contacts were read once)") {
		t.Errorf("summary does not say where the load came from (%v):\n%s", err, summary.String())
	}
	full, err := scheduler.New(scheduler.Config{DailyCapPercent: cfg.DailyCapPercent, FullCountingPass: true})
	if err != nil {
		t.Fatal(err)
	}
	counted, err := full.RunAt(ctx, next, twin, twin)
	if err != nil {
		t.Fatal(err)
	}
	if counted.LoadFrom != scheduler.LoadCounted {
		t.Errorf("FullCountingPass: load from %q", counted.LoadFrom)
	}
	checkPlan(t, next, contacts, cat, m.Plan())
	checkPlan(t, next, contacts, cat, twin.Plan())
	status := func(es []emailsched.Email) map[string]int {
		n := map[string]int{}
		for _, e := range es {
			n[fmt.Sprint(e.ContactID, e.Type, e.Event, e.CampaignInstanceID, e.Status, e.SkipReason)]++
		}
		return n
	}
	if diff := cmp.Diff(status(twin.Plan()), status(m.Plan())); diff != "" {
		t.Errorf("statuses from the stored load against a counting pass (-counted +stored):\n%s", diff)
	}
	changed := stored.Rows.Inserted + stored.Rows.Updated + stored.Rows.Deleted
	if float64(changed) > 0.01*float64(stored.Planned()) {
		t.Errorf("next day rewrote %d of %d rows (%+v)", changed, stored.Planned(), stored.Rows)
	}
}

// withPlan returns contacts with the rows m holds for them.
func withPlan(contacts []emailsched.Contact, m *memory.Store) []emailsched.Contact {
	out := make([]emailsched.Contact, len(contacts))
	for i, c := range contacts {
		rows, _ := m.Rows(c.ID)
		c.History, c.Stored = rows, nil
		out[i] = c
	}
	return out
}

// loadSource gives a memory store a stored load of the test's choosing.
type loadSource struct {
	*memory.Store
	load store.PlanLoad
	ok   bool
	err  error
}

func (l loadSource) StoredLoad(context.Context) (store.PlanLoad, bool, error) {
	return l.load, l.ok, l.err
}

// A stored load is used only when it fits the run; otherwise the run counts.
func TestStoredLoadFallsBackToCounting(t *testing.T) {
	today := demodata.DefaultToday
	contacts := demodata.Generate(demodata.GenOptions{Seed: 3, Contacts: 200, Today: today})
	ctx := context.Background()
	m, _ := memory.New(contacts, emailsched.Campaigns{})
	s, err := scheduler.New(scheduler.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunAt(ctx, today, m, m); err != nil {
		t.Fatal(err)
	}
	good, _, _ := m.StoredLoad(ctx)
	full, _ := scheduler.New(scheduler.Config{FullCountingPass: true})
	otherRules, _ := scheduler.New(scheduler.Config{BirthdayDaysBefore: scheduler.Int(10)})
	with := func(f func(*store.PlanLoad)) store.PlanLoad {
		l := good
		f(&l)
		return l
	}
	for _, tt := range []struct {
		name  string
		s     *scheduler.Scheduler
		load  store.PlanLoad
		ok    bool
		today datecalc.Date
		want  scheduler.LoadOrigin
	}{
		{"fits", s, good, true, today.AddDays(1), scheduler.LoadStored},
		{"same day", s, good, true, today, scheduler.LoadStored},
		{"a week old", s, good, true, today.AddDays(scheduler.MaxStoredLoadAgeDays), scheduler.LoadStored},
		{"older than a week", s, good, true, today.AddDays(scheduler.MaxStoredLoadAgeDays + 1), scheduler.LoadCounted},
		{"made for a later day", s, good, true, today.AddDays(-1), scheduler.LoadCounted},
		{"none", s, good, false, today, scheduler.LoadCounted},
		{"FullCountingPass", full, good, true, today, scheduler.LoadCounted},
		{"other settings", otherRules, good, true, today, scheduler.LoadCounted},
		{"no valid contacts", s, with(func(l *store.PlanLoad) { l.ValidContacts = 0 }), true, today, scheduler.LoadCounted},
		{"no date", s, with(func(l *store.PlanLoad) { l.Today = datecalc.Date{} }), true, today, scheduler.LoadCounted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := loadSource{Store: m, load: tt.load, ok: tt.ok}
			rep, err := tt.s.RunAt(ctx, tt.today, src, store.Discard{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.LoadFrom != tt.want {
				t.Errorf("load from %q, want %q", rep.LoadFrom, tt.want)
			}
			if tt.want == scheduler.LoadStored && rep.Balance.Cap != loadCap(good.ValidContacts) {
				t.Errorf("cap %d, want 7 %% of %d valid contacts from the stored load", rep.Balance.Cap, good.ValidContacts)
			}
		})
	}

	boom := errors.New("boom")
	src := loadSource{Store: m, err: boom}
	if _, err := s.RunAt(ctx, today, src, store.Discard{}); !errors.Is(err, boom) {
		t.Errorf("RunAt with a failing StoredLoad: %v", err)
	}
	if _, err := s.ExplainAt(ctx, today, src, contacts[0].ID); !errors.Is(err, boom) {
		t.Errorf("ExplainAt with a failing StoredLoad: %v", err)
	}
}

// identityFails is a store whose record of the stored plan's settings
// cannot be read.
type identityFails struct {
	*memory.Store
	err error
}

func (f identityFails) StoredIdentities(context.Context) ([]store.PlanIdentity, error) {
	return nil, f.err
}

func TestStoredIdentitiesFail(t *testing.T) {
	ctx := context.Background()
	m, _ := memory.New(demodata.Generate(demodata.GenOptions{Seed: 3, Contacts: 5, Today: demodata.DefaultToday}), emailsched.Campaigns{})
	s, _ := scheduler.New(scheduler.Config{})
	boom := errors.New("boom")
	rep, err := s.RunAt(ctx, demodata.DefaultToday, identityFails{m, boom}, m)
	if !errors.Is(err, boom) || rep == nil || rep.Rows.Written() != 0 {
		t.Errorf("RunAt with failing StoredIdentities: %v, report %+v", err, rep)
	}
	if runs := m.Runs(); len(runs) != 0 {
		t.Errorf("the run began in the sink before it knew how to plan: %+v", runs)
	}
}

// loadCap is the default daily cap for valid contacts (7 %, rounded up).
func loadCap(valid int) int {
	l, _ := loadbalance.LimitsFor(loadbalance.Config{ValidContacts: valid})
	return l.Cap
}
