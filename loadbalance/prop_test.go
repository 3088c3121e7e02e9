package loadbalance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// scenario is a random plan with random rules, derived from one seed so
// that a failure is reproduced from the seed printed with it.
type scenario struct {
	seed  uint64
	today datecalc.Date
	cfg   Config
	items []Item
	rules map[int64]rules
}

func (s scenario) String() string {
	return fmt.Sprintf("scenario{seed %d, %d items, cfg %+v}", s.seed, len(s.items), s.cfg)
}

// newScenario builds a plan that a scheduler could produce: emails in an
// exclusion period or over the frequency limit are skipped, so the
// pre-scheduled ones are legal; days cluster so that caps and soft limits
// bite.
func newScenario(seed uint64, smoothingOnly bool) scenario {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	today := d(2025, 1, 1).AddDays(r.IntN(365))
	s := scenario{seed: seed, today: today, rules: map[int64]rules{}}
	pcts := []float64{0.05, 0.1, 0.3}
	thresholds := []float64{1, 1.2, 1.5}
	s.cfg = Config{
		ValidContacts:         20 + r.IntN(100),
		DailyCapFraction:      pcts[r.IntN(len(pcts))],
		EDSoftLimit:           1 + r.IntN(5),
		EDSmoothingWindowDays: 1 + r.IntN(3),
		OverageThreshold:      thresholds[r.IntN(len(thresholds))],
		OverflowHorizonDays:   1 + r.IntN(10),
	}
	if smoothingOnly {
		s.cfg.DailyCapFraction, s.cfg.OverageThreshold = 1, 10
	}
	hot := []int{r.IntN(20), r.IntN(20), r.IntN(20)}
	types := []emailsched.EmailType{emailsched.TypeEffectiveDate, emailsched.TypeBirthday, emailsched.TypeAEP, "campaign_x"}
	contacts := 1 + r.IntN(60)
	for k := range contacts {
		id := int64(k*3 + r.IntN(3) + 1)
		var rs rules
		for range r.IntN(3) {
			start := today.AddDays(r.IntN(40) - 5)
			rs.excl = append(rs.excl, datecalc.Interval{Start: start, End: start.AddDays(r.IntN(15))})
		}
		if r.IntN(3) > 0 {
			rs.maxPer, rs.period = 1+r.IntN(3), 1+r.IntN(14)
		}
		s.rules[id] = rs
		var kept []datecalc.Date
		for e := range 1 + r.IntN(4) {
			off := hot[r.IntN(len(hot))] + r.IntN(2)
			if r.IntN(3) == 0 {
				off = r.IntN(30) - 2 // a few before today
			}
			date := today.AddDays(off)
			var latest datecalc.Date
			if r.IntN(2) == 0 {
				latest = date.AddDays(r.IntN(12))
			}
			t := types[r.IntN(len(types))]
			it := Item{ContactID: id, Status: emailsched.StatusPreScheduled,
				Candidate: NewCandidate(id, t, 2025+e, date, latest, 10*(1+r.IntN(3)))}
			it.Pinned = r.IntN(15) == 0
			if r.IntN(8) == 0 || excluded(rs, date) || !fits(rs, kept, date) {
				it.Status = emailsched.StatusSkipped
			} else {
				kept = append(kept, date)
			}
			s.items = append(s.items, it)
		}
	}
	return s
}

func excluded(rs rules, day datecalc.Date) bool {
	for _, iv := range rs.excl {
		if iv.Contains(day) {
			return true
		}
	}
	return false
}

// fits reports whether one more email on day keeps the frequency limit.
func fits(rs rules, kept []datecalc.Date, day datecalc.Date) bool {
	if rs.maxPer == 0 {
		return true
	}
	for s := day.AddDays(1 - rs.period); !s.After(day); s = s.AddDays(1) {
		w := datecalc.Interval{Start: s, End: s.AddDays(rs.period - 1)}
		n := 1
		for _, k := range kept {
			if w.Contains(k) {
				n++
			}
		}
		if n > rs.maxPer {
			return false
		}
	}
	return true
}

// run balances s and fails the property on an error.
func (s scenario) run() ([]datecalc.Date, Report) {
	got, r, err := Balance(s.today, s.cfg, s.items, legalFor(s.items, s.rules))
	if err != nil {
		panic(err) // the generator only makes valid configs
	}
	return got, r
}

