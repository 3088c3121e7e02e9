package dsl

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	exprfile "github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/emailsched/emailsched/rules"
)

// Limits that keep a rule from a less trusted author cheap: the number of
// nodes of one expression, and the memory budget of one evaluation (in
// expr's units: roughly the elements of the arrays and ranges it builds).
const (
	MaxNodes     = 1000
	MemoryBudget = 10000
)

// config returns the expr configuration of rule expressions: the typed
// environment, the language's functions, a few pure builtins and no others
// (no now(), no clock, nothing with a side effect), and the node limit.
func (l *language) config(p *patcher) *conf.Config {
	cfg := conf.CreateNew()
	opts := []expr.Option{expr.Env(reflect.New(l.checkEnv).Elem().Interface()), expr.DisableAllBuiltins(), expr.MaxNodes(MaxNodes), expr.Patch(p)}
	for _, b := range builtins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	for _, f := range l.functions {
		opts = append(opts, expr.Function(f.name, f.call, f.typ))
	}
	for _, o := range opts {
		o(cfg)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	return cfg
}

// locError is an error at a location of an expression (rune offsets).
type locError struct {
	loc exprfile.Location
	msg string
}

// patcher rewrites the rules language's sugar into plain expr calls, using
// the types the checker found: x.m(args) becomes m(x, args) for the
// language's methods, date comparisons compare day numbers, and rule + rule
// joins windows. It also rejects what rules may not use. It runs until
// nothing changes, as expr's operator overloading does.
type patcher struct {
	lang    *language
	errs    []locError
	applied bool
}

func (p *patcher) Reset()             { p.applied = false }
func (p *patcher) ShouldRepeat() bool { return p.applied }

func (p *patcher) fail(loc exprfile.Location, format string, args ...any) {
	e := locError{loc, fmt.Sprintf(format, args...)}
	for _, o := range p.errs {
		if o == e {
			return
		}
	}
	p.errs = append(p.errs, e)
}

// call returns a call node. It has no type: the checker's next pass checks
// its arguments and types it (a typed call node is not checked).
func call(name string, loc exprfile.Location, args ...ast.Node) *ast.CallNode {
	n := &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
	n.Callee.SetLocation(loc)
	n.SetLocation(loc)
	return n
}

// member returns the node x.name, at loc.
func member(x ast.Node, name string, loc exprfile.Location) *ast.MemberNode {
	n := &ast.MemberNode{Node: x, Property: &ast.StringNode{Value: name}}
	n.Property.SetLocation(loc)
	n.SetLocation(loc)
	return n
}

func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			p.fail(n.Location(), "$env is not available in rules: use contact and today")
		}
	case *ast.BuiltinNode:
		if !isBuiltin(n.Name) {
			p.fail(n.Location(), "%s() is not available in rules", n.Name)
		}
	case *ast.CallNode:
		m, ok := n.Callee.(*ast.MemberNode)
		if !ok || !m.Method {
			return
		}
		name := m.Property.(*ast.StringNode).Value
		recv := m.Node.Type()
		kind, known := p.lang.typeNames[recv]
		if !known {
			return // not typed yet, or not a type with methods: the checker reports it
		}
		f := p.lang.functionIndex[name]
		if f == nil || f.method != recv {
			p.fail(m.Property.Location(), "%s has no method %s(); %s", kind, name, p.lang.methodList(recv))
			return
		}
		x := m.Node
		if f.recvField != "" {
			x = member(x, f.recvField, m.Property.Location())
		}
		*node = call(name, m.Property.Location(), append([]ast.Node{x}, n.Arguments...)...)
		p.applied = true
	case *ast.BinaryNode:
		l, r := n.Left.Type(), n.Right.Type()
		switch n.Operator {
		case "<", "<=", ">", ">=", "==", "!=":
			switch {
			case l == dateType && r == dateType:
				n.Left = call("_days", n.Left.Location(), n.Left)
				n.Right = call("_days", n.Right.Location(), n.Right)
				p.applied = true
			case (l == dateType) != (r == dateType) && l != anyType && r != anyType:
				p.fail(n.Location(), "cannot compare %s with %s: a date compares only with a date, e.g. date(\"1950-01-01\")", p.lang.typeName(l), p.lang.typeName(r))
			}
		case "+":
			if l == ruleType && r == ruleType {
				*node = call("_plus", n.Location(), n.Left, n.Right)
				p.applied = true
			}
		}
	}
}

