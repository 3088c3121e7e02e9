package emailsched_test

import (
	"encoding"
	"fmt"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
)

// Compile-time checks: State is usable as text in JSON, flags and configs.
var (
	_ encoding.TextMarshaler   = emailsched.State(0)
	_ encoding.TextUnmarshaler = (*emailsched.State)(nil)
	_ fmt.Stringer             = emailsched.State(0)
)

func TestParseState(t *testing.T) {
	tests := []struct {
		in     string
		want   string // String of the State; "" with ok false
		wantOK bool
	}{
		{"CA", "CA", true},
		{"ca", "CA", true},
		{"Ca", "CA", true},
		{"cA", "CA", true},
		{" CA ", "CA", true},
		{"   ny", "NY", true},
		{"tx   ", "TX", true},
		{"DC", "DC", true},
		{"pr", "PR", true},
		{"AA", "AA", true},
		{"ap", "AP", true},
		{"", "", false},
		{" ", "", false},
		{"  ", "", false},
		{"C", "", false},
		{" C ", "", false},
		{"CAL", "", false},
		{"C A", "", false},
		{"X1", "", false},
		{"XX", "", false},
		{"12", "", false},
		{"ZZ", "", false},
		{"\tCA", "", false}, // only spaces are trimmed
		{"CA\n", "", false},
		{"California", "", false},
		{"é", "", false}, // two bytes, not two letters
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, ok := emailsched.ParseState(tc.in)
			if ok != tc.wantOK {
				t.Fatalf("ParseState(%q) ok = %v, want %v", tc.in, ok, tc.wantOK)
			}
			if got.String() != tc.want {
				t.Errorf("ParseState(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !ok && got != emailsched.NoState {
				t.Errorf("ParseState(%q) = %d with ok false, want NoState", tc.in, got)
			}
			if ok != got.Valid() {
				t.Errorf("ParseState(%q): ok = %v but Valid() = %v", tc.in, ok, got.Valid())
			}
		})
	}
}

func TestStatesRoundTrip(t *testing.T) {
	all := emailsched.States()
	if len(all) != emailsched.NumStates {
		t.Fatalf("len(States()) = %d, want NumStates = %d", len(all), emailsched.NumStates)
	}
	// 50 states, DC, 5 inhabited territories + UM, 3 freely associated
	// states, 3 armed forces regions.
	if emailsched.NumStates != 63 {
		t.Errorf("NumStates = %d, want 63", emailsched.NumStates)
	}
	seen := make(map[string]bool, len(all))
	for i, s := range all {
		if int(s) != i+1 {
			t.Errorf("States()[%d] = %d, want %d (table order)", i, s, i+1)
		}
		if !s.Valid() {
			t.Errorf("States()[%d] = %d is not Valid", i, s)
		}
		code := s.String()
		if len(code) != 2 || strings.ToUpper(code) != code {
			t.Errorf("State %d String() = %q, want two upper-case letters", s, code)
		}
		if seen[code] {
			t.Errorf("code %q appears twice", code)
		}
		seen[code] = true
		for _, in := range []string{code, strings.ToLower(code), " " + code + " "} {
			got, ok := emailsched.ParseState(in)
			if !ok || got != s {
				t.Errorf("ParseState(%q) = %v, %v; want %v, true", in, got, ok, s)
			}
		}
		if got := emailsched.MustState(code); got != s {
			t.Errorf("MustState(%q) = %v, want %v", code, got, s)
		}
	}
	// States returns a fresh slice each time.
	all[0] = emailsched.NoState
	if emailsched.States()[0] == emailsched.NoState {
		t.Error("States() shares its backing array between calls")
	}
}

func TestMustStatePanics(t *testing.T) {
	for _, in := range []string{"", "C", "CAL", "X1", "ZZ"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("MustState(%q) did not panic", in)
				}
				msg := fmt.Sprint(r)
				if !strings.Contains(msg, "unknown state code") || !strings.Contains(msg, fmt.Sprintf("%q", in)) {
					t.Errorf("MustState(%q) panic %q, want it to name the unknown code", in, msg)
				}
			}()
			emailsched.MustState(in)
		})
	}
}

