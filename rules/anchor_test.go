package rules_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/testanchor"
	"github.com/emailsched/emailsched/rules"
)

// The test's own anchor, which the library does not know (see package
// testanchor).
var (
	retirement     = testanchor.Retirement
	retirementDate = testanchor.Date
)

const retirementField = testanchor.Field

// withRetirement returns c with a retirement date.
func withRetirement(c *emailsched.Contact, d string) *emailsched.Contact {
	return testanchor.With(c, day(d))
}

// TestThirdAnchor builds a set with an anchor of its own and checks
// everything that derives from the declaration: Window.String, the skip
// reasons, the dates Apply takes (missing, unreadable), Periods,
// NextAllowed, and the checksum.
func TestThirdAnchor(t *testing.T) {
	w := retirement.Window(30, 30)
	set := mustBuild(t, rules.Options{Buffer: 0, Name: "retirement", Anchors: []rules.Anchor{retirement}},
		rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(rules.BirthdayWindow(0, 10), w), Origin: "m:1"},
		rules.Entry{States: []emailsched.State{st("TX")}, Rule: rules.Windows(w.MonthStart().WithBuffer(5)), Origin: "m:2"},
	)
	if got := w.String(); got != "retirement_window(30, 30)" {
		t.Errorf("String() = %q", got)
	}
	if got := rules.Windows(w.MonthStart().WithBuffer(5)).String(); got != "retirement_window(30, 30).from_month_start().buffer(5)" {
		t.Errorf("Rule.String() = %q", got)
	}
	builtin, err := rules.AllAnchors()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append(builtin, retirement), set.Anchors()); diff != "" {
		t.Errorf("Anchors() (-want +got):\n%s", diff)
	}

	c := withRetirement(contact("1950-03-10", ""), "2015-07-01")
	a := set.Apply(c, st("CA"), testToday)
	if d, m, dd := a.Anchor(retirement); d != day("2015-07-01") || m != time.July || dd != 1 {
		t.Errorf("Anchor(retirement) = %v %v %v", d, m, dd)
	}
	want := rules.Exclusion{Reason: "exclusion_window:CA:retirement", Window: w, Index: 1, Anniversary: day("2025-07-01"), Period: iv("2025-06-01", "2025-07-31")}
	if x, ok := a.Excluded(day("2025-07-15")); !ok || !cmp.Equal(want, x, dateCmp) {
		t.Errorf("Excluded = %+v, %v; want %+v", x, ok, want)
	}
	if x, ok := a.Excluded(day("2025-03-12")); !ok || x.Reason != "exclusion_window:CA:birthday" {
		t.Errorf("Excluded(birthday window) = %+v, %v", x, ok)
	}
	if next, ok := a.NextAllowed(day("2025-06-01")); !ok || next != day("2025-08-01") {
		t.Errorf("NextAllowed = %s, %v", next, ok)
	}
	ps := a.Periods(nil, iv("2025-01-01", "2025-12-31"))
	if len(ps) != 2 || ps[0].Reason != "exclusion_window:CA:birthday" || ps[1].Reason != "exclusion_window:CA:retirement" {
		t.Errorf("Periods = %+v", ps)
	}

	// The month-start form and the own buffer of the anchor's window.
	b := set.Apply(c, st("TX"), testToday)
	if x, ok := b.Excluded(day("2025-05-27")); !ok || x.Period != iv("2025-05-27", "2025-07-31") || x.Reason != "exclusion_window:TX:retirement" {
		t.Errorf("TX Excluded = %+v, %v", x, ok)
	}

	// Missing and unreadable: the window cannot be known.
	missing := rules.Exclusion{Reason: "missing_anchor:CA:retirement", Unknown: true, Window: w}
	unreadable := withRetirement(contact("1950-03-10", ""), "2015-07-01")
	unreadable.Issues = []emailsched.FieldIssue{{Field: retirementField, Value: "2015-13-01", Reason: "month must be 01-12"}}
	for name, c := range map[string]*emailsched.Contact{"missing": contact("1950-03-10", ""), "unreadable": unreadable} {
		a := set.Apply(c, st("CA"), testToday)
		if x, ok := a.Blocking(); !ok || !cmp.Equal(missing, x, dateCmp) {
			t.Errorf("%s: Blocking() = %+v, %v", name, x, ok)
		}
		if d, _, _ := a.Anchor(retirement); !d.IsZero() {
			t.Errorf("%s: Anchor = %s", name, d)
		}
	}
	// The built-in anchors keep their slots and meaning.
	if d, _, _ := a.Anchor(rules.AnchorBirthday); d != day("1950-03-10") {
		t.Errorf("Anchor(birthday) = %s", d)
	}

	// The declaration is part of the checksum: the same rules with an
	// anchor that reads otherwise are another set.
	other := rules.MustNewAnchor(rules.AnchorSpec{Name: "retirement", Field: "other", Date: retirementDate})
	set2 := mustBuild(t, rules.Options{Buffer: 0, Anchors: []rules.Anchor{other}},
		rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(rules.BirthdayWindow(0, 10), other.Window(30, 30)), Origin: "m:1"},
		rules.Entry{States: []emailsched.State{st("TX")}, Rule: rules.Windows(other.Window(30, 30).MonthStart().WithBuffer(5)), Origin: "m:2"},
	)
	if set.Checksum() == set2.Checksum() {
		t.Error("checksum ignores the anchors' declarations")
	}
}

