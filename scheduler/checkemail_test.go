package scheduler

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// checkEmailReference is checkEmail as first written, trimming every
// address: checkEmail, which trims only addresses with a space or a
// non-ASCII byte at an end, must agree with it.
func checkEmailReference(addr string) InvalidReason {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return InvalidNoEmail
	}
	at := strings.IndexByte(addr, '@')
	if len(addr) > 254 || at < 1 || strings.IndexByte(addr[at+1:], '@') >= 0 {
		return InvalidEmail
	}
	domain := addr[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot < 1 || dot == len(domain)-1 || domain[0] == '.' {
		return InvalidEmail
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] <= ' ' || addr[i] == 0x7f {
			return InvalidEmail
		}
	}
	return ""
}

var checkEmailSeeds = []string{
	"", " ", "\t\n", "a@b.co", " a@b.co ", "\u00a0a@b.co\u00a0", "\u3000a@b.co", "a@b.co\u0085",
	"@b.co", "a@@b.co", "a@b@c.co", "a@.b.co", "a@b.", "a@b", "a@bco.", "a.b@co", "a.b@c.o", "a@b..co",
	"a b@c.co", "a\x7f@b.co", "a@b.c\x00o", "\x01a@b.co", "é@b.co", "a@b.cé", "\xffa@b.co\xff",
	strings.Repeat("a", 250) + "@b.co", strings.Repeat("a", 248) + "@b.co", " " + strings.Repeat("a", 248) + "@b.co ",
}

// TestCheckEmailTrimming compares checkEmail with its reference on the
// seeds and on random strings over the bytes that matter to it.
func TestCheckEmailTrimming(t *testing.T) {
	alphabet := []string{"a", "Z", "0", "@", ".", " ", "\t", "\x7f", "\x00", "\u00a0", "\u2003", "é", "\xff", "-", "+"}
	rng := rand.New(rand.NewPCG(3, 5))
	in := append([]string(nil), checkEmailSeeds...)
	for range 200_000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in = append(in, b.String())
	}
	for _, s := range in {
		if got, want := checkEmail(s), checkEmailReference(s); got != want {
			t.Fatalf("checkEmail(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCheckEmail(f *testing.F) {
	for _, s := range checkEmailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := checkEmail(s), checkEmailReference(s); got != want {
			t.Fatalf("checkEmail(%q) = %q, want %q", s, got, want)
		}
	})
}
