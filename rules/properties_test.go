package rules_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/rules"
)

// ---- the reference, written from the text of the exclusion rules ----
//
// It uses package time for calendar arithmetic and enumerates every day of
// every period, so that it shares nothing with Applied.period but the
// conversion of a Date to and from a time.Time.

type refWindow struct {
	birthday   bool // else effective date
	before     int
	after      int
	monthStart bool
	ownBuffer  bool
	buffer     int
}

type refRule struct {
	yearRound bool
	windows   []refWindow
}

// specRules is the default rules table.
var specRules = map[string]refRule{
	"CA": {windows: []refWindow{{birthday: true, before: 30, after: 60}}},
	"ID": {windows: []refWindow{{birthday: true, before: 0, after: 63}}},
	"KY": {windows: []refWindow{{birthday: true, before: 0, after: 60}}},
	"MD": {windows: []refWindow{{birthday: true, before: 0, after: 30}}},
	"NV": {windows: []refWindow{{birthday: true, before: 0, after: 60, monthStart: true}}},
	"OK": {windows: []refWindow{{birthday: true, before: 0, after: 60}}},
	"OR": {windows: []refWindow{{birthday: true, before: 0, after: 31}}},
	"VA": {windows: []refWindow{{birthday: true, before: 0, after: 30}}},
	"MO": {windows: []refWindow{{birthday: false, before: 30, after: 33}}},
	"CT": {yearRound: true}, "MA": {yearRound: true}, "NY": {yearRound: true}, "WA": {yearRound: true},
}

func toTime(d datecalc.Date) time.Time { return d.Time(0, 0, time.UTC) }

func refLeap(year int) bool {
	return time.Date(year, time.February, 29, 0, 0, 0, 0, time.UTC).Day() == 29
}

// refAnniversary is the anniversary of anchor in year: Feb 29 becomes Feb 28
// in common years.
func refAnniversary(anchor datecalc.Date, year int) time.Time {
	_, m, d := anchor.Date()
	if m == time.February && d == 29 && !refLeap(year) {
		d = 28
	}
	return time.Date(year, m, d, 0, 0, 0, 0, time.UTC)
}

type refPeriod struct {
	index       int
	birthday    bool
	anniversary time.Time
	start, end  time.Time
}