func TestStateValidString(t *testing.T) {
	tests := []struct {
		s         emailsched.State
		wantValid bool
		want      string
	}{
		{emailsched.NoState, false, ""},
		{1, true, "AL"},
		{emailsched.MustState("WY"), true, "WY"},
		{emailsched.State(emailsched.NumStates), true, "AP"},
		{emailsched.State(emailsched.NumStates + 1), false, ""},
		{200, false, ""},
		{255, false, ""},
	}
	for _, tc := range tests {
		if got := tc.s.Valid(); got != tc.wantValid {
			t.Errorf("State(%d).Valid() = %v, want %v", uint8(tc.s), got, tc.wantValid)
		}
		if got := tc.s.String(); got != tc.want {
			t.Errorf("State(%d).String() = %q, want %q", uint8(tc.s), got, tc.want)
		}
	}
}

func TestStateMarshalText(t *testing.T) {
	tests := []struct {
		s    emailsched.State
		want string
	}{
		{emailsched.MustState("CA"), "CA"},
		{emailsched.MustState("dc"), "DC"},
		{emailsched.NoState, ""},
		{255, ""},
	}
	for _, tc := range tests {
		b, err := tc.s.MarshalText()
		if err != nil {
			t.Errorf("State(%d).MarshalText() error %v", uint8(tc.s), err)
		}
		if string(b) != tc.want {
			t.Errorf("State(%d).MarshalText() = %q, want %q", uint8(tc.s), b, tc.want)
		}
	}
	// Every valid State round-trips through MarshalText/UnmarshalText.
	for _, s := range emailsched.States() {
		b, _ := s.MarshalText()
		var got emailsched.State
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("round trip of %v: got %v, %v", s, got, err)
		}
	}
}

func TestStateUnmarshalText(t *testing.T) {
	tests := []struct {
		in      string
		want    emailsched.State
		wantErr bool
	}{
		{"", emailsched.NoState, false},
		{"CA", emailsched.MustState("CA"), false},
		{"ny", emailsched.MustState("NY"), false},
		{" tx ", emailsched.MustState("TX"), false},
		{"ZZ", emailsched.NoState, true},
		{"CAL", emailsched.NoState, true},
		{"X1", emailsched.NoState, true},
		{" ", emailsched.NoState, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			// Start from a non-zero value: "" must reset it to NoState, and
			// an error must leave it unchanged.
			start := emailsched.MustState("WA")
			got := start
			err := got.UnmarshalText([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("UnmarshalText(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
					t.Errorf("UnmarshalText(%q) error %q does not name the input", tc.in, err)
				}
				if got != start {
					t.Errorf("UnmarshalText(%q) failed but changed the State to %v", tc.in, got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	var s emailsched.State
	if err := s.UnmarshalText(nil); err != nil || s != emailsched.NoState {
		t.Errorf("UnmarshalText(nil) = %v, %v; want NoState, nil", s, err)
	}
}

// ParseState reads every two-byte code, padded with spaces or not, as the
// upper-case code of a known state or as nothing.
func TestParseStateEveryTwoBytes(t *testing.T) {
	known := map[string]emailsched.State{}
	for _, s := range emailsched.States() {
		known[s.String()] = s
	}
	for a := range 256 {
		for b := range 256 {
			code := string([]byte{byte(a), byte(b)})
			want, wantOK := known[strings.ToUpper(code)]
			if a >= 0x80 || b >= 0x80 {
				want, wantOK = emailsched.NoState, false // ToUpper maps no such byte to a letter here
			}
			for _, in := range []string{code, " " + code + "  "} {
				if got, ok := emailsched.ParseState(in); got != want || ok != wantOK {
					t.Fatalf("ParseState(%q) = %v, %v; want %v, %v", in, got, ok, want, wantOK)
				}
			}
		}
	}
}
