package scheduler

import (
	"context"
	"fmt"
	"time"

	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store/memory"
)

// aepScenario is an organisation planned some day before or during the
// AEP send window, with a small daily cap so that the window fills.
type aepScenario struct {
	Today    datecalc.Date
	Contacts []emailsched.Contact
	Cap      float64
}

func (sc aepScenario) String() string {
	return fmt.Sprintf("today %s, %d contacts, cap %v %%", sc.Today, len(sc.Contacts), sc.Cap)
}

func genAEPScenario() gopter.Gen {
	zips := []string{"90210", "89101", "75001", "33101", "10001", "63101", "97201", "20601", "40201"}
	contact := gopter.CombineGens(gen.IntRange(0, len(zips)-1), genDateIn(d(1940, 1, 1), d(1960, 12, 31)),
		genOptionalDate(d(2010, 1, 1), d(2024, 12, 31))).Map(func(v []any) emailsched.Contact {
		return emailsched.Contact{Email: "a@example.com", ZIP: zips[v[0].(int)], Birthday: v[1].(datecalc.Date), EffectiveDate: v[2].(datecalc.Date)}
	})
	return gopter.CombineGens(genDateIn(d(2025, 6, 1), d(2025, 9, 30)), gen.SliceOfN(80, contact), gen.OneConstOf(2.0, 5.0, 10.0)).
		Map(func(v []any) aepScenario {
			cs := v[1].([]emailsched.Contact)
			for i := range cs {
				cs[i].ID = int64(i + 1)
			}
			return aepScenario{Today: v[0].(datecalc.Date), Contacts: cs, Cap: v[2].(float64)}
		})
}

// TestPropertiesAEPWindow: every AEP email goes out within its send window
// (from its AEP day, or today, to September 30), never in an exclusion
// period of its contact and within the frequency limit; and a window day
// holds more than the threshold only when none of its AEP emails could go
// to a later window day: each such day is full (at the cap) or illegal for
// the email.
func TestPropertiesAEPWindow(t *testing.T) {
	props := proptest.New(t, 100)
	ctx := context.Background()
	props.Property("AEP emails stay in their window, legal, under the cap where they can", prop.ForAll(func(sc aepScenario) bool {
		s, err := New(Config{DailyCapPercent: Float(sc.Cap)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := memory.New(sc.Contacts, emailsched.Campaigns{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.RunAt(ctx, sc.Today, m, m)
		if err != nil {
			t.Fatal(err)
		}
		plan := m.Plan()
		perDay := map[datecalc.Date]int{}
		byContact := map[int64][]emailsched.Email{}
		for _, e := range plan {
			byContact[e.ContactID] = append(byContact[e.ContactID], e)
			if e.Status == emailsched.StatusPreScheduled {
				perDay[e.Date]++
			}
		}
		lim := rep.Balance.Limits
		for i := range sc.Contacts {
			c := &sc.Contacts[i]
			res, err := rules.ResolveState(c.ZIP, c.State)
			if err != nil {
				continue
			}
			ap := rules.Default().Apply(c, res.State, sc.Today)
			var days []datecalc.Date
			freqSkips := false
			for _, e := range byContact[c.ID] {
				if e.Status == emailsched.StatusPreScheduled && !e.Type.IsFollowUp() {
					days = append(days, e.Date)
				}
				freqSkips = freqSkips || e.SkipReason == emailsched.ReasonFrequencyLimit
			}
			if !keepsLimit(append([]datecalc.Date(nil), days...), 2, 14) {
				t.Logf("%v: contact %d breaks the frequency limit: %v", sc, c.ID, days)
				return false
			}
			for _, e := range byContact[c.ID] {
				if e.Type != emailsched.TypeAEP || e.Status != emailsched.StatusPreScheduled {
					continue
				}
				first := datecalc.Max(e.Event, sc.Today)
				last := d(e.Event.Year(), time.September, 30)
				if e.Date.Before(first) || e.Date.After(last) {
					t.Logf("%v: contact %d: AEP on %s, outside its window %s to %s", sc, c.ID, e.Date, first, last)
					return false
				}
				if _, ex := ap.Excluded(e.Date); ex {
					t.Logf("%v: contact %d: AEP on %s, in an exclusion period", sc, c.ID, e.Date)
					return false
				}
				if perDay[e.Date] <= lim.Threshold || freqSkips {
					continue // under the threshold (or a choice this check does not model)
				}
				// Over the threshold: no later window day may take it.
				for t2 := e.Date.AddDays(1); !t2.After(last) && e.Date.DaysUntil(t2) <= 30; t2 = t2.AddDays(1) {
					if perDay[t2] >= lim.Cap {
						continue
					}
					if _, ex := ap.Excluded(t2); ex {
						continue
					}
					others := []datecalc.Date{}
					for _, x := range byContact[c.ID] {
						if x.Status == emailsched.StatusPreScheduled && !x.Type.IsFollowUp() && x.Type != emailsched.TypeAEP {
							others = append(others, x.Date)
						}
					}
					if !fitsFrequency(others, t2, 2, 14) {
						continue
					}
					t.Logf("%v: %s holds %d (threshold %d), but contact %d's AEP email could go on %s (%d emails)",
						sc, e.Date, perDay[e.Date], lim.Threshold, c.ID, t2, perDay[t2])
					return false
				}
			}
		}
		return true
	}, genAEPScenario()))
	props.TestingRun(t)
}