// refPeriodOf is the exclusion period [A − before − buffer, A + after] of
// window w for the anniversary of year, A moved to the 1st of its month for
// month-start windows.
func refPeriodOf(i int, w refWindow, anchor datecalc.Date, setBuffer, year int) refPeriod {
	ann := refAnniversary(anchor, year)
	a := ann
	if w.monthStart {
		a = time.Date(year, ann.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	buffer := setBuffer
	if w.ownBuffer {
		buffer = w.buffer
	}
	return refPeriod{index: i, birthday: w.birthday, anniversary: ann,
		start: a.AddDate(0, 0, -(w.before + buffer)), end: a.AddDate(0, 0, w.after)}
}

// refOutcome is the reference answer for one contact and day.
type refOutcome struct {
	excluded  bool
	yearRound bool
	unknown   bool
	reason    string
	// containing lists every period of years y−1 … y+1 that contains the
	// day (found by enumerating each period day by day).
	containing []refPeriod
}

type refContact struct {
	state    emailsched.State
	birthday datecalc.Date
	ed       datecalc.Date
	today    datecalc.Date
}

// anchor returns the usable anchor date: a birthday after today is not
// one (invalid data).
func (c refContact) anchor(birthday bool) datecalc.Date {
	if birthday {
		if c.birthday.IsZero() || toTime(c.birthday).After(toTime(c.today)) {
			return datecalc.Date{}
		}
		return c.birthday
	}
	return c.ed
}

func anchorWord(birthday bool) string {
	if birthday {
		return "birthday"
	}
	return "effective_date"
}

func refExcluded(r refRule, ok bool, c refContact, buffer int, d datecalc.Date) refOutcome {
	code := c.state.String()
	switch {
	case !ok:
		return refOutcome{}
	case r.yearRound:
		return refOutcome{excluded: true, yearRound: true, reason: "year_round:" + code}
	}
	for _, w := range r.windows {
		if c.anchor(w.birthday).IsZero() {
			return refOutcome{excluded: true, unknown: true, reason: "missing_anchor:" + code + ":" + anchorWord(w.birthday)}
		}
	}
	if len(r.windows) == 0 {
		return refOutcome{}
	}
	var out refOutcome
	dt := toTime(d)
	for i, w := range r.windows {
		// A date is excluded by the period of the anniversary of
		// any year. Its hint (years D − 1 … D + 1) suffices for windows
		// shorter than a year; the rule limits allow longer ones, so the
		// reference looks three years each way.
		for y := d.Year() - 3; y <= d.Year()+3; y++ {
			p := refPeriodOf(i, w, c.anchor(w.birthday), buffer, y)
			for t := p.start; !t.After(p.end); t = t.AddDate(0, 0, 1) {
				if t.Equal(dt) {
					out.excluded = true
					out.containing = append(out.containing, p)
					break
				}
			}
		}
	}
	return out
}

// ---- generators ----

// propCase is one generated input.
type propCase struct {
	state    emailsched.State
	birthday datecalc.Date
	ed       datecalc.Date
	today    datecalc.Date
	buffer   int
	d        datecalc.Date
	length   int // interval length for Periods, in days
	windows  []rules.Window
}

func (p propCase) String() string {
	var ws []string
	for _, w := range p.windows {
		ws = append(ws, w.String())
	}
	return fmt.Sprintf("{state %s birthday %s ed %s today %s buffer %d d %s length %d windows [%s]}",
		p.state, p.birthday, p.ed, p.today, p.buffer, p.d, p.length, strings.Join(ws, " + "))
}

func (p propCase) contact() *emailsched.Contact {
	return &emailsched.Contact{ID: 7, Email: "x@example.com", Birthday: p.birthday, EffectiveDate: p.ed}
}

func (p propCase) ref() refContact {
	return refContact{state: p.state, birthday: p.birthday, ed: p.ed, today: p.today}
}

var (
	minYear = datecalc.MustNew(1930, time.January, 1)
	maxYear = datecalc.MustNew(2030, time.December, 31)
	min2020 = datecalc.MustNew(2020, time.January, 1)
	max2035 = datecalc.MustNew(2035, time.December, 31)
)

func genDateIn(lo, hi datecalc.Date) gopter.Gen {
	return gen.IntRange(lo.Unix(), hi.Unix()).Map(func(n int) datecalc.Date { return datecalc.FromUnix(n) })
}

// genAnchorDate generates a date of 1930-2030, often Feb 29, sometimes
// missing.
func genAnchorDate() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 14, Gen: genDateIn(minYear, maxYear)},
		{Weight: 4, Gen: gen.IntRange(1932/4, 2028/4).Map(func(q int) datecalc.Date {
			return datecalc.MustNew(q*4, time.February, 29)
		})},
		{Weight: 1, Gen: gen.Const(datecalc.Date{})},
	})
}

// genState generates any state, half of the time one with a rule.
func genState() gopter.Gen {
	ruled := []string{"CA", "ID", "KY", "MD", "NV", "OK", "OR", "VA", "MO", "CT", "MA", "NY", "WA"}
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: gen.IntRange(1, emailsched.NumStates).Map(func(n int) emailsched.State { return emailsched.State(n) })},
		{Weight: 1, Gen: gen.IntRange(0, len(ruled)-1).Map(func(i int) emailsched.State { return st(ruled[i]) })},
	})
}

func genBuffer() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 3, Gen: gen.IntRange(0, 90)},
		{Weight: 1, Gen: gen.Const(60)},
	})
}

func genDays(max int) gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 3, Gen: gen.IntRange(0, 60)},
		{Weight: 1, Gen: gen.IntRange(0, max)},
		{Weight: 1, Gen: gen.IntRange(max-3, max)},
	})
}

