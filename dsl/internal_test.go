package dsl

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// BenchmarkEval measures the evaluation alone, without rules.Set.Apply.
func BenchmarkEval(b *testing.B) {
	l := &loader{}
	l.load(Source{Name: "b.rules", Text: []byte("FL: contact.age >= 76 ? year_round() : no_exclusion()")})
	if _, err := l.build(nil); err != nil {
		b.Fatal(err)
	}
	pr := l.programs[0]
	in := rules.Input{Contact: &emailsched.Contact{Birthday: datecalc.MustNew(1945, 3, 10)}, State: emailsched.MustState("FL"), Today: datecalc.MustNew(2025, 6, 1)}
	b.ReportAllocs()
	for b.Loop() {
		pr.eval(in)
	}
}

// TestRunEnvMirrorsEnv: the program compiled against env fetches fields of
// runEnv by index, so both must list the same fields in the same order,
// and fill's bits must follow that order.
func TestRunEnvMirrorsEnv(t *testing.T) {
	pairs := [][2]reflect.Type{{reflect.TypeOf(env{}), reflect.TypeOf(runEnv{})}, {contactType, reflect.TypeOf(runContact{})}}
	for _, p := range pairs {
		if p[0].NumField() != p[1].NumField() {
			t.Fatalf("%s has %d fields, %s %d", p[0], p[0].NumField(), p[1], p[1].NumField())
		}
		for i := range p[0].NumField() {
			if p[0].Field(i).Name != p[1].Field(i).Name {
				t.Errorf("field %d: %s vs %s", i, p[0].Field(i).Name, p[1].Field(i).Name)
			}
		}
	}
	for i := range contactType.NumField() {
		if got := useField(contactType.Field(i).Tag.Get("expr")); got != 1<<i {
			t.Errorf("field %d: bit %b", i, got)
		}
	}
	if useField("nope") != 0 || useToday < 1<<contactType.NumField() {
		t.Error("useField")
	}
	var e runEnv
	c := &emailsched.Contact{ID: 300, ZIP: "89101", Carrier: "Acme", Birthday: datecalc.MustNew(1950, 1, 2), EffectiveDate: datecalc.MustNew(2010, 3, 4)}
	e.fill(&rules.Input{Contact: c, State: emailsched.MustState("NV"), Today: datecalc.MustNew(2025, 1, 1)}, useToday|(useToday-1))
	want := runEnv{Today: exprDate{datecalc.MustNew(2025, 1, 1)}, Contact: runContact{ID: 300, State: "NV", ZIP: "89101", Carrier: "Acme",
		Birthday: exprDate{c.Birthday}, EffectiveDate: exprDate{c.EffectiveDate}, HasBirthday: true, HasEffectiveDate: true, Age: 74}}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("fill: %+v", e)
	}
}

func TestInternalErrors(t *testing.T) {
	// a program that yields something else than a rule (the type checker
	// prevents it in a rules file)
	prog, err := expr.Compile("1")
	if err != nil {
		t.Fatal(err)
	}
	st := &stmt{file: newFile("x.rules", "CA: 1"), pos: []Pos{{1, 5, 4}}, end: Pos{1, 6, 5}}
	pr := &program{st: st, program: prog, origin: "x.rules:1:5"}
	if _, err := pr.run(&vm.VM{}, &runEnv{}); err == nil || err.Error() != "the rule yields 1, not a rule" {
		t.Errorf("run: %v", err)
	}
	// a panic outside the VM (a nil contact) becomes an EvalError
	pr.pool = &sync.Pool{New: func() any { return &worker{} }}
	pr.uses = 1
	if _, err := pr.eval(rules.Input{}); err == nil || !strings.Contains(err.Error(), "panic:") {
		t.Errorf("eval: %v", err)
	}
	// an error that is not expr's
	if d := st.exprError(errors.New("boom")); d.Line != 1 || d.Column != 5 || d.Message != "boom" {
		t.Errorf("exprError: %+v", d)
	}
	if st.at(-1) != st.end || st.at(7) != st.end {
		t.Error("at")
	}
	if (&Diagnostic{File: "f", Line: 1, Column: 2, Message: "m"}).Error() != "f:1:2: m" {
		t.Error("Diagnostic without snippet")
	}
}

