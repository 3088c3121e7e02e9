package rules_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// defaultChecksum is the checksum of rules.Default(), observed once and
// hard-coded: it must never change unless the default rules change, since
// every stored plan names the rules that produced it.
const defaultChecksum = "sha256:73606e5e60970c452b4b8a9ac40af02362739795f9b66d891ecb07b3465466cb"

// defaultCanonical is the canonical text the default checksum is the SHA-256
// of (states in emailsched.States order); it was checked with sha256sum.
const defaultCanonical = `pre_window_buffer: 60
CA: birthday_window(30, 60)
CT: year_round()
ID: birthday_window(0, 63)
KY: birthday_window(0, 60)
MD: birthday_window(0, 30)
MA: year_round()
MO: effective_date_window(30, 33)
NV: birthday_window(0, 60).from_month_start()
NY: year_round()
OK: birthday_window(0, 60)
OR: birthday_window(0, 31)
VA: birthday_window(0, 30)
WA: year_round()
`

func TestDefaultChecksum(t *testing.T) {
	if got := rules.Default().Checksum(); got != defaultChecksum {
		t.Errorf("Default().Checksum() = %q, want %q", got, defaultChecksum)
	}
	sum := sha256.Sum256([]byte(defaultCanonical))
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != defaultChecksum {
		t.Errorf("sha256 of the canonical text = %q, want %q", got, defaultChecksum)
	}
	// The same table built by hand, with another name and other origins,
	// has the same checksum: only the rules and the buffer count.
	s := mustBuild(t, rules.Options{Buffer: 60, Name: "default.rules"}, defaultEntries()...)
	if got := s.Checksum(); got != defaultChecksum {
		t.Errorf("Build(defaultEntries).Checksum() = %q, want %q", got, defaultChecksum)
	}
}

// TestChecksumChanges: any change to a rule or the buffer changes the
// checksum.
func TestChecksumChanges(t *testing.T) {
	change := func(f func([]rules.Entry) []rules.Entry) []rules.Entry { return f(defaultEntries()) }
	tests := []struct {
		name    string
		buffer  int
		entries []rules.Entry
	}{
		{"buffer 59", 59, defaultEntries()},
		{"CA after 61", 60, change(func(e []rules.Entry) []rules.Entry {
			e[0].Rule = rules.Windows(rules.BirthdayWindow(30, 61))
			return e
		})},
		{"NV without month start", 60, change(func(e []rules.Entry) []rules.Entry {
			e[4].Rule = rules.Windows(rules.BirthdayWindow(0, 60))
			return e
		})},
		{"MO own buffer 60", 60, change(func(e []rules.Entry) []rules.Entry {
			e[8].Rule = rules.Windows(rules.EffectiveDateWindow(30, 33).WithBuffer(60))
			return e
		})},
		{"WA removed", 60, change(func(e []rules.Entry) []rules.Entry {
			e[9].States = e[9].States[:3]
			return e
		})},
		{"TX added with no exclusion", 60, change(func(e []rules.Entry) []rules.Entry {
			return append(e, rules.Entry{States: []emailsched.State{st("TX")}, Rule: rules.NoExclusion(), Origin: "x"})
		})},
		{"CA birthday moved to effective date", 60, change(func(e []rules.Entry) []rules.Entry {
			e[0].Rule = rules.Windows(rules.EffectiveDateWindow(30, 60))
			return e
		})},
	}
	seen := map[string]string{defaultChecksum: "default"}
	for _, tt := range tests {
		s := mustBuild(t, rules.Options{Buffer: tt.buffer}, tt.entries...)
		got := s.Checksum()
		if !strings.HasPrefix(got, "sha256:") || len(got) != len(defaultChecksum) {
			t.Errorf("%s: Checksum() = %q, want sha256:<64 hex digits>", tt.name, got)
		}
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: Checksum() = %q, the same as %s", tt.name, got, prev)
		}
		seen[got] = tt.name
	}
}

func TestChecksumGiven(t *testing.T) {
	s := mustBuild(t, rules.Options{Buffer: 60, Checksum: "sha256:source"}, defaultEntries()...)
	if got := s.Checksum(); got != "sha256:source" {
		t.Errorf("Checksum() = %q, want the given one", got)
	}
	fn := func(rules.Input) (rules.Rule, error) { return rules.YearRound(), nil }
	s = mustBuild(t, rules.Options{Checksum: "sha256:fn"}, rules.Entry{States: []emailsched.State{st("FL")}, Func: fn, Origin: "fl:1:1"})
	if got := s.Checksum(); got != "sha256:fn" {
		t.Errorf("Checksum() with a rule function = %q, want the given one", got)
	}
}

