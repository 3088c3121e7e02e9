package rules_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// day parses a YYYY-MM-DD literal of a test table ("" is the zero Date).
func day(s string) datecalc.Date {
	if s == "" {
		return datecalc.Date{}
	}
	d, err := datecalc.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// iv is the interval [start, end] of two literals.
func iv(start, end string) datecalc.Interval {
	return datecalc.Interval{Start: day(start), End: day(end)}
}

var st = emailsched.MustState

// dateCmp lets go-cmp compare Dates (their field is unexported).
var dateCmp = cmp.Comparer(func(a, b datecalc.Date) bool { return a == b })

// testToday is the run date of the table tests: every birthday of the tables
// is before it.
var testToday = day("2025-06-01")

// defaultEntries is the default rules table written independently of
// rules.Default, for sets built with other options.
func defaultEntries() []rules.Entry {
	s := func(codes ...string) []emailsched.State {
		out := make([]emailsched.State, len(codes))
		for i, c := range codes {
			out[i] = st(c)
		}
		return out
	}
	return []rules.Entry{
		{States: s("CA"), Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "table:1"},
		{States: s("ID"), Rule: rules.Windows(rules.BirthdayWindow(0, 63)), Origin: "table:2"},
		{States: s("KY"), Rule: rules.Windows(rules.BirthdayWindow(0, 60)), Origin: "table:3"},
		{States: s("MD"), Rule: rules.Windows(rules.BirthdayWindow(0, 30)), Origin: "table:4"},
		{States: s("NV"), Rule: rules.Windows(rules.BirthdayWindow(0, 60).MonthStart()), Origin: "table:5"},
		{States: s("OK"), Rule: rules.Windows(rules.BirthdayWindow(0, 60)), Origin: "table:6"},
		{States: s("OR"), Rule: rules.Windows(rules.BirthdayWindow(0, 31)), Origin: "table:7"},
		{States: s("VA"), Rule: rules.Windows(rules.BirthdayWindow(0, 30)), Origin: "table:8"},
		{States: s("MO"), Rule: rules.Windows(rules.EffectiveDateWindow(30, 33)), Origin: "table:9"},
		{States: s("CT", "MA", "NY", "WA"), Rule: rules.YearRound(), Origin: "table:10"},
	}
}

func mustBuild(t testing.TB, opts rules.Options, entries ...rules.Entry) *rules.Set {
	t.Helper()
	s, err := rules.Build(opts, entries...)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return s
}

func contact(birthday, ed string) *emailsched.Contact {
	return &emailsched.Contact{ID: 1, Email: "a@example.com", Birthday: day(birthday), EffectiveDate: day(ed)}
}

// windowCase is one exclusion period of the default rules with its literal bounds.
type windowCase struct {
	name     string
	state    string
	birthday string
	ed       string
	ann      string // the anchor's anniversary (before the month-start shift)
	start    string // first excluded day, buffer 60
	start0   string // first excluded day, buffer 0
	end      string // last excluded day
	window   rules.Window
	index    int
	reason   string
}

// spec4Cases covers every windowed row of the default rules, the worked values, New
// Year crossings in both directions and Feb 29 anchors in leap and common
// years. Bounds were computed by hand (and with GNU date), not by the
// package.
var spec4Cases = []windowCase{
	{name: "CA", state: "CA", birthday: "1950-07-20", ann: "2025-07-20", start: "2025-04-21", start0: "2025-06-20", end: "2025-09-18", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "CA Jan 15 (worked value, crosses New Year backwards)", state: "CA", birthday: "1955-01-15", ann: "2025-01-15", start: "2024-10-17", start0: "2024-12-16", end: "2025-03-16", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "CA Dec 1 (worked value, crosses New Year forwards)", state: "CA", birthday: "1955-12-01", ann: "2024-12-01", start: "2024-09-02", start0: "2024-11-01", end: "2025-01-30", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "CA Feb 29 in a common year", state: "CA", birthday: "1952-02-29", ann: "2025-02-28", start: "2024-11-30", start0: "2025-01-29", end: "2025-04-29", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "CA Feb 29 in a leap year", state: "CA", birthday: "1952-02-29", ann: "2024-02-29", start: "2023-12-01", start0: "2024-01-30", end: "2024-04-29", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "CA Feb 29 of next year, leap", state: "CA", birthday: "1952-02-29", ann: "2028-02-29", start: "2027-12-01", start0: "2028-01-30", end: "2028-04-29", window: rules.BirthdayWindow(30, 60), reason: "exclusion_window:CA:birthday"},
	{name: "ID", state: "ID", birthday: "1948-05-10", ann: "2025-05-10", start: "2025-03-11", start0: "2025-05-10", end: "2025-07-12", window: rules.BirthdayWindow(0, 63), reason: "exclusion_window:ID:birthday"},
	{name: "KY", state: "KY", birthday: "1952-08-20", ann: "2025-08-20", start: "2025-06-21", start0: "2025-08-20", end: "2025-10-19", window: rules.BirthdayWindow(0, 60), reason: "exclusion_window:KY:birthday"},
	{name: "KY Feb 29 in a common year, buffer crosses New Year", state: "KY", birthday: "1944-02-29", ann: "2026-02-28", start: "2025-12-30", start0: "2026-02-28", end: "2026-04-29", window: rules.BirthdayWindow(0, 60), reason: "exclusion_window:KY:birthday"},
	{name: "MD", state: "MD", birthday: "1955-03-05", ann: "2025-03-05", start: "2025-01-04", start0: "2025-03-05", end: "2025-04-04", window: rules.BirthdayWindow(0, 30), reason: "exclusion_window:MD:birthday"},
	{name: "NV Mar 15 (worked value, anchor Mar 1)", state: "NV", birthday: "1950-03-15", ann: "2025-03-15", start: "2024-12-31", start0: "2025-03-01", end: "2025-04-30", window: rules.BirthdayWindow(0, 60).MonthStart(), reason: "exclusion_window:NV:birthday"},
	{name: "NV Oct 31 (anchor Oct 1)", state: "NV", birthday: "1960-10-31", ann: "2025-10-31", start: "2025-08-02", start0: "2025-10-01", end: "2025-11-30", window: rules.BirthdayWindow(0, 60).MonthStart(), reason: "exclusion_window:NV:birthday"},
	{name: "NV Feb 29 in a common year (anchor Feb 1)", state: "NV", birthday: "1952-02-29", ann: "2025-02-28", start: "2024-12-03", start0: "2025-02-01", end: "2025-04-02", window: rules.BirthdayWindow(0, 60).MonthStart(), reason: "exclusion_window:NV:birthday"},
	{name: "OK (crosses New Year forwards)", state: "OK", birthday: "1949-11-11", ann: "2025-11-11", start: "2025-09-12", start0: "2025-11-11", end: "2026-01-10", window: rules.BirthdayWindow(0, 60), reason: "exclusion_window:OK:birthday"},
	{name: "OR", state: "OR", birthday: "1951-09-30", ann: "2025-09-30", start: "2025-08-01", start0: "2025-09-30", end: "2025-10-31", window: rules.BirthdayWindow(0, 31), reason: "exclusion_window:OR:birthday"},
	{name: "VA (buffer crosses New Year)", state: "VA", birthday: "1953-02-14", ann: "2025-02-14", start: "2024-12-16", start0: "2025-02-14", end: "2025-03-16", window: rules.BirthdayWindow(0, 30), reason: "exclusion_window:VA:birthday"},
	{name: "MO", state: "MO", ed: "2010-06-15", ann: "2025-06-15", start: "2025-03-17", start0: "2025-05-16", end: "2025-07-18", window: rules.EffectiveDateWindow(30, 33), reason: "exclusion_window:MO:effective_date"},
	{name: "MO Jan 1 (worked value)", state: "MO", ed: "2015-01-01", ann: "2025-01-01", start: "2024-10-03", start0: "2024-12-02", end: "2025-02-03", window: rules.EffectiveDateWindow(30, 33), reason: "exclusion_window:MO:effective_date"},
	{name: "MO Feb 29 in a common year", state: "MO", ed: "2016-02-29", ann: "2027-02-28", start: "2026-11-30", start0: "2027-01-29", end: "2027-04-02", window: rules.EffectiveDateWindow(30, 33), reason: "exclusion_window:MO:effective_date"},
	{name: "MO Feb 29 in a leap year", state: "MO", ed: "2016-02-29", ann: "2028-02-29", start: "2027-12-01", start0: "2028-01-30", end: "2028-04-02", window: rules.EffectiveDateWindow(30, 33), reason: "exclusion_window:MO:effective_date"},
}

// checkWindowBoundaries checks the first and last excluded day, the days just
// outside on both sides, NextAllowed and Periods for one period.
func checkWindowBoundaries(t *testing.T, set *rules.Set, tc windowCase, start string) {
	t.Helper()
	c := contact(tc.birthday, tc.ed)
	a := set.Apply(c, st(tc.state), testToday)
	if x, ok := a.Blocking(); ok {
		t.Fatalf("Blocking() = %+v, true; want false", x)
	}
	want := rules.Exclusion{
		Reason:      emailsched.SkipReason(tc.reason),
		Window:      tc.window,
		Index:       tc.index,
		Anniversary: day(tc.ann),
		Period:      datecalc.Interval{Start: day(start), End: day(tc.end)},
	}
	first, last := day(start), day(tc.end)
	for _, d := range []datecalc.Date{first, day(tc.ann), last} {
		got, ok := a.Excluded(d)
		if !ok {
			t.Errorf("Excluded(%s) = false, want true", d)
			continue
		}
		if diff := cmp.Diff(want, got, dateCmp); diff != "" {
			t.Errorf("Excluded(%s) (-want +got):\n%s", d, diff)
		}
	}
	for _, d := range []datecalc.Date{first.AddDays(-1), last.AddDays(1)} {
		if got, ok := a.Excluded(d); ok {
			t.Errorf("Excluded(%s) = %+v, true; want false (just outside %s…%s)", d, got, first, last)
		}
	}
	if got, ok := a.NextAllowed(first); !ok || got != last.AddDays(1) {
		t.Errorf("NextAllowed(%s) = %s, %v; want %s, true", first, got, ok, last.AddDays(1))
	}
	if got, ok := a.NextAllowed(first.AddDays(-1)); !ok || got != first.AddDays(-1) {
		t.Errorf("NextAllowed(%s) = %s, %v; want itself", first.AddDays(-1), got, ok)
	}
	got := a.Periods(nil, datecalc.Interval{Start: first, End: last})
	if diff := cmp.Diff([]rules.Exclusion{want}, got, dateCmp); diff != "" {
		t.Errorf("Periods(%s…%s) (-want +got):\n%s", first, last, diff)
	}
	if got := a.Periods(nil, datecalc.Interval{Start: first.AddDays(-1), End: first.AddDays(-1)}); len(got) != 0 {
		t.Errorf("Periods(day before) = %+v, want none", got)
	}
	if got := a.Periods(nil, datecalc.Interval{Start: last.AddDays(1), End: last.AddDays(1)}); len(got) != 0 {
		t.Errorf("Periods(day after) = %+v, want none", got)
	}
}

func TestExcludedSpec4DefaultBuffer(t *testing.T) {
	set := rules.Default()
	for _, tc := range spec4Cases {
		t.Run(tc.name, func(t *testing.T) { checkWindowBoundaries(t, set, tc, tc.start) })
	}
}

func TestExcludedSpec4BuiltSetDefaultBuffer(t *testing.T) {
	set := mustBuild(t, rules.Options{Buffer: 60}, defaultEntries()...)
	for _, tc := range spec4Cases {
		t.Run(tc.name, func(t *testing.T) { checkWindowBoundaries(t, set, tc, tc.start) })
	}
}

func TestExcludedSpec4BufferZero(t *testing.T) {
	set := mustBuild(t, rules.Options{Buffer: 0}, defaultEntries()...)
	if set.Buffer() != 0 {
		t.Fatalf("Buffer() = %d, want 0", set.Buffer())
	}
	for _, tc := range spec4Cases {
		t.Run(tc.name, func(t *testing.T) { checkWindowBoundaries(t, set, tc, tc.start0) })
	}
}

// TestWindowOwnBuffer checks that Window.WithBuffer overrides the set's
// buffer, including an own buffer of 0 against a set buffer of 60.
func TestWindowOwnBuffer(t *testing.T) {
	tests := []struct {
		name      string
		setBuffer int
		window    rules.Window
		start     string
	}{
		// CA Jan 15 2025: A − 30 − buffer.
		{"own 10 over 60", 60, rules.BirthdayWindow(30, 60).WithBuffer(10), "2024-12-06"},
		{"own 0 over 60", 60, rules.BirthdayWindow(30, 60).WithBuffer(0), "2024-12-16"},
		{"own 90 over 0", 0, rules.BirthdayWindow(30, 60).WithBuffer(90), "2024-09-17"},
		{"own 60 equals set 60", 60, rules.BirthdayWindow(30, 60).WithBuffer(60), "2024-10-17"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := mustBuild(t, rules.Options{Buffer: tt.setBuffer}, rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(tt.window), Origin: "t"})
			tc := windowCase{state: "CA", birthday: "1955-01-15", ann: "2025-01-15", end: "2025-03-16", window: tt.window, reason: "exclusion_window:CA:birthday"}
			checkWindowBoundaries(t, set, tc, tt.start)
		})
	}
}