func isBuiltin(name string) bool { return slices.Contains(builtins, name) }

// methodList lists the methods of one of the language's types.
func (l *language) methodList(t reflect.Type) string {
	var names []string
	for _, f := range l.functions {
		if f.method == t {
			names = append(names, f.name+"()")
		}
	}
	return "its methods are " + strings.Join(names, ", ")
}

// typeName names a Go type the way a rules author knows it.
func (l *language) typeName(t reflect.Type) string {
	if n, ok := l.typeNames[t]; ok {
		return n
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a condition (bool)"
	case reflect.Interface:
		return "a value of unknown type"
	}
	return t.String()
}

// folder evaluates the language's function calls whose arguments are
// literals, at load time: a rule like birthday_window(30, 60) becomes a
// constant, and a bad argument is reported at its position.
type folder struct {
	lang *language
	errs []locError
}

func (f *folder) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	fn := f.lang.functionIndex[id.Value]
	if fn == nil || fn.signature().NumIn() != len(c.Arguments) {
		return
	}
	args := make([]any, len(c.Arguments))
	for i, a := range c.Arguments {
		switch a := a.(type) {
		case *ast.IntegerNode:
			args[i] = a.Value
		case *ast.StringNode:
			args[i] = a.Value
		case *ast.ConstantNode:
			args[i] = a.Value
		default:
			return
		}
		if reflect.TypeOf(args[i]) != fn.signature().In(i) {
			return // an argument of unknown type: the evaluation reports it
		}
	}
	v, err := fn.call(args...)
	if err != nil {
		loc := c.Location()
		if ae := (*argError)(nil); errors.As(err, &ae) {
			loc = c.Arguments[ae.Arg].Location()
		}
		f.errs = append(f.errs, locError{loc, err.Error()})
		return
	}
	k := &ast.ConstantNode{Value: v}
	k.SetType(c.Type())
	ast.Patch(node, k)
}

// untype clears the types the checker left on a tree.
type untype struct{}

func (untype) Visit(node *ast.Node) { (*node).SetNature(nature.Nature{}) }

// untyped finds the first argument of a rules function whose type the
// checker could not tell (a mixed array's element, a conditional with two
// types): it is refused at load time rather than failing per contact.
type untyped struct {
	lang *language
	err  *locError
}

func (u *untyped) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok || u.err != nil {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || u.lang.functionIndex[id.Value] == nil {
		return
	}
	ft := u.lang.functionIndex[id.Value].signature()
	for i, a := range c.Arguments {
		if a.Type() == anyType {
			u.err = &locError{a.Location(), fmt.Sprintf("argument %d of %s is of unknown type: expected %s", i+1, id.Value, u.lang.typeName(ft.In(i)))}
			return
		}
	}
}

// readsVisitor finds what a program reads of the environment: the indexes
// of the fields it names (language.fields).
type readsVisitor struct {
	lang              *language
	reads             []bool
	contacts, members int
}

func (r *readsVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		switch n.Value {
		case "today":
			r.reads[r.lang.todayIndex()] = true
		case "contact":
			r.contacts++
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "contact" {
			return
		}
		r.members++
		// A checked program names only fields of contact, by a literal:
		// anything else is refused by the checker.
		if p, ok := n.Property.(*ast.StringNode); ok {
			r.reads[r.lang.byName[p.Value]] = true
		}
	}
}

// program is a compiled rule expression.
type program struct {
	lang    *language
	st      *stmt
	origin  string
	states  []string
	program *vm.Program
	// static rules do not depend on the contact: rule is their value.
	static bool
	rule   rules.Rule
	// reads lists the fields of the environment the program reads
	// (indexes of lang.fields), the ones a worker fills.
	reads []int
	// canonical is the compiled expression printed back, the same for
	// every spelling of it: the rule's identity in the set's checksum.
	canonical string
	// buffer is the set's default buffer, for the span check.
	buffer int
	pool   *sync.Pool
}

// errorAt returns the diagnostic of an expression error at rune offset i.
func (s *stmt) errorAt(i int, format string, args ...any) *Diagnostic {
	return s.file.diag(s.at(i), format, args...)
}

