package rules

import "github.com/emailsched/emailsched"

// ZIP-to-state resolution.
//
// The tables are compiled in, generated from the list of US ZIP Codes in
// testdata/zip/us-zip-states.csv (GeoNames merged with a USPS-derived list;
// its header names the sources and their licences), so that no network or
// file is consulted at run time and a fix is a data change plus
// `go generate ./rules`, reviewable line by line.
//
// How a ZIP is resolved, and why:
//   - A ZIP of the list gets the list's state, except where the generator
//     (rules/internal/zipgen) overrides it, each override with its reason:
//     Wake Island's 96898 is UM, not the list's HI, because Hawaii's rules
//     do not reach it.
//   - A ZIP not in the list gets the state of most of the listed ZIPs of its
//     3-digit prefix. USPS assigns a prefix to one sorting facility, so a ZIP
//     created after the list was taken, or one the list missed, is almost
//     surely in the facility's state, and answering it beats falling back to
//     a state field that may be missing. The few prefixes that several
//     states share have a clear majority, the facility's state (063 is
//     Connecticut's, with Fishers Island NY as its one exception; 969 is
//     Guam's, with the ZIPs of four other Pacific jurisdictions).
//   - A prefix that no listed ZIP uses resolves to nothing, so that a
//     mistyped ZIP falls back to the contact's state field rather than to a
//     state chosen by accident; the generator keeps two exceptions (771 TX,
//     872 NM) from the hand-written table that preceded the list.

//go:generate go run zip_generate.go

// zipPrefixRange assigns the 3-digit prefixes lo through hi to code (the
// generated zipPrefixRanges).
type zipPrefixRange struct {
	lo, hi uint16
	code   string
}

// zipException assigns the 5-digit ZIPs lo through hi, all of one prefix,
// to state, overriding the prefix's (the generated zipExceptions).
type zipException struct {
	lo, hi uint32
	state  emailsched.State
}

// zipByPrefix maps every 3-digit prefix to its State (NoState when no ZIP
// uses it). An array rather than the ranges, because every contact of every
// run is looked up.
var zipByPrefix = func() (t [1000]emailsched.State) {
	for _, r := range zipPrefixRanges {
		s := emailsched.MustState(r.code)
		for p := r.lo; p <= r.hi; p++ {
			t[p] = s
		}
	}
	return t
}()

// zipHasException flags the prefixes that have at least one exception, so
// that ordinary lookups skip the search.
var zipHasException = func() (t [1000]bool) {
	for _, e := range zipExceptions {
		t[e.lo/100] = true
	}
	return t
}()

// StateFromZIP returns the state a US ZIP Code belongs to. It accepts
// 5-digit ZIPs and ZIP+4 in the forms "12345-6789" and "123456789", with
// optional surrounding spaces or tabs. It reports false for anything that is
// not a ZIP Code and for ZIPs of a prefix that no ZIP uses (see above), so
// that the caller falls back to the contact's state field. It does not
// allocate.
func StateFromZIP(zip string) (emailsched.State, bool) {
	i, j := 0, len(zip)
	for i < j && isSpace(zip[i]) {
		i++
	}
	for j > i && isSpace(zip[j-1]) {
		j--
	}
	z := zip[i:j]
	switch {
	case len(z) == 5:
	case len(z) == 9 && allDigits(z[5:]):
	case len(z) == 10 && z[5] == '-' && allDigits(z[6:]):
	default:
		return emailsched.NoState, false
	}
	if !allDigits(z[:5]) {
		return emailsched.NoState, false
	}
	prefix := uint32(z[0]-'0')*100 + uint32(z[1]-'0')*10 + uint32(z[2]-'0')
	if zipHasException[prefix] {
		if s, ok := zipExceptionState(prefix*100 + uint32(z[3]-'0')*10 + uint32(z[4]-'0')); ok {
			return s, true
		}
	}
	s := zipByPrefix[prefix]
	return s, s != emailsched.NoState
}

// zipExceptionState returns the state of the exception holding the 5-digit ZIP
// n, by binary search, so that a longer list costs a step or two more, not
// a scan.
func zipExceptionState(n uint32) (emailsched.State, bool) {
	// lo ends as the number of exceptions that start at or before n.
	lo, hi := 0, len(zipExceptions)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if zipExceptions[m].lo <= n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo > 0 && n <= zipExceptions[lo-1].hi {
		return zipExceptions[lo-1].state, true
	}
	return emailsched.NoState, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