func TestYearRound(t *testing.T) {
	set := rules.Default()
	dates := []datecalc.Date{day("2025-01-01"), day("2025-06-01"), day("2025-12-31"), day("2028-02-29")}
	for _, code := range []string{"CT", "MA", "NY", "WA"} {
		t.Run(code, func(t *testing.T) {
			for _, c := range []*emailsched.Contact{contact("1950-05-05", "2010-01-01"), contact("", "")} {
				a := set.Apply(c, st(code), testToday)
				want := rules.Exclusion{Reason: emailsched.SkipReason("year_round:" + code), YearRound: true}
				x, ok := a.Blocking()
				if !ok {
					t.Errorf("Blocking() = false, want true")
				}
				if diff := cmp.Diff(want, x, dateCmp); diff != "" {
					t.Errorf("Blocking() (-want +got):\n%s", diff)
				}
				for _, d := range dates {
					x, ok := a.Excluded(d)
					if !ok {
						t.Errorf("Excluded(%s) = false, want true", d)
					}
					if diff := cmp.Diff(want, x, dateCmp); diff != "" {
						t.Errorf("Excluded(%s) (-want +got):\n%s", d, diff)
					}
					if got, ok := a.NextAllowed(d); ok {
						t.Errorf("NextAllowed(%s) = %s, true; want false", d, got)
					}
				}
				if got := a.Periods(nil, iv("2020-01-01", "2030-12-31")); len(got) != 0 {
					t.Errorf("Periods = %+v, want empty", got)
				}
				if a.Rule().Kind() != rules.KindYearRound || a.Err() != nil || a.State() != st(code) || a.Origin() != "builtin" {
					t.Errorf("Rule/Err/State/Origin = %v/%v/%v/%q", a.Rule(), a.Err(), a.State(), a.Origin())
				}
			}
		})
	}
	if got := string(emailsched.YearRoundReason(st("NY"))); got != "year_round:NY" {
		t.Errorf("YearRoundReason(NY) = %q", got)
	}
}