// knownNames lists the names a rule may use.
func (l *language) knownNames() []string {
	names := []string{"contact", "today"}
	for _, f := range l.functions {
		if !f.internal && f.method == nil {
			names = append(names, f.name)
		}
	}
	return append(names, builtins...)
}

// suggest returns " (did you mean X?)" for the known name closest to name,
// or "" when none is close.
func suggest(name string, known []string) string {
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if d := distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// distance is the Levenshtein distance of two short strings (bytes).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// compile checks and compiles a rule statement's expression. It reports
// every problem it finds to diags and returns nil when there is one.
func (l *language) compile(st *stmt, diags *diagList) *program {
	p := &patcher{lang: l}
	cfg := l.config(p)
	src := string(st.text)
	if at, msg := checkShape(src); msg != "" {
		diags.add(st.errorAt(at, "%s", msg))
		return nil
	}
	tree, err := parser.ParseWithConfig(src, cfg)
	if err != nil {
		at, msg := l.parseError(src, cfg, err)
		diags.add(st.errorAt(at, "%s", msg))
		return nil
	}
	_, err = new(checker.Checker).PatchAndCheck(tree, cfg)
	if len(p.errs) == 0 && err == nil {
		// The checker does not look again into a call it typed before a
		// patch changed its arguments: check the patched tree afresh.
		ast.Walk(&tree.Node, untype{})
		cfg.Visitors = nil
	}
	typ, err := new(checker.Checker).Check(tree, cfg)
	if len(p.errs) > 0 {
		for _, e := range p.errs {
			diags.add(st.errorAt(e.loc.From, "%s", e.msg))
		}
		return nil
	}
	if err != nil {
		at, msg := l.checkError(tree, err)
		diags.add(st.errorAt(at, "%s", msg))
		return nil
	}
	u := &untyped{lang: l}
	ast.Walk(&tree.Node, u)
	if u.err != nil {
		diags.add(st.errorAt(u.err.loc.From, "%s", u.err.msg))
		return nil
	}
	if typ != ruleType {
		n := tree.Node
		for {
			c, ok := n.(*ast.ConditionalNode)
			if !ok {
				break
			}
			n = c.Exp1
			if n.Type() == ruleType {
				n = c.Exp2
			}
		}
		diags.add(st.errorAt(n.Location().From,
			"a rule must yield a rule, such as birthday_window(30, 60), year_round() or no_exclusion(), but this yields %s", l.typeName(n.Type())))
		return nil
	}
	if err := optimizer.Optimize(&tree.Node, cfg); err != nil {
		diags.add(st.exprError(l, err))
		return nil
	}
	f := &folder{lang: l}
	ast.Walk(&tree.Node, f)
	for _, e := range f.errs {
		diags.add(st.errorAt(e.loc.From, "%s", e.msg))
	}
	if len(f.errs) > 0 {
		return nil
	}
	prog, err := compiler.Compile(tree, cfg)
	if err != nil {
		// Not reached for a tree the checker accepted: expr's compiler
		// reports its own internal failures this way.
		diags.add(st.exprError(l, err))
		return nil
	}
	rv := &readsVisitor{lang: l, reads: make([]bool, len(l.fields))}
	ast.Walk(&tree.Node, rv)
	if rv.contacts > rv.members {
		// contact as a whole: every field
		for i := range l.todayIndex() {
			rv.reads[i] = true
		}
	}
	pr := &program{lang: l, st: st, program: prog, canonical: canonical(&tree.Node)}
	for i, r := range rv.reads {
		if r {
			pr.reads = append(pr.reads, i)
		}
	}
	pr.static = len(pr.reads) == 0
	p0 := st.at(0)
	pr.origin = fmt.Sprintf("%s:%d:%d", st.file.name, p0.Line, p0.Column)
	if pr.static {
		r, err := pr.run(&vm.VM{MemoryBudget: MemoryBudget}, l.newWorker().env)
		if err != nil {
			diags.add(st.exprError(l, err))
			return nil
		}
		pr.rule = r
	}
	return pr
}

// Bounds checked before expr parses an expression: its parser recurses on
// every bracket without a bound of its own, so a file of nested brackets
// could exhaust the stack of the process.
const (
	// MaxExprSize bounds one rule's expression, in bytes.
	MaxExprSize = 16 << 10
	// MaxDepth bounds the nesting of brackets in an expression.
	MaxDepth = 64
)

// checkShape returns, for an expression too long or nested too deep, the
// rune offset of the fault and its message; "" when it is fine. String
// literals do not count, as the parser reads them whole.
func checkShape(src string) (int, string) {
	if len(src) > MaxExprSize {
		return 0, fmt.Sprintf("the rule is too long: %d bytes, more than %d", len(src), MaxExprSize)
	}
	depth, quote, escaped := 0, rune(0), false
	i := 0
	for _, r := range src {
		switch {
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case r == '\\' && quote != '`':
				escaped = true
			case r == quote:
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			if depth++; depth > MaxDepth {
				return i, fmt.Sprintf("the rule nests brackets more than %d deep", MaxDepth)
			}
		case r == ')' || r == ']' || r == '}':
			depth--
		}
		i++
	}
	return 0, ""
}

// canonical prints a compiled expression back in one canonical text: the
// same for every spelling of it (spacing, parentheses, comments), with its
// folded constants written out. It changes the tree, whose program is
// compiled already.
func canonical(n *ast.Node) string {
	ast.Walk(n, constants{})
	return (*n).String()
}

// constants replaces each constant by an identifier that spells its value,
// since expr prints constants as JSON, which our values do not have.
type constants struct{}

func (constants) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.ConstantNode)
	if !ok {
		return
	}
	var text string
	switch v := c.Value.(type) {
	case *exprRule:
		text = v.r.String()
	case exprDate:
		text = "date(" + strconv.Quote(v.d.String()) + ")"
	default:
		text = fmt.Sprintf("%#v", v)
	}
	*node = &ast.IdentifierNode{Value: text}
}

