// Package hostile builds adversarial inputs for the parsers of files a
// user names (rules, configuration) and checks that a parser stays within
// bounds on them: the fuzz targets and tests of those parsers share it.
package hostile

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// The bounds a parser must keep on any input of at most its file size
// limit: the bytes it allocates in all (an upper bound of the heap it
// adds) and, without the race detector, the time it takes.
const (
	MaxAlloc = 64 << 20
	MaxTime  = time.Second
)

// Input is one adversarial input with a name for messages.
type Input struct {
	Name string
	Data []byte
}

// Shapes returns adversarial inputs of about size bytes built around a
// line of the format under test: line itself (a key and separator such as
// "CA: " or "aep_dates: "), open and close (a nesting pair such as "(" and
// ")", or "[" and "]") and item (a list element such as "\"09-15\", ").
// They are: nesting opened and never closed, nesting closed (valid depth
// when the format allows it), one huge line of items, as many lines
// repeating line, the same item many times in one line, and binary data.
func Shapes(line, open, close, item string, size int) []Input {
	n := size / max(len(open)+len(close), 1)
	rep := func(s string, total int) string { return string(bytes.Repeat([]byte(s), max(total/max(len(s), 1), 1))) }
	bin := make([]byte, size)
	for i := range bin {
		bin[i] = byte(i*131 + i/7) // every byte value, NUL and invalid UTF-8 included
	}
	return []Input{
		{"deep open nesting", []byte(line + rep(open, size-len(line)))},
		{"deep closed nesting", []byte(line + rep(open, n/2) + "x" + rep(close, n/2) + "\n")},
		{"one huge line", []byte(line + open + rep(item, size-len(line)-2) + close + "\n")},
		{"many lines", []byte(rep(line+item+"\n", size))},
		{"binary", bin},
		{"binary after a line", append([]byte(line), bin[:size-len(line)]...)},
	}
}

// Bounded runs f on behalf of the input named name and fails t when f
// allocated more than MaxAlloc bytes or, unless the race detector slows
// everything down, took more than MaxTime.
func Bounded(t testing.TB, name string, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if testing.Verbose() {
		t.Logf("%s: allocated %s in %v", name, mib(alloc), took.Round(time.Millisecond))
	}
	if alloc > MaxAlloc {
		t.Errorf("%s: allocated %s, more than %s", name, mib(alloc), mib(MaxAlloc))
	}
	if !raceEnabled && took > MaxTime {
		t.Errorf("%s: took %v, more than %v", name, took, MaxTime)
	}
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