// TestNoRule covers states without a rule: nothing is excluded, whatever the
// contact's dates (even missing ones), and an invalid state behaves the same.
func TestApplyWithoutStateBlocks(t *testing.T) {
	// ResolveState never yields an invalid state; should a caller pass one,
	// nothing may be sent.
	for _, st := range []emailsched.State{emailsched.NoState, emailsched.State(200)} {
		a := rules.Default().Apply(&emailsched.Contact{ID: 1}, st, testToday)
		x, ok := a.Blocking()
		if !ok || !x.Unknown || x.Reason != "rule_error:no_state" || !errors.Is(a.Err(), rules.ErrNoState) || a.Origin() != "" {
			t.Errorf("state %d: Blocking() = %+v, %v; Err() = %v", st, x, ok, a.Err())
		}
	}
}

func TestNoRule(t *testing.T) {
	set := rules.Default()
	tests := []struct {
		name  string
		state emailsched.State
		c     *emailsched.Contact
	}{
		{"TX", st("TX"), contact("1950-01-15", "2010-01-01")},
		{"TX without dates", st("TX"), contact("", "")},
		{"FL", st("FL"), contact("1952-02-29", "")},
		{"DC", st("DC"), contact("1950-12-01", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := set.Apply(tt.c, tt.state, testToday)
			if x, ok := a.Blocking(); ok {
				t.Errorf("Blocking() = %+v, true; want false", x)
			}
			for d := day("2024-12-01"); d.Before(day("2025-03-01")); d = d.AddDays(1) {
				if x, ok := a.Excluded(d); ok {
					t.Fatalf("Excluded(%s) = %+v, true; want false", d, x)
				}
				if got, ok := a.NextAllowed(d); !ok || got != d {
					t.Fatalf("NextAllowed(%s) = %s, %v; want itself", d, got, ok)
				}
			}
			if got := a.Periods(nil, iv("2020-01-01", "2030-12-31")); len(got) != 0 {
				t.Errorf("Periods = %+v, want empty", got)
			}
			if !a.Rule().Equal(rules.NoExclusion()) || a.State() != tt.state {
				t.Errorf("Rule() = %v, State() = %v", a.Rule(), a.State())
			}
		})
	}
}

