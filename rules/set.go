package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// DefaultBuffer is the default pre-window buffer, in days.
const DefaultBuffer = 60

// Input is what a rule function sees of a contact.
type Input struct {
	Contact *emailsched.Contact
	// State is the contact's resolved state.
	State emailsched.State
	// Today is the run date.
	Today datecalc.Date
}

// RuleFunc computes the rule of a contact whose rule depends on the
// contact (a condition in a rules file). It must be safe for concurrent use
// and should not allocate (Input is passed by value for that reason). An error skips the contact's emails that respect
// windows, with a reason naming the rule's origin; it never stops a run.
type RuleFunc func(in Input) (Rule, error)

// Entry is one line of a rule table: the rule of one or more states.
// Exactly one of Rule and Func is used: Func when it is not nil.
type Entry struct {
	States []emailsched.State
	Rule   Rule
	Func   RuleFunc
	// Source stands for Func in the set's checksum: the rule the function
	// computes, in a canonical text (the rules language's, for sets it
	// loads), so that two sets whose functions compute the same rules
	// have the same identity. Required with Func unless Options.Checksum
	// is set.
	Source string
	// Origin says where the entry was written ("default.rules:12:5", or
	// "builtin"), for explanations. It is not part of the set's identity.
	Origin string
}

// Options are the file-level settings of a rule set.
type Options struct {
	// Buffer is the default pre-window buffer in days (0 … MaxWindowDays).
	Buffer int
	// Name names the set in reports ("default.rules", "builtin").
	Name string
	// Checksum, when set, replaces the identity Build computes from the
	// set's content: the buffer, the declarations of Anchors and each
	// state's rule (its canonical text, or the Source of its function),
	// whatever names, origins, order of entries or spelling they came
	// with. Leave it empty unless the rules cannot be described.
	Checksum string
	// Anchors are the anchors the set's windows may use besides the
	// built-in ones (birthday, effective_date), up to MaxAnchors in all.
	// Each gets its own skip reasons and its slot in Applied.
	Anchors []Anchor
}

// ErrInvalidSet is wrapped by every error of Build.
var ErrInvalidSet = errors.New("rules: invalid rule set")

// Set is an immutable exclusion rule set: the rule of every state and the
// default pre-window buffer. States without an entry have no exclusion.
// A Set is safe for concurrent use.
type Set struct {
	opts Options
	// computed: the checksum is the content's (Options.Checksum was empty).
	computed bool
	anchors  anchorList
	entries  [emailsched.NumStates + 1]entry
	// reasons are precomputed so that answering does not allocate.
	reasons [emailsched.NumStates + 1]stateReasons
}

type entry struct {
	set    bool
	rule   Rule
	fn     RuleFunc
	origin string
	source string
}

type stateReasons struct {
	exclusion [MaxAnchors]emailsched.SkipReason // by anchor slot
	missing   [MaxAnchors]emailsched.SkipReason // by anchor slot
	yearRound emailsched.SkipReason
	ruleError emailsched.SkipReason
}

// Build validates a rule table and returns the set. Every state may appear
// in at most one entry; every static rule must be valid and use only the
// set's anchors.
func Build(opts Options, entries ...Entry) (*Set, error) {
	if opts.Buffer < 0 || opts.Buffer > MaxWindowDays {
		return nil, fmt.Errorf("%w: buffer is %d, must be 0-%d", ErrInvalidSet, opts.Buffer, MaxWindowDays)
	}
	all, err := AllAnchors(opts.Anchors...)
	if err != nil {
		return nil, err
	}
	opts.Anchors = slices.Clone(opts.Anchors)
	s := &Set{opts: opts}
	s.anchors.n = copy(s.anchors.list[:], all)
	undescribed := "" // the origin of a function without its Source
	for i, e := range entries {
		if len(e.States) == 0 {
			return nil, fmt.Errorf("%w: entry %d (%s) names no state", ErrInvalidSet, i+1, e.Origin)
		}
		if e.Func == nil {
			if err := s.check(e.Rule); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrInvalidSet, e.Origin, err)
			}
		} else if e.Source == "" && undescribed == "" {
			undescribed = e.Origin
		}
		for _, st := range e.States {
			if !st.Valid() {
				return nil, fmt.Errorf("%w: entry %d (%s) names an unknown state", ErrInvalidSet, i+1, e.Origin)
			}
			if s.entries[st].set {
				return nil, fmt.Errorf("%w: %s has a rule at %s and at %s", ErrInvalidSet, st, s.entries[st].origin, e.Origin)
			}
			s.entries[st] = entry{set: true, rule: e.Rule, fn: e.Func, origin: e.Origin, source: e.Source}
		}
	}
	if s.opts.Checksum == "" {
		if undescribed != "" {
			return nil, fmt.Errorf("%w: the rule function of %s needs its Source, or the set a Checksum", ErrInvalidSet, undescribed)
		}
		s.computed = true
		s.opts.Checksum = s.contentChecksum()
	}
	s.reasons[emailsched.NoState].ruleError = emailsched.ReasonPrefixRuleError + ":no_state"
	for _, st := range emailsched.States() {
		r := &s.reasons[st]
		for i, a := range all {
			r.exclusion[i] = emailsched.ExclusionReason(st, a.Name())
			r.missing[i] = emailsched.MissingAnchorReason(st, a.Name())
		}
		r.yearRound = emailsched.YearRoundReason(st)
		r.ruleError = emailsched.RuleErrorReason(st)
	}
	return s, nil
}

