package dsl

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	exprfile "github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/parser/lexer"
)

// Diagnostics for expr's errors.
//
// expr reports a problem as a *file.Error: a location and an English
// message written for Go programmers, with Go type names. A rules author
// needs other words, but the words must not come from expr's message: an
// upgrade of expr that rewords one would then change a diagnostic without
// anyone noticing. So the loader decides what to say from what it knows on
// its own:
//
//   - for a parse error, how the parser does on the same text given more
//     room (a rule too long gets further) or more input (a rule that ends
//     too early gets further), and the token at the error's location, as
//     expr's lexer reads it;
//   - for a type error, the node at the error's location in the tree the
//     checker annotated, the types it found, and the language's own tables
//     (its names, fields and functions): an unknown name, a field contact
//     lacks, an argument count or type, a condition that is not a bool.
//
// Only the message of an unexpected token is recognised by its text: the
// parser has other errors at a token that only the text tells apart.
// expr_messages_test.go pins that text to the expr version of go.mod, and
// the golden files of testdata/errors pin the locations the rest relies
// on. Anything not recognised keeps expr's message, with the language's
// Go type names replaced by its words (the names are the language's own,
// not expr's).

// fileError returns err as expr's *file.Error. Every error of expr's
// parser, checker, optimizer and VM is one; any other error (a function's,
// a recovered panic's) is placed at the start of the expression.
func fileError(err error) *exprfile.Error {
	var fe *exprfile.Error
	if errors.As(err, &fe) {
		return fe
	}
	return &exprfile.Error{Message: err.Error()}
}

// rename replaces the language's Go type names in an expr message.
func (l *language) rename(msg string) string { return strings.TrimSpace(l.renamer.Replace(msg)) }

// exprError returns the diagnostic of an error of expr's optimizer or
// compiler, or of a static rule's evaluation.
func (s *stmt) exprError(l *language, err error) *Diagnostic {
	at, msg := l.runError(err)
	return s.errorAt(at, "%s", msg)
}

// runError returns where an error of expr's optimizer, compiler or VM
// happened (a rune offset) and its message: errors of evaluation are
// expr's own, or the language functions'.
func (l *language) runError(err error) (int, string) {
	fe := fileError(err)
	return fe.From, l.rename(fe.Message)
}

// unexpectedToken is the message of expr's parser for a token it did not
// expect (pinned by TestExprMessages).
func unexpectedToken(t lexer.Token) string { return "unexpected token " + t.String() }

// parseError returns where a parse error of src happened and what to say.
func (l *language) parseError(src string, cfg *conf.Config, err error) (int, string) {
	fe := fileError(err)
	// The parser stops at MaxNodes nodes. Parsed with twice the limit, a
	// rule that failed for its length gets further or through, and one
	// with a syntax error fails at the same place again.
	cfg.MaxNodes = 2 * MaxNodes
	if failsAt(src, cfg) != fe.From {
		return fe.From, fmt.Sprintf("the rule is too long: more than %d parts", MaxNodes)
	}
	sc := scan(src, fe.From)
	if !sc.reached {
		return fe.From, l.rename(fe.Message) // the lexer's error
	}
	// The end of the input and the last token share a location. With more
	// input, a rule that ran out of it fails further on or not at all, and
	// one that failed at a token of its own fails there again.
	if failsAt(src+"\n0", cfg) != fe.From {
		msg := "the rule ends too early"
		if sc.open != "" {
			msg += ": is a " + strconv.Quote(sc.open) + " missing?"
		}
		return fe.From, msg
	}
	if sc.found && fe.Message == unexpectedToken(sc.token) {
		return fe.From, "unexpected " + strconv.Quote(sc.token.Value)
	}
	return fe.From, l.rename(fe.Message)
}

// failsAt returns where parsing src fails (a rune offset), or -1.
func failsAt(src string, cfg *conf.Config) int {
	if _, err := parser.ParseWithConfig(src, cfg); err != nil {
		return fileError(err).From
	}
	return -1
}

// scanned is what expr's lexer reads of an expression.
type scanned struct {
	// reached is set when the lexer read up to the offset asked for: a
	// parse error there is not the lexer's.
	reached bool
	// token is the token at that offset, when found.
	token lexer.Token
	found bool
	// open is the bracket that closes the innermost one left open, when
	// the lexer read the whole expression ("" when none is open).
	open string
}

// closers are the brackets that close each opening one.
var closers = map[string]string{"(": ")", "[": "]", "{": "}"}