// TestCanExcludeAndAnchor: CanExclude is false exactly for rules without
// exclusion, and Anchor gives the dates the windows use with their month
// and day: none with a FieldIssue, and no birthday after the run date.
func TestCanExcludeAndAnchor(t *testing.T) {
	failing := func(rules.Input) (rules.Rule, error) { return rules.Rule{}, errors.New("boom") }
	set := mustBuild(t, rules.Options{Buffer: 60, Checksum: "test"},
		rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "t:1"},
		rules.Entry{States: []emailsched.State{st("NY")}, Rule: rules.YearRound(), Origin: "t:2"},
		rules.Entry{States: []emailsched.State{st("FL")}, Func: failing, Origin: "t:3"})
	var zero rules.Applied
	if zero.CanExclude() {
		t.Error("the zero Applied can exclude")
	}
	for _, tc := range []struct {
		state emailsched.State
		want  bool
	}{{st("CA"), true}, {st("NY"), true}, {st("FL"), true}, {st("TX"), false}, {emailsched.NoState, true}} {
		a := set.Apply(contact("1952-02-29", "2010-03-01"), tc.state, testToday)
		if got := a.CanExclude(); got != tc.want {
			t.Errorf("%v: CanExclude() = %v, want %v", tc.state, got, tc.want)
		}
		if !tc.want && a.Excludes(day("2025-02-01")) {
			t.Errorf("%v: a rule without exclusion excludes", tc.state)
		}
		// The anchors do not depend on the rule, not even a failed one.
		if d, m, dd := a.Anchor(rules.AnchorBirthday); d != day("1952-02-29") || m != time.February || dd != 29 {
			t.Errorf("%v: Anchor(birthday) = %v %v %v", tc.state, d, m, dd)
		}
		if d, m, dd := a.Anchor(rules.AnchorEffectiveDate); d != day("2010-03-01") || m != time.March || dd != 1 {
			t.Errorf("%v: Anchor(effective date) = %v %v %v", tc.state, d, m, dd)
		}
	}
	c := contact("2030-01-01", "2010-03-01")
	c.Issues = []emailsched.FieldIssue{{Field: emailsched.FieldEffectiveDate, Value: "x", Reason: "bad"}}
	a := set.Apply(c, st("CA"), testToday)
	for _, an := range []rules.Anchor{rules.AnchorBirthday, rules.AnchorEffectiveDate} {
		if d, m, dd := a.Anchor(an); !d.IsZero() || m != 0 || dd != 0 {
			t.Errorf("future birthday, unreadable effective date: Anchor(%v) = %v %v %v, want none", an, d, m, dd)
		}
	}
}

// TestMissingAnchor: a windowed rule whose anchor date is missing, unreadable
// or in the future (a birthday) cannot be evaluated, so every date is
// excluded.
func TestMissingAnchor(t *testing.T) {
	set := rules.Default()
	withIssue := func(c *emailsched.Contact, field string) *emailsched.Contact {
		c.Issues = append(c.Issues, emailsched.FieldIssue{Field: field, Value: "1950-13-01", Reason: "month must be 01-12"})
		return c
	}
	tests := []struct {
		name   string
		state  string
		c      *emailsched.Contact
		reason string
		window rules.Window
	}{
		{"CA no birthday", "CA", contact("", "2010-01-01"), "missing_anchor:CA:birthday", rules.BirthdayWindow(30, 60)},
		{"CA birthday issue", "CA", withIssue(contact("1950-01-15", ""), emailsched.FieldBirthday), "missing_anchor:CA:birthday", rules.BirthdayWindow(30, 60)},
		{"CA birthday after today", "CA", contact("2025-06-02", ""), "missing_anchor:CA:birthday", rules.BirthdayWindow(30, 60)},
		{"NV no birthday", "NV", contact("", ""), "missing_anchor:NV:birthday", rules.BirthdayWindow(0, 60).MonthStart()},
		{"MO no effective date", "MO", contact("1950-01-01", ""), "missing_anchor:MO:effective_date", rules.EffectiveDateWindow(30, 33)},
		{"MO effective date issue", "MO", withIssue(contact("", "2010-01-01"), emailsched.FieldEffectiveDate), "missing_anchor:MO:effective_date", rules.EffectiveDateWindow(30, 33)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := set.Apply(tt.c, st(tt.state), testToday)
			want := rules.Exclusion{Reason: emailsched.SkipReason(tt.reason), Unknown: true, Window: tt.window}
			x, ok := a.Blocking()
			if !ok {
				t.Fatalf("Blocking() = false, want true")
			}
			if diff := cmp.Diff(want, x, dateCmp); diff != "" {
				t.Errorf("Blocking() (-want +got):\n%s", diff)
			}
			for _, d := range []datecalc.Date{day("2025-01-01"), day("2025-07-01"), day("2030-12-31")} {
				x, ok := a.Excluded(d)
				if !ok {
					t.Errorf("Excluded(%s) = false, want true", d)
				}
				if diff := cmp.Diff(want, x, dateCmp); diff != "" {
					t.Errorf("Excluded(%s) (-want +got):\n%s", d, diff)
				}
				if got, ok := a.NextAllowed(d); ok {
					t.Errorf("NextAllowed(%s) = %s, true; want false", d, got)
				}
			}
			if got := a.Periods(nil, iv("2020-01-01", "2030-12-31")); len(got) != 0 {
				t.Errorf("Periods = %+v, want empty", got)
			}
		})
	}
}