func TestBuildValid(t *testing.T) {
	tests := []struct {
		name    string
		opts    rules.Options
		entries []rules.Entry
	}{
		{"no entries", rules.Options{}, nil},
		{"buffer max", rules.Options{Buffer: rules.MaxWindowDays}, nil},
		{"max window", rules.Options{}, []rules.Entry{{States: []emailsched.State{st("CA")}, Rule: rules.Windows(rules.BirthdayWindow(366, 366).WithBuffer(366))}}},
		{"every state", rules.Options{}, []rules.Entry{{States: emailsched.States(), Rule: rules.YearRound()}}},
		// Func is used when set; its Rule field is not validated.
		{"func with invalid static rule", rules.Options{Checksum: "c"}, []rules.Entry{{States: []emailsched.State{st("CA")}, Rule: rules.Windows(rules.BirthdayWindow(-1, 0)), Func: func(rules.Input) (rules.Rule, error) { return rules.Rule{}, nil }}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := rules.Build(tt.opts, tt.entries...); err != nil {
				t.Errorf("Build() = %v, want nil", err)
			}
		})
	}
}

func TestBuildInvalid(t *testing.T) {
	ca, ny := st("CA"), st("NY")
	ok := rules.Windows(rules.BirthdayWindow(30, 60))
	fn := func(rules.Input) (rules.Rule, error) { return rules.YearRound(), nil }
	tests := []struct {
		name    string
		opts    rules.Options
		entries []rules.Entry
		want    []string // substrings of the message
	}{
		{"empty States", rules.Options{}, []rules.Entry{{Rule: ok, Origin: "a.rules:3:1"}}, []string{"entry 1", "a.rules:3:1", "names no state"}},
		{"empty States second entry", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: ok}, {States: []emailsched.State{}, Rule: ok, Origin: "b"}}, []string{"entry 2 (b) names no state"}},
		{"unknown state", rules.Options{}, []rules.Entry{{States: []emailsched.State{emailsched.State(200)}, Rule: ok, Origin: "x.rules:1:1"}}, []string{"entry 1", "x.rules:1:1", "unknown state"}},
		{"NoState", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca, emailsched.NoState}, Rule: ok, Origin: "x"}}, []string{"unknown state"}},
		{"duplicate state across entries", rules.Options{}, []rules.Entry{
			{States: []emailsched.State{ca, ny}, Rule: ok, Origin: "a.rules:1:1"},
			{States: []emailsched.State{ny}, Rule: rules.YearRound(), Origin: "a.rules:9:5"},
		}, []string{"NY has a rule at a.rules:1:1 and at a.rules:9:5"}},
		{"duplicate state within an entry", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca, ca}, Rule: ok, Origin: "a:2:2"}}, []string{"CA has a rule at a:2:2 and at a:2:2"}},
		{"duplicate func state", rules.Options{Checksum: "c"}, []rules.Entry{
			{States: []emailsched.State{ca}, Func: fn, Origin: "f1"},
			{States: []emailsched.State{ca}, Func: fn, Origin: "f2"},
		}, []string{"CA has a rule at f1 and at f2"}},
		{"negative before", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.BirthdayWindow(-1, 60)), Origin: "ca.rules:4:2"}}, []string{"ca.rules:4:2", "days before is -1"}},
		{"negative after", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.BirthdayWindow(1, -60)), Origin: "o"}}, []string{"days after is -60"}},
		{"before above max", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.EffectiveDateWindow(rules.MaxWindowDays+1, 0)), Origin: "o"}}, []string{"days before is 367, must be 0-366"}},
		{"own buffer above max", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.BirthdayWindow(0, 0).WithBuffer(400)), Origin: "o"}}, []string{"buffer is 400"}},
		{"second window invalid", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.BirthdayWindow(0, 0), rules.EffectiveDateWindow(0, -2)), Origin: "o"}}, []string{"days after is -2"}},
		{"no anchor", rules.Options{}, []rules.Entry{{States: []emailsched.State{ca}, Rule: rules.Windows(rules.Window{Before: 1}), Origin: "o"}}, []string{"window has no anchor"}},
		{"buffer negative", rules.Options{Buffer: -1}, nil, []string{"buffer is -1, must be 0-366"}},
		{"buffer above max", rules.Options{Buffer: rules.MaxWindowDays + 1}, nil, []string{"buffer is 367"}},
		{"func without checksum", rules.Options{Buffer: 60}, []rules.Entry{{States: []emailsched.State{ca}, Func: fn, Origin: "f"}}, []string{"the rule function of f needs its Source, or the set a Checksum"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rules.Build(tt.opts, tt.entries...)
			if err == nil {
				t.Fatalf("Build() = %v, nil; want an error", s)
			}
			if s != nil {
				t.Errorf("Build() returned a set with an error")
			}
			if !errors.Is(err, rules.ErrInvalidSet) {
				t.Errorf("Build() error %q does not wrap ErrInvalidSet", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Build() error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSetAccessors(t *testing.T) {
	d := rules.Default()
	if d.Name() != "default.rules" || d.Buffer() != rules.DefaultBuffer || rules.DefaultBuffer != 60 {
		t.Errorf("Default(): Name() = %q, Buffer() = %d", d.Name(), d.Buffer())
	}
	s := mustBuild(t, rules.Options{Buffer: 7, Name: "mine.rules"})
	if s.Name() != "mine.rules" || s.Buffer() != 7 {
		t.Errorf("Name() = %q, Buffer() = %d; want mine.rules, 7", s.Name(), s.Buffer())
	}
}

func TestDescribe(t *testing.T) {
	fn := func(rules.Input) (rules.Rule, error) { return rules.YearRound(), nil }
	dyn := mustBuild(t, rules.Options{Checksum: "c"},
		rules.Entry{States: []emailsched.State{st("FL")}, Func: fn, Origin: "fl.rules:2:1"},
		rules.Entry{States: []emailsched.State{st("GA")}, Rule: rules.YearRound(), Origin: "fl.rules:3:1"},
	)
	tests := []struct {
		name    string
		set     *rules.Set
		state   emailsched.State
		rule    rules.Rule
		dynamic bool
		origin  string
	}{
		{"CA", rules.Default(), st("CA"), rules.Windows(rules.BirthdayWindow(30, 60)), false, "builtin"},
		{"NV", rules.Default(), st("NV"), rules.Windows(rules.BirthdayWindow(0, 60).MonthStart()), false, "builtin"},
		{"MO", rules.Default(), st("MO"), rules.Windows(rules.EffectiveDateWindow(30, 33)), false, "builtin"},
		{"WA", rules.Default(), st("WA"), rules.YearRound(), false, "builtin"},
		{"TX has no entry", rules.Default(), st("TX"), rules.NoExclusion(), false, ""},
		{"NoState", rules.Default(), emailsched.NoState, rules.NoExclusion(), false, ""},
		{"State(200)", rules.Default(), emailsched.State(200), rules.NoExclusion(), false, ""},
		{"function", dyn, st("FL"), rules.NoExclusion(), true, "fl.rules:2:1"},
		{"static in a dynamic set", dyn, st("GA"), rules.YearRound(), false, "fl.rules:3:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, dynamic, origin := tt.set.Describe(tt.state)
			if !r.Equal(tt.rule) || dynamic != tt.dynamic || origin != tt.origin {
				t.Errorf("Describe(%v) = %v, %v, %q; want %v, %v, %q", tt.state, r, dynamic, origin, tt.rule, tt.dynamic, tt.origin)
			}
		})
	}
}

// TestDefaultTable pins the whole default table against the rules table, state by
// state: every state not listed there has no exclusion.
func TestDefaultTable(t *testing.T) {
	want := map[string]rules.Rule{
		"CA": rules.Windows(rules.BirthdayWindow(30, 60)),
		"ID": rules.Windows(rules.BirthdayWindow(0, 63)),
		"KY": rules.Windows(rules.BirthdayWindow(0, 60)),
		"MD": rules.Windows(rules.BirthdayWindow(0, 30)),
		"NV": rules.Windows(rules.BirthdayWindow(0, 60).MonthStart()),
		"OK": rules.Windows(rules.BirthdayWindow(0, 60)),
		"OR": rules.Windows(rules.BirthdayWindow(0, 31)),
		"VA": rules.Windows(rules.BirthdayWindow(0, 30)),
		"MO": rules.Windows(rules.EffectiveDateWindow(30, 33)),
		"CT": rules.YearRound(), "MA": rules.YearRound(), "NY": rules.YearRound(), "WA": rules.YearRound(),
	}
	d := rules.Default()
	for _, s := range emailsched.States() {
		w, ok := want[s.String()]
		if !ok {
			w = rules.NoExclusion()
		}
		r, dynamic, _ := d.Describe(s)
		if !r.Equal(w) || dynamic {
			t.Errorf("Default().Describe(%s) = %v, %v; want %v", s, r, dynamic, w)
		}
	}
}

// TestSetConcurrentUse applies one Set from many goroutines (run with
// -race): a Set is documented as safe for concurrent use.
func TestSetConcurrentUse(t *testing.T) {
	set := rules.Default()
	fn := mustBuild(t, rules.Options{Checksum: "c"}, rules.Entry{States: []emailsched.State{st("FL")}, Func: age76YearRound, Origin: "fl"})
	done := make(chan string)
	for g := 0; g < 8; g++ {
		go func() {
			msg := ""
			for i := 0; i < 200; i++ {
				c := contact("1955-01-15", "2015-01-01")
				for _, s := range []*rules.Set{set, fn} {
					for _, code := range []string{"CA", "MO", "NY", "TX", "FL"} {
						a := s.Apply(c, st(code), testToday)
						a.Excluded(day("2025-01-10"))
						a.NextAllowed(day("2025-01-10"))
					}
				}
				a := set.Apply(c, st("CA"), testToday)
				if x, ok := a.Excluded(day("2025-01-10")); !ok || x.Period != iv("2024-10-17", "2025-03-16") {
					msg = "wrong answer under concurrency"
				}
			}
			done <- msg
		}()
	}
	for g := 0; g < 8; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

func TestWithBuffer(t *testing.T) {
	base := rules.Default()
	set, err := base.WithBuffer(30)
	if err != nil {
		t.Fatal(err)
	}
	if set.Buffer() != 30 || base.Buffer() != rules.DefaultBuffer || set.Checksum() == base.Checksum() ||
		set.Name() != "default.rules (pre_window_buffer: 30)" {
		t.Errorf("WithBuffer: buffer %d name %q checksum %s", set.Buffer(), set.Name(), set.Checksum())
	}
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1950, 6, 1)}
	ca := emailsched.MustState("CA")
	a := set.Apply(c, ca, datecalc.MustNew(2025, 1, 1))
	// CA: 30 days before + 30 days of buffer: 2025-04-02 is the first day.
	if _, ex := a.Excluded(datecalc.MustNew(2025, 4, 1)); ex {
		t.Error("2025-04-01 excluded with a 30-day buffer")
	}
	if _, ex := a.Excluded(datecalc.MustNew(2025, 4, 2)); !ex {
		t.Error("2025-04-02 not excluded")
	}
	if again, _ := base.WithBuffer(30); again.Checksum() != set.Checksum() {
		t.Error("checksum not deterministic")
	}
	for _, bad := range []int{-1, rules.MaxWindowDays + 1} {
		if _, err := base.WithBuffer(bad); !errors.Is(err, rules.ErrInvalidSet) {
			t.Errorf("WithBuffer(%d) = %v", bad, err)
		}
	}
}

func TestWithBufferGivenChecksum(t *testing.T) {
	// A set whose checksum was given (Options.Checksum) keeps naming its
	// source: the buffer is folded into that checksum.
	s := mustBuild(t, rules.Options{Buffer: 60, Checksum: "sha256:source"}, defaultEntries()...)
	a, err := s.WithBuffer(30)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.WithBuffer(31)
	if a.Checksum() == s.Checksum() || a.Checksum() == b.Checksum() || !strings.HasPrefix(a.Checksum(), "sha256:") {
		t.Errorf("checksums %s, %s, %s", s.Checksum(), a.Checksum(), b.Checksum())
	}
}

func TestEntryAndUncovered(t *testing.T) {
	fn := func(rules.Input) (rules.Rule, error) { return rules.YearRound(), nil }
	s := mustBuild(t, rules.Options{Buffer: 60},
		rules.Entry{States: []emailsched.State{st("CA"), st("NV")}, Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "a:1:1"},
		rules.Entry{States: []emailsched.State{st("FL")}, Func: fn, Source: "contact.age >= 76 ? year_round() : no_exclusion()", Origin: "a:2:1"})
	e, ok := s.Entry(st("NV"))
	if !ok || len(e.States) != 1 || e.States[0] != st("NV") || e.Rule.String() != "birthday_window(30, 60)" || e.Origin != "a:1:1" || e.Func != nil {
		t.Errorf("Entry(NV) = %+v, %v", e, ok)
	}
	if e, ok := s.Entry(st("FL")); !ok || e.Func == nil || e.Source == "" {
		t.Errorf("Entry(FL) = %+v, %v", e, ok)
	}
	if _, ok := s.Entry(st("TX")); ok {
		t.Error("Entry(TX): a state without a rule has an entry")
	}
	if _, ok := s.Entry(*new(emailsched.State)); ok {
		t.Error("Entry of the zero State")
	}
	got := s.Uncovered(rules.Default())
	var names []string
	for _, x := range got {
		names = append(names, x.String())
	}
	if want := "CT ID KY MD MA MO NY OK OR VA WA"; strings.Join(names, " ") != want {
		t.Errorf("Uncovered = %v, want %s", names, want)
	}
	if got := rules.Default().Uncovered(s); len(got) != 1 || got[0] != st("FL") {
		t.Errorf("Default().Uncovered = %v, want [FL]", got)
	}
	// A rule that depends on the contact counts by its source.
	other := mustBuild(t, rules.Options{Buffer: 60},
		rules.Entry{States: []emailsched.State{st("CA"), st("NV")}, Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "b:1:1"},
		rules.Entry{States: []emailsched.State{st("FL")}, Func: fn, Source: "contact.age >= 75 ? year_round() : no_exclusion()", Origin: "b:2:1"})
	if other.Checksum() == s.Checksum() {
		t.Error("two function rules with different sources have one checksum")
	}
}