// TestThirdAnchorRuleFunc: a rule function may use the set's anchors and
// reads them as Apply does; a window on an anchor the set does not declare
// is a rule error, like any invalid rule.
func TestThirdAnchorRuleFunc(t *testing.T) {
	fn := func(in rules.Input) (rules.Rule, error) {
		if in.Anchor(retirement).IsZero() {
			return rules.Windows(rules.BirthdayWindow(0, 10)), nil
		}
		return rules.Windows(retirement.Window(0, 10)), nil
	}
	with := mustBuild(t, rules.Options{Checksum: "x", Anchors: []rules.Anchor{retirement}},
		rules.Entry{States: []emailsched.State{fl}, Func: fn, Origin: "f"})
	without := mustBuild(t, rules.Options{Checksum: "x"}, rules.Entry{States: []emailsched.State{fl}, Func: fn, Origin: "f"})
	c := withRetirement(contact("1950-03-10", ""), "2015-07-01")
	if a := with.Apply(c, fl, testToday); a.Err() != nil || !a.Rule().Equal(rules.Windows(retirement.Window(0, 10))) {
		t.Errorf("with the anchor: %v, %v", a.Rule(), a.Err())
	}
	a := without.Apply(c, fl, testToday)
	if a.Err() == nil || !strings.Contains(a.Err().Error(), "retirement_window(0, 10) is anchored on retirement, which the rule set does not declare") {
		t.Errorf("without the anchor: %v", a.Err())
	}
	if x, ok := a.Blocking(); !ok || x.Reason != "rule_error:FL" {
		t.Errorf("Blocking() = %+v, %v", x, ok)
	}
	if d, _, _ := a.Anchor(retirement); !d.IsZero() {
		t.Errorf("Anchor of an undeclared anchor = %s", d)
	}
	// Without a retirement date the function falls back on the birthday.
	if a := with.Apply(contact("1950-03-10", ""), fl, testToday); !a.Rule().Equal(rules.Windows(rules.BirthdayWindow(0, 10))) {
		t.Errorf("without a date: %v", a.Rule())
	}
}

func TestThirdAnchorAllocs(t *testing.T) {
	set := mustBuild(t, rules.Options{Anchors: []rules.Anchor{retirement}},
		rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(retirement.Window(30, 30), rules.BirthdayWindow(0, 10)), Origin: "m"})
	c := withRetirement(contact("1950-03-10", ""), "2015-07-01")
	checkNoAllocs(t, set, c, day("2025-07-10"))
}