// TestBirthdayOnToday: a birthday equal to the run date is not in the
// future, so it anchors the window.
func TestBirthdayOnToday(t *testing.T) {
	a := rules.Default().Apply(contact("2025-06-01", ""), st("CA"), testToday)
	if x, ok := a.Blocking(); ok {
		t.Fatalf("Blocking() = %+v, true; want false", x)
	}
	x, ok := a.Excluded(day("2025-06-01"))
	if !ok || x.Anniversary != day("2025-06-01") {
		t.Errorf("Excluded(today) = %+v, %v; want the 2025-06-01 anniversary", x, ok)
	}
}

// FL is used for rule functions and custom rules: it has no default rule.
var fl = st("FL")

func TestMultiWindow(t *testing.T) {
	// Birthday Mar 10, effective date Apr 1, buffer 0:
	// birthday window (0, 30): 2025-03-10 … 2025-04-09
	// effective date window (10, 20): 2025-03-22 … 2025-04-21
	bw := rules.BirthdayWindow(0, 30)
	ew := rules.EffectiveDateWindow(10, 20)
	set := mustBuild(t, rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{fl}, Rule: rules.Windows(bw, ew), Origin: "fl.rules:1:1"})
	a := set.Apply(contact("1950-03-10", "2015-04-01"), fl, testToday)
	bx := rules.Exclusion{Reason: "exclusion_window:FL:birthday", Window: bw, Index: 0, Anniversary: day("2025-03-10"), Period: iv("2025-03-10", "2025-04-09")}
	ex := rules.Exclusion{Reason: "exclusion_window:FL:effective_date", Window: ew, Index: 1, Anniversary: day("2025-04-01"), Period: iv("2025-03-22", "2025-04-21")}
	tests := []struct {
		d    string
		want *rules.Exclusion
	}{
		{"2025-03-09", nil},
		{"2025-03-10", &bx},
		{"2025-03-21", &bx},
		{"2025-03-22", &ex}, // both: the effective-date period ends last
		{"2025-04-09", &ex},
		{"2025-04-10", &ex},
		{"2025-04-21", &ex},
		{"2025-04-22", nil},
	}
	for _, tt := range tests {
		got, ok := a.Excluded(day(tt.d))
		if ok != (tt.want != nil) {
			t.Errorf("Excluded(%s) = %v, want %v", tt.d, ok, tt.want != nil)
			continue
		}
		if tt.want != nil {
			if diff := cmp.Diff(*tt.want, got, dateCmp); diff != "" {
				t.Errorf("Excluded(%s) (-want +got):\n%s", tt.d, diff)
			}
		}
	}
	// NextAllowed jumps over both overlapping periods.
	for _, d := range []string{"2025-03-10", "2025-03-15", "2025-04-05", "2025-04-21"} {
		if got, ok := a.NextAllowed(day(d)); !ok || got != day("2025-04-22") {
			t.Errorf("NextAllowed(%s) = %s, %v; want 2025-04-22, true", d, got, ok)
		}
	}
	// Periods in order of start, filtered by overlap.
	got := a.Periods(nil, iv("2025-01-01", "2025-12-31"))
	if diff := cmp.Diff([]rules.Exclusion{bx, ex}, got, dateCmp); diff != "" {
		t.Errorf("Periods(2025) (-want +got):\n%s", diff)
	}
	got = a.Periods(nil, iv("2025-04-10", "2025-04-10"))
	if diff := cmp.Diff([]rules.Exclusion{ex}, got, dateCmp); diff != "" {
		t.Errorf("Periods(2025-04-10) (-want +got):\n%s", diff)
	}
	// A missing second anchor blocks the contact.
	b := set.Apply(contact("1950-03-10", ""), fl, testToday)
	if x, ok := b.Blocking(); !ok || x.Reason != "missing_anchor:FL:effective_date" || !x.Unknown {
		t.Errorf("Blocking() without effective date = %+v, %v", x, ok)
	}
}

// TestMultiWindowTie: when two periods containing the day end on the same
// day, the first window of the rule is reported.
func TestMultiWindowTie(t *testing.T) {
	w1 := rules.BirthdayWindow(5, 10)
	w2 := rules.EffectiveDateWindow(0, 10)
	set := mustBuild(t, rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{fl}, Rule: rules.Windows(w1, w2), Origin: "t"})
	a := set.Apply(contact("1950-03-10", "2015-03-10"), fl, testToday)
	got, ok := a.Excluded(day("2025-03-12"))
	want := rules.Exclusion{Reason: "exclusion_window:FL:birthday", Window: w1, Index: 0, Anniversary: day("2025-03-10"), Period: iv("2025-03-05", "2025-03-20")}
	if !ok {
		t.Fatal("Excluded = false, want true")
	}
	if diff := cmp.Diff(want, got, dateCmp); diff != "" {
		t.Errorf("Excluded (-want +got):\n%s", diff)
	}
	// Equal starts in Periods keep window order.
	w3 := rules.EffectiveDateWindow(5, 3)
	set = mustBuild(t, rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{fl}, Rule: rules.Windows(w1, w3), Origin: "t"})
	a = set.Apply(contact("1950-03-10", "2015-03-10"), fl, testToday)
	ps := a.Periods(nil, iv("2025-03-01", "2025-03-31"))
	if len(ps) != 2 || ps[0].Index != 0 || ps[1].Index != 1 {
		t.Errorf("Periods with equal starts = %+v, want window order", ps)
	}
}

