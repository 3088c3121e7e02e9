package dsl

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/expr-lang/expr/vm"

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

// field is one field of contact: its name in expressions, its type for
// the checker, and how it reads from a rule input. The read functions use
// rules' own readers (rules.Input.Anchor, Age), so that an expression sees
// a contact exactly as Set.Apply does.
type field struct {
	name string
	typ  reflect.Type
	read func(in rules.Input) any
}

var (
	intType    = reflect.TypeOf(0)
	stringType = reflect.TypeOf("")
	boolType   = reflect.TypeOf(true)
	anyType    = reflect.TypeOf((*any)(nil)).Elem()
	ruleType   = reflect.TypeOf((*exprRule)(nil))
	dateType   = reflect.TypeOf(exprDate{})
)

// stateValues holds each state's code already in an interface, so that
// reading contact.state does not allocate.
var stateValues = func() (v [emailsched.NumStates + 1]any) {
	for i := range v {
		v[i] = emailsched.State(i).String()
	}
	return v
}()

// contactFields lists the fields of contact for anchors: id, state, zip and
// carrier, each anchor's date, each anchor's has_ flag, and age. An
// anchor's fields come from its declaration alone.
func contactFields(anchors []rules.Anchor) []field {
	fs := []field{
		{"id", intType, func(in rules.Input) any { return int(in.Contact.ID) }},
		{"state", stringType, func(in rules.Input) any {
			if !in.State.Valid() {
				return ""
			}
			return stateValues[in.State]
		}},
		{"zip", stringType, func(in rules.Input) any { return in.Contact.ZIP }},
		{"carrier", stringType, func(in rules.Input) any { return in.Contact.Carrier }},
	}
	for _, a := range anchors {
		fs = append(fs, field{a.Name(), dateType, func(in rules.Input) any { return exprDate{in.Anchor(a)} }})
	}
	for _, a := range anchors {
		fs = append(fs, field{"has_" + a.Name(), boolType, func(in rules.Input) any { return !in.Anchor(a).IsZero() }})
	}
	return append(fs, field{"age", intType, func(in rules.Input) any { return in.Age() }})
}

// todayField is the other name of the environment: the run date.
var todayField = field{"today", dateType, func(in rules.Input) any { return exprDate{in.Today} }}

// language is the rules language for one list of anchors: the fields of
// contact, the functions, and the types expr checks and runs programs
// with, all derived from the anchors' declarations.
type language struct {
	// anchors are all the language's anchors, extra those beyond the
	// built-in ones.
	anchors, extra []rules.Anchor
	// fields are contact's fields, then today: a program's reads and a
	// worker's values are indexes into it.
	fields []field
	// byName maps a contact field's name to its index.
	byName        map[string]int
	functions     []*function
	functionIndex map[string]*function
	// checkEnv is the environment as the type checker sees it:
	// struct{contact struct{...}; today exprDate}, with expr tags.
	checkEnv    reflect.Type
	contactType reflect.Type
	// runEnv is checkEnv field by field (the compiled program fetches
	// fields by index), each value held in an interface: expr fetches a
	// struct field through reflection, which allocates a copy of an int or
	// a date, but returns a value already in an interface as it is.
	runEnv    reflect.Type
	typeNames map[reflect.Type]string
	// renamer turns the language's Go type names into its words in
	// messages.
	renamer *strings.Replacer
}