func TestNewAnchor(t *testing.T) {
	date := func(*emailsched.Contact) datecalc.Date { return datecalc.Date{} }
	for _, tt := range []struct {
		spec rules.AnchorSpec
		err  string
	}{
		{rules.AnchorSpec{Name: "x", Field: "f", Date: date}, ""},
		{rules.AnchorSpec{Name: "retirement2", Field: "f", Date: date}, ""},
		{rules.AnchorSpec{Name: "", Field: "f", Date: date}, `anchor name "" must be`},
		{rules.AnchorSpec{Name: "Medicare", Field: "f", Date: date}, "must be 1-32 of a-z"},
		{rules.AnchorSpec{Name: "2nd", Field: "f", Date: date}, "must be"},
		{rules.AnchorSpec{Name: "a-b", Field: "f", Date: date}, "must be"},
		{rules.AnchorSpec{Name: "a:b", Field: "f", Date: date}, "must be"},
		{rules.AnchorSpec{Name: strings.Repeat("a", 33), Field: "f", Date: date}, "must be"},
		{rules.AnchorSpec{Name: "x", Date: date}, "anchor x names no field"},
		{rules.AnchorSpec{Name: "x", Field: "f"}, "anchor x has no Date function"},
	} {
		a, err := rules.NewAnchor(tt.spec)
		if tt.err == "" {
			if err != nil || a.Name() != tt.spec.Name || a.Spec().Field != tt.spec.Field || a.IsZero() {
				t.Errorf("%+v: %v, %v", tt.spec, a, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: error %v, want %q", tt.spec.Name, err, tt.err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustNewAnchor of an invalid spec does not panic")
		}
	}()
	rules.MustNewAnchor(rules.AnchorSpec{})
}

func TestAnchorAccessors(t *testing.T) {
	var zero rules.Anchor
	if !zero.IsZero() || zero.Name() != "" || zero.Describe() != "" || zero.Spec().Date != nil || zero.Spec().Name != "" || zero.Equal(rules.AnchorBirthday) {
		t.Error("zero Anchor")
	}
	if !zero.Read(contact("1950-01-01", ""), testToday).IsZero() {
		t.Error("the zero Anchor reads a date")
	}
	if got := rules.AnchorBirthday.Describe(); got != "birthday (field birth_date, not after the run date)" {
		t.Errorf("Describe() = %q", got)
	}
	if got := retirement.Describe(); got != "retirement (field retirement_date)" {
		t.Errorf("Describe() = %q", got)
	}
	if s := rules.AnchorEffectiveDate.Spec(); s.Name != "effective_date" || s.Field != emailsched.FieldEffectiveDate || s.NotAfterToday {
		t.Errorf("Spec() = %+v", s)
	}
	// The built-in readers: a birthday after the run date is invalid data,
	// an effective date after it is a policy that starts later.
	c := contact("2030-01-01", "2030-01-01")
	if !rules.AnchorBirthday.Read(c, testToday).IsZero() || rules.AnchorEffectiveDate.Read(c, testToday) != day("2030-01-01") {
		t.Error("Read of future dates")
	}
	var zeroApplied rules.Applied
	if d, m, dd := zeroApplied.Anchor(rules.AnchorBirthday); !d.IsZero() || m != 0 || dd != 0 || zeroApplied.Origin() != "" {
		t.Error("the zero Applied has anchor dates")
	}
}

func TestAllAnchors(t *testing.T) {
	date := func(*emailsched.Contact) datecalc.Date { return datecalc.Date{} }
	mk := func(name string) rules.Anchor {
		return rules.MustNewAnchor(rules.AnchorSpec{Name: name, Field: name, Date: date})
	}
	builtin, err := rules.AllAnchors()
	if err != nil || len(builtin) < 2 || builtin[0] != rules.AnchorBirthday || builtin[1] != rules.AnchorEffectiveDate {
		t.Fatalf("AllAnchors() = %v, %v", builtin, err)
	}
	all, err := rules.AllAnchors(retirement)
	if err != nil || !slices.Equal(all, append(builtin, retirement)) {
		t.Errorf("AllAnchors(retirement) = %v, %v", all, err)
	}
	var full []rules.Anchor // as many more as a set may have
	for i := len(builtin); i < rules.MaxAnchors; i++ {
		full = append(full, mk(fmt.Sprintf("extra%d", i)))
	}
	if all, err := rules.AllAnchors(full...); err != nil || len(all) != rules.MaxAnchors {
		t.Errorf("AllAnchors(%d more) = %v, %v", len(full), all, err)
	}
	for _, tt := range []struct {
		extra []rules.Anchor
		err   string
	}{
		{append(full, mk("one_more")), fmt.Sprintf("%d anchors, at most %d (the built-in %d included)", rules.MaxAnchors+1, rules.MaxAnchors, len(builtin))},
		{[]rules.Anchor{retirement, {}}, "extra anchor 2 is the zero Anchor"},
		{[]rules.Anchor{mk("birthday")}, "two anchors are named birthday"},
		{[]rules.Anchor{retirement, retirement}, "two anchors are named retirement"},
	} {
		_, err := rules.AllAnchors(tt.extra...)
		if !errors.Is(err, rules.ErrInvalidSet) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("AllAnchors: %v, want %q", err, tt.err)
		}
		if _, err := rules.Build(rules.Options{Anchors: tt.extra}); !errors.Is(err, rules.ErrInvalidSet) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Build: %v, want %q", err, tt.err)
		}
	}
	// A static window on an anchor the set does not declare.
	_, err = rules.Build(rules.Options{}, rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(retirement.Window(1, 1)), Origin: "o:1"})
	if !errors.Is(err, rules.ErrInvalidSet) || !strings.Contains(err.Error(), "o:1: rules: retirement_window(1, 1) is anchored on retirement, which the rule set does not declare") {
		t.Errorf("Build with an undeclared anchor: %v", err)
	}
	// The set keeps its own copy of the list.
	extra := []rules.Anchor{retirement}
	set := mustBuild(t, rules.Options{Anchors: extra})
	extra[0] = mk("z")
	if got := set.Anchors(); got[len(got)-1] != retirement {
		t.Errorf("Anchors() = %v after the caller's slice changed", got)
	}
}

