package datecalc

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/Chicago etc. without relying on the host's zoneinfo

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// genDate generates any valid (non-zero) Date of the supported range.
func genDate() gopter.Gen {
	return gen.Int32Range(minDays, maxDays).Map(func(n int32) Date { return Date{days: n} })
}

// d is MustNew shorthand for test tables.
func d(y int, m time.Month, day int) Date { return MustNew(y, m, day) }

// timeOf is the reference: midnight UTC of the civil date, via package time.
func timeOf(x Date) time.Time {
	y, m, day := x.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
}

var dateCmp = cmp.Comparer(func(a, b Date) bool { return a == b })

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		want   Date
		reason string // substring of ParseError.Reason; "" means success
	}{
		{in: "1955-05-01", want: d(1955, time.May, 1)},
		{in: "1955-05-01 00:00:00", want: d(1955, time.May, 1)},
		{in: "1955-05-01T08:30:00Z", want: d(1955, time.May, 1)},
		{in: "2024-02-29T10:00:00Z", want: d(2024, time.February, 29)},
		{in: "2024-02-29", want: d(2024, time.February, 29)},
		{in: "2000-02-29", want: d(2000, time.February, 29)},
		{in: "  1955-05-01", want: d(1955, time.May, 1)},
		{in: "1955-05-01   ", want: d(1955, time.May, 1)},
		{in: "   1955-05-01 00:00:00   ", want: d(1955, time.May, 1)},
		{in: "1955-05-01T", want: d(1955, time.May, 1)},
		{in: "0001-01-01", want: Date{days: minDays}},
		{in: "9999-12-31", want: Date{days: maxDays}},
		{in: "1970-01-01", want: Date{days: unixDay}},
		{in: "2023-12-31", want: d(2023, time.December, 31)},

		{in: "", reason: "too short"},
		{in: "          ", reason: "too short"},
		{in: "1955-5-1", reason: "too short"},
		{in: "1955-5-01", reason: "too short"},
		{in: "1955-05-1 ", reason: "too short"},
		{in: "garbage", reason: "too short"},
		{in: "garbage garbage", reason: "unexpected text"},
		{in: "1955-05-01x", reason: "unexpected text"},
		{in: "0001-12-31 BC", reason: "year BC"},
		{in: "0044-03-15 12:00:00+00 BC ", reason: "year BC"},
		{in: "1955-05-0100", reason: "unexpected text"},
		{in: "1955-05-01\t", reason: "unexpected text"},
		{in: "1955/05/01", reason: "expected '-'"},
		{in: "1955-05/01", reason: "expected '-'"},
		{in: "19555-05-01", reason: "unexpected text"},
		{in: "1955005-01", reason: "expected '-'"},
		{in: "abcd-ef-gh", reason: "expected digits"},
		{in: "1955-0a-01", reason: "expected digits"},
		{in: "1955-05-0a", reason: "expected digits"},
		{in: "+955-05-01", reason: "expected digits"},
		{in: "-955-05-01", reason: "expected digits"},
		{in: "1955--5-01", reason: "expected digits"},
		{in: "0000-01-01", reason: "year 0000"},
		{in: "1955-00-01", reason: "month"},
		{in: "1955-13-01", reason: "month"},
		{in: "1955-05-00", reason: "day does not exist"},
		{in: "1955-05-32", reason: "day does not exist"},
		{in: "1955-04-31", reason: "day does not exist"},
		{in: "2023-02-29", reason: "day does not exist"},
		{in: "1900-02-29", reason: "day does not exist"},
		{in: "2024-02-30", reason: "day does not exist"},
	}
	for _, tt := range tests {
		for _, variant := range []string{"Parse", "ParseBytes"} {
			var got Date
			var err error
			if variant == "Parse" {
				got, err = Parse(tt.in)
			} else {
				got, err = ParseBytes([]byte(tt.in))
			}
			if tt.reason == "" {
				if err != nil {
					t.Errorf("%s(%q): unexpected error %v", variant, tt.in, err)
					continue
				}
				if diff := cmp.Diff(tt.want, got, dateCmp); diff != "" {
					t.Errorf("%s(%q) = %v, want %v (-want +got):\n%s", variant, tt.in, got, tt.want, diff)
				}
				continue
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%s(%q) = %v, %v; want a *ParseError", variant, tt.in, got, err)
				continue
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("%s(%q): reason %q, want it to contain %q", variant, tt.in, pe.Reason, tt.reason)
			}
			if pe.Input != tt.in {
				t.Errorf("%s(%q): ParseError.Input = %q", variant, tt.in, pe.Input)
			}
			if !got.IsZero() {
				t.Errorf("%s(%q) returned %v with an error, want the zero Date", variant, tt.in, got)
			}
		}
	}
}