func genWindow() gopter.Gen {
	return gopter.CombineGens(gen.Bool(), genDays(rules.MaxWindowDays), genDays(rules.MaxWindowDays), gen.Bool(), gen.Bool(), genDays(rules.MaxWindowDays)).
		Map(func(v []interface{}) rules.Window {
			w := rules.EffectiveDateWindow(v[1].(int), v[2].(int))
			if v[0].(bool) {
				w = rules.BirthdayWindow(v[1].(int), v[2].(int))
			}
			if v[3].(bool) {
				w = w.MonthStart()
			}
			if v[4].(bool) {
				w = w.WithBuffer(v[5].(int))
			}
			return w
		})
}

// genCase generates a contact, a run date, a buffer and a day; the day is
// either uniform in 2020-2035 or close to an anniversary of the contact's
// dates, where the boundaries are.
func genCase(withWindows bool) gopter.Gen {
	windows := gen.Const([]rules.Window(nil))
	if withWindows {
		windows = gen.IntRange(1, 3).FlatMap(func(n interface{}) gopter.Gen {
			return gen.SliceOfN(n.(int), genWindow())
		}, nil)
	}
	return gopter.CombineGens(
		genState(), genAnchorDate(), genAnchorDate(), genDateIn(min2020, max2035), genBuffer(),
		genDateIn(min2020, max2035), gen.IntRange(0, 2), gen.IntRange(2020, 2035), gen.IntRange(-200, 200),
		gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.IntRange(0, 60)}, {Weight: 1, Gen: gen.IntRange(0, 900)}}),
		windows,
	).Map(func(v []interface{}) propCase {
		p := propCase{state: v[0].(emailsched.State), birthday: v[1].(datecalc.Date), ed: v[2].(datecalc.Date),
			today: v[3].(datecalc.Date), buffer: v[4].(int), d: v[5].(datecalc.Date), length: v[9].(int), windows: v[10].([]rules.Window)}
		var near datecalc.Date
		switch v[6].(int) {
		case 1:
			near = p.birthday
		case 2:
			near = p.ed
		}
		if !near.IsZero() {
			if a := near.AnniversaryIn(v[7].(int)); !a.IsZero() {
				p.d = a.AddDays(v[8].(int))
			}
		}
		return p
	})
}

// sets are the default tables built once per buffer: the Go-built Default
// for 60, Build for the others.
type setCache struct {
	byBuffer [rules.MaxWindowDays + 1]*rules.Set
}

func newSetCache(t *testing.T) *setCache {
	var c setCache
	for b := 0; b <= 90; b++ {
		c.byBuffer[b] = mustBuild(t, rules.Options{Buffer: b}, defaultEntries()...)
	}
	c.byBuffer[60] = rules.Default()
	return &c
}

func refRuleOfWindows(ws []rules.Window) refRule {
	var r refRule
	for _, w := range ws {
		r.windows = append(r.windows, refWindow{birthday: w.Anchor == rules.AnchorBirthday, before: w.Before, after: w.After,
			monthStart: w.FromMonthStart, ownBuffer: w.OwnBuffer, buffer: w.Buffer})
	}
	return r
}

// customSet puts the generated windows on the case's state.
func customSet(p propCase) (*rules.Set, error) {
	return rules.Build(rules.Options{Buffer: p.buffer}, rules.Entry{States: []emailsched.State{p.state}, Rule: rules.Windows(p.windows...), Origin: "gen"})
}

