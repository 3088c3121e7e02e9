package dsl

import (
	"fmt"
	"reflect"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// exprRule is a rule inside an expression. Expressions pass it by pointer
// so that a constant rule is returned without allocating.
type exprRule struct{ r rules.Rule }

// exprDate is a civil date inside an expression. It has no exported
// methods or fields, so expressions reach dates only through the functions
// below.
type exprDate struct{ d datecalc.Date }

// exprContact is what an expression sees of the contact: the identifier
// "contact".
type exprContact struct {
	ID               int      `expr:"id"`
	State            string   `expr:"state"`
	ZIP              string   `expr:"zip"`
	Carrier          string   `expr:"carrier"`
	Birthday         exprDate `expr:"birthday"`
	EffectiveDate    exprDate `expr:"effective_date"`
	HasBirthday      bool     `expr:"has_birthday"`
	HasEffectiveDate bool     `expr:"has_effective_date"`
	Age              int      `expr:"age"`
}

// env is the environment of every rule expression, as the type checker
// sees it.
type env struct {
	Contact exprContact `expr:"contact"`
	Today   exprDate    `expr:"today"`
}

// runEnv is the environment a program runs with: env field by field (the
// compiled program fetches fields by index), each value held in an
// interface. expr fetches struct fields through reflection, which
// allocates a copy of an int or a date; a value already in an interface is
// returned as it is. A worker reuses one runEnv and fills only the fields
// the program reads, so an evaluation that reads contact.age does not
// allocate.
type runEnv struct {
	Contact runContact
	Today   any
}

type runContact struct {
	ID, State, ZIP, Carrier, Birthday, EffectiveDate, HasBirthday, HasEffectiveDate, Age any
}

// uses is the set of env fields a program reads: bit i for field i of
// contact (in declaration order), and useToday.
type uses uint16

const useToday uses = 1 << 15

// useField returns the bit of the contact field named name (its expr tag).
func useField(name string) uses {
	for i := range contactType.NumField() {
		if contactType.Field(i).Tag.Get("expr") == name {
			return 1 << i
		}
	}
	return 0
}

// fill sets the fields of e that u names from a rule input. A date with a
// recorded issue counts as missing, as in rules.Set.Apply.
func (e *runEnv) fill(in *rules.Input, u uses) {
	c := in.Contact
	bd, ed := c.Birthday, c.EffectiveDate
	if c.HasIssue(emailsched.FieldBirthday) {
		bd = datecalc.Date{}
	}
	if c.HasIssue(emailsched.FieldEffectiveDate) {
		ed = datecalc.Date{}
	}
	if u&useToday != 0 {
		e.Today = exprDate{in.Today}
	}
	rc := &e.Contact
	if u&(1<<0) != 0 {
		rc.ID = int(c.ID)
	}
	if u&(1<<1) != 0 {
		rc.State = in.State.String()
	}
	if u&(1<<2) != 0 {
		rc.ZIP = c.ZIP
	}
	if u&(1<<3) != 0 {
		rc.Carrier = c.Carrier
	}
	if u&(1<<4) != 0 {
		rc.Birthday = exprDate{bd}
	}
	if u&(1<<5) != 0 {
		rc.EffectiveDate = exprDate{ed}
	}
	if u&(1<<6) != 0 {
		rc.HasBirthday = !bd.IsZero()
	}
	if u&(1<<7) != 0 {
		rc.HasEffectiveDate = !ed.IsZero()
	}
	if u&(1<<8) != 0 {
		rc.Age = ageOn(bd, in.Today)
	}
}

// ageOn returns the age in whole years on day d of someone born on b, or
// -1 when b is missing or after d. Someone born on Feb 29 gets a year older
// on Feb 28 in common years (the anniversary rule of SPEC §3).
func ageOn(b, d datecalc.Date) int {
	if b.IsZero() || d.IsZero() || d.Before(b) {
		return -1
	}
	age := d.Year() - b.Year()
	if d.Before(b.AnniversaryIn(d.Year())) {
		age--
	}
	return age
}

// argError is an error of a function's argument: the loader points at that
// argument (Arg is 0-based) instead of the call.
type argError struct {
	Arg int
	Msg string
}

func (e *argError) Error() string { return e.Msg }

// function is one function of the rules language.
type function struct {
	name string
	// typ is a pointer to the function's Go signature, for the type
	// checker.
	typ any
	// method names the receiver's type when the function is written as a
	// method: x.name(args) means name(x, args).
	method reflect.Type
	call   func(args ...any) (any, error)
	// internal functions are not written by authors (operators and the
	// method forms are rewritten into them).
	internal bool
	// sig shows how to call it, for messages.
	sig string
}

var (
	ruleType    = reflect.TypeOf((*exprRule)(nil))
	dateType    = reflect.TypeOf(exprDate{})
	contactType = reflect.TypeOf(exprContact{})
)

// The rules of year_round() and no_exclusion() are shared constants.
var (
	yearRoundRule   = &exprRule{rules.YearRound()}
	noExclusionRule = &exprRule{rules.NoExclusion()}
)

// maxWindows bounds the windows of one rule.
const maxWindows = 8

// days checks a day count argument.
func days(arg int, what string, v int) error {
	if v < 0 || v > rules.MaxWindowDays {
		return &argError{arg, fmt.Sprintf("%s must be 0-%d days, found %d", what, rules.MaxWindowDays, v)}
	}
	return nil
}

func windowFunc(anchor rules.Anchor) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		before, after := args[0].(int), args[1].(int)
		if err := days(0, "days before", before); err != nil {
			return nil, err
		}
		if err := days(1, "days after", after); err != nil {
			return nil, err
		}
		return &exprRule{rules.Windows(rules.Window{Anchor: anchor, Before: before, After: after})}, nil
	}
}

