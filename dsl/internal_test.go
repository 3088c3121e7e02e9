package dsl

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
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
	l := &loader{lang: defaultLanguage()}
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

// testAnchor is an anchor the library does not declare, for languages
// with more fields than the default one.
var testAnchor = rules.MustNewAnchor(rules.AnchorSpec{Name: "retirement", Field: "retirement_date",
	Date: func(c *emailsched.Contact) datecalc.Date { return datecalc.Date{} }})

// TestRunEnvLayout: the program compiled against checkEnv fetches fields
// of runEnv by index, and a worker writes them as an array of interfaces:
// both types must have the fields of the language, in its order, and
// runEnv must be laid out as that array.
func TestRunEnvLayout(t *testing.T) {
	extra, err := languageFor([]rules.Anchor{testAnchor})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*language{defaultLanguage(), extra} {
		n := l.todayIndex()
		check, run := l.checkEnv, l.runEnv
		if check.NumField() != 2 || run.NumField() != 2 || check.Field(0).Tag.Get("expr") != "contact" || check.Field(1).Tag.Get("expr") != "today" {
			t.Fatalf("env fields: %v / %v", check, run)
		}
		cc, rc := check.Field(0).Type, run.Field(0).Type
		if cc.NumField() != n || rc.NumField() != n {
			t.Fatalf("contact has %d and %d fields, the language %d", cc.NumField(), rc.NumField(), n)
		}
		for i := range n {
			if cc.Field(i).Tag.Get("expr") != l.fields[i].name || cc.Field(i).Type != l.fields[i].typ || cc.Field(i).Name != rc.Field(i).Name {
				t.Errorf("field %d: %v vs %v (%s)", i, cc.Field(i), rc.Field(i), l.fields[i].name)
			}
			if l.byName[l.fields[i].name] != i {
				t.Errorf("byName[%s] = %d, want %d", l.fields[i].name, l.byName[l.fields[i].name], i)
			}
		}
		size := reflect.TypeOf((*any)(nil)).Elem().Size()
		if run.Size() != uintptr(n+1)*size || run.Field(1).Offset != uintptr(n)*size {
			t.Errorf("runEnv is %d bytes, today at %d: not %d interfaces", run.Size(), run.Field(1).Offset, n+1)
		}
		for i := range n {
			if f := rc.Field(i); f.Type != anyType || f.Offset != uintptr(i)*size {
				t.Errorf("runEnv contact field %d: %v at %d", i, f.Type, f.Offset)
			}
		}
	}
	// The extra anchor's fields come after the built-in anchors' ones.
	def, got := defaultLanguage().fieldNames(), extra.fieldNames()
	n := len(defaultLanguage().anchors)
	want := slices.Concat(def[:4+n], []string{"retirement"}, def[4+n:4+2*n], []string{"has_retirement"}, def[4+2*n:])
	if !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
}

// TestFill: a worker's values, filled for every field, are what the fields
// read, at their index in the environment the VM sees.
func TestFill(t *testing.T) {
	l := defaultLanguage()
	w := l.newWorker()
	all := make([]int, len(l.fields))
	for i := range all {
		all[i] = i
	}
	c := &emailsched.Contact{ID: 300, ZIP: "89101", Carrier: "Acme", Birthday: datecalc.MustNew(1950, 1, 2), EffectiveDate: datecalc.MustNew(2010, 3, 4)}
	today := datecalc.MustNew(2025, 1, 1)
	w.fill(l, rules.Input{Contact: c, State: emailsched.MustState("NV"), Today: today}, all)
	env := reflect.ValueOf(w.env).Elem()
	got := map[string]any{"today": env.Field(1).Interface()}
	for i := range l.todayIndex() {
		got[l.fields[i].name] = env.Field(0).Field(i).Interface()
	}
	want := map[string]any{"id": 300, "state": "NV", "zip": "89101", "carrier": "Acme", "birthday": exprDate{c.Birthday},
		"effective_date": exprDate{c.EffectiveDate}, "has_birthday": true, "has_effective_date": true, "age": 74, "today": exprDate{today}}
	for _, a := range l.anchors[2:] { // anchors declared after these: read as every rule reads them
		d := a.Read(c, today)
		want[a.Name()], want["has_"+a.Name()] = exprDate{d}, !d.IsZero()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fill:\n got %v\nwant %v", got, want)
	}
	// A state that Set.Apply never evaluates reads as no state.
	w.fill(l, rules.Input{Contact: c, State: emailsched.State(200)}, []int{l.byName["state"]})
	if v := w.vals[l.byName["state"]]; v != "" {
		t.Errorf("state 200 reads %v", v)
	}
}