// TestPeriods checks ordering across years and windows, overlap at the
// interval's ends, empty intervals and appending to dst.
func TestPeriods(t *testing.T) {
	bw := rules.BirthdayWindow(0, 10)
	ew := rules.EffectiveDateWindow(0, 10)
	set := mustBuild(t, rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{fl}, Rule: rules.Windows(bw, ew), Origin: "t"})
	// Birthday Dec 25 (periods Dec 25 … Jan 4), effective date Jan 10
	// (Jan 10 … Jan 20).
	a := set.Apply(contact("1950-12-25", "2015-01-10"), fl, testToday)
	b := func(y int) rules.Exclusion {
		ann := datecalc.MustNew(y, time.December, 25)
		return rules.Exclusion{Reason: "exclusion_window:FL:birthday", Window: bw, Index: 0, Anniversary: ann, Period: datecalc.Interval{Start: ann, End: ann.AddDays(10)}}
	}
	e := func(y int) rules.Exclusion {
		ann := datecalc.MustNew(y, time.January, 10)
		return rules.Exclusion{Reason: "exclusion_window:FL:effective_date", Window: ew, Index: 1, Anniversary: ann, Period: datecalc.Interval{Start: ann, End: ann.AddDays(10)}}
	}
	sentinel := rules.Exclusion{Reason: "sentinel"}
	tests := []struct {
		name string
		iv   datecalc.Interval
		want []rules.Exclusion
	}{
		{"three years", iv("2024-01-01", "2026-12-31"), []rules.Exclusion{b(2023), e(2024), b(2024), e(2025), b(2025), e(2026), b(2026)}},
		{"one day inside the New Year period", iv("2025-01-01", "2025-01-01"), []rules.Exclusion{b(2024)}},
		{"ends on a period start", iv("2024-12-01", "2024-12-25"), []rules.Exclusion{b(2024)}},
		{"ends the day before a period", iv("2024-12-01", "2024-12-24"), nil},
		{"starts on a period end", iv("2025-01-04", "2025-01-09"), []rules.Exclusion{b(2024)}},
		{"starts the day after a period", iv("2025-01-05", "2025-01-09"), nil},
		{"gap between periods", iv("2025-01-21", "2025-12-24"), nil},
		{"empty interval", datecalc.Interval{Start: day("2025-02-01"), End: day("2025-01-01")}, nil},
		{"zero interval", datecalc.Interval{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Periods(nil, tt.iv)
			if diff := cmp.Diff(tt.want, got, dateCmp); diff != "" {
				t.Errorf("Periods(%s) (-want +got):\n%s", tt.iv, diff)
			}
			// Appending keeps what dst held and sorts only the new part.
			got = a.Periods([]rules.Exclusion{sentinel}, tt.iv)
			want := append([]rules.Exclusion{sentinel}, tt.want...)
			if diff := cmp.Diff(want, got, dateCmp); diff != "" {
				t.Errorf("Periods(dst, %s) (-want +got):\n%s", tt.iv, diff)
			}
		})
	}
}

// TestNextAllowed covers jumps over consecutive, chained and overlapping
// periods, and the two-year bound.
func TestNextAllowed(t *testing.T) {
	tests := []struct {
		name   string
		rule   rules.Rule
		buffer int
		bday   string
		ed     string
		from   string
		want   string // "" means none
	}{
		{"not excluded is itself", rules.Windows(rules.BirthdayWindow(0, 10)), 0, "1950-03-10", "", "2025-03-09", "2025-03-09"},
		{"inside one period", rules.Windows(rules.BirthdayWindow(0, 10)), 0, "1950-03-10", "", "2025-03-15", "2025-03-21"},
		{"period end", rules.Windows(rules.BirthdayWindow(0, 10)), 0, "1950-03-10", "", "2025-03-20", "2025-03-21"},
		// Birthday period Mar 10 … Mar 20, effective-date period starts the
		// next day: Mar 21 … Apr 5.
		{"consecutive periods", rules.Windows(rules.BirthdayWindow(0, 10), rules.EffectiveDateWindow(0, 15)), 0, "1950-03-10", "2015-03-21", "2025-03-10", "2025-04-06"},
		// Three chained jumps: Mar 10 … Mar 20 (birthday), Mar 21 … Mar 31
		// (effective date Mar 26 with a 5-day own buffer), then from Apr 1
		// the period Mar 26 … Apr 15, which does not contain Mar 21.
		{"chained periods", rules.Windows(
			rules.BirthdayWindow(0, 10),
			rules.EffectiveDateWindow(0, 5).WithBuffer(5),
			rules.EffectiveDateWindow(0, 20)), 0, "1950-03-10", "2015-03-26", "2025-03-10", "2025-04-16"},
		{"nested month-start period", rules.Windows(
			rules.BirthdayWindow(0, 10),
			rules.BirthdayWindow(0, 30).WithBuffer(0).MonthStart()), 60, "1950-03-10", "", "2025-03-10", "2025-04-01"},
		{"overlapping, second ends later", rules.Windows(rules.BirthdayWindow(0, 10), rules.EffectiveDateWindow(10, 20)), 0, "1950-03-10", "2015-03-15", "2025-03-10", "2025-04-05"},
		{"overlapping, first contains second", rules.Windows(rules.BirthdayWindow(0, 40), rules.EffectiveDateWindow(0, 5)), 0, "1950-03-10", "2015-03-15", "2025-03-12", "2025-04-20"},
		{"New Year crossing", rules.Windows(rules.BirthdayWindow(0, 60)), 60, "1950-12-25", "", "2024-10-26", "2025-02-24"},
		{"every day excluded", rules.Windows(rules.BirthdayWindow(366, 366)), 0, "1950-03-10", "", "2025-03-10", ""},
		{"every day excluded via buffer", rules.Windows(rules.BirthdayWindow(0, 366).WithBuffer(366)), 0, "1950-03-10", "", "2025-01-01", ""},
		// One free day a year: a 365-day period from the anniversary.
		// Anniversary 2025-03-10 → period 2025-03-10 … 2026-03-09, free
		// day none since the next starts 2026-03-10: covers everything.
		{"period of 365 days chains", rules.Windows(rules.BirthdayWindow(0, 364)), 0, "1950-03-10", "", "2025-03-10", ""},
		// 363 days after: 2025-03-10 … 2026-03-08, free 2026-03-09.
		{"one free day a year", rules.Windows(rules.BirthdayWindow(0, 363)), 0, "1950-03-10", "", "2025-03-10", "2026-03-09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := mustBuild(t, rules.Options{Buffer: tt.buffer}, rules.Entry{States: []emailsched.State{fl}, Rule: tt.rule, Origin: "t"})
			a := set.Apply(contact(tt.bday, tt.ed), fl, testToday)
			got, ok := a.NextAllowed(day(tt.from))
			if tt.want == "" {
				if ok {
					t.Errorf("NextAllowed(%s) = %s, true; want false", tt.from, got)
				}
				if !got.IsZero() {
					t.Errorf("NextAllowed(%s) returned %s with false, want the zero Date", tt.from, got)
				}
				return
			}
			if !ok || got != day(tt.want) {
				t.Errorf("NextAllowed(%s) = %s, %v; want %s, true", tt.from, got, ok, tt.want)
			}
		})
	}
}

