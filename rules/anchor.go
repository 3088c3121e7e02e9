package rules

import (
	"fmt"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/ident"
)

// MaxAnchors bounds the anchors of one rule set, built-in ones included:
// Applied keeps the date of every anchor in a fixed array, so that Apply
// does not allocate.
const MaxAnchors = 8

// AnchorSpec declares a contact date that windows can be anchored on. It is
// the one place that says what the date is called, where it comes from and
// when it does not count: Set.Apply, the skip reasons, Window.String and the
// rules language (package dsl) all derive from it.
type AnchorSpec struct {
	// Name is the word of rules files and skip reasons: windows are written
	// <Name>_window(before, after), an expression reads contact.<Name> and
	// contact.has_<Name>, and reasons end with it
	// ("exclusion_window:CA:<Name>"). A lower-case identifier.
	Name string
	// Field is the FieldIssue field whose issue makes the date unreadable,
	// such as emailsched.FieldBirthday: a source that could not read the
	// value records it there, and the date then counts as missing.
	Field string
	// Date returns the contact's date as stored, the zero Date when it has
	// none. It must be safe for concurrent use and should not allocate.
	Date func(*emailsched.Contact) datecalc.Date
	// NotAfterToday makes a date after the run date count as missing: such
	// a date is invalid data (nobody is born tomorrow), not an anchor.
	NotAfterToday bool
}

// Anchor is a declared anchor: obtain one from NewAnchor, or use
// AnchorBirthday and AnchorEffectiveDate. Anchors compare with ==; the zero
// Anchor is no anchor. A rule set knows the built-in anchors and those its
// Options add, and refuses windows on any other.
type Anchor struct{ a *anchor }

type anchor struct {
	spec AnchorSpec
	// describe is the declaration in words, for checksums: two sets whose
	// rules read alike but whose anchors read differently must differ.
	describe string
}

// The built-in anchors: every rule set knows them, in this order, before
// the anchors its Options add.
var (
	AnchorBirthday = MustNewAnchor(AnchorSpec{
		Name: "birthday", Field: emailsched.FieldBirthday, NotAfterToday: true,
		Date: func(c *emailsched.Contact) datecalc.Date { return c.Birthday },
	})
	AnchorEffectiveDate = MustNewAnchor(AnchorSpec{
		Name: "effective_date", Field: emailsched.FieldEffectiveDate,
		Date: func(c *emailsched.Contact) datecalc.Date { return c.EffectiveDate },
	})
)

// builtinAnchors is the list AllAnchors starts with.
var builtinAnchors = []Anchor{AnchorBirthday, AnchorEffectiveDate}

// maxAnchorName keeps skip reasons, which end with an anchor's name, short.
const maxAnchorName = 32

// NewAnchor declares an anchor. The name must be a lower-case identifier
// (a-z, 0-9 and _, starting with a letter, at most 32 bytes), the field
// must be named and Date must be set.
func NewAnchor(spec AnchorSpec) (Anchor, error) {
	if !validAnchorName(spec.Name) {
		return Anchor{}, fmt.Errorf("rules: anchor name %q must be 1-%d of a-z, 0-9, _ and start with a letter", spec.Name, maxAnchorName)
	}
	if spec.Field == "" {
		return Anchor{}, fmt.Errorf("rules: anchor %s names no field", spec.Name)
	}
	if spec.Date == nil {
		return Anchor{}, fmt.Errorf("rules: anchor %s has no Date function", spec.Name)
	}
	d := spec.Name + " (field " + spec.Field
	if spec.NotAfterToday {
		d += ", not after the run date"
	}
	return Anchor{&anchor{spec: spec, describe: d + ")"}}, nil
}

// MustNewAnchor is NewAnchor for declarations known to be valid, such as
// package-level variables; it panics on an invalid one.
func MustNewAnchor(spec AnchorSpec) Anchor {
	a, err := NewAnchor(spec)
	if err != nil {
		panic(err)
	}
	return a
}

func validAnchorName(s string) bool { return ident.Valid(s, maxAnchorName) }