func TestMessages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"unknown name xyzzy", "unknown name xyzzy"},
		{"unknown name " + strings.Repeat("a", 70), "unknown name " + strings.Repeat("a", 70)},
		{"unknown name tody", "unknown name tody (did you mean today?)"},
		{"too many arguments to call year_round", "too many arguments to call year_round: expected year_round()"},
		{"too many arguments to call _plus", "too many arguments to call _plus"},
		{"cannot use *dsl.exprRule as argument", "cannot use rule as argument"},
	}
	for _, tt := range tests {
		if got := message(tt.in); got != tt.want {
			t.Errorf("message(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		t    reflect.Type
		want string
	}{
		{ruleType, "a rule"}, {reflect.TypeOf(1.5), "a number"}, {reflect.TypeOf(""), "a string"},
		{reflect.TypeOf(true), "a condition (bool)"}, {anyType, "a value of unknown type"}, {reflect.TypeOf([]int{}), "[]int"},
	} {
		if got := typeName(tt.t); got != tt.want {
			t.Errorf("typeName(%v) = %q", tt.t, got)
		}
	}
}

// TestFunctions covers the functions' checks that only a dynamic argument
// reaches.
func TestFunctions(t *testing.T) {
	w := &exprRule{rules.Windows(rules.BirthdayWindow(1, 2))}
	zero := exprDate{}
	d := exprDate{datecalc.MustNew(2020, 2, 29)}
	many := w
	for range 3 {
		r, err := functionIndex["_plus"].call(many, many)
		if err != nil {
			t.Fatal(err)
		}
		many = r.(*exprRule)
	}
	tests := []struct {
		fn   string
		args []any
		want any
		err  string
	}{
		{"_plus", []any{many, w}, nil, "a rule has at most 8 windows, found 9"},
		{"add_days", []any{zero, 1}, nil, "add_days() of a missing date"},
		{"days_until", []any{d, zero}, nil, "days_until() with a missing date"},
		{"days_until", []any{d, exprDate{datecalc.MustNew(2021, 2, 28)}}, 365, ""},
		{"year", []any{zero}, 0, ""},
		{"age_on", []any{runContact{Birthday: d}, exprDate{datecalc.MustNew(2021, 2, 28)}}, 1, ""},
		{"age_on", []any{runContact{}, d}, -1, ""},
		{"_days", []any{exprDate{datecalc.MustNew(1970, 1, 2)}}, 1, ""},
		{"buffer", []any{yearRoundRule, 3}, nil, "buffer() applies to a window, not to year_round()"},
		{"birthday_window", []any{1, 400}, nil, "days after must be 0-366 days, found 400"},
	}
	for _, tt := range tests {
		got, err := functionIndex[tt.fn].call(tt.args...)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.fn, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.fn, got, err, tt.want)
		}
	}
}

// TestVisitorsDefensive feeds the folder and the untyped check nodes that a
// checked rules file does not produce.
func TestVisitorsDefensive(t *testing.T) {
	nodes := []ast.Node{
		&ast.CallNode{Callee: &ast.MemberNode{Node: &ast.IdentifierNode{Value: "x"}, Property: &ast.StringNode{Value: "y"}}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "unknown"}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "birthday_window"}, Arguments: []ast.Node{&ast.IntegerNode{Value: 1}}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "birthday_window"}, Arguments: []ast.Node{&ast.StringNode{Value: "a"}, &ast.IntegerNode{Value: 1}}},
	}
	for i, n := range nodes {
		before := ast.Dump(n)
		(&folder{}).Visit(&n)
		if ast.Dump(n) != before {
			t.Errorf("node %d folded", i)
		}
		u := &untyped{}
		if i < 2 {
			u.Visit(&n)
			if u.err != nil {
				t.Errorf("node %d: %v", i, u.err)
			}
		}
	}
}
