package loadbalance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/proptest"
)

func TestAgree(t *testing.T) {
	today := d(2025, 3, 1)
	cfg := Config{ValidContacts: 100, DailyCapFraction: 0.05, EDSoftLimit: 2, EDSmoothingWindowDays: 1, OverflowHorizonDays: 3}
	// A day over the threshold (cap 5, threshold 6) on day 10, an
	// effective-date day over the soft limit on day 30, quiet elsewhere.
	base := func() *Counter {
		c := NewCounter(today)
		for i := range 8 {
			c.Add(Candidate{Date: today.AddDays(10), Priority: 10 + i%2})
		}
		for range 3 {
			c.Add(Candidate{Date: today.AddDays(30), Priority: 10, IsED: true})
		}
		c.Add(Candidate{Date: today.AddDays(60), Priority: 10})
		return c
	}
	with := func(day, prio int, ed bool) *Counter {
		c := base()
		c.Add(Candidate{Date: today.AddDays(day), Priority: prio, IsED: ed})
		return c
	}
	other := cfg
	other.ValidContacts = 200
	for _, tc := range []struct {
		name   string
		a, b   *Counter
		ca, cb Config
		want   bool
	}{
		{"same", base(), base(), cfg, cfg, true},
		{"differ far from any source", base(), with(60, 10, false), cfg, cfg, true},
		{"differ beyond the counted days", base(), with(200, 10, false), cfg, cfg, true},
		{"differ on a shedding day", base(), with(10, 10, false), cfg, cfg, false},
		{"differ in the priorities of a shedding day", base(), with(10, 30, false), cfg, cfg, false},
		{"differ where shed emails may go", base(), with(13, 10, false), cfg, cfg, false},
		{"differ next to a smoothing day", base(), with(31, 10, false), cfg, cfg, false},
		{"differ before a smoothing day", base(), with(29, 10, true), cfg, cfg, false},
		{"a new source", with(60, 10, false), func() *Counter {
			c := with(60, 10, false)
			for range 8 {
				c.Add(Candidate{Date: today.AddDays(60), Priority: 10})
			}
			return c
		}(), cfg, cfg, false},
		{"other limits", base(), base(), cfg, other, false},
		{"other limits, nothing moves", NewCounter(today), NewCounter(today), cfg, other, true},
		{"other days", base(), NewCounter(today.AddDays(1)), cfg, cfg, false},
		{"no valid contacts", base(), with(10, 10, false), Config{}, Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Agree(tc.a, tc.ca, tc.b, tc.cb)
			if err != nil || got != tc.want {
				t.Errorf("Agree = %v, %v; want %v", got, err, tc.want)
			}
			if back, _ := Agree(tc.b, tc.cb, tc.a, tc.ca); back != got {
				t.Errorf("not symmetric: %v one way, %v the other", got, back)
			}
		})
	}
	bad := Config{EDSoftLimit: -1}
	if _, err := Agree(base(), bad, base(), cfg); err == nil {
		t.Error("no error for a bad first Config")
	}
	if _, err := Agree(base(), cfg, base(), bad); err == nil {
		t.Error("no error for a bad second Config")
	}
	if _, err := Agree(nil, cfg, base(), cfg); !errors.Is(err, ErrNilCounter) {
		t.Errorf("nil counter: %v", err)
	}
}

// TestPropAgreeMeansSamePlacement: when a perturbed estimate of the
// per-day volume Agrees with the exact count, balancing from it moves
// every email exactly as balancing from the exact count does. The property
// is not vacuous: it also counts estimates that agree while differing.
func TestPropAgreeMeansSamePlacement(t *testing.T) {
	props := proptest.New(t, 400)
	agreedDiffering := 0
	props.Property("an estimate that agrees places every email alike", prop.ForAll(
		func(seed uint64) string {
			s := newScenario(seed, seed%3 == 0)
			exact := NewCounter(s.today)
			for _, it := range s.items {
				if it.Status == emailsched.StatusPreScheduled {
					exact.Add(it.Candidate)
				}
			}
			r := rand.New(rand.NewPCG(seed, 7))
			est := NewCounter(s.today)
			_ = est.Merge(exact)
			for range 1 + r.IntN(4) {
				est.AddN(Candidate{Date: s.today.AddDays(r.IntN(60)), Priority: 10 * (1 + r.IntN(3)), IsED: r.IntN(2) == 0}, 1+r.IntN(3))
			}
			agree, err := Agree(est, s.cfg, exact, s.cfg)
			if err != nil {
				return err.Error()
			}
			if !agree {
				return ""
			}
			agreedDiffering++
			want, _, err := balanceFrom(exact, s.cfg, s.items, legalFor(s.items, s.rules))
			if err != nil {
				return err.Error()
			}
			got, _, err := balanceFrom(est, s.cfg, s.items, legalFor(s.items, s.rules))
			if err != nil {
				return err.Error()
			}
			if !slices.Equal(got, want) {
				return fmt.Sprintf("%v: the estimate agrees, but places emails differently", s)
			}
			return ""
		}, gen.UInt64()))
	props.TestingRun(t)
	if agreedDiffering == 0 {
		t.Error("no estimate that differs from the exact count agreed: the property checked nothing")
	}
}