// age76YearRound is a rule function like the "76 and older: year-round"
// example of the rules table: year-round from the 76th birthday, else a birthday
// window; it fails without a birthday.
func age76YearRound(in rules.Input) (rules.Rule, error) {
	if in.Contact.Birthday.IsZero() {
		return rules.Rule{}, errors.New("no birthday")
	}
	if in.State != fl {
		return rules.Rule{}, fmt.Errorf("called for %s", in.State)
	}
	if !in.Contact.Birthday.AnniversaryIn(in.Contact.Birthday.Year() + 76).After(in.Today) {
		return rules.YearRound(), nil
	}
	return rules.Windows(rules.BirthdayWindow(0, 30)), nil
}

func TestRuleFunc(t *testing.T) {
	invalid := func(rules.Input) (rules.Rule, error) {
		return rules.Windows(rules.BirthdayWindow(-1, 30)), nil
	}
	noAnchor := func(rules.Input) (rules.Rule, error) {
		return rules.Windows(rules.Window{Before: 1, After: 1}), nil
	}
	set := mustBuild(t, rules.Options{Buffer: 0, Checksum: "sha256:test"},
		rules.Entry{States: []emailsched.State{fl}, Func: age76YearRound, Origin: "fl.rules:3:7"},
		rules.Entry{States: []emailsched.State{st("GA")}, Func: invalid, Origin: "ga.rules:1:1"},
		rules.Entry{States: []emailsched.State{st("AL")}, Func: noAnchor, Origin: "al.rules:2:2"},
	)
	today := day("2025-06-01")
	t.Run("76 or older: year-round", func(t *testing.T) {
		a := set.Apply(contact("1949-06-01", ""), fl, today) // 76 today
		if a.Err() != nil || a.Rule().Kind() != rules.KindYearRound {
			t.Fatalf("Err() = %v, Rule() = %v; want year_round()", a.Err(), a.Rule())
		}
		x, ok := a.Excluded(day("2025-09-01"))
		if !ok || !x.YearRound || x.Reason != "year_round:FL" {
			t.Errorf("Excluded = %+v, %v; want year_round:FL", x, ok)
		}
		if a.Origin() != "fl.rules:3:7" {
			t.Errorf("Origin() = %q", a.Origin())
		}
	})
	t.Run("younger: birthday window", func(t *testing.T) {
		a := set.Apply(contact("1949-06-02", ""), fl, today) // 76 tomorrow
		if a.Err() != nil || !a.Rule().Equal(rules.Windows(rules.BirthdayWindow(0, 30))) {
			t.Fatalf("Err() = %v, Rule() = %v", a.Err(), a.Rule())
		}
		x, ok := a.Excluded(day("2025-06-02"))
		if !ok || x.Reason != "exclusion_window:FL:birthday" || x.Period != iv("2025-06-02", "2025-07-02") {
			t.Errorf("Excluded = %+v, %v", x, ok)
		}
		if _, ok := a.Excluded(day("2025-06-01")); ok {
			t.Errorf("Excluded(2025-06-01) = true, want false")
		}
	})
	errCases := []struct {
		name   string
		state  emailsched.State
		c      *emailsched.Contact
		reason string
		errHas string
	}{
		{"function error", fl, contact("", ""), "rule_error:FL", "no birthday"},
		{"negative days", st("GA"), contact("1950-01-01", ""), "rule_error:GA", "days before is -1"},
		{"window without anchor", st("AL"), contact("1950-01-01", ""), "rule_error:AL", "no anchor"},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			a := set.Apply(tt.c, tt.state, today)
			if a.Err() == nil || !strings.Contains(a.Err().Error(), tt.errHas) {
				t.Fatalf("Err() = %v, want an error containing %q", a.Err(), tt.errHas)
			}
			if a.Rule().Kind() != rules.KindNone {
				t.Errorf("Rule() = %v, want the zero rule after an error", a.Rule())
			}
			want := rules.Exclusion{Reason: emailsched.SkipReason(tt.reason), Unknown: true}
			x, ok := a.Blocking()
			if !ok {
				t.Fatal("Blocking() = false, want true")
			}
			if diff := cmp.Diff(want, x, dateCmp); diff != "" {
				t.Errorf("Blocking() (-want +got):\n%s", diff)
			}
			x, ok = a.Excluded(day("2025-07-01"))
			if !ok {
				t.Error("Excluded = false, want true")
			}
			if diff := cmp.Diff(want, x, dateCmp); diff != "" {
				t.Errorf("Excluded() (-want +got):\n%s", diff)
			}
			if got, ok := a.NextAllowed(day("2025-07-01")); ok {
				t.Errorf("NextAllowed = %s, true; want false", got)
			}
			if got := a.Periods(nil, iv("2025-01-01", "2025-12-31")); len(got) != 0 {
				t.Errorf("Periods = %+v, want none", got)
			}
		})
	}
	t.Run("function sees the contact, state and today", func(t *testing.T) {
		var seen rules.Input
		spy := func(in rules.Input) (rules.Rule, error) { seen = in; return rules.NoExclusion(), nil }
		s := mustBuild(t, rules.Options{Checksum: "x"}, rules.Entry{States: []emailsched.State{st("TX")}, Func: spy, Origin: "t"})
		c := contact("1950-01-01", "")
		a := s.Apply(c, st("TX"), today)
		if seen.Contact != c || seen.State != st("TX") || seen.Today != today {
			t.Errorf("Input = %+v", seen)
		}
		if _, ok := a.Excluded(today); ok || a.Err() != nil {
			t.Errorf("NoExclusion from a function excludes, or errs: %v", a.Err())
		}
	})
}

