package loadbalance

import (
	"fmt"
	"testing"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// placeAll is the second pass of Balance over s, on a plan with or without
// the shortcut for frozen contacts. It returns the new day of every item,
// the report and the number of contacts that were frozen.
func placeAll(s scenario, noShortcut bool) ([]datecalc.Date, Report, int) {
	c := NewCounter(s.today)
	for _, it := range s.items {
		if it.Status == emailsched.StatusPreScheduled {
			c.Add(it.Candidate)
		}
	}
	p, err := NewPlan(c, s.cfg)
	if err != nil {
		panic(err) // the generator only makes valid configs
	}
	p.noShortcut = noShortcut
	legal := legalFor(s.items, s.rules)
	dates := make([]datecalc.Date, len(s.items))
	for i := range s.items {
		dates[i] = s.items[i].Date
	}
	frozen := 0
	// The generators make contacts in ascending id order.
	for start := 0; start < len(s.items); {
		end := start + 1
		for end < len(s.items) && s.items[end].ContactID == s.items[start].ContactID {
			end++
		}
		var group []int
		var cs []Candidate
		for i := start; i < end; i++ {
			if s.items[i].Status == emailsched.StatusPreScheduled {
				group = append(group, i)
				cs = append(cs, s.items[i].Candidate)
			}
		}
		if p.frozen(cs) {
			frozen++
		}
		_, _ = p.Place(s.items[start].ContactID, cs, func(k int, day datecalc.Date) bool {
			for g, i := range group {
				dates[i] = cs[g].Date
			}
			return legal(group[k], day, dates)
		})
		for g, i := range group {
			dates[i] = cs[g].Date
		}
		start = end
	}
	return dates, p.Report(), frozen
}

// withCrowdedDays adds contacts with one effective_date email each, enough
// on every day of the scenario's first weeks that each day has more than
// the soft limit: the days of a large run, where most contacts are frozen.
func withCrowdedDays(s scenario) scenario {
	lim := limitsOf(s.cfg)
	id := int64(10_000)
	s.items = append([]Item(nil), s.items...)
	for day := range 40 {
		for range lim.EDSoftLimit + 1 + day%3 {
			id++
			s.items = append(s.items, Item{ContactID: id, Status: emailsched.StatusPreScheduled,
				Candidate: NewCandidate(id, emailsched.TypeEffectiveDate, 2025, s.today.AddDays(day), s.today.AddDays(day+20), 10)})
		}
	}
	return s
}

// withEventDay adds contacts with one email each on a day far over the
// threshold, due on that day: the AEP day of a large run.
func withEventDay(s scenario) scenario {
	lim := limitsOf(s.cfg)
	id := int64(20_000)
	day := s.today.AddDays(3)
	s.items = append([]Item(nil), s.items...)
	for range 3*lim.Threshold + 5 {
		id++
		s.items = append(s.items, Item{ContactID: id, Status: emailsched.StatusPreScheduled,
			Candidate: NewCandidate(id, emailsched.TypeAEP, 2025, day, day, 20)})
	}
	return s
}

func TestPropFrozenShortcut(t *testing.T) {
	props := proptest.New(t, 300)
	frozen, edStuck, stuck := 0, 0, 0
	props.Property("contacts that cannot move end as they would after the rounds of Place", prop.ForAll(
		func(seed uint64) string {
			for _, s := range []scenario{newScenario(seed, false), withCrowdedDays(newScenario(seed, false)),
				withCrowdedDays(newScenario(seed, true)), withEventDay(withCrowdedDays(newScenario(seed, false)))} {
				want, wantR, _ := placeAll(s, true)
				got, gotR, n := placeAll(s, false)
				if diff := cmp.Diff(want, got); diff != "" {
					return fmt.Sprintf("%v: days (-rounds +shortcut):\n%s", s, diff)
				}
				if diff := cmp.Diff(wantR, gotR); diff != "" {
					return fmt.Sprintf("%v: report (-rounds +shortcut):\n%s", s, diff)
				}
				frozen += n
				edStuck += gotR.EDUnsmoothed
				stuck += gotR.Unmovable
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
	if frozen == 0 || edStuck == 0 || stuck == 0 {
		t.Errorf("the property needs frozen contacts (%d), stuck effective_date emails (%d) and stuck emails (%d)", frozen, edStuck, stuck)
	}
}
