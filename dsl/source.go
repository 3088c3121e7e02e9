package dsl

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emailsched/emailsched/internal/snippet"
)

// MaxFileSize bounds the size of one rules file, in bytes: a rule table is
// a few kilobytes; anything near this limit is not a rules file.
const MaxFileSize = 1 << 20

// file is one rules file split into lines.
type file struct {
	name  string
	lines []string // without the newline and a trailing carriage return
	// starts holds the byte offset of each line.
	starts []int
}

func newFile(name string, text string) *file {
	n := strings.Count(text, "\n") + 1
	f := &file{name: name, lines: make([]string, 0, n), starts: make([]int, 0, n)}
	off := 0
	for {
		i := strings.IndexByte(text[off:], '\n')
		line := text[off:]
		if i >= 0 {
			line = text[off : off+i]
		}
		f.starts = append(f.starts, off)
		f.lines = append(f.lines, strings.TrimSuffix(line, "\r"))
		if i < 0 {
			return f
		}
		off += i + 1
	}
}

// pos returns the position of byte offset off of line n (1-based).
func (f *file) pos(n, off int) Pos {
	return Pos{Line: n, Column: utf8.RuneCountInString(f.lines[n-1][:off]) + 1, Byte: f.starts[n-1] + off}
}

// diag returns a diagnostic at p.
func (f *file) diag(p Pos, format string, args ...any) *Diagnostic {
	d := &Diagnostic{File: f.name, Line: p.Line, Column: p.Column, Message: fmt.Sprintf(format, args...)}
	if p.Line >= 1 && p.Line <= len(f.lines) {
		d.Snippet = snippet.Render(p.Line, f.lines[p.Line-1], p.Column)
	}
	return d
}

// stmt is one statement of a rules file: "KEY: TEXT", where TEXT may go on
// over indented continuation lines.
type stmt struct {
	file   *file
	key    string
	keyPos Pos
	// text is the statement's value (a rule expression or a setting's
	// value) without comments, its lines joined by "\n".
	text []byte
	// segs are the pieces of lines text is made of, in order; end is the
	// position just after its last rune. Positions are computed when a
	// diagnostic asks (at), not kept per rune: a hostile file may hold a
	// megabyte-long statement.
	segs  []segment
	runes int // the runes of text
	end   Pos
}

// segment is one line's part of a statement's text: the bytes off … of
// line n, which start at rune index rune of the text. A segment after the
// first follows the "\n" that joins it to the previous line, at rune
// index rune-1.
type segment struct {
	n, off, rune int
	start        Pos // the position of the segment's first rune
}

// at returns the file position of rune index i of the statement's text;
// indexes past the text give the position after its end. The "\n" that
// joins two lines sits where the earlier line ended.
func (s *stmt) at(i int) Pos {
	if i < 0 || i >= s.runes {
		return s.end
	}
	k := len(s.segs) - 1
	for s.segs[k].rune > i {
		k--
	}
	g := s.segs[k]
	runes := s.runes - g.rune // the runes of segment k
	if k+1 < len(s.segs) {
		runes = s.segs[k+1].rune - 1 - g.rune
	}
	d := min(i-g.rune, runes) // runes is the joining newline's index
	line := s.file.lines[g.n-1]
	b := g.off
	for range d {
		_, size := utf8.DecodeRuneInString(line[b:])
		b += size
	}
	return Pos{Line: g.n, Column: g.start.Column + d, Byte: s.file.starts[g.n-1] + b}
}

// appendText adds the bytes off … end-1 of line n to the statement's text.
func (s *stmt) appendText(n, off, end int) {
	if len(s.segs) > 0 {
		// the newline joining two lines sits where the previous one ended
		s.text = append(s.text, '\n')
		s.runes++
	}
	p := s.file.pos(n, off)
	s.segs = append(s.segs, segment{n: n, off: off, rune: s.runes, start: p})
	part := s.file.lines[n-1][off:end]
	count := utf8.RuneCountInString(part)
	s.runes += count
	s.text = append(s.text, part...)
	s.end = Pos{Line: n, Column: p.Column + count, Byte: s.file.starts[n-1] + end}
}

// commentStart returns the byte offset where a comment begins in line (a
// "#" outside a string literal), or len(line).
func commentStart(line string) int {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == '\\' && quote != '`':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '#':
			return i
		}
	}
	return len(line)
}

// isSpace reports whether c is a blank inside a line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// statements splits a file into statements, reporting lines that are none.
func statements(f *file, diags *diagList) []*stmt {
	var out []*stmt
	var cur *stmt
	for i, line := range f.lines {
		n := i + 1
		end := commentStart(line)
		for end > 0 && isSpace(line[end-1]) {
			end--
		}
		start := 0
		for start < end && isSpace(line[start]) {
			start++
		}
		if start == end {
			continue // blank or comment
		}
		if start > 0 {
			if cur == nil {
				if diags.full() {
					diags.more++ // a closure per line of a hostile file costs more
				} else {
					diags.add(f.diag(f.pos(n, start),
						`indented line continues nothing: a statement starts at the beginning of a line, e.g. "CA: birthday_window(30, 60)"`))
				}
				continue
			}
			cur.appendText(n, start, end)
			continue
		}
		colon := strings.IndexByte(line[:end], ':')
		if colon < 0 {
			cur = nil
			if diags.full() {
				diags.more++
			} else {
				diags.add(f.diag(f.pos(n, 0), `expected "STATES: rule" or "setting: value", found no ":"`))
			}
			continue
		}
		cur = &stmt{file: f, key: line[:colon], keyPos: f.pos(n, 0)}
		v := colon + 1
		for v < end && isSpace(line[v]) {
			v++
		}
		cur.appendText(n, v, end)
		out = append(out, cur)
	}
	return out
}
