package dsl_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

var (
	st    = emailsched.MustState
	day   = datecalc.MustNew
	today = day(2025, 6, 1)
)

func TestDefaultCopyInSync(t *testing.T) {
	a, err := os.ReadFile("default.rules")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../testdata/rules/default.rules")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("dsl/default.rules differs from testdata/rules/default.rules: run go generate ./dsl")
	}
}

func TestDefault(t *testing.T) {
	set := dsl.Default()
	if set != dsl.Default() {
		t.Error("Default loads more than once")
	}
	if set.Name() != "default.rules" || !strings.HasPrefix(set.Checksum(), "sha256:") || set.Buffer() != 60 {
		t.Errorf("name %q checksum %q buffer %d", set.Name(), set.Checksum(), set.Buffer())
	}
	builtin := rules.Default()
	for _, s := range emailsched.States() {
		got, dyn, origin := set.Describe(s)
		want, _, _ := builtin.Describe(s)
		if dyn || !got.Equal(want) {
			t.Errorf("%s: got %v (dynamic %v), want %v", s, got, dyn, want)
		}
		if _, _, o := builtin.Describe(s); o != "" && !strings.HasPrefix(origin, "default.rules:") {
			t.Errorf("%s: origin %q", s, origin)
		}
	}
}

func TestLoadStatic(t *testing.T) {
	w := rules.BirthdayWindow
	e := rules.EffectiveDateWindow
	tests := []struct {
		name   string
		src    string
		buffer int
		want   map[string]rules.Rule
	}{
		{"no exclusion, said so", "# nothing\n*: no_exclusion()\n", 60, map[string]rules.Rule{"CA": rules.NoExclusion()}},
		{"every other state", "CA: year_round()\n*: birthday_window(0, 10)\n", 60,
			map[string]rules.Rule{"CA": rules.YearRound(), "TX": rules.Windows(w(0, 10)), "NY": rules.Windows(w(0, 10))}},
		{"table", "pre_window_buffer: 30\nCA: birthday_window(30, 60)\nCT,MA , NY: year_round()\n", 30,
			map[string]rules.Rule{"CA": rules.Windows(w(30, 60)), "MA": rules.YearRound(), "NY": rules.YearRound(), "TX": rules.NoExclusion()}},
		{"modifiers", "NV: birthday_window(0, 60).from_month_start().buffer(10)\nGA: (birthday_window(1, 2) + effective_date_window(3, 4)).buffer(0)\n", 60,
			map[string]rules.Rule{"NV": rules.Windows(w(0, 60).MonthStart().WithBuffer(10)), "GA": rules.Windows(w(1, 2).WithBuffer(0), e(3, 4).WithBuffer(0))}},
		{"continuation", "MO: effective_date_window(\n   30,   # before\n\n   33)   # after\n", 60,
			map[string]rules.Rule{"MO": rules.Windows(e(30, 33))}},
		{"constant condition", "TX: date(\"2020-01-01\") < date(\"2021-01-01\") && 1 + 1 == 2 ? year_round() : no_exclusion()\nFL: no_exclusion()\n", 60,
			map[string]rules.Rule{"TX": rules.YearRound(), "FL": rules.NoExclusion()}},
		{"strings and comments", "TX: \"#\" == '#' && `#` == \"\\\"#\"[1:] ? year_round() : no_exclusion() # comment\r\n", 60,
			map[string]rules.Rule{"TX": rules.YearRound()}},
		{"date parts", `TX: date("2020-02-29").add_days(1).month() == 3 && date("2020-02-29").year() == 2020 && date("2020-02-29").day() == 29 && date("2020-01-01").days_until(date("2020-02-01")) == 31 ? year_round() : no_exclusion()`, 60,
			map[string]rules.Rule{"TX": rules.YearRound()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := dsl.Load("t.rules", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if set.Buffer() != tt.buffer {
				t.Errorf("buffer %d, want %d", set.Buffer(), tt.buffer)
			}
			for code, want := range tt.want {
				got, dyn, _ := set.Describe(st(code))
				if dyn || !got.Equal(want) {
					t.Errorf("%s: got %v (dynamic %v), want %v", code, got, dyn, want)
				}
			}
		})
	}
}

// contact returns a contact with a birthday and an effective date (zero
// values mean missing).
func contact(zip string, bd, ed datecalc.Date) *emailsched.Contact {
	return &emailsched.Contact{ID: 7, ZIP: zip, Birthday: bd, EffectiveDate: ed, Carrier: "Acme"}
}

func TestConditional(t *testing.T) {
	set, err := dsl.LoadFiles(context.Background(), "../testdata/rules/examples/age76.rules", "../testdata/rules/examples/combined.rules")
	if err != nil {
		t.Fatal(err)
	}
	w := rules.BirthdayWindow
	e := rules.EffectiveDateWindow
	tests := []struct {
		name  string
		state string
		c     *emailsched.Contact
		want  rules.Rule
	}{
		{"76 on the run date", "FL", contact("", day(1949, 6, 1), datecalc.Date{}), rules.YearRound()},
		{"75 the day before", "FL", contact("", day(1949, 6, 2), datecalc.Date{}), rules.NoExclusion()},
		{"Feb 29 birthday turns 76 on Feb 28", "FL", contact("", day(1948, 2, 29), datecalc.Date{}), rules.YearRound()},
		{"no birthday", "FL", contact("", datecalc.Date{}, datecalc.Date{}), rules.NoExclusion()},
		{"birthday in the future", "FL", contact("", day(2030, 1, 1), datecalc.Date{}), rules.NoExclusion()},
		{"unreadable birthday", "FL", &emailsched.Contact{Birthday: day(1900, 1, 1), Issues: []emailsched.FieldIssue{{Field: emailsched.FieldBirthday}}}, rules.NoExclusion()},
		{"has birthday", "TX", contact("", day(1950, 1, 1), datecalc.Date{}), rules.Windows(w(0, 30))},
		{"no birthday: effective date", "TX", contact("", datecalc.Date{}, day(2010, 1, 1)), rules.Windows(e(30, 30))},
		{"two windows", "GA", contact("", day(1950, 1, 1), day(2010, 1, 1)), rules.Windows(w(0, 30), e(15, 15).WithBuffer(0))},
		{"old policy", "AZ", contact("", datecalc.Date{}, day(2019, 12, 31)), rules.Windows(e(30, 60))},
		{"new policy", "AZ", contact("", datecalc.Date{}, day(2020, 1, 1)), rules.Windows(e(30, 33))},
		{"Las Vegas", "NV", contact("89101", day(1950, 3, 15), datecalc.Date{}), rules.Windows(w(0, 60).MonthStart())},
		{"Reno", "NV", contact("89501", day(1950, 3, 15), datecalc.Date{}), rules.Windows(w(0, 60))},
		{"turning 65 soon", "NJ", contact("", day(1960, 8, 1), datecalc.Date{}), rules.Windows(w(0, 30).WithBuffer(0))},
		{"65 later", "NJ", contact("", day(1960, 12, 1), datecalc.Date{}), rules.NoExclusion()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := set.Apply(tt.c, st(tt.state), today)
			if a.Err() != nil {
				t.Fatal(a.Err())
			}
			if got := a.Rule(); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if set.Buffer() != 45 || set.Name() != "../testdata/rules/examples/age76.rules+../testdata/rules/examples/combined.rules" {
		t.Errorf("buffer %d name %q", set.Buffer(), set.Name())
	}
}

// TestWholeContact: a rule that takes contact as a whole (into a let
// variable) reads every field, not only those it names.
func TestWholeContact(t *testing.T) {
	set, err := dsl.Load("w.rules", []byte(`FL: let c = contact; c.age >= 76 && c.zip == "89101" && c.has_birthday && c.carrier == "Acme" ? year_round() : no_exclusion()`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		c    *emailsched.Contact
		want rules.Rule
	}{
		{contact("89101", day(1940, 1, 1), datecalc.Date{}), rules.YearRound()},
		{contact("89102", day(1940, 1, 1), datecalc.Date{}), rules.NoExclusion()},
		{contact("89101", day(1960, 1, 1), datecalc.Date{}), rules.NoExclusion()},
	} {
		if a := set.Apply(tt.c, st("FL"), today); a.Err() != nil || !a.Rule().Equal(tt.want) {
			t.Errorf("%+v: %v %v", tt.c, a.Rule(), a.Err())
		}
	}
}

func TestEvalError(t *testing.T) {
	src := "KY: birthday_window(0, contact.age)\nNY: contact.age > 70\n  ? birthday_window(contact.age * 4, 10)\n  : no_exclusion()\nMA: contact.age > 0 && len(1..100000) > 0 ? year_round() : no_exclusion()\n"
	set, err := dsl.Load("e.rules", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		state  string
		c      *emailsched.Contact
		msg    string
		reason emailsched.SkipReason
	}{
		{"negative days", "KY", contact("", datecalc.Date{}, datecalc.Date{}),
			"dsl: rule at e.rules:1:5 failed at e.rules:1:5: days after must be 0-366 days, found -1", "rule_error:KY"},
		{"too long a window", "NY", contact("", day(1940, 1, 1), datecalc.Date{}),
			"dsl: rule at e.rules:2:5 failed at e.rules:2:5: the exclusion period of birthday_window(340, 10) lasts 411 days (buffer 60 + 340 before + the day + 10 after): more than a year leaves no day free; write year_round() instead",
			"rule_error:NY"},
		{"memory budget", "MA", contact("", day(1940, 1, 1), datecalc.Date{}),
			"dsl: rule at e.rules:5:5 failed at e.rules:5:29: memory budget exceeded", "rule_error:MA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := set.Apply(tt.c, st(tt.state), today)
			var ee *dsl.EvalError
			if !errors.As(a.Err(), &ee) {
				t.Fatalf("error %v is not an EvalError", a.Err())
			}
			if diff := cmp.Diff(tt.msg, ee.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if ee.Unwrap() == nil {
				t.Error("no underlying error")
			}
			x, ok := a.Excluded(today)
			if !ok || !x.Unknown || x.Reason != tt.reason {
				t.Errorf("Excluded = %+v, %v; want reason %s", x, ok, tt.reason)
			}
		})
	}
	// the same rules work for other contacts
	if a := set.Apply(contact("", day(1960, 1, 1), datecalc.Date{}), st("KY"), today); a.Err() != nil || !a.Rule().Equal(rules.Windows(rules.BirthdayWindow(0, 65))) {
		t.Errorf("KY: %v %v", a.Rule(), a.Err())
	}
}

func TestConcurrentApply(t *testing.T) {
	set, err := dsl.LoadFiles(context.Background(), "../testdata/rules/examples/age76.rules")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				bd := day(1940+(g*7+i)%40, time.Month(1+i%12), 1+i%28)
				a := set.Apply(contact("", bd, datecalc.Date{}), st("FL"), today)
				want := rules.NoExclusion()
				if today.Year()-bd.Year()-1 >= 76 {
					want = rules.YearRound()
				}
				if today.Year()-bd.Year()-1 >= 76 || today.Year()-bd.Year() < 76 {
					if !a.Rule().Equal(want) {
						t.Errorf("born %s: %v", bd, a.Rule())
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/a.rules": {Data: []byte("pre_window_buffer: 30\nCA: birthday_window(30, 60)\n")},
		"rules/b.rules": {Data: []byte("pre_window_buffer: 30\nNY: year_round()\n")},
		"rules/c.txt":   {Data: []byte("not rules")},
		"dir.rules/x":   {Data: []byte("")},
	}
	set, err := dsl.LoadFS(fsys, "rules/*.rules")
	if err != nil {
		t.Fatal(err)
	}
	if r, _, o := set.Describe(st("NY")); r.Kind() != rules.KindYearRound || o != "rules/b.rules:2:5" {
		t.Errorf("NY: %v at %s", r, o)
	}
	if set.Name() != "rules/a.rules+rules/b.rules" || set.Buffer() != 30 {
		t.Errorf("name %q buffer %d", set.Name(), set.Buffer())
	}
	if _, err := dsl.LoadFS(fsys, "none/*.rules"); !errors.Is(err, dsl.ErrNoFiles) {
		t.Errorf("no match: %v", err)
	}
	if _, err := dsl.LoadFS(fsys, "["); !errors.Is(err, fs.ErrInvalid) && err == nil {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := dsl.LoadFS(fsys, "*.rules"); err == nil {
		t.Error("reading a directory: no error")
	}
	if _, err := dsl.LoadFiles(context.Background(), "testdata/no-such.rules"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestChecksum(t *testing.T) {
	sum := func(srcs ...dsl.Source) string {
		t.Helper()
		set, err := dsl.LoadSources(srcs...)
		if err != nil {
			t.Fatal(err)
		}
		return set.Checksum()
	}
	// The identity is the content's: names, paths, comments, spacing, the
	// order of files and rules do not count; rules and settings do.
	a := dsl.Source{Name: "a.rules", Text: []byte("CA: year_round()\nNV: contact.age > 70 ? year_round() : birthday_window(0, 60)\n")}
	same := []dsl.Source{
		{Name: "b.rules", Text: a.Text},
		{Name: "./testdata/../a.rules", Text: a.Text},
		{Name: "c.rules", Text: []byte("# the same rules\nNV:  contact.age>70?year_round():birthday_window(0,60)  # spaced\n\nCA: year_round()\n")},
	}
	for _, o := range same {
		if sum(o) != sum(a) {
			t.Errorf("%s: checksum %s, want %s as for a.rules", o.Name, sum(o), sum(a))
		}
	}
	split := []dsl.Source{{Name: "x.rules", Text: []byte("NV: contact.age > 70 ? year_round() : birthday_window(0, 60)\n")},
		{Name: "y.rules", Text: []byte("CA: year_round()\n")}}
	if sum(split...) != sum(a) {
		t.Error("the same rules in two files: another checksum")
	}
	for _, other := range []string{
		"CA: year_round()\nNV: contact.age > 71 ? year_round() : birthday_window(0, 60)\n",
		"CA: year_round()\nNV: contact.age > 70 ? year_round() : birthday_window(0, 61)\n",
		"CA: no_exclusion()\nNV: contact.age > 70 ? year_round() : birthday_window(0, 60)\n",
		"pre_window_buffer: 30\nCA: year_round()\nNV: contact.age > 70 ? year_round() : birthday_window(0, 60)\n",
	} {
		if sum(dsl.Source{Name: "a.rules", Text: []byte(other)}) == sum(a) {
			t.Errorf("other rules, same checksum:\n%s", other)
		}
	}
	// The default rules are one set however they are built.
	if dsl.Default().Checksum() != rules.Default().Checksum() || dsl.Default().Name() != rules.Default().Name() {
		t.Errorf("dsl.Default %s %s, rules.Default %s %s", dsl.Default().Name(), dsl.Default().Checksum(),
			rules.Default().Name(), rules.Default().Checksum())
	}
	if !strings.HasPrefix(sum(a), "sha256:") || len(sum(a)) != len("sha256:")+64 {
		t.Errorf("checksum %q", sum(a))
	}
}

func TestTooLarge(t *testing.T) {
	_, err := dsl.Load("big.rules", bytes.Repeat([]byte("#"), dsl.MaxFileSize+1))
	want := "big.rules:1:1: file is 1048577 bytes long, more than the 1048576 a rules file may have"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestDiagnosticsOrder(t *testing.T) {
	_, err := dsl.LoadSources(
		dsl.Source{Name: "b.rules", Text: []byte("XX: year_round()\n")},
		dsl.Source{Name: "a.rules", Text: []byte("CA: 1\nYY: year_round()\n")},
	)
	var ds dsl.Diagnostics
	if !errors.As(err, &ds) {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.File+":"+d.Message[:7])
	}
	want := []string{"a.rules:a rule ", "a.rules:unknown", "b.rules:unknown"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
