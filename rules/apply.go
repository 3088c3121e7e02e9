package rules

import (
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// Applied is a rule set applied to one contact: it answers, for any date,
// whether the date is excluded, by which window and for which period. Obtain
// one from Set.Apply (the zero Applied excludes nothing). It is a value that does not allocate and is valid as
// long as the Contact it was made from is unchanged.
type Applied struct {
	state emailsched.State
	// buffer is the set's, at hand for every period (it fits beside
	// state).
	buffer int32
	rule   Rule
	err    error
	// set is the set applied: its anchors, reasons and origins. Applied
	// is returned by value, so it holds no more than it must.
	set *Set
	// dates holds, at each anchor's slot, the date Apply read; months and
	// days its month and day, computed once: every anniversary is then
	// one cheap conversion.
	dates        [MaxAnchors]datecalc.Date
	months, days [MaxAnchors]uint8
}

// Apply evaluates the rule of the contact's resolved state st on day today.
// A rule function's failure does not return an error: the Applied reports it
// through Err and excludes every date (the contact's emails that respect
// windows are skipped with a rule_error reason). Every anchor of the set is
// read with Anchor.Read: a date counts only when it is set, has no
// FieldIssue and, for the birthday, is not after today.
func (s *Set) Apply(c *emailsched.Contact, st emailsched.State, today datecalc.Date) (a Applied) {
	// a is the result itself, filled in place: Applied is large enough
	// that copying it out costs as much as reading the anchors.
	a.state, a.buffer, a.set = st, int32(s.opts.Buffer), s
	for i := range s.anchors.n {
		if d := s.anchors.list[i].Read(c, today); !d.IsZero() {
			m, day := d.MonthDay()
			a.dates[i], a.months[i], a.days[i] = d, uint8(m), uint8(day)
		}
	}
	if !st.Valid() {
		// Never reached through ResolveState; block rather than allow.
		a.err = ErrNoState
		return a
	}
	e := &s.entries[st]
	a.rule = e.rule
	if e.fn != nil {
		r, err := e.fn(Input{Contact: c, State: st, Today: today})
		if err == nil {
			err = s.check(r)
		}
		if err != nil {
			a.err = err
			a.rule = Rule{}
			return a
		}
		a.rule = r
	}
	return a
}

// State returns the state whose rule was applied.
func (a *Applied) State() emailsched.State { return a.state }

// Rule returns the rule that applies to the contact.
func (a *Applied) Rule() Rule { return a.rule }

// Origin returns where the applied rule was written.
func (a *Applied) Origin() string {
	if a.set == nil || !a.state.Valid() {
		return ""
	}
	return a.set.entries[a.state].origin
}

// reasons returns the precomputed skip reasons of the applied state.
func (a *Applied) reasons() *stateReasons {
	if !a.state.Valid() {
		return &a.set.reasons[emailsched.NoState]
	}
	return &a.set.reasons[a.state]
}

// Err returns the rule function's error, if it failed for this contact.
func (a *Applied) Err() error { return a.err }

// Exclusion describes why a date is excluded.
type Exclusion struct {
	// Reason is the skip reason to write on an email on that date.
	Reason emailsched.SkipReason
	// YearRound is set for year-round states: every date is excluded and
	// Period is empty.
	YearRound bool
	// Unknown is set when the exclusion cannot be computed (a window's
	// anchor date is missing, or the rule failed): every date is excluded
	// and Period is empty.
	Unknown bool
	// Window is the window that excludes the date (windowed rules).
	Window Window
	// Index is the window's position in the rule.
	Index int
	// Anniversary is the anniversary of the anchor date the window is
	// built around (before the month-start shift).
	Anniversary datecalc.Date
	// Period is the exclusion period, buffer included, both ends
	// included.
	Period datecalc.Interval
}

// Blocking reports whether the rule blocks every date (year-round, failed
// rule or missing anchor), so that no date can be computed after it.
func (a *Applied) Blocking() (Exclusion, bool) {
	if a.err != nil {
		return Exclusion{Reason: a.reasons().ruleError, Unknown: true}, true
	}
	switch a.rule.kind {
	case KindYearRound:
		return Exclusion{Reason: a.reasons().yearRound, YearRound: true}, true
	case KindWindows:
		if i, slot := a.missingAnchor(); i >= 0 {
			return Exclusion{Reason: a.reasons().missing[slot], Unknown: true, Window: a.rule.windows[i]}, true
		}
	}
	return Exclusion{}, false
}

// blocked reports what Blocking does, without describing the exclusion.
func (a *Applied) blocked() bool {
	switch {
	case a.err != nil || a.rule.kind == KindYearRound:
		return true
	case a.rule.kind == KindWindows:
		i, _ := a.missingAnchor()
		return i >= 0
	}
	return false
}

// missingAnchor returns the index of the first window whose anchor date
// the contact lacks, and the anchor's slot; or -1.
func (a *Applied) missingAnchor() (index, slot int) {
	for i := range a.rule.windows {
		slot := a.set.anchors.slot(a.rule.windows[i].Anchor)
		if a.dates[slot].IsZero() {
			return i, slot
		}
	}
	return -1, 0
}

// Anchor returns the contact's date that windows anchored on an are built
// around, as Apply read it (Anchor.Read), with its month and day: the zero
// Date when the contact lacks it, has it with a FieldIssue or, for a
// birthday, has it after the run date, and for an anchor the set does not
// declare. A planner can take the contact's anniversaries from it without
// converting the date again.
func (a *Applied) Anchor(an Anchor) (datecalc.Date, time.Month, int) {
	if a.set == nil {
		return datecalc.Date{}, 0, 0
	}
	slot := a.set.anchors.slot(an)
	if slot < 0 {
		return datecalc.Date{}, 0, 0
	}
	return a.dates[slot], time.Month(a.months[slot]), int(a.days[slot])
}

// CanExclude reports whether the applied rule can exclude any date: false
// for a rule without exclusion, whose Excluded is always false, so that a
// caller with many dates to check can skip them all.
func (a *Applied) CanExclude() bool {
	return a.err != nil || a.rule.kind != KindNone
}

// Excluded reports whether day d is excluded for the contact and, if so, by
// what. A date is excluded when it lies in the exclusion period
// [A − before − buffer, A + after] of the anchor's anniversary A of d's year
// − 1, d's year or d's year + 1 (so windows that cross New Year work both
// ways; windows longer than the rule limits of a year look further), or
// when Blocking reports true. When several periods contain d, the
// one that ends last is reported (ties: the first window of the rule).
func (a *Applied) Excluded(d datecalc.Date) (Exclusion, bool) {
	if a.blocked() {
		return a.Blocking()
	}
	i, slot, ann, p, ok := a.find(d)
	if !ok {
		return Exclusion{}, false
	}
	w := &a.rule.windows[i]
	return Exclusion{Reason: a.reasons().exclusion[slot], Window: *w, Index: i, Anniversary: ann, Period: p}, true
}

// Excludes reports whether day d is excluded: Excluded without the
// description, which is large, for callers that need only the answer.
func (a *Applied) Excludes(d datecalc.Date) bool {
	if a.blocked() {
		return true
	}
	_, _, _, _, ok := a.find(d)
	return ok
}

// find returns, for a rule that does not block, the window (its index and
// its anchor's slot), the anniversary and the period that exclude d (see
// Excluded), or false.
func (a *Applied) find(d datecalc.Date) (index, slot int, ann datecalc.Date, period datecalc.Interval, ok bool) {
	if a.rule.kind != KindWindows || d.IsZero() {
		return 0, 0, datecalc.Date{}, datecalc.Interval{}, false
	}
	index = -1
	y := d.Year()
	for i := range a.rule.windows {
		w := &a.rule.windows[i]
		s := a.set.anchors.slot(w.Anchor)
		m, day := time.Month(a.months[s]), int(a.days[s])
		back, fwd := a.yearSpan(w)
		// Only anniversaries from d − After to d + Before + buffer (plus a
		// month for the month-start anchor) have periods that can contain
		// d: usually one year of the three.
		lo := max(y-back, d.AddDays(-w.After).Year())
		hi := min(y+fwd, d.AddDays(w.Before+a.bufferOf(w)+30).Year())
		for yy := lo; yy <= hi; yy++ {
			p, an := a.period(w, m, day, yy)
			if p.Contains(d) && (index < 0 || p.End.After(period.End)) {
				index, slot, ann, period = i, s, an, p
			}
		}
	}
	return index, slot, ann, period, index >= 0
}

// yearSpan returns how many years before and after a day's year hold
// anniversaries whose period of window w can contain that day. It is one
// each way (the years D − 1, D and D + 1 of the anniversary rule) for every window that
// reaches less than a year from its anniversary, and grows only for the
// long windows the rule limits still allow.
func (a *Applied) yearSpan(w *Window) (back, fwd int) {
	// A period of the anniversary in year Y ends by Y's Dec 31 + After and
	// starts no earlier than Y's Jan 1 (less a month for the month-start
	// anchor) − Before − buffer.
	return 1 + w.After/365, 1 + (w.Before+a.bufferOf(w)+31)/365
}

// bufferOf returns the pre-window buffer of window w.
func (a *Applied) bufferOf(w *Window) int {
	if w.OwnBuffer {
		return w.Buffer
	}
	return int(a.buffer)
}

// period returns the exclusion period of window w for the anniversary in
// year of its anchor's month m and day, and that anniversary.
func (a *Applied) period(w *Window, m time.Month, day, year int) (datecalc.Interval, datecalc.Date) {
	ann := datecalc.Anniversary(year, m, day)
	start := ann
	if w.FromMonthStart {
		// The first of the anniversary's month (zero when ann is), without
		// converting ann back to a civil date.
		start = datecalc.Anniversary(year, m, 1)
	}
	return datecalc.Interval{Start: start.AddDays(-w.Before - a.bufferOf(w)), End: start.AddDays(w.After)}, ann
}

// Periods returns the exclusion periods of every window of the rule whose
// period overlaps iv, in order of start (ties: window order). It appends to
// dst and returns it, so a caller can reuse a buffer. Blocking rules have
// no periods (see Blocking).
func (a *Applied) Periods(dst []Exclusion, iv datecalc.Interval) []Exclusion {
	if _, ok := a.Blocking(); ok || a.rule.kind != KindWindows || iv.IsEmpty() {
		return dst
	}
	n := len(dst)
	for i := range a.rule.windows {
		w := &a.rule.windows[i]
		slot := a.set.anchors.slot(w.Anchor)
		back, fwd := a.yearSpan(w)
		for yy := iv.Start.Year() - back; yy <= iv.End.Year()+fwd; yy++ {
			p, ann := a.period(w, time.Month(a.months[slot]), int(a.days[slot]), yy)
			if p.Overlaps(iv) {
				dst = append(dst, Exclusion{Reason: a.reasons().exclusion[slot], Window: *w, Index: i, Anniversary: ann, Period: p})
			}
		}
	}
	// insertion sort: a handful of entries
	for i := n + 1; i < len(dst); i++ {
		for j := i; j > n && dst[j].Period.Start.Before(dst[j-1].Period.Start); j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// maxAllowedSearch bounds NextAllowed: windows that leave no free day within
// two years (possible only with absurd but valid day counts) block like a
// year-round rule.
const maxAllowedSearch = 2 * 366

// NextAllowed returns the first day on or after d that is not excluded, and
// true; or the zero Date and false when there is none within two years
// (blocking rules, or windows that cover every day). Each step jumps past
// the period that excludes the current day, so it ends after a few steps.
func (a *Applied) NextAllowed(d datecalc.Date) (datecalc.Date, bool) {
	if a.blocked() {
		return datecalc.Date{}, false
	}
	limit := d.AddDays(maxAllowedSearch)
	for !d.After(limit) {
		_, _, _, p, ok := a.find(d)
		if !ok {
			return d, true
		}
		d = p.End.AddDays(1)
	}
	return datecalc.Date{}, false
}
