package emailsched

import "fmt"

// State is a US state, the District of Columbia, a territory or an armed
// forces postal region, identified by its two-letter USPS code.
//
// It is a small integer so that rule tables can be arrays indexed by it. The
// zero value, NoState, means "unknown"; every other value is one of the
// codes listed in States. Obtain one with ParseState.
type State uint8

// NoState is the zero State: no known state.
const NoState State = 0

// stateCodes lists every code in a fixed order; a State is its index + 1.
// The order is part of nothing but this table: never persist a State's
// number, persist its String.
var stateCodes = [...]string{
	"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA",
	"HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD",
	"MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
	"NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC",
	"SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
	"DC", "PR", "VI", "GU", "AS", "MP", "UM", "FM", "MH", "PW",
	"AA", "AE", "AP",
}

// NumStates is the number of valid State values; valid States are 1 through
// NumStates, so [NumStates + 1]T is a table indexed by State.
const NumStates = len(stateCodes)

// stateByLetters maps a two-letter code, as (first − 'A') × 26 + (second −
// 'A') of its upper-case form, to its State (NoState for unknown codes): a
// table rather than a map, because every contact of every run parses one.
var stateByLetters = func() (t [26 * 26]State) {
	for i, c := range stateCodes {
		t[int(c[0]-'A')*26+int(c[1]-'A')] = State(i + 1)
	}
	return t
}()

// States returns every valid State in table order.
func States() []State {
	out := make([]State, NumStates)
	for i := range out {
		out[i] = State(i + 1)
	}
	return out
}

// ParseState returns the State of a two-letter code, ignoring case and
// surrounding spaces ("ca", " CA "). It reports false for anything else,
// including the empty string.
func ParseState(code string) (State, bool) {
	i, j := 0, len(code)
	for i < j && code[i] == ' ' {
		i++
	}
	for j > i && code[j-1] == ' ' {
		j--
	}
	if j-i != 2 {
		return NoState, false
	}
	// Setting bit 0x20 lower-cases an ASCII letter; any other byte lands
	// outside 'a' … 'z'.
	a, b := (code[i]|0x20)-'a', (code[i+1]|0x20)-'a'
	if a >= 26 || b >= 26 {
		return NoState, false
	}
	s := stateByLetters[int(a)*26+int(b)]
	return s, s != NoState
}

// MustState is ParseState for literal codes in tables and tests; it panics
// on an unknown code and must not be used on input.
func MustState(code string) State {
	s, ok := ParseState(code)
	if !ok {
		panic(fmt.Sprintf("emailsched: unknown state code %q", code))
	}
	return s
}

// Valid reports whether s is one of the known codes (not NoState).
func (s State) Valid() bool { return s >= 1 && int(s) <= NumStates }

// String returns the two-letter code, or "" for NoState and invalid values.
func (s State) String() string {
	if !s.Valid() {
		return ""
	}
	return stateCodes[s-1]
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is NoState.
func (s *State) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = NoState
		return nil
	}
	v, ok := ParseState(string(b))
	if !ok {
		return fmt.Errorf("emailsched: unknown state code %q", b)
	}
	*s = v
	return nil
}
