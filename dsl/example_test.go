package dsl_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
)

func ExampleLoad() {
	src := `
pre_window_buffer: 60
CA: birthday_window(30, 60)
FL: contact.age >= 76 ? year_round() : no_exclusion()
`
	set, err := dsl.Load("my.rules", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1945, 3, 10)}
	today := datecalc.MustNew(2025, 6, 1)
	for _, code := range []string{"CA", "FL", "TX"} {
		a := set.Apply(c, emailsched.MustState(code), today)
		fmt.Printf("%s: %s\n", code, a.Rule())
	}
	// Output:
	// CA: birthday_window(30, 60)
	// FL: year_round()
	// TX: no_exclusion()
}

func ExampleDefault() {
	set := dsl.Default()
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1950, 12, 1)}
	a := set.Apply(c, emailsched.MustState("CA"), datecalc.MustNew(2024, 11, 1))
	x, excluded := a.Excluded(datecalc.MustNew(2024, 11, 1))
	fmt.Println(excluded, x.Reason, x.Period.Start, x.Period.End)
	// Output:
	// true exclusion_window:CA:birthday 2024-09-02 2025-01-30
}

func ExampleDiagnostics() {
	src := "CA: birthday_window(30, -60)\nXX: year_round()\n"
	_, err := dsl.Load("bad.rules", []byte(src))
	var ds dsl.Diagnostics
	if errors.As(err, &ds) {
		fmt.Println(len(ds), "problems")
		fmt.Println(err)
	}
	// Output:
	// 2 problems
	// bad.rules:1:25: days after must be 0-366 days, found -60
	//     1 | CA: birthday_window(30, -60)
	//       |                         ^
	//
	// bad.rules:2:1: unknown state code "XX": expected a two-letter USPS code such as CA
	//     2 | XX: year_round()
	//       | ^
}

func ExampleLoadFS() {
	fsys := fstest.MapFS{
		"rules/windows.rules":    {Data: []byte("CA: birthday_window(30, 60)\n")},
		"rules/year-round.rules": {Data: []byte("CT, MA, NY, WA: year_round()\n")},
	}
	set, err := dsl.LoadFS(fsys, "rules/*.rules")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, code := range []string{"CA", "NY"} {
		r, _, origin := set.Describe(emailsched.MustState(code))
		fmt.Println(code, r, origin)
	}
	// Output:
	// CA birthday_window(30, 60) rules/windows.rules:1:5
	// NY year_round() rules/year-round.rules:1:17
}

// A rules file that starts with "extends: default" replaces or adds single
// states and keeps the default rules of the others.
func ExampleLoadPath() {
	set, err := dsl.LoadPath(context.Background(), "../testdata/rules/examples/age76.rules")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, dynamic, origin := set.Describe(emailsched.MustState("FL"))
	fmt.Println("FL depends on the contact:", dynamic, origin)
	ca, _, origin := set.Describe(emailsched.MustState("CA"))
	fmt.Println("CA:", ca, origin)
	// Output:
	// FL depends on the contact: true ../testdata/rules/examples/age76.rules:9:5
	// CA: birthday_window(30, 60) default.rules:12:17
}