func TestParseError(t *testing.T) {
	_, err := Parse("1955-5-1")
	want := `datecalc: cannot parse "1955-5-1" as YYYY-MM-DD: too short`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}

	long := "1955-05-01X" + strings.Repeat("y", 100)
	for _, variant := range []string{"Parse", "ParseBytes"} {
		var err error
		if variant == "Parse" {
			_, err = Parse(long)
		} else {
			_, err = ParseBytes([]byte(long))
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%s(long) error %v, want *ParseError", variant, err)
		}
		if diff := cmp.Diff(long[:64], pe.Input); diff != "" {
			t.Errorf("%s(long): Input not cut to 64 bytes (-want +got):\n%s", variant, diff)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		y          int
		m          time.Month
		day        int
		want       string
		wantErr    bool
		outOfRange bool
	}{
		{y: 1955, m: time.May, day: 1, want: "1955-05-01"},
		{y: 1, m: time.January, day: 1, want: "0001-01-01"},
		{y: 9999, m: time.December, day: 31, want: "9999-12-31"},
		{y: 2024, m: time.February, day: 29, want: "2024-02-29"},
		{y: 2000, m: time.February, day: 29, want: "2000-02-29"},
		{y: 2023, m: time.February, day: 29, wantErr: true},
		{y: 1900, m: time.February, day: 29, wantErr: true},
		{y: 2024, m: time.April, day: 31, wantErr: true},
		{y: 2024, m: time.January, day: 0, wantErr: true},
		{y: 2024, m: time.January, day: 32, wantErr: true},
		{y: 2024, m: 0, day: 1, wantErr: true},
		{y: 2024, m: 13, day: 1, wantErr: true},
		{y: 0, m: time.January, day: 1, wantErr: true, outOfRange: true},
		{y: -5, m: time.January, day: 1, wantErr: true, outOfRange: true},
		{y: 10000, m: time.January, day: 1, wantErr: true, outOfRange: true},
	}
	for _, tt := range tests {
		got, err := New(tt.y, tt.m, tt.day)
		if tt.wantErr {
			if err == nil {
				t.Errorf("New(%d, %d, %d) = %v, want an error", tt.y, tt.m, tt.day, got)
			}
			if errors.Is(err, ErrOutOfRange) != tt.outOfRange {
				t.Errorf("New(%d, %d, %d): errors.Is(err, ErrOutOfRange) = %v, want %v (err %v)",
					tt.y, tt.m, tt.day, !tt.outOfRange, tt.outOfRange, err)
			}
			if !got.IsZero() {
				t.Errorf("New(%d, %d, %d) returned %v with an error", tt.y, tt.m, tt.day, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%d, %d, %d): %v", tt.y, tt.m, tt.day, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("New(%d, %d, %d) = %q, want %q", tt.y, tt.m, tt.day, got, tt.want)
		}
		y, m, day := got.Date()
		if y != tt.y || m != tt.m || day != tt.day {
			t.Errorf("New(%d, %d, %d).Date() = %d, %d, %d", tt.y, tt.m, tt.day, y, m, day)
		}
		if got.Year() != tt.y || got.Month() != tt.m || got.Day() != tt.day {
			t.Errorf("New(%d, %d, %d): Year/Month/Day = %d/%d/%d", tt.y, tt.m, tt.day, got.Year(), got.Month(), got.Day())
		}
	}
}

func TestMustNew(t *testing.T) {
	if got := MustNew(2024, time.February, 29).String(); got != "2024-02-29" {
		t.Errorf("MustNew(2024, 2, 29) = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNew(2023, 2, 29) did not panic")
		}
	}()
	MustNew(2023, time.February, 29)
}

func TestIsLeap(t *testing.T) {
	tests := map[int]bool{
		1900: false, 2000: true, 2024: true, 2023: false, 2100: false,
		2400: true, 1600: true, 4: true, 1: false, 9996: true, 9999: false,
	}
	for y, want := range tests {
		if got := IsLeap(y); got != want {
			t.Errorf("IsLeap(%d) = %v, want %v", y, got, want)
		}
	}
}

func TestDaysIn(t *testing.T) {
	tests := []struct {
		y    int
		m    time.Month
		want int
	}{
		{2023, time.January, 31}, {2023, time.February, 28}, {2024, time.February, 29},
		{1900, time.February, 28}, {2000, time.February, 29}, {2023, time.March, 31},
		{2023, time.April, 30}, {2023, time.May, 31}, {2023, time.June, 30},
		{2023, time.July, 31}, {2023, time.August, 31}, {2023, time.September, 30},
		{2023, time.October, 31}, {2023, time.November, 30}, {2023, time.December, 31},
	}
	for _, tt := range tests {
		if got := DaysIn(tt.y, tt.m); got != tt.want {
			t.Errorf("DaysIn(%d, %v) = %d, want %d", tt.y, tt.m, got, tt.want)
		}
	}
	// Cross-check against package time for a few centuries.
	for y := 1890; y <= 2410; y++ {
		for m := time.January; m <= time.December; m++ {
			want := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if got := DaysIn(y, m); got != want {
				t.Fatalf("DaysIn(%d, %v) = %d, want %d", y, m, got, want)
			}
		}
	}
}