// check validates a rule for the set: its windows, and that the set knows
// their anchors (else Apply would have no date for them).
func (s *Set) check(r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	for _, w := range r.windows {
		if s.anchors.slot(w.Anchor) < 0 {
			return fmt.Errorf("rules: %s is anchored on %s, which the rule set does not declare (Options.Anchors)", w, w.Anchor)
		}
	}
	return nil
}

// describe is the canonical text of the static part of the set.
func (s *Set) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pre_window_buffer: %d\n", s.opts.Buffer)
	b.WriteString(s.anchors.describe())
	for _, st := range emailsched.States() {
		switch e := s.entries[st]; {
		case e.set && e.fn != nil:
			fmt.Fprintf(&b, "%s: %s\n", st, e.source)
		case e.set:
			fmt.Fprintf(&b, "%s: %s\n", st, e.rule)
		}
	}
	return b.String()
}

// contentChecksum is the set's identity computed from describe.
func (s *Set) contentChecksum() string {
	sum := sha256.Sum256([]byte(s.describe()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// WithBuffer returns a copy of s whose default pre-window buffer is days
// (windows with their own buffer keep it), for a configuration that sets
// the buffer apart from the rules. The copy's checksum identifies both the
// rules and the buffer; its name says the buffer was replaced.
func (s *Set) WithBuffer(days int) (*Set, error) {
	if days < 0 || days > MaxWindowDays {
		return nil, fmt.Errorf("%w: buffer is %d, must be 0-%d", ErrInvalidSet, days, MaxWindowDays)
	}
	c := *s
	c.opts.Buffer = days
	c.opts.Name = fmt.Sprintf("%s (pre_window_buffer: %d)", s.opts.Name, days)
	if c.computed {
		c.opts.Checksum = c.contentChecksum()
	} else {
		sum := sha256.Sum256([]byte(s.opts.Checksum + "\npre_window_buffer: " + strconv.Itoa(days)))
		c.opts.Checksum = "sha256:" + hex.EncodeToString(sum[:])
	}
	return &c, nil
}

// Anchors returns the anchors the set's windows may use: the built-in ones,
// then those of Options.Anchors.
func (s *Set) Anchors() []Anchor { return slices.Clone(s.anchors.list[:s.anchors.n]) }

// Buffer returns the default pre-window buffer in days.
func (s *Set) Buffer() int { return s.opts.Buffer }

// Name returns the set's name.
func (s *Set) Name() string { return s.opts.Name }

// Checksum identifies the set's source; reports carry it so that every plan
// says which rules produced it.
func (s *Set) Checksum() string { return s.opts.Checksum }

// Describe returns, for one state, its static rule (NoExclusion when the
// state has no entry), whether the rule depends on the contact, and where it
// was written.
func (s *Set) Describe(st emailsched.State) (rule Rule, dynamic bool, origin string) {
	if !st.Valid() {
		return Rule{}, false, ""
	}
	e := s.entries[st]
	return e.rule, e.fn != nil, e.origin
}

// Entry returns the entry that gives st its rule, with st as its only
// state, and false when st has none: for rule sets built on another (the
// rules language's extends).
func (s *Set) Entry(st emailsched.State) (Entry, bool) {
	if !st.Valid() || !s.entries[st].set {
		return Entry{}, false
	}
	e := s.entries[st]
	return Entry{States: []emailsched.State{st}, Rule: e.rule, Func: e.fn, Source: e.source, Origin: e.origin}, true
}

// Uncovered returns, in order, the states that base gives a rule and s
// does not: what a rule set written to replace base would leave without
// any rule by mistake.
func (s *Set) Uncovered(base *Set) []emailsched.State {
	var out []emailsched.State
	for _, st := range emailsched.States() {
		if base.entries[st].set && !s.entries[st].set {
			out = append(out, st)
		}
	}
	return out
}

// Default returns the default rule set, built in Go, with the default
// 60-day buffer. It is the set of testdata/rules/default.rules (package dsl
// loads that file as dsl.Default): the same rules, the same name and the
// same checksum.
func Default() *Set {
	st := emailsched.MustState
	s, err := Build(Options{Buffer: DefaultBuffer, Name: "default.rules"},
		Entry{States: []emailsched.State{st("CA")}, Rule: Windows(BirthdayWindow(30, 60)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("ID")}, Rule: Windows(BirthdayWindow(0, 63)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("KY")}, Rule: Windows(BirthdayWindow(0, 60)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("MD")}, Rule: Windows(BirthdayWindow(0, 30)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("NV")}, Rule: Windows(BirthdayWindow(0, 60).MonthStart()), Origin: "builtin"},
		Entry{States: []emailsched.State{st("OK")}, Rule: Windows(BirthdayWindow(0, 60)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("OR")}, Rule: Windows(BirthdayWindow(0, 31)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("VA")}, Rule: Windows(BirthdayWindow(0, 30)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("MO")}, Rule: Windows(EffectiveDateWindow(30, 33)), Origin: "builtin"},
		Entry{States: []emailsched.State{st("CT"), st("MA"), st("NY"), st("WA")}, Rule: YearRound(), Origin: "builtin"},
	)
	if err != nil {
		panic(err) // the table above is a constant; a failure is a bug caught by tests
	}
	return s
}
