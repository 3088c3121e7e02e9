package rules

import (
	"fmt"
	"strings"
)

// MaxWindowDays bounds Before, After and Buffer: a window longer than a year
// is a mistake in a rule, not a regulation.
const MaxWindowDays = 366

// Window is an exclusion window anchored on the anniversary A of a contact
// date (its Anchor): the statutory window is [A − Before, A + After], both
// ends included, and the exclusion period adds the pre-window buffer in
// front of it: [A − Before − buffer, A + After].
type Window struct {
	Anchor Anchor
	Before int
	After  int
	// FromMonthStart anchors the window on the first day of the
	// anniversary's month instead of the anniversary itself (Nevada).
	FromMonthStart bool
	// OwnBuffer makes Buffer this window's pre-window buffer; otherwise
	// the rule set's default buffer applies.
	OwnBuffer bool
	Buffer    int
}

// BirthdayWindow returns a window of before/after days around the birthday.
func BirthdayWindow(before, after int) Window { return AnchorBirthday.Window(before, after) }

// EffectiveDateWindow returns a window of before/after days around the
// policy's effective-date anniversary.
func EffectiveDateWindow(before, after int) Window { return AnchorEffectiveDate.Window(before, after) }

// MonthStart returns w anchored on the first day of the anniversary's month.
func (w Window) MonthStart() Window { w.FromMonthStart = true; return w }

// WithBuffer returns w with its own pre-window buffer of days.
func (w Window) WithBuffer(days int) Window { w.OwnBuffer, w.Buffer = true, days; return w }

// Validate reports a window without an anchor or with a day count outside
// 0 … MaxWindowDays. Whether a rule set knows the window's anchor is the
// set's question (Build and Apply ask it).
func (w Window) Validate() error {
	if w.Anchor.IsZero() {
		return fmt.Errorf("rules: window has no anchor")
	}
	if !w.OwnBuffer && w.Buffer != 0 {
		return fmt.Errorf("rules: buffer %d set without OwnBuffer (use WithBuffer)", w.Buffer)
	}
	for _, f := range []struct {
		name string
		v    int
		on   bool
	}{{"days before", w.Before, true}, {"days after", w.After, true}, {"buffer", w.Buffer, w.OwnBuffer}} {
		if f.on && (f.v < 0 || f.v > MaxWindowDays) {
			return fmt.Errorf("rules: %s is %d, must be 0-%d", f.name, f.v, MaxWindowDays)
		}
	}
	return nil
}

// String describes w in the rule-file syntax, e.g.
// "birthday_window(0, 60).from_month_start()".
func (w Window) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s_window(%d, %d)", w.Anchor, w.Before, w.After)
	if w.FromMonthStart {
		b.WriteString(".from_month_start()")
	}
	if w.OwnBuffer {
		fmt.Fprintf(&b, ".buffer(%d)", w.Buffer)
	}
	return b.String()
}

// Kind tells the three shapes of a rule apart.
type Kind uint8

// The rule kinds. The zero Kind is KindNone, so the zero Rule excludes
// nothing.
const (
	KindNone      Kind = iota // no exclusion
	KindWindows               // one or more anchored windows
	KindYearRound             // no marketing email at all
)

// Rule is what applies to one contact: no exclusion, windows, or year-round.
// Build one with NoExclusion, YearRound or Windows. The zero Rule is
// NoExclusion.
type Rule struct {
	kind    Kind
	windows []Window
}

// NoExclusion is the rule of states without a window.
func NoExclusion() Rule { return Rule{} }

// YearRound is the rule of states that forbid marketing email all year.
func YearRound() Rule { return Rule{kind: KindYearRound} }

// Windows is a rule made of one or more windows (a date is excluded when any
// of them excludes it). With no window it is NoExclusion.
func Windows(ws ...Window) Rule {
	if len(ws) == 0 {
		return Rule{}
	}
	return Rule{kind: KindWindows, windows: append([]Window(nil), ws...)}
}

// Kind returns the rule's kind.
func (r Rule) Kind() Kind { return r.kind }

// Windows returns the rule's windows (nil unless KindWindows). The slice
// must not be modified.
func (r Rule) Windows() []Window { return r.windows }

// Validate checks every window of the rule.
func (r Rule) Validate() error {
	for _, w := range r.windows {
		if err := w.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Equal reports whether two rules are the same.
func (r Rule) Equal(o Rule) bool {
	if r.kind != o.kind || len(r.windows) != len(o.windows) {
		return false
	}
	for i := range r.windows {
		if r.windows[i] != o.windows[i] {
			return false
		}
	}
	return true
}

// String describes r in the rule-file syntax.
func (r Rule) String() string {
	switch r.kind {
	case KindYearRound:
		return "year_round()"
	case KindWindows:
		parts := make([]string, len(r.windows))
		for i, w := range r.windows {
			parts[i] = w.String()
		}
		return strings.Join(parts, " + ")
	}
	return "no_exclusion()"
}