// TestCivilExhaustive walks every day of years 1-9999 and checks that day
// numbers are consecutive and that civil and fromCivil are mutual inverses.
func TestCivilExhaustive(t *testing.T) {
	n := int32(minDays)
	for y := 1; y <= 9999; y++ {
		for m := time.January; m <= time.December; m++ {
			for day := 1; day <= DaysIn(y, m); day++ {
				got := fromCivil(y, m, day)
				if got.days != n {
					t.Fatalf("fromCivil(%d, %d, %d).days = %d, want %d", y, m, day, got.days, n)
				}
				gy, gm, gd := got.civil()
				if gy != y || gm != m || gd != day {
					t.Fatalf("day %d: civil() = %d-%d-%d, want %d-%d-%d", n, gy, gm, gd, y, m, day)
				}
				n++
			}
		}
	}
	if n-1 != maxDays {
		t.Fatalf("last day number %d, want maxDays %d", n-1, maxDays)
	}
}

func TestWeekday(t *testing.T) {
	fixed := []struct {
		x    Date
		want time.Weekday
	}{
		{d(1, time.January, 1), time.Monday},
		{d(1970, time.January, 1), time.Thursday},
		{d(2000, time.January, 1), time.Saturday},
		{d(2024, time.February, 29), time.Thursday},
		{d(9999, time.December, 31), time.Friday},
		{d(1955, time.May, 1), time.Sunday},
	}
	for _, tt := range fixed {
		if got := tt.x.Weekday(); got != tt.want {
			t.Errorf("%v.Weekday() = %v, want %v", tt.x, got, tt.want)
		}
	}
	// Against package time, every 97th day of the range plus the ends.
	for n := int32(minDays); n <= maxDays; n += 97 {
		for _, x := range []Date{{days: n}, {days: maxDays - (n - minDays)}} {
			if got, want := x.Weekday(), timeOf(x).Weekday(); got != want {
				t.Fatalf("%v.Weekday() = %v, want %v", x, got, want)
			}
		}
	}
}

func TestAddDays(t *testing.T) {
	first, last := Date{days: minDays}, Date{days: maxDays}
	tests := []struct {
		x    Date
		n    int
		want Date
	}{
		{d(2024, time.February, 28), 1, d(2024, time.February, 29)},
		{d(2023, time.February, 28), 1, d(2023, time.March, 1)},
		{d(2024, time.December, 31), 1, d(2025, time.January, 1)},
		{d(2025, time.January, 1), -1, d(2024, time.December, 31)},
		{d(2024, time.May, 15), 0, d(2024, time.May, 15)},
		{d(2024, time.January, 1), 366, d(2025, time.January, 1)},
		{d(2024, time.January, 1), -14, d(2023, time.December, 18)},
		{first, -1, first},
		{first, math.MinInt, first},
		{first, 1, d(1, time.January, 2)},
		{last, 1, last},
		{last, math.MaxInt, last},
		{last, -1, d(9999, time.December, 30)},
		{d(5000, time.June, 1), math.MaxInt, last},
		{d(5000, time.June, 1), math.MinInt, first},
		{last, -(maxDays - minDays), first},
		{Date{}, 5, Date{}},
		{Date{}, -5, Date{}},
		{Date{}, math.MaxInt, Date{}},
	}
	for _, tt := range tests {
		if got := tt.x.AddDays(tt.n); got != tt.want {
			t.Errorf("%q.AddDays(%d) = %q, want %q", tt.x, tt.n, got, tt.want)
		}
	}
}

