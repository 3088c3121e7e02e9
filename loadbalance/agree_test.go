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
	"github.com/emailsched/emailsched/datecalc"
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
			if seed%2 == 0 {
				s.cfg.CompleteThrough = s.today.AddDays(int(seed % 30))
			}
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

// TestCompleteThrough: effective-date smoothing neither takes emails from
// the days after CompleteThrough nor gives them any, so that what later
// runs add there cannot change what moves; an estimate that differs only
// there agrees.
func TestCompleteThrough(t *testing.T) {
	today := d(2025, 3, 1)
	cfg := Config{ValidContacts: 1000, DailyCapFraction: 0.5, EDSoftLimit: 2, EDSmoothingWindowDays: 2}
	// Day 10 is over the soft limit; days 8 to 12 around it are empty.
	items := func() []Item {
		var out []Item
		for k := range 6 {
			id := int64(k + 1)
			out = append(out, Item{ContactID: id, Status: emailsched.StatusPreScheduled,
				Candidate: NewCandidate(id, emailsched.TypeEffectiveDate, 2026, today.AddDays(10), datecalc.Date{}, 10)})
		}
		return out
	}
	moved := func(cfg Config) int {
		got, _, err := Balance(today, cfg, items(), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range got {
			if d != today.AddDays(10) {
				n++
			}
		}
		return n
	}
	if moved(cfg) == 0 {
		t.Fatal("no smoothing without CompleteThrough: the test shows nothing")
	}
	for _, through := range []int{9, 10, 11} {
		c := cfg
		c.CompleteThrough = today.AddDays(through)
		// Through day 9, day 10 is incomplete and keeps its emails;
		// through days 10 and 11, day 10 may give only to complete days.
		got, _, err := Balance(today, c, items(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range got {
			if d != today.AddDays(10) && (through < 10 || today.DaysUntil(d) > through) {
				t.Errorf("complete through day %d: email %d moved to day %d", through, i, today.DaysUntil(d))
			}
		}
	}
	c := cfg
	c.CompleteThrough = today.AddDays(-1) // nothing complete: no smoothing at all
	if n := moved(c); n != 0 {
		t.Errorf("%d emails moved with no complete day", n)
	}
	// An estimate that differs only after CompleteThrough agrees.
	c.CompleteThrough = today.AddDays(5)
	a, b := NewCounter(today), NewCounter(today)
	for _, it := range items() {
		a.Add(it.Candidate)
		b.Add(it.Candidate)
	}
	b.AddN(Candidate{Date: today.AddDays(12), Priority: 10, IsED: true}, 3)
	if ok, err := Agree(a, c, b, c); err != nil || !ok {
		t.Errorf("Agree after the complete days = %v, %v", ok, err)
	}
	if ok, _ := Agree(a, cfg, b, cfg); ok {
		t.Error("Agree without CompleteThrough: the counts differ next to a smoothing day")
	}
}
