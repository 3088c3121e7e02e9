package dsl

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a rules file: Line and Column count from 1, Column
// in characters (runes, a tab counts as one), and Byte is the 0-based byte
// offset in the file.
type Pos struct {
	Line, Column, Byte int
}

// Diagnostic is one problem found in a rules file.
type Diagnostic struct {
	// File is the file's name as given to the loader.
	File string
	// Line and Column locate the fault in the file (not in the
	// expression): both count from 1, Column in characters.
	Line, Column int
	// Message says what is wrong and what was expected.
	Message string
	// Snippet is the source line, prefixed with its number, and a caret
	// under Column; empty when the file has no such line.
	Snippet string
}

// Error renders the diagnostic as "file:line:col: message", followed by the
// snippet on the next lines.
func (d *Diagnostic) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
	if d.Snippet != "" {
		s += "\n" + d.Snippet
	}
	return s
}

// Diagnostics is every problem found while loading rules files. It is the
// error type of the loaders: use errors.As to get it.
type Diagnostics []*Diagnostic

// Error renders every diagnostic, in order of file, line and column,
// separated by blank lines.
func (ds Diagnostics) Error() string {
	parts := make([]string, len(ds))
	for i, d := range ds.sorted() {
		parts[i] = d.Error()
	}
	return strings.Join(parts, "\n\n")
}

// sorted returns the diagnostics ordered by file, line, column and message.
func (ds Diagnostics) sorted() Diagnostics {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b *Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Message, b.Message))
	})
	return out
}

// MaxDiagnostics bounds the problems reported for one set of rules files:
// a file of a million bad lines gets this many, and a last one that says
// how many more there were.
const MaxDiagnostics = 50

// diagList collects diagnostics up to MaxDiagnostics and counts the others.
type diagList struct {
	items Diagnostics
	more  int
}

func (l *diagList) add(d *Diagnostic) {
	if l.full() {
		l.more++
		return
	}
	l.items = append(l.items, d)
}

// addf adds the diagnostic mk makes, making it only when it is kept: a
// diagnostic's position and snippet cost time on a long line.
func (l *diagList) addf(mk func() *Diagnostic) {
	if l.full() {
		l.more++
		return
	}
	l.items = append(l.items, mk())
}

// full reports whether further diagnostics are only counted.
func (l *diagList) full() bool { return len(l.items) >= MaxDiagnostics }

// count is the number of problems found.
func (l *diagList) count() int { return len(l.items) + l.more }

// result returns the diagnostics in order, and last, when there were more
// than MaxDiagnostics, one that says how many more, and how many rules
// were not checked at all (at the position of the last shown, a column
// after it, so that it sorts last).
func (l *diagList) result(unchecked int) Diagnostics {
	out := l.items.sorted()
	if l.more > 0 || unchecked > 0 {
		last := out[len(out)-1]
		msg := fmt.Sprintf("and %d more problems", l.more)
		if unchecked > 0 {
			msg += fmt.Sprintf("; %d more rules were not checked", unchecked)
		}
		out = append(out, &Diagnostic{File: last.File, Line: last.Line, Column: last.Column + 1, Message: msg})
	}
	return out
}