func TestDaysUntilAndBetween(t *testing.T) {
	tests := []struct {
		a, b Date
		want int
	}{
		{d(2024, time.January, 1), d(2024, time.January, 1), 0},
		{d(2024, time.January, 1), d(2025, time.January, 1), 366},
		{d(2025, time.January, 1), d(2024, time.January, 1), -366},
		{d(2023, time.March, 1), d(2023, time.February, 28), -1},
		{d(1, time.January, 1), d(9999, time.December, 31), maxDays - minDays},
	}
	for _, tt := range tests {
		if got := tt.a.DaysUntil(tt.b); got != tt.want {
			t.Errorf("%v.DaysUntil(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := DaysBetween(tt.a, tt.b); got != tt.want {
			t.Errorf("DaysBetween(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestOrdering(t *testing.T) {
	a, b := d(2024, time.March, 1), d(2024, time.March, 2)
	z := Date{}
	tests := []struct {
		x, y             Date
		before, after    bool
		compare          int
		wantMin, wantMax Date
	}{
		{a, b, true, false, -1, a, b},
		{b, a, false, true, 1, a, b},
		{a, a, false, false, 0, a, a},
		{z, a, true, false, -1, z, a}, // the zero Date sorts first
		{a, z, false, true, 1, z, a},
		{z, z, false, false, 0, z, z},
	}
	for _, tt := range tests {
		if got := tt.x.Before(tt.y); got != tt.before {
			t.Errorf("%q.Before(%q) = %v", tt.x, tt.y, got)
		}
		if got := tt.x.After(tt.y); got != tt.after {
			t.Errorf("%q.After(%q) = %v", tt.x, tt.y, got)
		}
		if got := tt.x.Compare(tt.y); got != tt.compare {
			t.Errorf("%q.Compare(%q) = %d, want %d", tt.x, tt.y, got, tt.compare)
		}
		if got := Min(tt.x, tt.y); got != tt.wantMin {
			t.Errorf("Min(%q, %q) = %q, want %q", tt.x, tt.y, got, tt.wantMin)
		}
		if got := Max(tt.x, tt.y); got != tt.wantMax {
			t.Errorf("Max(%q, %q) = %q, want %q", tt.x, tt.y, got, tt.wantMax)
		}
	}
}

func TestFirstOfMonth(t *testing.T) {
	tests := []struct{ in, want Date }{
		{d(2024, time.March, 15), d(2024, time.March, 1)},
		{d(2024, time.March, 1), d(2024, time.March, 1)},
		{d(2024, time.February, 29), d(2024, time.February, 1)},
		{d(1, time.January, 31), d(1, time.January, 1)},
		{d(9999, time.December, 31), d(9999, time.December, 1)},
		{Date{}, Date{}},
	}
	for _, tt := range tests {
		if got := tt.in.FirstOfMonth(); got != tt.want {
			t.Errorf("%q.FirstOfMonth() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAnniversaryIn(t *testing.T) {
	leapling := d(1952, time.February, 29)
	tests := []struct {
		x    Date
		year int
		want Date
	}{
		{leapling, 2024, d(2024, time.February, 29)},
		{leapling, 2023, d(2023, time.February, 28)}, // year before a leap year
		{leapling, 2025, d(2025, time.February, 28)}, // year after a leap year
		{leapling, 1900, d(1900, time.February, 28)},
		{leapling, 2000, d(2000, time.February, 29)},
		{leapling, 1952, leapling},
		{leapling, 1, d(1, time.February, 28)},
		{d(1955, time.May, 1), 2025, d(2025, time.May, 1)},
		{d(1955, time.May, 1), 1900, d(1900, time.May, 1)},
		{d(1955, time.February, 28), 2024, d(2024, time.February, 28)},
		{d(1955, time.March, 1), 2024, d(2024, time.March, 1)},
		{d(1955, time.December, 31), 9999, d(9999, time.December, 31)},
		{d(1955, time.May, 1), 0, Date{}},
		{d(1955, time.May, 1), 10000, Date{}},
		{d(1955, time.May, 1), -2025, Date{}},
		{Date{}, 2025, Date{}},
	}
	for _, tt := range tests {
		if got := tt.x.AnniversaryIn(tt.year); got != tt.want {
			t.Errorf("%q.AnniversaryIn(%d) = %q, want %q", tt.x, tt.year, got, tt.want)
		}
	}
}

func TestNextAnniversary(t *testing.T) {
	leapling := d(1952, time.February, 29)
	bday := d(1955, time.May, 1)
	tests := []struct {
		name    string
		x, from Date
		want    Date
	}{
		{"later this year", bday, d(2025, time.January, 10), d(2025, time.May, 1)},
		{"on from counts", bday, d(2025, time.May, 1), d(2025, time.May, 1)},
		{"day after: next year", bday, d(2025, time.May, 2), d(2026, time.May, 1)},
		{"day before", bday, d(2025, time.April, 30), d(2025, time.May, 1)},
		{"end of year", d(1955, time.January, 1), d(2024, time.December, 31), d(2025, time.January, 1)},
		{"new year on from", d(1955, time.January, 1), d(2025, time.January, 1), d(2025, time.January, 1)},
		{"Dec 31 from Jan 1", d(1955, time.December, 31), d(2025, time.January, 1), d(2025, time.December, 31)},
		{"from before d: d's own year", bday, d(1955, time.January, 1), bday},
		{"from equals d", bday, bday, bday},

		{"Feb 29 in leap year", leapling, d(2024, time.January, 1), d(2024, time.February, 29)},
		{"Feb 29 on from, leap year", leapling, d(2024, time.February, 29), d(2024, time.February, 29)},
		{"Feb 29 after it, leap year", leapling, d(2024, time.March, 1), d(2025, time.February, 28)},
		{"Feb 29 in non-leap year", leapling, d(2025, time.January, 1), d(2025, time.February, 28)},
		{"Feb 29 on Feb 28 non-leap", leapling, d(2025, time.February, 28), d(2025, time.February, 28)},
		{"Feb 29 after Feb 28 non-leap", leapling, d(2025, time.March, 1), d(2026, time.February, 28)},
		{"Feb 29 year before leap", leapling, d(2023, time.March, 1), d(2024, time.February, 29)},
		{"Feb 29 year before leap, early", leapling, d(2023, time.February, 1), d(2023, time.February, 28)},
		{"Feb 29 from Feb 28 of leap year", leapling, d(2024, time.February, 28), d(2024, time.February, 29)},
		{"Feb 29 across 2100", leapling, d(2099, time.March, 1), d(2100, time.February, 28)},
		{"Feb 28 birthday, leap year", d(1955, time.February, 28), d(2024, time.February, 29), d(2025, time.February, 28)},
		{"Mar 1 birthday, leap year", d(1955, time.March, 1), d(2024, time.February, 29), d(2024, time.March, 1)},

		{"past year 9999", bday, d(9999, time.June, 1), Date{}},
		{"at year 9999", bday, d(9999, time.April, 1), d(9999, time.May, 1)},
		{"zero date", Date{}, d(2025, time.January, 1), Date{}},
		{"zero from", bday, Date{}, Date{}},
	}
	for _, tt := range tests {
		if got := tt.x.NextAnniversary(tt.from); got != tt.want {
			t.Errorf("%s: %q.NextAnniversary(%q) = %q, want %q", tt.name, tt.x, tt.from, got, tt.want)
		}
	}
}

func TestUnix(t *testing.T) {
	tests := []struct {
		x    Date
		want int
	}{
		{d(1970, time.January, 1), 0},
		{d(1970, time.January, 2), 1},
		{d(1969, time.December, 31), -1},
		{d(2024, time.February, 29), 19782},
		{d(1, time.January, 1), -719162},
		{d(9999, time.December, 31), 2932896},
	}
	for _, tt := range tests {
		if got := tt.x.Unix(); got != tt.want {
			t.Errorf("%q.Unix() = %d, want %d", tt.x, got, tt.want)
		}
		if want := int(timeOf(tt.x).Unix() / 86400); tt.x.Unix() != want {
			t.Errorf("%q.Unix() = %d, package time says %d", tt.x, tt.x.Unix(), want)
		}
		if got := FromUnix(tt.want); got != tt.x {
			t.Errorf("FromUnix(%d) = %q, want %q", tt.want, got, tt.x)
		}
	}
	for _, n := range []int{-719163, 2932897, math.MinInt, math.MaxInt} {
		if got := FromUnix(n); !got.IsZero() {
			t.Errorf("FromUnix(%d) = %q, want the zero Date", n, got)
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func TestFromTime(t *testing.T) {
	chicago := mustLoad(t, "America/Chicago")
	tokyo := mustLoad(t, "Asia/Tokyo")
	instant := time.Date(2024, time.March, 10, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		in   time.Time
		want Date
	}{
		{instant, d(2024, time.March, 10)},
		{instant.In(chicago), d(2024, time.March, 9)},
		{time.Date(2024, time.March, 9, 20, 0, 0, 0, time.UTC).In(tokyo), d(2024, time.March, 10)},
		{time.Date(2024, time.December, 31, 23, 59, 59, 999999999, time.UTC), d(2024, time.December, 31)},
		{time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC), d(1, time.January, 1)},
		{time.Time{}, d(1, time.January, 1)},
		{time.Date(9999, time.December, 31, 23, 0, 0, 0, time.UTC), d(9999, time.December, 31)},
		{time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC), Date{}},
		{time.Date(0, time.December, 31, 0, 0, 0, 0, time.UTC), Date{}},
		{time.Date(-50, time.June, 1, 0, 0, 0, 0, time.UTC), Date{}},
	}
	for _, tt := range tests {
		if got := FromTime(tt.in); got != tt.want {
			t.Errorf("FromTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestToday(t *testing.T) {
	chicago := mustLoad(t, "America/Chicago")
	// 03:00 UTC on March 10 is still the evening of March 9 in Chicago.
	clock := func() time.Time { return time.Date(2024, time.March, 10, 3, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		loc  *time.Location
		want Date
	}{
		{"Chicago", chicago, d(2024, time.March, 9)},
		{"UTC", time.UTC, d(2024, time.March, 10)},
		{"nil means UTC", nil, d(2024, time.March, 10)},
		{"UTC+14", time.FixedZone("LINT", 14*3600), d(2024, time.March, 10)},
		{"UTC-4", time.FixedZone("X", -4*3600), d(2024, time.March, 9)},
	}
	for _, tt := range tests {
		if got := Today(clock, tt.loc); got != tt.want {
			t.Errorf("%s: Today = %q, want %q", tt.name, got, tt.want)
		}
	}
	// The clock's own location must not matter, only loc.
	tokyoClock := func() time.Time { return clock().In(mustLoad(t, "Asia/Tokyo")) }
	if got, want := Today(tokyoClock, chicago), d(2024, time.March, 9); got != want {
		t.Errorf("Today(tokyo clock, Chicago) = %q, want %q", got, want)
	}
}

func TestTime(t *testing.T) {
	chicago := mustLoad(t, "America/Chicago")
	tests := []struct {
		x         Date
		hour, min int
		loc       *time.Location
		want      time.Time
	}{
		{d(2024, time.March, 9), 8, 30, chicago, time.Date(2024, time.March, 9, 8, 30, 0, 0, chicago)},
		{d(2024, time.March, 9), 8, 30, time.UTC, time.Date(2024, time.March, 9, 8, 30, 0, 0, time.UTC)},
		{d(2024, time.March, 9), 8, 30, nil, time.Date(2024, time.March, 9, 8, 30, 0, 0, time.UTC)},
		{d(2024, time.December, 31), 24, 0, time.UTC, time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)},
		{d(1, time.January, 1), 0, 0, time.UTC, time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)},
		{Date{}, 8, 30, chicago, time.Time{}},
		{Date{}, 8, 30, nil, time.Time{}},
	}
	for _, tt := range tests {
		got := tt.x.Time(tt.hour, tt.min, tt.loc)
		if !got.Equal(tt.want) || got.Location().String() != tt.want.Location().String() {
			t.Errorf("%q.Time(%d, %d, %v) = %v, want %v", tt.x, tt.hour, tt.min, tt.loc, got, tt.want)
		}
	}
	if got := (Date{}).Time(8, 30, chicago); !got.IsZero() {
		t.Errorf("zero Date.Time() = %v, want the zero time.Time", got)
	}
	// Chicago 08:30 on 2024-03-09 (CST) is 14:30 UTC.
	if got := d(2024, time.March, 9).Time(8, 30, chicago).UTC().Hour(); got != 14 {
		t.Errorf("08:30 Chicago in UTC: hour %d, want 14", got)
	}
}

func TestStringAndAppendFormat(t *testing.T) {
	tests := []struct {
		x    Date
		want string
	}{
		{d(1, time.January, 1), "0001-01-01"},
		{d(99, time.February, 3), "0099-02-03"},
		{d(999, time.October, 10), "0999-10-10"},
		{d(1955, time.May, 1), "1955-05-01"},
		{d(2024, time.December, 31), "2024-12-31"},
		{d(9999, time.December, 31), "9999-12-31"},
		{Date{}, ""},
	}
	for _, tt := range tests {
		if got := tt.x.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if got := string(tt.x.AppendFormat([]byte("x="))); got != "x="+tt.want {
			t.Errorf("AppendFormat = %q, want %q", got, "x="+tt.want)
		}
		b, err := tt.x.MarshalText()
		if err != nil || string(b) != tt.want {
			t.Errorf("MarshalText() = %q, %v; want %q", b, err, tt.want)
		}
	}
	x := d(2024, time.February, 29)
	buf := make([]byte, 0, 16)
	if allocs := testing.AllocsPerRun(100, func() { buf = x.AppendFormat(buf[:0]) }); allocs != 0 {
		t.Errorf("AppendFormat allocates %v times, want 0", allocs)
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, x := range []Date{d(1, time.January, 1), d(2024, time.February, 29), d(9999, time.December, 31), {}} {
		b, err := x.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%q): %v", x, err)
		}
		got := d(2000, time.January, 1) // must be overwritten, also by the zero Date
		if err := got.UnmarshalText(b); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", b, err)
		}
		if got != x {
			t.Errorf("text round trip of %q gave %q", x, got)
		}
	}

	// UnmarshalText accepts what Parse accepts.
	var got Date
	if err := got.UnmarshalText([]byte(" 1955-05-01 00:00:00")); err != nil || got != d(1955, time.May, 1) {
		t.Errorf("UnmarshalText(datetime) = %q, %v", got, err)
	}
	// On error it reports a *ParseError and leaves the target alone.
	before := d(2000, time.January, 1)
	got = before
	err := got.UnmarshalText([]byte("2023-02-29"))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("UnmarshalText(2023-02-29) error %v, want *ParseError", err)
	}
	if got != before {
		t.Errorf("failed UnmarshalText changed the target to %q", got)
	}

	// Through encoding/json, as a field and as a map key.
	type rec struct {
		Birthday Date            `json:"birthday"`
		Missing  Date            `json:"missing"`
		ByDay    map[Date]string `json:"by_day"`
	}
	in := rec{Birthday: d(1955, time.May, 1), ByDay: map[Date]string{d(2024, time.February, 29): "leap"}}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	wantJS := `{"birthday":"1955-05-01","missing":"","by_day":{"2024-02-29":"leap"}}`
	if string(js) != wantJS {
		t.Errorf("json.Marshal = %s, want %s", js, wantJS)
	}
	var out rec
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, dateCmp); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}
}

// TestZeroDate checks the documented behaviour of the zero Date ("no date")
// for every method.
func TestZeroDate(t *testing.T) {
	var z Date
	other := d(2024, time.May, 1)
	if !z.IsZero() || other.IsZero() {
		t.Errorf("IsZero: zero %v, non-zero %v", z.IsZero(), other.IsZero())
	}
	type result struct {
		Y, M, D            int
		Year, Month, Day   int
		Weekday            time.Weekday
		String, Formatted  string
		Text               string
		Add, First         Date
		AnnIn, Next, Next2 Date
		Time               time.Time
		UnixRoundTrip      Date
	}
	y, m, day := z.Date()
	text, _ := z.MarshalText()
	got := result{
		Y: y, M: int(m), D: day,
		Year: z.Year(), Month: int(z.Month()), Day: z.Day(),
		Weekday:       z.Weekday(),
		String:        z.String(),
		Formatted:     string(z.AppendFormat([]byte("x"))),
		Text:          string(text),
		Add:           z.AddDays(10),
		First:         z.FirstOfMonth(),
		AnnIn:         z.AnniversaryIn(2024),
		Next:          z.NextAnniversary(other),
		Next2:         other.NextAnniversary(z),
		Time:          z.Time(8, 30, time.UTC),
		UnixRoundTrip: FromUnix(z.Unix()),
	}
	want := result{Weekday: time.Sunday, Formatted: "x"}
	if diff := cmp.Diff(want, got, dateCmp); diff != "" {
		t.Errorf("zero Date behaviour (-want +got):\n%s", diff)
	}
}

func TestParseAllocs(t *testing.T) {
	b := []byte("2024-02-29 10:00:00")
	s := "2024-02-29 10:00:00"
	var sink Date
	if a := testing.AllocsPerRun(100, func() { sink, _ = ParseBytes(b) }); a != 0 {
		t.Errorf("ParseBytes allocates %v times, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { sink, _ = Parse(s) }); a != 0 {
		t.Errorf("Parse allocates %v times, want 0", a)
	}
	_ = sink
}

// --- properties ---

func TestPropTextRoundTrip(t *testing.T) {
	properties := proptest.New(t, 2000)
	properties.Property("New(x.Date()) == x and Parse(x.String()) == x", prop.ForAll(
		func(x Date) bool {
			y, m, day := x.Date()
			n, err := New(y, m, day)
			if err != nil || n != x {
				return false
			}
			p, err := Parse(x.String())
			return err == nil && p == x && len(x.String()) == 10
		},
		genDate(),
	))
	properties.TestingRun(t)
}

func TestPropOrderingMatchesTime(t *testing.T) {
	properties := proptest.New(t, 2000)
	properties.Property("Compare/Before/After/DaysUntil agree with time.Time", prop.ForAll(
		func(a, b Date) bool {
			ta, tb := timeOf(a), timeOf(b)
			return a.Compare(b) == ta.Compare(tb) &&
				a.Before(b) == ta.Before(tb) &&
				a.After(b) == ta.After(tb) &&
				(a == b) == ta.Equal(tb) &&
				int64(a.DaysUntil(b)) == (tb.Unix()-ta.Unix())/86400
		},
		genDate(), genDate(),
	))
	properties.TestingRun(t)
}

func TestPropAddDaysDaysUntil(t *testing.T) {
	properties := proptest.New(t, 2000)
	properties.Property("x.DaysUntil(x.AddDays(n)) == n inside the range, and AddDays matches time.AddDate", prop.ForAll(
		func(x Date, n int) bool {
			e := x.AddDays(n)
			v := int(x.days) + n
			if v < minDays || v > maxDays {
				return e == Date{days: minDays} || e == Date{days: maxDays}
			}
			return x.DaysUntil(e) == n && e.Unix()-x.Unix() == n &&
				timeOf(x).AddDate(0, 0, n).Equal(timeOf(e))
		},
		genDate(), gen.IntRange(-4_000_000, 4_000_000),
	))
	properties.TestingRun(t)
}

func TestPropNextAnniversary(t *testing.T) {
	properties := proptest.New(t, 3000)
	properties.Property("NextAnniversary is the first anniversary on or after from", prop.ForAll(
		func(x, from Date) bool {
			a := x.NextAnniversary(from)
			thisYear := x.AnniversaryIn(from.Year())
			if a.IsZero() {
				// Only when the anniversary would fall in year 10000.
				return from.Year() == 9999 && thisYear.Before(from)
			}
			_, xm, xd := x.Date()
			if xm == time.February && xd == 29 && !IsLeap(a.Year()) {
				xd = 28
			}
			switch {
			case a.Before(from), from.DaysUntil(a) > 365+1:
				return false
			case a.Month() != xm || a.Day() != xd:
				return false
			case a.Year() == from.Year():
				return true
			case a.Year() == from.Year()+1:
				return thisYear.Before(from) // this year's was already past
			}
			return false
		},
		genDate(), genDate(),
	))
	properties.TestingRun(t)
}

func TestPropCivilMatchesTime(t *testing.T) {
	properties := proptest.New(t, 5000)
	properties.Property("fromCivil and civil agree with time.Date for years 1-9999", prop.ForAll(
		func(y, mi, dayRaw int) bool {
			m := time.Month(mi)
			day := 1 + (dayRaw-1)%DaysIn(y, m)
			x := fromCivil(y, m, day)
			ref := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
			if int64(x.Unix()) != ref.Unix()/86400 || ref.Unix()%86400 != 0 {
				return false
			}
			gy, gm, gd := x.civil()
			// And the other direction, from a day number to a civil date.
			back := time.Unix(int64(x.Unix())*86400, 0).UTC()
			by, bm, bd := back.Date()
			return gy == y && gm == m && gd == day && by == y && bm == m && bd == day &&
				x.Weekday() == ref.Weekday()
		},
		gen.IntRange(1, 9999), gen.IntRange(1, 12), gen.IntRange(1, 31),
	))
	properties.TestingRun(t)
}

func TestPropFromTimeMatchesDate(t *testing.T) {
	locs := []*time.Location{time.UTC, mustLoad(t, "America/Chicago"), mustLoad(t, "Asia/Tokyo"),
		mustLoad(t, "Pacific/Chatham"), time.FixedZone("far west", -12*3600-59), time.FixedZone("far east", 14*3600+1)}
	properties := proptest.New(t, 5000)
	properties.Property("FromTime is the civil date of t.Date in t's location", prop.ForAll(
		func(sec int64, nsec int64, li int) bool {
			tm := time.Unix(sec, nsec).In(locs[li])
			y, m, day := tm.Date()
			want := Date{}
			if y >= 1 && y <= 9999 {
				want = MustNew(y, m, day)
			}
			return FromTime(tm) == want
		},
		// Years -100 to 10100, in seconds since 1970.
		gen.Int64Range(-65_300_000_000, 256_600_000_000), gen.Int64Range(0, 999_999_999), gen.IntRange(0, len(locs)-1),
	))
	properties.TestingRun(t)
}

// --- fuzzing ---

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1955-05-01", "1955-05-01 00:00:00", "2024-02-29T10:00:00Z", "  1955-05-01  ",
		"2023-02-29", "1955-5-1", "", "garbage", "0000-01-01", "9999-12-31", "0001-01-01",
		"1955-05-01x", "1955/05/01", "-955-05-01", "\xff\xfe2024-01-01", "0001-12-31 BC",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		gotB, errB := ParseBytes([]byte(s))
		if got != gotB || (err == nil) != (errB == nil) {
			t.Fatalf("Parse(%q) = %q, %v but ParseBytes = %q, %v", s, got, err, gotB, errB)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T, want *ParseError", s, err)
			}
			if !got.IsZero() {
				t.Fatalf("Parse(%q) returned %q with an error", s, got)
			}
			if len(pe.Input) > 64 {
				t.Fatalf("ParseError.Input has %d bytes", len(pe.Input))
			}
			return
		}
		if got.IsZero() || got.days < minDays || got.days > maxDays {
			t.Fatalf("Parse(%q) = out-of-range Date %d", s, got.days)
		}
		// The date is the first ten bytes after leading spaces.
		if trimmed := strings.TrimLeft(s, " "); got.String() != trimmed[:10] {
			t.Fatalf("Parse(%q).String() = %q, want %q", s, got, trimmed[:10])
		}
		if len(s) == 10 && got.String() != s {
			t.Fatalf("Parse(%q).String() = %q: no round trip", s, got)
		}
	})
}

// --- benchmarks ---

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	var sink Date
	for b.Loop() {
		sink, _ = Parse("2024-02-29 10:00:00")
	}
	_ = sink
}

func BenchmarkNextAnniversary(b *testing.B) {
	b.ReportAllocs()
	x := d(1952, time.February, 29)
	from := d(2025, time.March, 1)
	var sink Date
	for b.Loop() {
		sink = x.NextAnniversary(from)
	}
	_ = sink
}

// BenchmarkCivil converts day numbers to year, month and day and back, as
// every anniversary and exclusion check of a plan does.
func BenchmarkCivil(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		y, m, day := Date{days: int32(700000 + i&0xffff)}.civil()
		n += int(fromCivil(y, m, day).days)
	}
	_ = n
}

