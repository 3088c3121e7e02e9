package dsl

import (
	"runtime/debug"
	"testing"

	"github.com/expr-lang/expr/parser"
)

// exprVersion returns the version of expr the test binary was built with,
// for messages.
func exprVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/expr-lang/expr" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// TestExprMessages pins the texts of expr that the loader recognises by
// their words: the parser's message for a token it did not expect, which
// the loader tells apart from the parser's other errors at a token only by
// its text (see exprerr.go). Each input is parsed by the expr of go.mod; a
// version that rewords the message fails here, instead of quietly turning
// `unexpected ","` back into expr's `unexpected token Operator(",")`.
//
// The loader decides every other message from the token, the node and the
// types at the error's location, not from expr's text; the golden files
// of testdata/errors pin those locations (a moved location falls back to
// expr's own message, which the goldens would show).
func TestExprMessages(t *testing.T) {
	tests := []struct{ src, msg string }{
		{"birthday_window(30,, 60)", `unexpected token Operator(",")`},
		{"year_round())", `unexpected token Bracket(")")`},
		{"1 2", `unexpected token Number("2")`},
		{`1 "a"`, `unexpected token String("a")`},
		{"1 x", `unexpected token Identifier("x")`},
	}
	l := defaultLanguage()
	for _, tt := range tests {
		_, err := parser.ParseWithConfig(tt.src, l.config(&patcher{lang: l}))
		if err == nil {
			t.Fatalf("%q parses with expr %s", tt.src, exprVersion())
		}
		fe := fileError(err)
		if fe.Message != tt.msg {
			t.Errorf("expr %s says %q for %q, the loader expects %q: update unexpectedToken", exprVersion(), fe.Message, tt.src, tt.msg)
		}
		sc := scan(tt.src, fe.From)
		if !sc.found || unexpectedToken(sc.token) != tt.msg {
			t.Errorf("%q: the token at %d is %v (found %v), its message %q", tt.src, fe.From, sc.token, sc.found, unexpectedToken(sc.token))
		}
	}
}
