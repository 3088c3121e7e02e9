package scheduler

import (
	"context"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// scenario is a random contact planned on a random day.
type scenario struct {
	Today   datecalc.Date
	Contact emailsched.Contact
}

func genDateIn(from, to datecalc.Date) gopter.Gen {
	return gen.IntRange(0, from.DaysUntil(to)).Map(func(n int) datecalc.Date { return from.AddDays(n) })
}

// genOptionalDate yields a date in [from, to], often Feb 29 or Jan 1, or
// (one time in five) no date.
func genOptionalDate(from, to datecalc.Date) gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, 9), genDateIn(from, to)).Map(func(v []any) datecalc.Date {
		dd := v[1].(datecalc.Date)
		switch v[0].(int) {
		case 0, 1:
			return datecalc.Date{}
		case 2:
			if leap := dd.Year() - dd.Year()%4; leap > 0 {
				return datecalc.MustNew(leap, 2, 29)
			}
		case 3:
			return dd.FirstOfMonth()
		}
		return dd
	})
}

func genScenario() gopter.Gen {
	states := emailsched.States()
	return gopter.CombineGens(
		genDateIn(d(2024, 1, 1), d(2030, 12, 31)),
		gen.Int64Range(1, 1<<40),
		gen.IntRange(0, len(states)-1),
		genOptionalDate(d(1930, 1, 1), d(2000, 12, 31)),
		genOptionalDate(d(2000, 1, 1), d(2032, 12, 31)),
	).Map(func(v []any) scenario {
		return scenario{Today: v[0].(datecalc.Date), Contact: emailsched.Contact{
			ID: v[1].(int64), Email: "p@example.com", State: states[v[2].(int)].String(),
			Birthday: v[3].(datecalc.Date), EffectiveDate: v[4].(datecalc.Date),
		}}
	})
}

// planAndRule plans the scenario's contact and applies the rule set to it
// independently of the planner, so that properties check the plan against
// the rules and not against the planner's own state.
func planAndRule(set *settings, camp *campaignSet, sc scenario) (outcome, rules.Applied) {
	var o outcome
	newPlanner(set, sc.Today, camp).plan(&sc.Contact, &o)
	o.emails = append([]emailsched.Email(nil), o.emails...)
	st, _ := emailsched.ParseState(sc.Contact.State)
	return o, set.rules.Apply(&sc.Contact, st, sc.Today)
}

// firstAllowedAfter is the first day after end that the contact's rule does
// not exclude, found by walking day by day.
func firstAllowedAfter(ap *rules.Applied, end datecalc.Date) datecalc.Date {
	for day := end.AddDays(1); ; day = day.AddDays(1) {
		if _, ex := ap.Excluded(day); !ex {
			return day
		}
	}
}