func TestInputReaders(t *testing.T) {
	c := contact("1949-06-02", "")
	in := rules.Input{Contact: c, State: fl, Today: testToday}
	if in.Anchor(rules.AnchorBirthday) != day("1949-06-02") || in.Age() != 75 || in.AgeOn(day("2025-06-02")) != 76 {
		t.Errorf("Anchor/Age/AgeOn = %s %d %d", in.Anchor(rules.AnchorBirthday), in.Age(), in.AgeOn(day("2025-06-02")))
	}
	// The readers see what Apply sees: a future birthday is missing.
	future := rules.Input{Contact: contact("2025-06-02", ""), Today: testToday}
	if !future.Anchor(rules.AnchorBirthday).IsZero() || future.Age() != -1 {
		t.Error("a future birthday reads as a date")
	}
	for _, tt := range []struct {
		birth, on string
		want      int
	}{
		{"1948-02-29", "2024-02-28", 75}, {"1948-02-29", "2024-02-29", 76}, {"1948-02-29", "2025-02-28", 77},
		{"1950-01-01", "1949-12-31", -1}, {"", "2025-01-01", -1}, {"1950-01-01", "", -1}, {"1950-01-01", "1950-01-01", 0},
	} {
		if got := rules.AgeOn(day(tt.birth), day(tt.on)); got != tt.want {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", tt.birth, tt.on, got, tt.want)
		}
	}
}
