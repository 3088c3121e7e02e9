package datecalc

import (
	"testing"
	"time"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

func TestInterval(t *testing.T) {
	a := d(2024, time.September, 2)
	b := d(2025, time.January, 30)
	tests := []struct {
		name  string
		iv    Interval
		empty bool
		days  int
		str   string
	}{
		{"CA window", Interval{a, b}, false, 151, "2024-09-02…2025-01-30"},
		{"single day", Interval{a, a}, false, 1, "2024-09-02…2024-09-02"},
		{"reversed", Interval{b, a}, true, 0, ""},
		{"zero", Interval{}, true, 0, ""},
		{"zero start", Interval{End: b}, true, 0, ""},
		{"zero end", Interval{Start: a}, true, 0, ""},
		{"whole range", Interval{Date{days: minDays}, Date{days: maxDays}}, false, maxDays, "0001-01-01…9999-12-31"},
		{"leap February", Interval{d(2024, time.February, 1), d(2024, time.February, 29)}, false, 29, "2024-02-01…2024-02-29"},
	}
	for _, tt := range tests {
		if got := tt.iv.IsEmpty(); got != tt.empty {
			t.Errorf("%s: IsEmpty() = %v, want %v", tt.name, got, tt.empty)
		}
		if got := tt.iv.Days(); got != tt.days {
			t.Errorf("%s: Days() = %d, want %d", tt.name, got, tt.days)
		}
		if got := tt.iv.String(); got != tt.str {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.str)
		}
	}
}

func TestIntervalContains(t *testing.T) {
	// CA birthday Dec 1 with the 60-day buffer (a worked value of the default rules).
	ca := Interval{d(2024, time.September, 2), d(2025, time.January, 30)}
	tests := []struct {
		iv   Interval
		x    Date
		want bool
	}{
		{ca, d(2024, time.September, 1), false},
		{ca, d(2024, time.September, 2), true},
		{ca, d(2024, time.December, 1), true},
		{ca, d(2025, time.January, 30), true},
		{ca, d(2025, time.January, 31), false},
		{ca, Date{}, false},
		{Interval{}, Date{}, false},
		{Interval{}, d(2024, time.December, 1), false},
		{Interval{Start: ca.Start}, d(2024, time.December, 1), false},
		{Interval{ca.End, ca.Start}, d(2024, time.December, 1), false},
		{Interval{ca.Start, ca.Start}, ca.Start, true},
		{Interval{Date{days: minDays}, Date{days: maxDays}}, Date{days: minDays}, true},
		{Interval{Date{days: minDays}, Date{days: maxDays}}, Date{days: maxDays}, true},
	}
	for _, tt := range tests {
		if got := tt.iv.Contains(tt.x); got != tt.want {
			t.Errorf("%v.Contains(%q) = %v, want %v", tt.iv, tt.x, got, tt.want)
		}
	}
}

func TestIntervalOverlaps(t *testing.T) {
	jan := Interval{d(2025, time.January, 1), d(2025, time.January, 31)}
	feb := Interval{d(2025, time.February, 1), d(2025, time.February, 28)}
	tests := []struct {
		name string
		a, b Interval
		want bool
	}{
		{"adjacent", jan, feb, false},
		{"same", jan, jan, true},
		{"touching at one day", jan, Interval{d(2025, time.January, 31), d(2025, time.February, 5)}, true},
		{"touching at start", jan, Interval{d(2024, time.December, 1), d(2025, time.January, 1)}, true},
		{"contained", jan, Interval{d(2025, time.January, 10), d(2025, time.January, 11)}, true},
		{"containing", Interval{d(2025, time.January, 10), d(2025, time.January, 11)}, jan, true},
		{"disjoint before", feb, jan, false},
		{"empty other", jan, Interval{}, false},
		{"empty self", Interval{}, jan, false},
		{"reversed other inside", jan, Interval{d(2025, time.January, 20), d(2025, time.January, 10)}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%s: %v.Overlaps(%v) = %v, want %v", tt.name, tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPropIntervalContains(t *testing.T) {
	properties := proptest.New(t, 1000)
	properties.Property("Contains, Days and Overlaps agree with enumerating the days", prop.ForAll(
		func(start Date, length, offset, oStart, oLength int) bool {
			iv := Interval{start, start.AddDays(length - 1)}
			if length < 1 {
				iv.End = start.AddDays(length - 1) // reversed or, at the range start, clamped
			}
			// Brute force: walk from Start to End day by day.
			in := map[Date]bool{}
			for x := iv.Start; !x.After(iv.End); x = x.AddDays(1) {
				in[x] = true
				if x.days == maxDays {
					break
				}
			}
			if iv.Days() != len(in) || iv.IsEmpty() != (len(in) == 0) {
				return false
			}
			for k := -3; k <= 3; k++ {
				x := start.AddDays(offset + k)
				if iv.Contains(x) != in[x] {
					return false
				}
			}
			o := Interval{start.AddDays(oStart), start.AddDays(oStart + oLength - 1)}
			shared := false
			for x := o.Start; !x.After(o.End); x = x.AddDays(1) {
				if in[x] {
					shared = true
				}
				if x.days == maxDays {
					break
				}
			}
			return iv.Overlaps(o) == shared && o.Overlaps(iv) == shared
		},
		genDate(), gen.IntRange(-5, 60), gen.IntRange(-70, 70), gen.IntRange(-70, 70), gen.IntRange(-5, 60),
	))
	properties.TestingRun(t)
}
