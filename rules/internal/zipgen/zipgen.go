// Package zipgen compiles the committed ZIP list (testdata/zip) into the
// tables of rules.StateFromZIP, so that the 42,000-line list is read once, at
// `go generate` time, and a lookup is a couple of array reads.
//
// The list is the authority. The generator adds nothing to it but the
// overrides below, each with the reason the library answers differently.
package zipgen

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"go/format"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/emailsched/emailsched"
)

// zipOverride makes StateFromZIP answer code for zip instead of the list's
// state.
type zipOverride struct {
	zip  uint32
	code string
	why  string
}

// zipOverrides are the deliberate disagreements with the list. Generate
// fails when an override no longer disagrees with the list (the ZIP is gone
// or the list now says the same), so that a stale one is reviewed rather
// than carried along.
var zipOverrides = []zipOverride{
	{96898, "UM", "Wake Island: both lists give HI, USPS's routing state for " +
		"its mail, but the island is a US minor outlying island, not part of " +
		"Hawaii, so Hawaii's rules do not apply to it"},
}

// prefixOverride gives a state to a 3-digit prefix that no ZIP of the list
// uses.
type prefixOverride struct {
	prefix uint32
	code   string
	why    string
}

// prefixOverrides are the prefixes that resolve although the list has no
// ZIP in them. Generate fails when the list gains a ZIP in one of them, so
// that the list then decides.
var prefixOverrides = []prefixOverride{
	{771, "TX", "kept from the hand-written table that preceded the list: " +
		"no ZIP of the list uses 771, so the list cannot overrule it, and the " +
		"prefix lies among Houston's (770, 772), so a ZIP created there, or " +
		"one mistyped by a digit, is most likely Texan"},
	{872, "NM", "kept from the hand-written table that preceded the list: " +
		"no ZIP of the list uses 872, so the list cannot overrule it, and the " +
		"prefix lies among Albuquerque's (870, 871), so a ZIP created there, " +
		"or one mistyped by a digit, is most likely in New Mexico"},
}

// Entry is one line of the list.
type Entry struct {
	ZIP   uint32
	State emailsched.State
}

// ParseList reads the list: lines "zip,state" with a 5-digit ZIP and an
// upper-case state code, ZIPs strictly ascending; empty lines and lines
// starting with '#' are comments. It is strict so that a bad edit of the
// data fails generation instead of dropping or misplacing a ZIP.
func ParseList(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		zip, code, ok := strings.Cut(text, ",")
		n, err := strconv.ParseUint(zip, 10, 32)
		if !ok || len(zip) != 5 || err != nil {
			return nil, fmt.Errorf("line %d: %q is not \"zip,state\" with a 5-digit ZIP", line, text)
		}
		s, ok := emailsched.ParseState(code)
		if !ok || s.String() != code {
			return nil, fmt.Errorf("line %d: %q: unknown state code %q", line, text, code)
		}
		if len(out) > 0 && uint32(n) <= out[len(out)-1].ZIP {
			return nil, fmt.Errorf("line %d: %q: ZIP not after %05d", line, text, out[len(out)-1].ZIP)
		}
		out = append(out, Entry{uint32(n), s})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the list has no ZIP")
	}
	return out, nil
}

// applyOverrides returns the list with zipOverrides applied.
func applyOverrides(list []Entry, overrides []zipOverride) ([]Entry, error) {
	out := append([]Entry(nil), list...)
	for _, o := range overrides {
		s := emailsched.MustState(o.code)
		i, found := slices.BinarySearchFunc(out, o.zip, func(e Entry, zip uint32) int { return cmp.Compare(e.ZIP, zip) })
		if !found || out[i].State == s {
			return nil, fmt.Errorf("override %05d %s no longer disagrees with the list: remove it", o.zip, o.code)
		}
		out[i].State = s
	}
	return out, nil
}

// span assigns lo through hi (prefixes or ZIPs, inclusive) to a state.
type span struct {
	lo, hi uint32
	state  emailsched.State
}