// run evaluates the program once.
func (pr *program) run(m *vm.VM, env any) (rules.Rule, error) {
	out, err := m.Run(pr.program, env)
	if err != nil {
		return rules.Rule{}, err
	}
	r, _ := out.(*exprRule)
	if r == nil {
		return rules.Rule{}, fmt.Errorf("the rule yields %v, not a rule", out)
	}
	if err := checkSpan(r.r, pr.buffer); err != nil {
		return rules.Rule{}, err
	}
	return r.r, nil
}

// checkSpan rejects windows whose exclusion period is longer than a year:
// they leave no day free and mean year_round().
func checkSpan(r rules.Rule, buffer int) error {
	for _, w := range r.Windows() {
		b := buffer
		if w.OwnBuffer {
			b = w.Buffer
		}
		if n := b + w.Before + 1 + w.After; n > 365 {
			return fmt.Errorf("the exclusion period of %s lasts %d days (buffer %d + %d before + the day + %d after): more than a year leaves no day free; write year_round() instead",
				w, n, b, w.Before, w.After)
		}
	}
	return nil
}

// EvalError is the error of a rule that failed for one contact. The
// scheduler skips that contact's emails that respect windows, with a
// reason naming the rule.
type EvalError struct {
	// Origin is where the rule was written (file:line:col).
	Origin string
	// File and Pos say where, in the file, the evaluation failed.
	File string
	Pos  Pos
	// Msg says what failed; Err is the underlying error.
	Msg string
	Err error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("dsl: rule at %s failed at %s:%d:%d: %s", e.Origin, e.File, e.Pos.Line, e.Pos.Column, e.Msg)
}

func (e *EvalError) Unwrap() error { return e.Err }

// eval is the rules.RuleFunc of a rule that depends on the contact.
func (pr *program) eval(in rules.Input) (r rules.Rule, err error) {
	w := pr.pool.Get().(*worker)
	defer func() {
		if x := recover(); x != nil {
			err = pr.evalError(fmt.Errorf("panic: %v", x))
		}
		pr.pool.Put(w)
	}()
	w.fill(pr.lang, in, pr.reads)
	r, err = pr.run(&w.vm, w.env)
	if err != nil {
		return rules.Rule{}, pr.evalError(err)
	}
	return r, nil
}

func (pr *program) evalError(err error) error {
	at, msg := pr.lang.runError(err)
	return &EvalError{Origin: pr.origin, File: pr.st.file.name, Pos: pr.st.at(at), Msg: msg, Err: err}
}