// checkExcluded compares Excluded with the reference.
func checkExcluded(a *rules.Applied, ref refOutcome, d datecalc.Date) string {
	got, ok := a.Excluded(d)
	if ok != ref.excluded {
		return fmt.Sprintf("Excluded(%s) = %v, reference %v (%+v)", d, ok, ref.excluded, got)
	}
	if a.Excludes(d) != ok || (ok && !a.CanExclude()) {
		return fmt.Sprintf("Excludes(%s) = %v, CanExclude() = %v; Excluded gives %v", d, a.Excludes(d), a.CanExclude(), ok)
	}
	if !ok {
		return ""
	}
	if got.YearRound != ref.yearRound || got.Unknown != ref.unknown {
		return fmt.Sprintf("Excluded(%s) YearRound/Unknown = %v/%v, reference %v/%v", d, got.YearRound, got.Unknown, ref.yearRound, ref.unknown)
	}
	if ref.yearRound || ref.unknown {
		if string(got.Reason) != ref.reason || !got.Period.IsEmpty() {
			return fmt.Sprintf("Excluded(%s) = %+v, want reason %s and no period", d, got, ref.reason)
		}
		return ""
	}
	// The reported period is one of the containing ones and ends last
	// (ties: first window).
	best := ref.containing[0]
	for _, p := range ref.containing[1:] {
		if p.end.After(best.end) {
			best = p
		}
	}
	want := fmt.Sprintf("exclusion_window:%s:%s index %d anniversary %s period %s…%s", a.State(), anchorWord(best.birthday), best.index,
		best.anniversary.Format(time.DateOnly), best.start.Format(time.DateOnly), best.end.Format(time.DateOnly))
	gotS := fmt.Sprintf("%s index %d anniversary %s period %s", got.Reason, got.Index, got.Anniversary, got.Period)
	if want != gotS {
		return fmt.Sprintf("Excluded(%s) = %s, reference %s", d, gotS, want)
	}
	if ws := a.Rule().Windows(); got.Window != ws[got.Index] {
		return fmt.Sprintf("Excluded(%s).Window = %v, rule window %d is %v", d, got.Window, got.Index, ws[got.Index])
	}
	return ""
}

// TestPropExcludedMatchesReference is property (1): Excluded equals the
// brute-force reference of the exclusion rules for the default table.
func TestPropExcludedMatchesReference(t *testing.T) {
	sets := newSetCache(t)
	props := proptest.New(t, 5000)
	props.Property("Excluded = reference", prop.ForAll(func(p propCase) string {
		a := sets.byBuffer[p.buffer].Apply(p.contact(), p.state, p.today)
		r, ok := specRules[p.state.String()]
		return checkExcluded(&a, refExcluded(r, ok, p.ref(), p.buffer, p.d), p.d)
	}, genCase(false)))
	props.TestingRun(t)
}

// TestPropExcludedRandomWindowsMatchesReference is property (1) for random
// windowed rules (own buffers, month starts, up to MaxWindowDays).
func TestPropExcludedRandomWindowsMatchesReference(t *testing.T) {
	props := proptest.New(t, 3000)
	props.Property("Excluded = reference", prop.ForAll(func(p propCase) string {
		set, err := customSet(p)
		if err != nil {
			return err.Error()
		}
		a := set.Apply(p.contact(), p.state, p.today)
		return checkExcluded(&a, refExcluded(refRuleOfWindows(p.windows), true, p.ref(), p.buffer, p.d), p.d)
	}, genCase(true)))
	props.TestingRun(t)
}

// checkNextAllowed: the result is ≥ d, not excluded, and every day from d
// up to it is excluded; false only when blocking or when every day of the
// two-year search is excluded.
func checkNextAllowed(a *rules.Applied, d datecalc.Date) string {
	got, ok := a.NextAllowed(d)
	if !ok {
		if _, blocking := a.Blocking(); blocking {
			return ""
		}
		for x := d; x.DaysUntil(d.AddDays(2*366)) >= 0; x = x.AddDays(1) {
			if _, ex := a.Excluded(x); !ex {
				return fmt.Sprintf("NextAllowed(%s) = false, but %s is not excluded", d, x)
			}
		}
		return ""
	}
	if _, blocking := a.Blocking(); blocking {
		return fmt.Sprintf("NextAllowed(%s) = %s, true for a blocking rule", d, got)
	}
	if got.Before(d) {
		return fmt.Sprintf("NextAllowed(%s) = %s, before d", d, got)
	}
	if x, ex := a.Excluded(got); ex {
		return fmt.Sprintf("NextAllowed(%s) = %s, which is excluded by %+v", d, got, x)
	}
	for x := d; x.Before(got); x = x.AddDays(1) {
		if _, ex := a.Excluded(x); !ex {
			return fmt.Sprintf("NextAllowed(%s) = %s, but %s before it is not excluded", d, got, x)
		}
	}
	return ""
}