// languageFor builds the language of the built-in anchors and extra.
func languageFor(extra []rules.Anchor) (*language, error) {
	anchors, err := rules.AllAnchors(extra...)
	if err != nil {
		return nil, fmt.Errorf("dsl: %w", err)
	}
	l := &language{anchors: anchors, extra: slices.Clone(extra)}
	contact := contactFields(anchors)
	l.fields = append(contact, todayField)
	l.byName = make(map[string]int, len(contact))
	check := make([]reflect.StructField, len(contact))
	run := make([]reflect.StructField, len(contact))
	for i, f := range contact {
		l.byName[f.name] = i
		name := fmt.Sprintf("F%d", i)
		check[i] = reflect.StructField{Name: name, Type: f.typ, Tag: reflect.StructTag(`expr:"` + f.name + `"`)}
		run[i] = reflect.StructField{Name: name, Type: anyType}
	}
	l.contactType = reflect.StructOf(check)
	l.checkEnv = reflect.StructOf([]reflect.StructField{
		{Name: "Contact", Type: l.contactType, Tag: `expr:"contact"`},
		{Name: "Today", Type: dateType, Tag: `expr:"today"`},
	})
	runContact := reflect.StructOf(run)
	l.runEnv = reflect.StructOf([]reflect.StructField{
		{Name: "Contact", Type: runContact},
		{Name: "Today", Type: anyType},
	})
	l.typeNames = map[reflect.Type]string{ruleType: "a rule", dateType: "a date", l.contactType: "contact"}
	l.renamer = strings.NewReplacer(
		ruleType.String(), "rule", ruleType.Elem().String(), "rule",
		dateType.String(), "date", l.contactType.String(), "contact", runContact.String(), "contact",
		reflect.TypeOf(functionCall(nil)).String(), "function", anyType.String(), "unknown",
	)
	l.functions = functions(anchors, l.contactType)
	l.functionIndex = make(map[string]*function, len(l.functions))
	for _, f := range l.functions {
		l.functionIndex[f.name] = f // window functions end in _window, no other does: names are unique
	}
	for i, f := range contact {
		if l.byName[f.name] != i {
			return nil, fmt.Errorf("dsl: two fields of contact would be named %s: choose another anchor name", f.name)
		}
	}
	return l, nil
}

// defaultLanguage is the language of the built-in anchors, built once.
var defaultLanguage = sync.OnceValue(func() *language {
	l, err := languageFor(nil)
	if err != nil {
		panic(err) // the built-in anchors are constants; a failure is a bug caught by tests
	}
	return l
})

// fieldNames lists the fields of contact.
func (l *language) fieldNames() []string {
	names := make([]string, len(l.fields)-1)
	for i := range names {
		names[i] = l.fields[i].name
	}
	return names
}

// todayIndex is the index of today in fields.
func (l *language) todayIndex() int { return len(l.fields) - 1 }

// worker is what one goroutine needs to evaluate rules: a VM and an
// environment, both reused.
type worker struct {
	vm vm.VM
	// env is a pointer to a runEnv value, what the VM runs with; vals is
	// the same memory seen as the fields' values, in fields order.
	env  any
	vals []any
}

// newWorker returns a worker with a zero environment.
func (l *language) newWorker() *worker {
	v := reflect.New(l.runEnv)
	// runEnv holds nothing but interfaces, so it is laid out as an array
	// of them (TestRunEnvLayout checks it): a worker fills a field by
	// index without reflection, which would cost more than the evaluation.
	vals := unsafe.Slice((*any)(v.UnsafePointer()), len(l.fields))
	return &worker{vm: vm.VM{MemoryBudget: MemoryBudget}, env: v.Interface(), vals: vals}
}

// fill sets the fields a program reads from a rule input. A worker reuses
// one environment and fills only the fields the program reads, so an
// evaluation that reads contact.age does not allocate.
func (w *worker) fill(l *language, in rules.Input, reads []int) {
	for _, i := range reads {
		w.vals[i] = l.fields[i].read(in)
	}
}

// argError is an error of a function's argument: the loader points at that
// argument (Arg is 0-based) instead of the call.
type argError struct {
	Arg int
	Msg string
}

func (e *argError) Error() string { return e.Msg }

// functionCall is how expr calls a function of the language.
type functionCall func(args ...any) (any, error)

// function is one function of the rules language.
type function struct {
	name string
	// typ is a pointer to the function's Go signature, for the type
	// checker.
	typ any
	// method names the receiver's type when the function is written as a
	// method: x.name(args) means name(x, args), or name(x.recvField, args)
	// when recvField is set.
	method    reflect.Type
	recvField string
	call      functionCall
	// internal functions are not written by authors (operators and the
	// method forms are rewritten into them).
	internal bool
	// sig shows how to call it, for messages.
	sig string
}

// signature returns the Go signature of f.
func (f *function) signature() reflect.Type { return reflect.TypeOf(f.typ).Elem() }

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