// tables derives the prefix ranges and the 5-digit exceptions.
//
// Every prefix gets the state of most of its listed ZIPs, which applies to
// its unlisted ZIPs too: USPS assigns a prefix to one sorting facility, so a
// ZIP missing from the list (created since, say) is almost surely in the
// facility's state. Where several states share a prefix, the minority's
// listed ZIPs become exceptions; they are few (Fishers Island NY in
// Connecticut's 063) and the majority is clear, so a tie is an error that
// calls for a decision here rather than an arbitrary pick.
func tables(list []Entry, prefixes []prefixOverride) (ranges, exceptions []span, err error) {
	var byPrefix [1000]emailsched.State
	for i := 0; i < len(list); {
		p := list[i].ZIP / 100
		var count [emailsched.NumStates + 1]int
		j := i
		for ; j < len(list) && list[j].ZIP/100 == p; j++ {
			count[list[j].State]++
		}
		top := list[i].State
		for s, n := range count {
			if n > count[top] {
				top = emailsched.State(s)
			}
		}
		for s, n := range count {
			if n == count[top] && emailsched.State(s) != top {
				return nil, nil, fmt.Errorf("prefix %03d: as many ZIPs of %s as of %s: the generator needs a rule for it", p, top, emailsched.State(s))
			}
		}
		byPrefix[p] = top
		for k := i; k < j; k++ {
			e := list[k]
			if e.State == top {
				continue
			}
			if n := len(exceptions); n > 0 && exceptions[n-1].state == e.State && exceptions[n-1].hi == e.ZIP-1 {
				exceptions[n-1].hi = e.ZIP
				continue
			}
			exceptions = append(exceptions, span{e.ZIP, e.ZIP, e.State})
		}
		i = j
	}
	for _, o := range prefixes {
		if byPrefix[o.prefix] != emailsched.NoState {
			return nil, nil, fmt.Errorf("prefix override %03d %s: the list now has ZIPs there: remove it", o.prefix, o.code)
		}
		byPrefix[o.prefix] = emailsched.MustState(o.code)
	}
	for p, s := range byPrefix {
		if s == emailsched.NoState {
			continue
		}
		if n := len(ranges); n > 0 && ranges[n-1].hi == uint32(p-1) && ranges[n-1].state == s {
			ranges[n-1].hi = uint32(p)
			continue
		}
		ranges = append(ranges, span{uint32(p), uint32(p), s})
	}
	return ranges, exceptions, nil
}

// Generate returns the Go source of the tables for the list read from r.
func Generate(r io.Reader) ([]byte, error) {
	list, err := ParseList(r)
	if err != nil {
		return nil, err
	}
	return generate(list, zipOverrides, prefixOverrides)
}

func generate(list []Entry, zips []zipOverride, prefixes []prefixOverride) ([]byte, error) {
	list, err := applyOverrides(list, zips)
	if err != nil {
		return nil, err
	}
	ranges, exceptions, err := tables(list, prefixes)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by zip_generate.go from testdata/zip/us-zip-states.csv; DO NOT EDIT.

package rules

import "github.com/emailsched/emailsched"

// zipPrefixRanges assigns the 3-digit prefixes lo through hi to code, the
// state of most of their ZIPs. Prefixes not listed have no ZIP.
// Generated from the %d ZIPs of the list, %d ZIP and %d prefix overrides.
var zipPrefixRanges = [...]zipPrefixRange{
`, len(list), len(zips), len(prefixes))
	for _, r := range ranges {
		fmt.Fprintf(&b, "{%d, %d, %q},\n", r.lo, r.hi, r.state)
	}
	b.WriteString(`}

// zipExceptions are the ZIPs lo through hi whose state is not their
// prefix's, in ascending order.
var zipExceptions = [...]zipException{
`)
	for _, e := range exceptions {
		fmt.Fprintf(&b, "{%d, %d, emailsched.MustState(%q)}, // %05d", e.lo, e.hi, e.state, e.lo)
		if e.hi != e.lo {
			fmt.Fprintf(&b, "-%05d", e.hi)
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// WriteFile generates the tables from the list at listPath into outPath.
func WriteFile(listPath, outPath string) error {
	f, err := os.Open(listPath)
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := Generate(f)
	if err != nil {
		return fmt.Errorf("%s: %w", listPath, err)
	}
	return os.WriteFile(outPath, src, 0o644)
}