// AllAnchors returns the anchors of a rule set declared with extra: the
// built-in anchors, then extra in order. It reports the zero Anchor, a name
// used twice and more than MaxAnchors in all. Build and the rules language
// both start from this list, so that they agree on it.
func AllAnchors(extra ...Anchor) ([]Anchor, error) {
	if n := len(builtinAnchors) + len(extra); n > MaxAnchors {
		return nil, fmt.Errorf("%w: %d anchors, at most %d (the built-in %d included)", ErrInvalidSet, n, MaxAnchors, len(builtinAnchors))
	}
	all := append(append(make([]Anchor, 0, MaxAnchors), builtinAnchors...), extra...)
	for i, a := range all {
		if a.IsZero() {
			return nil, fmt.Errorf("%w: extra anchor %d is the zero Anchor (use NewAnchor)", ErrInvalidSet, i+1-len(builtinAnchors))
		}
		for _, b := range all[:i] {
			if a.Name() == b.Name() {
				return nil, fmt.Errorf("%w: two anchors are named %s", ErrInvalidSet, a.Name())
			}
		}
	}
	return all, nil
}

// IsZero reports whether a is the zero Anchor.
func (a Anchor) IsZero() bool { return a.a == nil }

// Equal reports whether a and b are the same anchor; it makes anchors
// comparable by go-cmp, which cannot look inside them.
func (a Anchor) Equal(b Anchor) bool { return a == b }

// Name returns the anchor's name ("" for the zero Anchor).
func (a Anchor) Name() string {
	if a.a == nil {
		return ""
	}
	return a.a.spec.Name
}

// String returns the anchor's name, the word used in skip reasons and rules
// files, or "Anchor(none)" for the zero Anchor.
func (a Anchor) String() string {
	if a.a == nil {
		return "Anchor(none)"
	}
	return a.a.spec.Name
}

// Spec returns the anchor's declaration (the zero AnchorSpec for the zero
// Anchor).
func (a Anchor) Spec() AnchorSpec {
	if a.a == nil {
		return AnchorSpec{}
	}
	return a.a.spec
}

// Describe returns the declaration in words, "birthday (field birth_date,
// not after the run date)": what a checksum of rules that use the anchor
// must cover besides its name.
func (a Anchor) Describe() string {
	if a.a == nil {
		return ""
	}
	return a.a.describe
}

// Read returns the contact's date of anchor a as every rule reads it: the
// zero Date when the contact lacks it, has a FieldIssue on its field or,
// for an anchor declared NotAfterToday, has it after today. Set.Apply and
// the rules language both read anchors through it, so that they cannot
// disagree on a contact.
func (a Anchor) Read(c *emailsched.Contact, today datecalc.Date) datecalc.Date {
	if a.a == nil {
		return datecalc.Date{}
	}
	s := &a.a.spec
	if len(c.Issues) > 0 && c.HasIssue(s.Field) {
		return datecalc.Date{}
	}
	d := s.Date(c)
	if s.NotAfterToday && d.After(today) {
		return datecalc.Date{}
	}
	return d
}

// Window returns a window of before/after days around the anniversaries of
// a.
func (a Anchor) Window(before, after int) Window {
	return Window{Anchor: a, Before: before, After: after}
}

// anchorList is the anchors of a set, in AllAnchors order: an anchor's
// position is its slot in Applied and in the precomputed reasons.
type anchorList struct {
	n    int
	list [MaxAnchors]Anchor
}

// slot returns the position of an in the list, or -1.
func (l *anchorList) slot(an Anchor) int {
	for i := 0; i < l.n; i++ {
		if l.list[i] == an {
			return i
		}
	}
	return -1
}

// describe lists the anchors beyond the built-in ones, for the checksum
// ("" when there are none, so that the checksums of sets without extra
// anchors do not depend on this).
func (l *anchorList) describe() string {
	var b strings.Builder
	for _, a := range l.list[len(builtinAnchors):l.n] {
		fmt.Fprintf(&b, "anchor: %s\n", a.Describe())
	}
	return b.String()
}

// Anchor returns the contact's date of anchor a as Set.Apply reads it (see
// Anchor.Read).
func (in Input) Anchor(a Anchor) datecalc.Date { return a.Read(in.Contact, in.Today) }

// Age returns the contact's age in whole years on the run date, from the
// birthday as rules read it: -1 without one.
func (in Input) Age() int { return in.AgeOn(in.Today) }

// AgeOn returns the contact's age in whole years on day d (see AgeOn).
func (in Input) AgeOn(d datecalc.Date) int { return AgeOn(in.Anchor(AnchorBirthday), d) }

// AgeOn returns the age in whole years on day d of someone born on birth,
// or -1 when either is missing or d is before birth. Someone born on Feb 29
// gets a year older on Feb 28 in common years, as anniversaries do.
func AgeOn(birth, d datecalc.Date) int {
	if birth.IsZero() || d.IsZero() || d.Before(birth) {
		return -1
	}
	age := d.Year() - birth.Year()
	if d.Before(birth.AnniversaryIn(d.Year())) {
		age--
	}
	return age
}
