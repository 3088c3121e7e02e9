package loadbalance

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCounter(t *testing.T) {
	today := d(2025, 3, 1)
	adds := []Candidate{
		{Date: d(2025, 3, 1), Priority: 10},
		{Date: d(2025, 3, 1), Priority: 30, IsED: true},
		{Date: d(2025, 3, 1), Priority: 20},
		{Date: d(2025, 3, 1), Priority: 10, Pinned: true},
		{Date: d(2025, 3, 3), Priority: 5, IsED: true},
		{Date: d(2025, 2, 28), Priority: 10},                   // before today: ignored
		{Date: today.AddDays(MaxHorizonDays), Priority: 10},    // after the horizon: ignored
		{Date: today.AddDays(MaxHorizonDays - 1), Priority: 1}, // last day of the horizon
		{Priority: 10}, // no date: ignored
	}
	whole := NewCounter(today)
	a, b := NewCounter(today), NewCounter(today)
	for i, e := range adds {
		whole.Add(e)
		if i%2 == 0 {
			a.Add(e)
		} else {
			b.Add(e)
		}
	}
	// Merge both ways: the longer into the shorter and back.
	ab, ba := NewCounter(today), NewCounter(today)
	for _, c := range []*Counter{a, b} {
		if err := ab.Merge(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Counter{b, a} {
		if err := ba.Merge(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*Counter{ab, ba} {
		if diff := cmp.Diff(whole, m, cmp.AllowUnexported(Counter{}, dayCount{}, prioCount{})); diff != "" {
			t.Errorf("merged counter differs from the whole (-whole +merged):\n%s", diff)
		}
	}
	want := []prioCount{{10, 1}, {20, 1}, {30, 1}}
	if diff := cmp.Diff(want, whole.days[0].prios, cmp.AllowUnexported(prioCount{})); diff != "" {
		t.Errorf("priorities of day 0 (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		day  int
		want int
	}{{0, 4}, {1, 0}, {2, 1}, {MaxHorizonDays - 1, 1}, {MaxHorizonDays, 0}, {-1, 0}} {
		if got := whole.Total(today.AddDays(tt.day)); got != tt.want {
			t.Errorf("Total(today%+d) = %d, want %d", tt.day, got, tt.want)
		}
	}
	if got := whole.Ignored(); got != 3 {
		t.Errorf("Ignored() = %d, want 3", got)
	}
	if err := whole.Merge(nil); err != nil {
		t.Errorf("Merge(nil) = %v", err)
	}
	if _, err := NewPlan(nil, Config{}); !errors.Is(err, ErrNilCounter) {
		t.Errorf("NewPlan(nil) error = %v, want ErrNilCounter", err)
	}
	if err := whole.Merge(NewCounter(today.AddDays(1))); !errors.Is(err, ErrTodayMismatch) {
		t.Errorf("Merge of another day: err = %v, want ErrTodayMismatch", err)
	}
}

// AddN(e, n) is n calls of Add(e); n ≤ 0 counts nothing.
func TestCounterAddN(t *testing.T) {
	today := d(2025, 3, 1)
	adds := []Candidate{
		{Date: today, Priority: 10},
		{Date: today, Priority: 30, IsED: true},
		{Date: today.AddDays(2), Priority: 10, Pinned: true},
		{Date: today.AddDays(-1), Priority: 10}, // ignored
	}
	one, many := NewCounter(today), NewCounter(today)
	for _, e := range adds {
		for range 3 {
			one.Add(e)
		}
		many.AddN(e, 3)
		many.AddN(e, 0)
		many.AddN(e, -2)
	}
	if diff := cmp.Diff(one, many, cmp.AllowUnexported(Counter{}, dayCount{}, prioCount{})); diff != "" {
		t.Errorf("AddN differs from repeated Add (-Add +AddN):\n%s", diff)
	}
}