func TestEqual(t *testing.T) {
	a, b := MustNew(2025, 1, 2), MustNew(2025, 1, 2)
	if !a.Equal(b) || a.Equal(b.AddDays(1)) || !(Date{}).Equal(Date{}) || a.Equal(Date{}) {
		t.Error("Equal disagrees with ==")
	}
}

func TestAnniversaryAndMonthDay(t *testing.T) {
	for _, tc := range []struct {
		year  int
		month time.Month
		day   int
		want  Date
	}{
		{2024, time.February, 29, MustNew(2024, 2, 29)},
		{2025, time.February, 29, MustNew(2025, 2, 28)},
		{2025, time.January, 15, MustNew(2025, 1, 15)},
		{0, time.January, 15, Date{}},
		{10000, time.January, 15, Date{}},
		{2025, 0, 15, Date{}},
		{2025, 13, 15, Date{}},
		{2025, time.April, 31, Date{}},
		{2025, time.April, 0, Date{}},
	} {
		if got := Anniversary(tc.year, tc.month, tc.day); got != tc.want {
			t.Errorf("Anniversary(%d, %d, %d) = %v, want %v", tc.year, tc.month, tc.day, got, tc.want)
		}
	}
	for _, d := range []Date{MustNew(1952, 2, 29), MustNew(1950, 12, 31), MustNew(2001, 1, 1)} {
		m, day := d.MonthDay()
		for y := 1999; y <= 2005; y++ {
			if Anniversary(y, m, day) != d.AnniversaryIn(y) {
				t.Errorf("Anniversary of %v in %d differs from AnniversaryIn", d, y)
			}
		}
	}
	if m, day := (Date{}).MonthDay(); m != 0 || day != 0 {
		t.Errorf("zero Date MonthDay = %d %d", m, day)
	}
}