// scan lexes src, looking for the token at rune offset from.
func scan(src string, from int) scanned {
	var sc scanned
	var open []string
	lx := lexer.New()
	lx.Reset(exprfile.NewSource(src))
	for {
		t, err := lx.Next()
		if err != nil {
			if errors.Is(err, io.EOF) && len(open) > 0 {
				sc.open = open[len(open)-1]
			}
			return sc
		}
		if !sc.reached && t.From >= from {
			sc.reached, sc.token, sc.found = true, t, t.From == from
		}
		if t.Kind == lexer.Bracket {
			if c, ok := closers[t.Value]; ok {
				open = append(open, c)
			} else if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
}

// checkError returns where a type error of the checked tree happened and
// what to say: the explanation of the first problem the loader recognises
// there (see explainer), else expr's message.
func (l *language) checkError(tree *parser.Tree, err error) (int, string) {
	fe := fileError(err)
	x := &explainer{lang: l, at: fe.From, lets: map[string]bool{}}
	ast.Walk(&tree.Node, letNames(x.lets))
	ast.Walk(&tree.Node, x)
	if x.msg != "" {
		return fe.From, x.msg
	}
	return fe.From, l.rename(fe.Message)
}

// letNames collects the names of let declarations.
type letNames map[string]bool

func (n letNames) Visit(node *ast.Node) {
	if d, ok := (*node).(*ast.VariableDeclaratorNode); ok {
		n[d.Name] = true
	}
}

// explainer looks, in a tree the checker annotated and refused, for the
// problems the loader can describe itself at the error's location. Each
// kind has a rank, so that of two nodes at one location (a call and its
// callee, a call and its argument) the one that explains the error wins.
type explainer struct {
	lang *language
	at   int
	lets map[string]bool
	rank int
	msg  string
}

// The kinds of problem, by rank: lower explains better.
const (
	rankUnknownName = iota + 1
	rankUnknownField
	rankArgCount
	rankArgType
	rankCondition
)

func (x *explainer) found(rank int, msg string) {
	if x.msg == "" || rank < x.rank {
		x.rank, x.msg = rank, msg
	}
}

func (x *explainer) Visit(node *ast.Node) {
	l := x.lang
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Location().From == x.at && !x.known(n.Value) {
			x.found(rankUnknownName, l.unknownName(n.Value))
		}
	case *ast.MemberNode:
		p, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method || n.Location().From != x.at || n.Node.Type() != l.contactType {
			return
		}
		if _, ok := l.byName[p.Value]; !ok {
			fields := l.fieldNames()
			x.found(rankUnknownField, "contact has no field "+p.Value+suggest(p.Value, fields)+"; its fields are "+strings.Join(fields, ", "))
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || l.functionIndex[id.Value] == nil {
			return
		}
		f := l.functionIndex[id.Value]
		sig := f.signature()
		if len(n.Arguments) != sig.NumIn() {
			if n.Location().From == x.at {
				x.found(rankArgCount, f.countMessage(len(n.Arguments)))
			}
			return
		}
		for i, a := range n.Arguments {
			if t := a.Type(); a.Location().From == x.at && t != anyType && !t.AssignableTo(sig.In(i)) {
				x.found(rankArgType, fmt.Sprintf("cannot use %s as argument (type %s) to call %s", l.rename(t.String()), l.rename(sig.In(i).String()), f.name))
			}
		}
	case *ast.ConditionalNode:
		if t := n.Cond.Type(); n.Cond.Location().From == x.at && t != anyType && t != boolType {
			x.found(rankCondition, "a condition must be true or false (bool), not "+l.rename(t.String()))
		}
	}
}

// known reports whether a rule may use name: the environment, a function
// or builtin of the language, or a let variable.
func (x *explainer) known(name string) bool {
	return name == "contact" || name == "today" || name == "$env" ||
		x.lang.functionIndex[name] != nil || isBuiltin(name) || x.lets[name]
}

// unknownName explains a name the language does not know.
func (l *language) unknownName(name string) string {
	if name == "now" {
		return "now() is not available: a rule may not read the clock; use today (the run date)"
	}
	if _, ok := l.byName[name]; ok {
		return "unknown name " + name + " (did you mean contact." + name + "?)"
	}
	return "unknown name " + name + suggest(name, l.knownNames())
}

// countMessage explains a call of f with n arguments.
func (f *function) countMessage(n int) string {
	msg := "not enough arguments to call " + f.name
	if n > f.signature().NumIn() {
		msg = "too many arguments to call " + f.name
	}
	if f.sig != "" {
		msg += ": expected " + f.sig
	}
	return msg
}
