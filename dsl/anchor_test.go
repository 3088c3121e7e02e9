package dsl_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/testanchor"
	"github.com/emailsched/emailsched/rules"
)

// The test's own anchor, which the library does not know (see package
// testanchor).
var retirement = testanchor.Retirement

const retirementField = testanchor.Field

var withRetirement = testanchor.With

const retirementRules = `pre_window_buffer: 0
CA: retirement_window(30, 30)
NV: retirement_window(0, 60).from_month_start().buffer(5) + birthday_window(0, 10)
TX: contact.has_retirement && contact.retirement.year() >= 2020
      ? retirement_window(0, 30)
      : no_exclusion()
`

// TestThirdAnchor loads a rules file that uses an anchor of the test's own
// through Options, and checks it against the same set built in Go.
func TestThirdAnchor(t *testing.T) {
	opts := dsl.Options{Anchors: []rules.Anchor{retirement}}
	set, err := opts.Load("retirement.rules", []byte(retirementRules))
	if err != nil {
		t.Fatal(err)
	}
	w := retirement.Window
	goSet, err := rules.Build(rules.Options{Buffer: 0, Checksum: "go", Anchors: []rules.Anchor{retirement}},
		rules.Entry{States: []emailsched.State{st("CA")}, Rule: rules.Windows(w(30, 30)), Origin: "retirement.rules:2:5"},
		rules.Entry{States: []emailsched.State{st("NV")}, Rule: rules.Windows(w(0, 60).MonthStart().WithBuffer(5), rules.BirthdayWindow(0, 10)), Origin: "retirement.rules:3:5"},
		rules.Entry{States: []emailsched.State{st("TX")}, Origin: "retirement.rules:4:5", Func: func(in rules.Input) (rules.Rule, error) {
			if d := in.Anchor(retirement); !d.IsZero() && d.Year() >= 2020 {
				return rules.Windows(w(0, 30)), nil
			}
			return rules.NoExclusion(), nil
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := set.Describe(st("NV")); r.String() != "retirement_window(0, 60).from_month_start().buffer(5) + birthday_window(0, 10)" {
		t.Errorf("NV: %s", r)
	}
	unreadable := withRetirement(contact("", day(1950, 3, 10), datecalc.Date{}), day(2021, 7, 1))
	unreadable.Issues = []emailsched.FieldIssue{{Field: retirementField, Value: "x", Reason: "bad"}}
	contacts := map[string]*emailsched.Contact{
		"recent":     withRetirement(contact("", day(1950, 3, 10), datecalc.Date{}), day(2021, 7, 1)),
		"old":        withRetirement(contact("", day(1950, 3, 10), datecalc.Date{}), day(2015, 7, 1)),
		"none":       contact("", day(1950, 3, 10), datecalc.Date{}),
		"unreadable": unreadable,
	}
	for name, c := range contacts {
		for _, code := range []string{"CA", "NV", "TX", "FL"} {
			a, b := set.Apply(c, st(code), today), goSet.Apply(c, st(code), today)
			if a.Err() != nil || !a.Rule().Equal(b.Rule()) {
				t.Errorf("%s %s: rule %v (%v), Go %v", name, code, a.Rule(), a.Err(), b.Rule())
			}
			for d := day(2025, 1, 1); d.Before(day(2026, 1, 1)); d = d.AddDays(7) {
				x1, ok1 := a.Excluded(d)
				x2, ok2 := b.Excluded(d)
				if ok1 != ok2 || !cmp.Equal(x1, x2) {
					t.Fatalf("%s %s %s: dsl %v %+v, Go %v %+v", name, code, d, ok1, x1, ok2, x2)
				}
			}
		}
	}
	a := set.Apply(contacts["recent"], st("CA"), today)
	if x, ok := a.Excluded(day(2025, 7, 15)); !ok || x.Reason != "exclusion_window:CA:retirement" || x.Period != (datecalc.Interval{Start: day(2025, 6, 1), End: day(2025, 7, 31)}) {
		t.Errorf("CA Excluded = %+v, %v", x, ok)
	}
	a = set.Apply(contacts["unreadable"], st("CA"), today)
	if x, ok := a.Blocking(); !ok || x.Reason != "missing_anchor:CA:retirement" {
		t.Errorf("CA Blocking = %+v, %v", x, ok)
	}
	// The declaration is part of the checksum.
	plain, err := dsl.Load("retirement.rules", []byte("CA: year_round()\n"))
	if err != nil {
		t.Fatal(err)
	}
	same, err := opts.Load("retirement.rules", []byte("CA: year_round()\n"))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Checksum() == same.Checksum() || !slices.Equal(same.Anchors(), append(plain.Anchors(), retirement)) {
		t.Errorf("checksums %s %s, anchors %v %v", plain.Checksum(), same.Checksum(), plain.Anchors(), same.Anchors())
	}
}

// TestThirdAnchorDiagnostics: the language of a set with another anchor
// knows its names, in suggestions and lists too; the default language does
// not.
func TestThirdAnchorDiagnostics(t *testing.T) {
	opts := dsl.Options{Anchors: []rules.Anchor{retirement}}
	tests := []struct {
		opts dsl.Options
		src  string
		want string
	}{
		{dsl.Options{}, "CA: retirement_window(30, 30)\n", "a.rules:1:5: unknown name retirement_window\n"},
		{opts, "CA: retirement_windw(30, 30)\n", "a.rules:1:5: unknown name retirement_windw (did you mean retirement_window?)\n"},
		{opts, "CA: retirement_window(30)\n", "a.rules:1:5: not enough arguments to call retirement_window: expected retirement_window(before, after)\n"},
		{opts, "CA: contact.retirment ? year_round() : no_exclusion()\n",
			"a.rules:1:13: contact has no field retirment (did you mean retirement?); its fields are id, state, zip, carrier, birthday, effective_date, "},
		{opts, "CA: has_retirement ? year_round() : no_exclusion()\n", "a.rules:1:5: unknown name has_retirement (did you mean contact.has_retirement?)\n"},
	}
	// The anchor's fields follow the built-in anchors' ones.
	_, err := opts.Load("a.rules", []byte("CA: contact.x ? year_round() : no_exclusion()\n"))
	if err == nil || !strings.Contains(err.Error(), ", retirement, has_birthday, ") || !strings.Contains(err.Error(), ", has_retirement, age\n") {
		t.Errorf("fields: %v", err)
	}
	for _, tt := range tests {
		_, err := tt.opts.Load("a.rules", []byte(tt.src))
		var ds dsl.Diagnostics
		if !errors.As(err, &ds) || len(ds) != 1 || !strings.HasPrefix(ds[0].Error(), tt.want) {
			t.Errorf("%q: %v\nwant %s", tt.src, err, tt.want)
		}
	}
}

func TestOptionsAnchorErrors(t *testing.T) {
	date := func(*emailsched.Contact) datecalc.Date { return datecalc.Date{} }
	age := rules.MustNewAnchor(rules.AnchorSpec{Name: "age", Field: "age", Date: date})
	for _, tt := range []struct {
		anchors []rules.Anchor
		want    string
	}{
		{[]rules.Anchor{age}, "dsl: two fields of contact would be named age: choose another anchor name"},
		{[]rules.Anchor{retirement, retirement}, "dsl: rules: invalid rule set: two anchors are named retirement"},
	} {
		set, err := dsl.Options{Anchors: tt.anchors}.Load("a.rules", []byte("CA: year_round()\n"))
		if set != nil || err == nil || err.Error() != tt.want {
			t.Errorf("%v: %v, want %s", tt.anchors, err, tt.want)
		}
	}
}

// TestOptionsLoaders: the Options forms of the loaders read the same files
// as the package's, with the options' anchors.
func TestOptionsLoaders(t *testing.T) {
	opts := dsl.Options{Anchors: []rules.Anchor{retirement}}
	a, err := opts.LoadFiles(context.Background(), "../testdata/rules/default.rules")
	if err != nil {
		t.Fatal(err)
	}
	b := dsl.Default()
	for _, s := range emailsched.States() {
		r1, _, _ := a.Describe(s)
		r2, _, _ := b.Describe(s)
		if !r1.Equal(r2) {
			t.Errorf("%s: %v vs %v", s, r1, r2)
		}
	}
	if _, err := opts.LoadFiles(context.Background(), "testdata/no-such.rules"); err == nil {
		t.Error("missing file: no error")
	}
}
