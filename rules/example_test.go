package rules_test

import (
	"errors"
	"fmt"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

func ExampleDefault() {
	set := rules.Default()
	c := &emailsched.Contact{
		ID:       42,
		Email:    "pat@example.com",
		ZIP:      "90210",
		Birthday: datecalc.MustNew(1955, 1, 15),
	}
	today := datecalc.MustNew(2024, 12, 1)
	res, err := rules.ResolveState(c.ZIP, c.State)
	if err != nil {
		fmt.Println("skip:", err)
		return
	}
	a := set.Apply(c, res.State, today)
	d := datecalc.MustNew(2025, 1, 10)
	x, excluded := a.Excluded(d)
	fmt.Println("state:", res.State)
	fmt.Println("excluded:", d, excluded)
	fmt.Println("reason:", x.Reason)
	fmt.Println("period:", x.Period)
	next, _ := a.NextAllowed(d)
	fmt.Println("next allowed:", next)
	// Output:
	// state: CA
	// excluded: 2025-01-10 true
	// reason: exclusion_window:CA:birthday
	// period: 2024-10-17…2025-03-16
	// next allowed: 2025-03-17
}

func ExampleResolveState() {
	for _, in := range [][2]string{{"90210", "TX"}, {"00100", "ny"}, {"10001-0001", ""}, {"", ""}} {
		r, err := rules.ResolveState(in[0], in[1])
		if errors.Is(err, rules.ErrNoState) {
			fmt.Printf("%q %q: no state\n", in[0], in[1])
			continue
		}
		fmt.Printf("%q %q: %s from %s, mismatch %v\n", in[0], in[1], r.State, r.Source, r.Mismatch)
	}
	// Output:
	// "90210" "TX": CA from zip, mismatch true
	// "00100" "ny": NY from state_field, mismatch false
	// "10001-0001" "": NY from zip, mismatch false
	// "" "": no state
}

func ExampleBuild() {
	fl := emailsched.MustState("FL")
	set, err := rules.Build(rules.Options{Buffer: 30, Name: "example.rules"},
		rules.Entry{
			States: []emailsched.State{fl},
			Rule:   rules.Windows(rules.BirthdayWindow(0, 30), rules.EffectiveDateWindow(15, 15).WithBuffer(0)),
			Origin: "example.rules:2:1",
		},
		rules.Entry{States: []emailsched.State{emailsched.MustState("TX")}, Rule: rules.YearRound(), Origin: "example.rules:3:1"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _, origin := set.Describe(fl)
	fmt.Println(set.Name(), set.Buffer(), origin)
	fmt.Println(r)

	c := &emailsched.Contact{Birthday: datecalc.MustNew(1950, 6, 10), EffectiveDate: datecalc.MustNew(2018, 8, 1)}
	a := set.Apply(c, fl, datecalc.MustNew(2025, 1, 1))
	for _, p := range a.Periods(nil, datecalc.Interval{Start: datecalc.MustNew(2025, 1, 1), End: datecalc.MustNew(2025, 12, 31)}) {
		fmt.Println(p.Reason, p.Period)
	}

	_, err = rules.Build(rules.Options{},
		rules.Entry{States: []emailsched.State{fl}, Rule: rules.YearRound(), Origin: "a.rules:1:1"},
		rules.Entry{States: []emailsched.State{fl}, Rule: rules.NoExclusion(), Origin: "a.rules:2:1"},
	)
	fmt.Println(errors.Is(err, rules.ErrInvalidSet), err)
	// Output:
	// example.rules 30 example.rules:2:1
	// birthday_window(0, 30) + effective_date_window(15, 15).buffer(0)
	// exclusion_window:FL:birthday 2025-05-11…2025-07-10
	// exclusion_window:FL:effective_date 2025-07-17…2025-08-16
	// true rules: invalid rule set: FL has a rule at a.rules:1:1 and at a.rules:2:1
}

// The worked values of the package documentation: the exclusion period
// that contains a date, with the default rules (pre-window buffer 60).
func Example_workedValues() {
	set := rules.Default()
	for _, w := range []struct {
		state     string
		birthday  datecalc.Date
		effective datecalc.Date
		day       datecalc.Date
	}{
		{"CA", datecalc.MustNew(1950, 12, 1), datecalc.Date{}, datecalc.MustNew(2024, 12, 1)},
		{"CA", datecalc.MustNew(1950, 1, 15), datecalc.Date{}, datecalc.MustNew(2025, 1, 15)},
		{"MO", datecalc.Date{}, datecalc.MustNew(2015, 1, 1), datecalc.MustNew(2025, 1, 1)},
		{"NV", datecalc.MustNew(1950, 3, 15), datecalc.Date{}, datecalc.MustNew(2025, 3, 15)},
	} {
		st := emailsched.MustState(w.state)
		c := &emailsched.Contact{Birthday: w.birthday, EffectiveDate: w.effective}
		a := set.Apply(c, st, datecalc.MustNew(2024, 6, 1))
		x, excluded := a.Excluded(w.day)
		fmt.Println(st, w.day, excluded, x.Reason, x.Period)
	}
	// Output:
	// CA 2024-12-01 true exclusion_window:CA:birthday 2024-09-02…2025-01-30
	// CA 2025-01-15 true exclusion_window:CA:birthday 2024-10-17…2025-03-16
	// MO 2025-01-01 true exclusion_window:MO:effective_date 2024-10-03…2025-02-03
	// NV 2025-03-15 true exclusion_window:NV:birthday 2024-12-31…2025-04-30
}