// checkNoAllocs checks that applying set to c in CA, asking whether d is
// excluded (it must be) and for the next allowed day allocates nothing.
func checkNoAllocs(t *testing.T, set *rules.Set, c *emailsched.Contact, d datecalc.Date) {
	t.Helper()
	n := testing.AllocsPerRun(100, func() {
		a := set.Apply(c, st("CA"), testToday)
		if _, ok := a.Excluded(d); !ok {
			panic("not excluded")
		}
		a.NextAllowed(d)
	})
	if n != 0 {
		t.Errorf("Apply + Excluded + NextAllowed allocate %v times, want 0", n)
	}
}

func TestApplyAllocs(t *testing.T) {
	set := rules.Default()
	c := contact("1955-01-15", "")
	d := day("2025-01-10")
	checkNoAllocs(t, set, c, d)
	var buf [8]rules.Exclusion
	a := set.Apply(c, st("CA"), testToday)
	n := testing.AllocsPerRun(100, func() { a.Periods(buf[:0], iv("2024-01-01", "2025-12-31")) })
	if n != 0 {
		t.Errorf("Periods into a buffer allocates %v times, want 0", n)
	}
}

func BenchmarkApplyExcluded(b *testing.B) {
	set := rules.Default()
	c := contact("1955-01-15", "")
	ca := st("CA")
	d := day("2025-01-10")
	b.ReportAllocs()
	for b.Loop() {
		a := set.Apply(c, ca, testToday)
		if _, ok := a.Excluded(d); !ok {
			b.Fatal("not excluded")
		}
	}
}

func BenchmarkNextAllowed(b *testing.B) {
	set := rules.Default()
	c := contact("1955-01-15", "")
	a := set.Apply(c, st("CA"), testToday)
	d := day("2024-10-17")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := a.NextAllowed(d); !ok {
			b.Fatal("none")
		}
	}
}

// TestPeriodsLongWindows: with day counts allowed by MaxWindowDays a period
// can reach more than a year from its anniversary, so the periods of the
// anniversaries of iv's first year − 2 and last year + 2 can overlap iv.
// Periods must still return every period that overlaps iv, as documented.
func TestPeriodsLongWindows(t *testing.T) {
	tests := []struct {
		name string
		w    rules.Window
		bday string
		ed   string
		iv   datecalc.Interval
		want []datecalc.Interval
	}{
		{
			// Effective date Dec 31, 366 days before + 366 own buffer:
			// the 2027 anniversary's period starts 2025-12-29.
			name: "period of year + 2 reaches back",
			w:    rules.EffectiveDateWindow(366, 0).WithBuffer(366),
			ed:   "2015-12-31",
			iv:   iv("2025-12-30", "2025-12-30"),
			want: []datecalc.Interval{iv("2023-12-30", "2025-12-31"), iv("2024-12-29", "2026-12-31"), iv("2025-12-29", "2027-12-31")},
		},
		{
			// Birthday Dec 31, 366 days after: the 2024 anniversary's
			// period ends 2026-01-01.
			name: "period of year − 2 reaches forward",
			w:    rules.BirthdayWindow(0, 366),
			bday: "1950-12-31",
			iv:   iv("2026-01-01", "2026-01-01"),
			want: []datecalc.Interval{iv("2024-12-31", "2026-01-01"), iv("2025-12-31", "2027-01-01")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := mustBuild(t, rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{fl}, Rule: rules.Windows(tt.w), Origin: "t"})
			a := set.Apply(contact(tt.bday, tt.ed), fl, testToday)
			var got []datecalc.Interval
			for _, x := range a.Periods(nil, tt.iv) {
				got = append(got, x.Period)
			}
			if diff := cmp.Diff(tt.want, got, dateCmp); diff != "" {
				t.Errorf("Periods(%s) (-want +got):\n%s", tt.iv, diff)
			}
			// Every reported period really contains the day.
			for _, p := range tt.want {
				if !p.Contains(tt.iv.Start) {
					t.Fatalf("test table: %s does not contain %s", p, tt.iv.Start)
				}
			}
		})
	}
}
