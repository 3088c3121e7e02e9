package ident

import "testing"

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want bool
	}{
		{"a", 4, true}, {"rate_increase", 64, true}, {"x9_", 4, true}, {"abcd", 4, true},
		{"", 4, false}, {"9a", 4, false}, {"_a", 4, false}, {"Ab", 4, false}, {"a-b", 4, false}, {"a b", 4, false},
		{"abcde", 4, false},
	} {
		if got := Valid(tc.s, tc.max); got != tc.want {
			t.Errorf("Valid(%q, %d) = %v, want %v", tc.s, tc.max, got, tc.want)
		}
	}
}