func TestPropertiesPlan(t *testing.T) {
	props := proptest.New(t, 2000)
	set := mustSettings(t, Config{})
	plan := func(sc scenario) (outcome, rules.Applied) { return planAndRule(set, nil, sc) }
	props.Property("no pre-scheduled email lies in an exclusion period", prop.ForAll(func(sc scenario) bool {
		o, ap := plan(sc)
		for _, e := range o.emails {
			if _, ex := ap.Excluded(e.Date); ex && e.Status == emailsched.StatusPreScheduled {
				t.Logf("contact %+v today %v: %s on %v is excluded", sc.Contact, sc.Today, e.Type, e.Date)
				return false
			}
		}
		return true
	}, genScenario()))
	props.Property("no email is dated before today or after its anniversary (AEP: its send window)", prop.ForAll(func(sc scenario) bool {
		o, _ := plan(sc)
		for _, e := range o.emails {
			if e.Date.Before(sc.Today) || (e.Type != emailsched.TypePostWindow && e.Date.After(lastSendDay(&e))) {
				t.Logf("%s dated %v (today %v, event %v)", e.Type, e.Date, sc.Today, e.Event)
				return false
			}
		}
		return true
	}, genScenario()))
	props.Property("every window-skipped email has exactly one post-window email, on the first free day after the window", prop.ForAll(func(sc scenario) bool {
		o, ap := plan(sc)
		for _, e := range o.emails {
			if !strings.HasPrefix(string(e.SkipReason), emailsched.ReasonPrefixExclusion) {
				continue
			}
			x, _ := ap.Excluded(e.Date)
			var found []emailsched.Email
			for _, p := range o.emails {
				if p.Type == emailsched.TypePostWindow && p.Event == x.Anniversary {
					found = append(found, p)
				}
			}
			if len(found) != 1 || found[0].Date != firstAllowedAfter(&ap, x.Period.End) || found[0].Status != emailsched.StatusPreScheduled {
				t.Logf("contact %+v today %v: %s on %v blocked by %v; post-window emails %v", sc.Contact, sc.Today, e.Type, e.Date, x.Period, found)
				return false
			}
		}
		return true
	}, genScenario()))
	props.Property("year-round and unknown windows skip everything and plan no post-window", prop.ForAll(func(sc scenario) bool {
		o, ap := plan(sc)
		if _, blocking := ap.Blocking(); !blocking {
			return true
		}
		for _, e := range o.emails {
			if e.Status != emailsched.StatusSkipped || e.Type == emailsched.TypePostWindow {
				return false
			}
		}
		return true
	}, genScenario()))
	props.Property("a catch-up email goes out on today + (hash mod 7), never after its event", prop.ForAll(func(sc scenario) bool {
		o, _ := plan(sc)
		for _, e := range o.emails {
			if e.CatchUpNote == "" {
				continue
			}
			want := catchUpDay(sc.Contact.ID, e.Type, sc.Today, e.Event, 7)
			if e.Date != want || e.Date.Before(sc.Today) || e.Date.After(lastSendDay(&e)) {
				t.Logf("contact %+v today %v: catch-up %s on %v, want %v (event %v)", sc.Contact, sc.Today, e.Type, e.Date, want, e.Event)
				return false
			}
		}
		return true
	}, genScenario()))
	props.Property("the same contact and day always give the same plan", prop.ForAll(func(sc scenario) bool {
		a, _ := plan(sc)
		b, _ := plan(sc)
		return equalEmails(a.emails, b.emails)
	}, genScenario()))
	props.Property("re-planning the next day keeps every stored date that is still legal", prop.ForAll(func(sc scenario, days int) bool {
		first, _ := plan(sc)
		stored := make([]emailsched.Email, len(first.emails))
		for i, e := range first.emails {
			e.ID = int64(i + 1)
			stored[i] = e
		}
		next := scenario{Today: sc.Today.AddDays(days), Contact: sc.Contact}
		next.Contact.Stored = stored
		o, ap := plan(next)
		for _, s := range stored {
			if s.Status != emailsched.StatusPreScheduled || s.Date.Before(next.Today) {
				continue
			}
			if _, ex := ap.Excluded(s.Date); ex {
				continue
			}
			kept := false
			for _, e := range o.emails {
				kept = kept || (e.ID == s.ID && e.Date == s.Date)
			}
			if !kept {
				t.Logf("contact %+v: stored %s on %v (event %v) not kept on %v: %v", sc.Contact, s.Type, s.Date, s.Event, next.Today, o.emails)
				return false
			}
		}
		return true
	}, genScenario(), gen.IntRange(1, 10)))
	props.TestingRun(t)
}

func equalEmails(a, b []emailsched.Email) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].SameContent(&b[i]) || a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

func TestPropertiesRun(t *testing.T) {
	props := proptest.New(t, 30)
	props.Property("a second run on the same day writes nothing", prop.ForAll(func(scs []scenario) bool {
		if len(scs) == 0 {
			return true
		}
		cs := make([]emailsched.Contact, len(scs))
		for i, sc := range scs {
			cs[i] = sc.Contact
			cs[i].ID = int64(i + 1)
		}
		m, err := memory.New(cs, emailsched.Campaigns{})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := New(Config{})
		today := scs[0].Today
		first, err := s.RunAt(context.Background(), today, m, m)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.RunAt(context.Background(), today, m, m)
		if err != nil {
			t.Fatal(err)
		}
		return second.Rows == store.RowCounts{Unchanged: first.Planned()} && first.Rows.Inserted == first.Planned()
	}, gen.SliceOfN(20, genScenario())))
	props.TestingRun(t)
}