func TestPropCountAndStatusesPreserved(t *testing.T) {
	props := proptest.New(t, 300)
	props.Property("only pre-scheduled emails move; volumes sum up", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, false)
			got, r := s.run()
			if len(got) != len(s.items) {
				return fmt.Sprintf("%v: %d dates for %d items", s, len(got), len(s.items))
			}
			before, after := 0, 0
			for i := range r.Before {
				before += r.Before[i].Total
				after += r.After[i].Total
			}
			counted := 0
			for i, it := range s.items {
				if it.Status != emailsched.StatusPreScheduled || it.Pinned {
					if got[i] != it.Date {
						return fmt.Sprintf("%v: item %d (%s, pinned %v) moved", s, i, it.Status, it.Pinned)
					}
				}
				if it.Status == emailsched.StatusPreScheduled {
					counted++
				}
			}
			if before != after || before+r.Ignored != counted {
				return fmt.Sprintf("%v: volume before %d after %d ignored %d, pre-scheduled %d", s, before, after, r.Ignored, counted)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}

func TestPropEveryMoveLegal(t *testing.T) {
	props := proptest.New(t, 300)
	props.Property("moves stay in [today, Latest], out of exclusion periods, within the frequency limit", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, false)
			got, _ := s.run()
			for i, it := range s.items {
				if got[i] == it.Date {
					continue
				}
				switch {
				case got[i].Before(s.today):
					return fmt.Sprintf("%v: item %d moved before today to %s", s, i, got[i])
				case !it.Latest.IsZero() && got[i].After(it.Latest):
					return fmt.Sprintf("%v: item %d moved after its event %s to %s", s, i, it.Latest, got[i])
				case excluded(s.rules[it.ContactID], got[i]):
					return fmt.Sprintf("%v: item %d moved into an exclusion period, to %s", s, i, got[i])
				}
			}
			if !freqOK(s.items, got, s.rules) {
				return fmt.Sprintf("%v: frequency limit broken", s)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}

func TestPropNoDayOverThresholdUnlessStuck(t *testing.T) {
	props := proptest.New(t, 300)
	props.Property("days above the threshold after balancing are explained by stuck emails", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, false)
			_, r := s.run()
			lim := r.Limits
			for i, a := range r.After {
				b := r.Before[i]
				if a.Total > max(b.Total, lim.Cap) {
					return fmt.Sprintf("%v: %s grew from %d to %d above the cap %d", s, a.Date, b.Total, a.Total, lim.Cap)
				}
				if a.Total > lim.Threshold && a.Total-a.Stuck-a.Pinned > lim.Cap {
					return fmt.Sprintf("%v: %s has %d after (cap %d) but only %d stuck and %d pinned", s, a.Date, a.Total, lim.Cap, a.Stuck, a.Pinned)
				}
				if a.ED > lim.EDSoftLimit && a.ED > b.ED {
					return fmt.Sprintf("%v: %s got effective_date emails above the soft limit", s, a.Date)
				}
			}
			if r.DaysOverThresholdAfter > r.DaysOverThresholdBefore || (r.DaysOverThresholdAfter > 0) != (r.Unmovable > 0) {
				return fmt.Sprintf("%v: over threshold before %d after %d, unmovable %d", s, r.DaysOverThresholdBefore, r.DaysOverThresholdAfter, r.Unmovable)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}

func TestPropInputOrderIrrelevant(t *testing.T) {
	props := proptest.New(t, 300)
	props.Property("a permuted input gives the same dates and report", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, false)
			got, r := s.run()
			perm := rand.New(rand.NewPCG(seed, 1)).Perm(len(s.items))
			p := s
			p.items = make([]Item, len(s.items))
			for k, i := range perm {
				p.items[k] = s.items[i]
			}
			got2, r2 := p.run()
			for k, i := range perm {
				if got2[k] != got[i] {
					return fmt.Sprintf("%v: item %d: %s in order, %s permuted", s, i, got[i], got2[k])
				}
			}
			if diff := cmp.Diff(r, r2); diff != "" {
				return fmt.Sprintf("%v: reports differ (-in order +permuted):\n%s", s, diff)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}

func TestPropJitterWithinWindow(t *testing.T) {
	props := proptest.New(t, 300)
	props.Property("smoothing moves effective_date emails by their jitter, within [-w, +w]", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, true) // no overflow: every move is smoothing
			got, r := s.run()
			w := s.cfg.EDSmoothingWindowDays
			var zero, pinned = map[datecalc.Date]int{}, map[datecalc.Date]int{}
			for i, it := range s.items {
				shift := it.Date.DaysUntil(got[i])
				j := datecalc.Jitter(it.Hash, w)
				if shift != 0 && (!it.IsED || shift != j || j < -w || j > w) {
					return fmt.Sprintf("%v: item %d (ED %v) moved by %d, jitter %d, w %d", s, i, it.IsED, shift, j, w)
				}
				if it.IsED && it.Status == emailsched.StatusPreScheduled && shift == 0 {
					if it.Pinned {
						pinned[got[i]]++
					} else if j == 0 {
						zero[got[i]]++
					}
				}
			}
			if r.Overflowed != 0 {
				return fmt.Sprintf("%v: %d overflow moves without overflow", s, r.Overflowed)
			}
			// A day left over the soft limit holds only emails that may not
			// move: pinned, jitter 0, or stuck.
			for _, a := range r.After {
				if a.ED > r.EDSoftLimit && a.ED != pinned[a.Date]+zero[a.Date]+a.EDStuck {
					return fmt.Sprintf("%v: %s keeps %d ED emails: %d pinned, %d jitter 0, %d stuck", s, a.Date, a.ED, pinned[a.Date], zero[a.Date], a.EDStuck)
				}
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}

func TestPropSecondRunMovesNothing(t *testing.T) {
	props := proptest.New(t, 500)
	props.Property("balancing its own output moves nothing", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, false)
			got, r := s.run()
			again := s
			again.items = slices.Clone(s.items)
			for i := range again.items {
				again.items[i].Date = got[i]
			}
			got2, r2 := again.run()
			if r2.Moved != 0 || !slices.Equal(got, got2) {
				return fmt.Sprintf("%v: first run moved %d, second run moved %d", s, r.Moved, r2.Moved)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
}