// TestPropNextAllowed is property (2) on the default table.
func TestPropNextAllowed(t *testing.T) {
	sets := newSetCache(t)
	props := proptest.New(t, 3000)
	props.Property("NextAllowed is the first day not excluded", prop.ForAll(func(p propCase) string {
		a := sets.byBuffer[p.buffer].Apply(p.contact(), p.state, p.today)
		if _, ok := a.NextAllowed(p.d); !ok {
			if _, blocking := a.Blocking(); !blocking {
				return "NextAllowed = false for a default rule that does not block"
			}
		}
		return checkNextAllowed(&a, p.d)
	}, genCase(false)))
	props.TestingRun(t)
}

// TestPropNextAllowedRandomWindows is property (2) on random windows, long
// ones included (which may cover every day).
func TestPropNextAllowedRandomWindows(t *testing.T) {
	props := proptest.New(t, 1000)
	props.Property("NextAllowed is the first day not excluded", prop.ForAll(func(p propCase) string {
		set, err := customSet(p)
		if err != nil {
			return err.Error()
		}
		a := set.Apply(p.contact(), p.state, p.today)
		return checkNextAllowed(&a, p.d)
	}, genCase(true)))
	props.TestingRun(t)
}

// refPeriods lists every period of every window for anniversaries of years
// far around iv that overlaps iv, sorted by start (ties: window order).
func refPeriods(r refRule, c refContact, buffer int, iv datecalc.Interval) []refPeriod {
	var out []refPeriod
	s, e := toTime(iv.Start), toTime(iv.End)
	for i, w := range r.windows {
		for y := iv.Start.Year() - 3; y <= iv.End.Year()+3; y++ {
			p := refPeriodOf(i, w, c.anchor(w.birthday), buffer, y)
			if !p.end.Before(s) && !e.Before(p.start) {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b refPeriod) int { return a.start.Compare(b.start) })
	return out
}

func checkPeriods(a *rules.Applied, r refRule, ok bool, p propCase) string {
	iv := datecalc.Interval{Start: p.d, End: p.d.AddDays(p.length)}
	got := a.Periods(nil, iv)
	if _, blocking := a.Blocking(); blocking || !ok || r.yearRound {
		if len(got) != 0 {
			return fmt.Sprintf("Periods(%s) = %+v for a rule without periods", iv, got)
		}
		return ""
	}
	var want []rules.Exclusion
	for _, rp := range refPeriods(r, p.ref(), p.buffer, iv) {
		want = append(want, rules.Exclusion{
			Reason:      emailsched.ExclusionReason(p.state, anchorWord(rp.birthday)),
			Window:      a.Rule().Windows()[rp.index],
			Index:       rp.index,
			Anniversary: datecalc.FromTime(rp.anniversary),
			Period:      datecalc.Interval{Start: datecalc.FromTime(rp.start), End: datecalc.FromTime(rp.end)},
		})
	}
	if diff := cmp.Diff(want, got, dateCmp); diff != "" {
		return fmt.Sprintf("Periods(%s) (-want +got):\n%s", iv, diff)
	}
	return ""
}

// TestPropPeriods is property (3) on the default table: Periods(iv) returns
// exactly the periods that overlap iv, sorted by start.
func TestPropPeriods(t *testing.T) {
	sets := newSetCache(t)
	props := proptest.New(t, 3000)
	props.Property("Periods = overlapping periods by start", prop.ForAll(func(p propCase) string {
		a := sets.byBuffer[p.buffer].Apply(p.contact(), p.state, p.today)
		r, ok := specRules[p.state.String()]
		return checkPeriods(&a, r, ok, p)
	}, genCase(false)))
	props.TestingRun(t)
}

// TestPropPeriodsRandomWindows is property (3) on random windows.
func TestPropPeriodsRandomWindows(t *testing.T) {
	props := proptest.New(t, 3000)
	props.Property("Periods = overlapping periods by start", prop.ForAll(func(p propCase) string {
		set, err := customSet(p)
		if err != nil {
			return err.Error()
		}
		a := set.Apply(p.contact(), p.state, p.today)
		return checkPeriods(&a, refRuleOfWindows(p.windows), true, p)
	}, genCase(true)))
	props.TestingRun(t)
}

// TestPropDefaultEqualsBuilt is property (4): the Go-built Default, the same
// table given to Build, and the same table given as rule functions answer
// alike.
func TestPropDefaultEqualsBuilt(t *testing.T) {
	built := mustBuild(t, rules.Options{Buffer: rules.DefaultBuffer, Name: "default.rules"}, defaultEntries()...)
	var fnEntries []rules.Entry
	for _, e := range defaultEntries() {
		r := e.Rule
		fnEntries = append(fnEntries, rules.Entry{States: e.States, Func: func(rules.Input) (rules.Rule, error) { return r, nil }, Origin: e.Origin})
	}
	funcs := mustBuild(t, rules.Options{Buffer: rules.DefaultBuffer, Checksum: "sha256:funcs"}, fnEntries...)
	def := rules.Default()
	type answers struct {
		Blocking    rules.Exclusion
		IsBlocking  bool
		Excluded    rules.Exclusion
		IsExcluded  bool
		Next        datecalc.Date
		HasNext     bool
		Periods     []rules.Exclusion
		RuleText    string
		StateString string
	}
	answer := func(s *rules.Set, p propCase) answers {
		a := s.Apply(p.contact(), p.state, p.today)
		var x answers
		x.Blocking, x.IsBlocking = a.Blocking()
		x.Excluded, x.IsExcluded = a.Excluded(p.d)
		x.Next, x.HasNext = a.NextAllowed(p.d)
		x.Periods = a.Periods(nil, datecalc.Interval{Start: p.d, End: p.d.AddDays(p.length)})
		x.RuleText = a.Rule().String()
		x.StateString = a.State().String()
		return x
	}
	props := proptest.New(t, 3000)
	props.Property("Default = Build(table) = Build(functions)", prop.ForAll(func(p propCase) string {
		want := answer(def, p)
		for name, s := range map[string]*rules.Set{"Build": built, "functions": funcs} {
			if diff := cmp.Diff(want, answer(s, p), dateCmp); diff != "" {
				return fmt.Sprintf("Default vs %s (-Default +%s):\n%s", name, name, diff)
			}
		}
		return ""
	}, genCase(false)))
	props.TestingRun(t)
}

// TestPropResolveState: the ZIP's state wins when the ZIP maps to one; else
// the state field; else no state, with a mismatch exactly when a
// valid field disagrees with the ZIP.
func TestPropResolveState(t *testing.T) {
	props := proptest.New(t, 3000)
	zips := []string{"90210", "75001", "10001", "63101", "89501", "00000", "", "1234", "96799", "99501-1234"}
	fields := []string{"CA", "tx", " ny ", "XX", "", "Texas", "dc"}
	props.Property("ZIP, then state field, then nothing", prop.ForAll(func(zi, fi int) bool {
		zip, field := zips[zi], fields[fi]
		res, err := rules.ResolveState(zip, field)
		z, zok := rules.StateFromZIP(zip)
		f, fok := emailsched.ParseState(field)
		switch {
		case zok:
			return err == nil && res.State == z && res.Source == rules.SourceZIP && res.Mismatch == (fok && f != z)
		case fok:
			return err == nil && res.State == f && res.Source == rules.SourceField && !res.Mismatch
		}
		return errors.Is(err, rules.ErrNoState) && res.State == emailsched.NoState
	}, gen.IntRange(0, len(zips)-1), gen.IntRange(0, len(fields)-1)))
	props.TestingRun(t)
}