func windowFunc(anchor rules.Anchor) functionCall {
	return func(args ...any) (any, error) {
		before, after := args[0].(int), args[1].(int)
		if err := days(0, "days before", before); err != nil {
			return nil, err
		}
		if err := days(1, "days after", after); err != nil {
			return nil, err
		}
		return &exprRule{rules.Windows(anchor.Window(before, after))}, nil
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

// functions returns the function table of a language: a window function
// per anchor, then the others.
func functions(anchors []rules.Anchor, contactType reflect.Type) []*function {
	var fs []*function
	for _, a := range anchors {
		name := a.Name() + "_window"
		fs = append(fs, &function{name: name, typ: new(func(int, int) *exprRule), call: windowFunc(a),
			sig: name + "(before, after)"})
	}
	return append(fs,
		&function{name: "year_round", typ: new(func() *exprRule), call: func(...any) (any, error) { return yearRoundRule, nil },
			sig: "year_round()"},
		&function{name: "no_exclusion", typ: new(func() *exprRule), call: func(...any) (any, error) { return noExclusionRule, nil },
			sig: "no_exclusion()"},
		&function{name: "from_month_start", typ: new(func(*exprRule) *exprRule), method: ruleType,
			call: func(args ...any) (any, error) {
				return modify("from_month_start", args[0].(*exprRule), rules.Window.MonthStart)
			},
			sig: "w.from_month_start()"},
		&function{name: "buffer", typ: new(func(*exprRule, int) *exprRule), method: ruleType,
			call: func(args ...any) (any, error) {
				n := args[1].(int)
				if err := days(1, "the buffer", n); err != nil {
					return nil, err
				}
				return modify("buffer", args[0].(*exprRule), func(w rules.Window) rules.Window { return w.WithBuffer(n) })
			},
			sig: "w.buffer(days)"},
		&function{name: "_plus", typ: new(func(*exprRule, *exprRule) *exprRule), internal: true,
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
		&function{name: "date", typ: new(func(string) exprDate),
			call: func(args ...any) (any, error) {
				d, err := datecalc.Parse(args[0].(string))
				if err != nil || len(args[0].(string)) != len("2006-01-02") {
					return nil, &argError{0, fmt.Sprintf("expected a date written YYYY-MM-DD, found %q", args[0])}
				}
				return exprDate{d}, nil
			},
			sig: `date("YYYY-MM-DD")`},
		&function{name: "year", typ: new(func(exprDate) int), method: dateType,
			call: func(args ...any) (any, error) { return args[0].(exprDate).d.Year(), nil },
			sig:  "d.year()"},
		&function{name: "month", typ: new(func(exprDate) int), method: dateType,
			call: func(args ...any) (any, error) { return int(args[0].(exprDate).d.Month()), nil },
			sig:  "d.month()"},
		&function{name: "day", typ: new(func(exprDate) int), method: dateType,
			call: func(args ...any) (any, error) { return args[0].(exprDate).d.Day(), nil },
			sig:  "d.day()"},
		&function{name: "add_days", typ: new(func(exprDate, int) exprDate), method: dateType,
			call: func(args ...any) (any, error) {
				d, n := args[0].(exprDate).d, args[1].(int)
				if d.IsZero() {
					return nil, errors.New("add_days() of a missing date")
				}
				return exprDate{d.AddDays(n)}, nil
			},
			sig: "d.add_days(n)"},
		&function{name: "days_until", typ: new(func(exprDate, exprDate) int), method: dateType,
			call: func(args ...any) (any, error) {
				a, b := args[0].(exprDate).d, args[1].(exprDate).d
				if a.IsZero() || b.IsZero() {
					return nil, errors.New("days_until() with a missing date")
				}
				return a.DaysUntil(b), nil
			},
			sig: "d.days_until(e)"},
		// contact.age_on(d) reads the birthday as contact.birthday does:
		// it is age_on(contact.birthday, d), so the environment needs no
		// more than its fields.
		&function{name: "age_on", typ: new(func(exprDate, exprDate) int), method: contactType, recvField: rules.AnchorBirthday.Name(),
			call: func(args ...any) (any, error) { return rules.AgeOn(args[0].(exprDate).d, args[1].(exprDate).d), nil },
			sig:  "contact.age_on(d)"},
		&function{name: "_days", typ: new(func(exprDate) int), internal: true,
			call: func(args ...any) (any, error) { return args[0].(exprDate).d.Unix(), nil }},
	)
}

// builtins are expr's builtin functions that rules may use: pure, cheap
// and bounded. Everything else (now, date parsing of expr, JSON, repeat,
// predicates) is disabled.
var builtins = []string{"abs", "len", "lower", "upper", "trim", "hasPrefix", "hasSuffix", "min", "max"}