func TestLanguageErrors(t *testing.T) {
	bad := func(name string) rules.Anchor {
		return rules.MustNewAnchor(rules.AnchorSpec{Name: name, Field: name, Date: func(*emailsched.Contact) datecalc.Date { return datecalc.Date{} }})
	}
	tests := []struct {
		anchors []rules.Anchor
		want    string
	}{
		{[]rules.Anchor{{}}, "dsl: rules: invalid rule set: extra anchor 1 is the zero Anchor"},
		{[]rules.Anchor{bad("birthday")}, "two anchors are named birthday"},
		{[]rules.Anchor{bad("age")}, "dsl: two fields of contact would be named age: choose another anchor name"},
		{[]rules.Anchor{bad("has_birthday")}, "would be named has_birthday"},
		{slices.Repeat([]rules.Anchor{bad("a")}, rules.MaxAnchors), fmt.Sprintf("%d anchors, at most %d", len(defaultLanguage().anchors)+rules.MaxAnchors, rules.MaxAnchors)},
	}
	for _, tt := range tests {
		_, err := languageFor(tt.anchors)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.anchors, err, tt.want)
		}
	}
}

func TestInternalErrors(t *testing.T) {
	// a program that yields something else than a rule (the type checker
	// prevents it in a rules file)
	prog, err := expr.Compile("1")
	if err != nil {
		t.Fatal(err)
	}
	l := defaultLanguage()
	st := &stmt{file: newFile("x.rules", "CA: 1")}
	st.appendText(1, 4, 5)
	pr := &program{lang: l, st: st, program: prog, origin: "x.rules:1:5"}
	if _, err := pr.run(&vm.VM{}, l.newWorker().env); err == nil || err.Error() != "the rule yields 1, not a rule" {
		t.Errorf("run: %v", err)
	}
	// a panic outside the VM (a nil contact) becomes an EvalError
	pr.pool = &sync.Pool{New: func() any { return l.newWorker() }}
	pr.reads = []int{0}
	if _, err := pr.eval(rules.Input{}); err == nil || !strings.Contains(err.Error(), "panic:") {
		t.Errorf("eval: %v", err)
	}
	// an error that is not expr's
	if d := st.exprError(l, errors.New("boom *dsl.exprRule")); d.Line != 1 || d.Column != 5 || d.Message != "boom rule" {
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
	l := defaultLanguage()
	for _, tt := range []struct{ in, want string }{
		{"xyzzy", "unknown name xyzzy"},
		{strings.Repeat("a", 70), "unknown name " + strings.Repeat("a", 70)},
		{"tody", "unknown name tody (did you mean today?)"},
		{"has_birthday", "unknown name has_birthday (did you mean contact.has_birthday?)"},
	} {
		if got := l.unknownName(tt.in); got != tt.want {
			t.Errorf("unknownName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := l.functionIndex["_plus"].countMessage(3); got != "too many arguments to call _plus" {
		t.Errorf("countMessage: %q", got)
	}
	if got := l.rename("cannot use *dsl.exprRule as dsl.exprDate "); got != "cannot use rule as date" {
		t.Errorf("rename: %q", got)
	}
	for _, tt := range []struct {
		t    reflect.Type
		want string
	}{
		{ruleType, "a rule"}, {l.contactType, "contact"}, {reflect.TypeOf(1.5), "a number"}, {reflect.TypeOf(""), "a string"},
		{reflect.TypeOf(true), "a condition (bool)"}, {anyType, "a value of unknown type"}, {reflect.TypeOf([]int{}), "[]int"},
	} {
		if got := l.typeName(tt.t); got != tt.want {
			t.Errorf("typeName(%v) = %q", tt.t, got)
		}
	}
}

// TestFunctions covers the functions' checks that only a dynamic argument
// reaches.
func TestFunctions(t *testing.T) {
	fns := defaultLanguage().functionIndex
	w := &exprRule{rules.Windows(rules.BirthdayWindow(1, 2))}
	zero := exprDate{}
	d := exprDate{datecalc.MustNew(2020, 2, 29)}
	many := w
	for range 3 {
		r, err := fns["_plus"].call(many, many)
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
		{"age_on", []any{d, exprDate{datecalc.MustNew(2021, 2, 28)}}, 1, ""},
		{"age_on", []any{zero, d}, -1, ""},
		{"_days", []any{exprDate{datecalc.MustNew(1970, 1, 2)}}, 1, ""},
		{"buffer", []any{yearRoundRule, 3}, nil, "buffer() applies to a window, not to year_round()"},
		{"birthday_window", []any{1, 400}, nil, "days after must be 0-366 days, found 400"},
	}
	for _, tt := range tests {
		got, err := fns[tt.fn].call(tt.args...)
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
	l := defaultLanguage()
	nodes := []ast.Node{
		&ast.CallNode{Callee: &ast.MemberNode{Node: &ast.IdentifierNode{Value: "x"}, Property: &ast.StringNode{Value: "y"}}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "unknown"}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "birthday_window"}, Arguments: []ast.Node{&ast.IntegerNode{Value: 1}}},
		&ast.CallNode{Callee: &ast.IdentifierNode{Value: "birthday_window"}, Arguments: []ast.Node{&ast.StringNode{Value: "a"}, &ast.IntegerNode{Value: 1}}},
	}
	for i, n := range nodes {
		before := ast.Dump(n)
		(&folder{lang: l}).Visit(&n)
		if ast.Dump(n) != before {
			t.Errorf("node %d folded", i)
		}
		u := &untyped{lang: l}
		if i < 2 {
			u.Visit(&n)
			if u.err != nil {
				t.Errorf("node %d: %v", i, u.err)
			}
		}
	}
	if distance(strings.Repeat("a", 65), "a") != 64 {
		t.Error("distance of long strings")
	}
}

// TestDocListsLanguage: the package documentation lists every field and
// function of the language of the built-in anchors, so that a field added
// to contactFields or a function added to functions is documented.
func TestDocListsLanguage(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	l := defaultLanguage()
	for _, name := range l.fieldNames() {
		if !strings.Contains(doc, "contact."+name+" ") {
			t.Errorf("doc.go does not list contact.%s", name)
		}
	}
	for _, f := range l.functions {
		if !f.internal && !strings.Contains(doc, f.name+"(") {
			t.Errorf("doc.go does not list %s()", f.name)
		}
	}
	for _, b := range builtins {
		if !strings.Contains(doc, " "+b) {
			t.Errorf("doc.go does not list the builtin %s", b)
		}
	}
}

// TestStatementPositions: the positions of a statement's runes, computed
// on demand, over continuation lines, multi-byte runes and the newlines
// that join lines.
func TestStatementPositions(t *testing.T) {
	f := newFile("p.rules", "CA: é(1,\n   ≥ 2)\n")
	st := &stmt{file: f}
	st.appendText(1, 4, len(f.lines[0]))
	st.appendText(2, 3, len(f.lines[1]))
	// text: "é(1,\n≥ 2)"
	want := []Pos{{1, 5, 4}, {1, 6, 6}, {1, 7, 7}, {1, 8, 8}, {1, 9, 9}, {2, 4, 13}, {2, 5, 16}, {2, 6, 17}, {2, 7, 18}}
	for i, w := range want {
		if got := st.at(i); got != w {
			t.Errorf("at(%d) = %+v, want %+v", i, got, w)
		}
	}
	if got := st.at(len(want)); got != (Pos{2, 8, 19}) || st.at(-1) != st.end {
		t.Errorf("past the end: %+v, end %+v", got, st.end)
	}
}