// modify applies f to every window of a windowed rule.
func modify(name string, r *exprRule, f func(rules.Window) rules.Window) (any, error) {
	if r.r.Kind() != rules.KindWindows {
		return nil, fmt.Errorf("%s() applies to a window, not to %s", name, r.r)
	}
	ws := make([]rules.Window, len(r.r.Windows()))
	for i, w := range r.r.Windows() {
		ws[i] = f(w)
	}
	return &exprRule{rules.Windows(ws...)}, nil
}

// functions is the rules language's function table.
var functions = []*function{
	{name: "birthday_window", typ: new(func(int, int) *exprRule), call: windowFunc(rules.AnchorBirthday),
		sig: "birthday_window(before, after)"},
	{name: "effective_date_window", typ: new(func(int, int) *exprRule), call: windowFunc(rules.AnchorEffectiveDate),
		sig: "effective_date_window(before, after)"},
	{name: "year_round", typ: new(func() *exprRule), call: func(...any) (any, error) { return yearRoundRule, nil },
		sig: "year_round()"},
	{name: "no_exclusion", typ: new(func() *exprRule), call: func(...any) (any, error) { return noExclusionRule, nil },
		sig: "no_exclusion()"},
	{name: "from_month_start", typ: new(func(*exprRule) *exprRule), method: ruleType,
		call: func(args ...any) (any, error) {
			return modify("from_month_start", args[0].(*exprRule), rules.Window.MonthStart)
		},
		sig: "w.from_month_start()"},
	{name: "buffer", typ: new(func(*exprRule, int) *exprRule), method: ruleType,
		call: func(args ...any) (any, error) {
			n := args[1].(int)
			if err := days(1, "the buffer", n); err != nil {
				return nil, err
			}
			return modify("buffer", args[0].(*exprRule), func(w rules.Window) rules.Window { return w.WithBuffer(n) })
		},
		sig: "w.buffer(days)"},
	{name: "_plus", typ: new(func(*exprRule, *exprRule) *exprRule), internal: true,
		call: func(args ...any) (any, error) {
			a, b := args[0].(*exprRule), args[1].(*exprRule)
			if a.r.Kind() != rules.KindWindows || b.r.Kind() != rules.KindWindows {
				return nil, fmt.Errorf("only windows can be added: %s + %s", a.r, b.r)
			}
			ws := append(append([]rules.Window(nil), a.r.Windows()...), b.r.Windows()...)
			if len(ws) > maxWindows {
				return nil, fmt.Errorf("a rule has at most %d windows, found %d", maxWindows, len(ws))
			}
			return &exprRule{rules.Windows(ws...)}, nil
		}},
	{name: "date", typ: new(func(string) exprDate),
		call: func(args ...any) (any, error) {
			d, err := datecalc.Parse(args[0].(string))
			if err != nil || len(args[0].(string)) != len("2006-01-02") {
				return nil, &argError{0, fmt.Sprintf("expected a date written YYYY-MM-DD, found %q", args[0])}
			}
			return exprDate{d}, nil
		},
		sig: `date("YYYY-MM-DD")`},
	{name: "year", typ: new(func(exprDate) int), method: dateType,
		call: func(args ...any) (any, error) { return args[0].(exprDate).d.Year(), nil },
		sig:  "d.year()"},
	{name: "month", typ: new(func(exprDate) int), method: dateType,
		call: func(args ...any) (any, error) { return int(args[0].(exprDate).d.Month()), nil }},
	{name: "day", typ: new(func(exprDate) int), method: dateType,
		call: func(args ...any) (any, error) { return args[0].(exprDate).d.Day(), nil }},
	{name: "add_days", typ: new(func(exprDate, int) exprDate), method: dateType,
		call: func(args ...any) (any, error) {
			d, n := args[0].(exprDate).d, args[1].(int)
			if d.IsZero() {
				return nil, fmt.Errorf("add_days() of a missing date")
			}
			return exprDate{d.AddDays(n)}, nil
		},
		sig: "d.add_days(n)"},
	{name: "days_until", typ: new(func(exprDate, exprDate) int), method: dateType,
		call: func(args ...any) (any, error) {
			a, b := args[0].(exprDate).d, args[1].(exprDate).d
			if a.IsZero() || b.IsZero() {
				return nil, fmt.Errorf("days_until() with a missing date")
			}
			return a.DaysUntil(b), nil
		},
		sig: "d.days_until(e)"},
	{name: "age_on", typ: new(func(exprContact, exprDate) int), method: contactType,
		call: func(args ...any) (any, error) {
			c, _ := args[0].(runContact)
			b, _ := c.Birthday.(exprDate)
			return ageOn(b.d, args[1].(exprDate).d), nil
		},
		sig: "contact.age_on(d)"},
	{name: "_days", typ: new(func(exprDate) int), internal: true,
		call: func(args ...any) (any, error) { return args[0].(exprDate).d.Unix(), nil }},
}

// functionIndex maps names to functions.
var functionIndex = func() map[string]*function {
	m := make(map[string]*function, len(functions))
	for _, f := range functions {
		m[f.name] = f
	}
	return m
}()

// builtins are expr's builtin functions that rules may use: pure, cheap
// and bounded. Everything else (now, date parsing of expr, JSON, repeat,
// predicates) is disabled.
var builtins = []string{"abs", "len", "lower", "upper", "trim", "hasPrefix", "hasSuffix", "min", "max"}
