package dsl_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/rules"
)

// TestDefaultEquivalence: the embedded default.rules and the Go-built
// rules.Default answer alike (excluded or not, by which window, for which
// period, with which reason) for random contacts, states and dates.
func TestDefaultEquivalence(t *testing.T) {
	props := proptest.New(t, 5000)
	dslSet, goSet := dsl.Default(), rules.Default()
	epoch := datecalc.MustNew(1990, 1, 1)
	states := emailsched.States()
	dateGen := func(maxDays int) gopter.Gen {
		return gen.IntRange(-1, maxDays).Map(func(n int) datecalc.Date {
			if n < 0 {
				return datecalc.Date{} // missing
			}
			return epoch.AddDays(n - 365*60)
		})
	}
	props.Property("dsl.Default equals rules.Default", prop.ForAll(
		func(si int, bd, ed datecalc.Date, off int, issue bool) string {
			s := states[si]
			c := &emailsched.Contact{ID: 1, Birthday: bd, EffectiveDate: ed}
			if issue {
				c.Issues = []emailsched.FieldIssue{{Field: emailsched.FieldBirthday}}
			}
			today := epoch.AddDays(off)
			a, b := dslSet.Apply(c, s, today), goSet.Apply(c, s, today)
			if !a.Rule().Equal(b.Rule()) || a.Err() != nil || b.Err() != nil {
				return fmt.Sprintf("%s: rules %v and %v", s, a.Rule(), b.Rule())
			}
			for d := range 3 {
				if msg := sameAnswers(&a, &b, today.AddDays(d*97)); msg != "" {
					return fmt.Sprintf("%s: %s", s, msg)
				}
			}
			return ""
		},
		gen.IntRange(0, len(states)-1),
		dateGen(365*60),
		dateGen(365*60),
		gen.IntRange(0, 365*40),
		gen.Bool(),
	))
	props.TestingRun(t)
}

// sameAnswers compares two applied rules on day d: Blocking, Excluded
// (the whole Exclusion: reason, window, anniversary, period) and
// NextAllowed. It returns "" when they agree.
func sameAnswers(a, b *rules.Applied, d datecalc.Date) string {
	x1, ok1 := a.Blocking()
	x2, ok2 := b.Blocking()
	if ok1 != ok2 || !cmp.Equal(x1, x2) {
		return fmt.Sprintf("Blocking: %v %+v vs %v %+v", ok1, x1, ok2, x2)
	}
	x1, ok1 = a.Excluded(d)
	x2, ok2 = b.Excluded(d)
	if ok1 != ok2 || !cmp.Equal(x1, x2) {
		return fmt.Sprintf("Excluded(%s): %v %+v vs %v %+v", d, ok1, x1, ok2, x2)
	}
	n1, f1 := a.NextAllowed(d)
	n2, f2 := b.NextAllowed(d)
	if n1 != n2 || f1 != f2 {
		return fmt.Sprintf("NextAllowed(%s): %s %v vs %s %v", d, n1, f1, n2, f2)
	}
	return ""
}

// ---- random rule tables, written both ways ----

// equivAnchors are the anchors of the random tables: the built-in ones and
// the test's own (see anchor_test.go), as the declarations list them.
var equivAnchors = func() []rules.Anchor {
	all, err := rules.AllAnchors(retirement)
	if err != nil {
		panic(err)
	}
	return all
}()

// setDate stores an anchor's date in a contact, by anchor name: the
// declarations say how to read a date, not how to write one. An anchor
// missing here is generated missing.
var setDate = map[string]func(*emailsched.Contact, datecalc.Date){
	rules.AnchorBirthday.Name():      func(c *emailsched.Contact, d datecalc.Date) { c.Birthday = d },
	rules.AnchorEffectiveDate.Name(): func(c *emailsched.Contact, d datecalc.Date) { c.EffectiveDate = d },
	retirement.Name():                func(c *emailsched.Contact, d datecalc.Date) { withRetirement(c, d) },
}

// genRule is a generated rule: its text in the rules language and its
// meaning written in Go against rules.Input, independently of package
// dsl.
type genRule struct {
	text string
	eval func(in rules.Input) (rules.Rule, error)
}

// genCond is a generated condition.
type genCond struct {
	text string
	eval func(in rules.Input) (bool, error)
}

// compareOp applies a comparison operator of the language to c, the
// result of a three-way comparison (negative, zero, positive).
func compareOp(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "==":
		return c == 0
	}
	return c != 0 // "!="
}

func cmpInt(a, b int) int { return a - b }

var (
	genOp     = gen.OneConstOf("<", "<=", ">", ">=", "==", "!=")
	genAnchor = gen.IntRange(0, len(equivAnchors)-1)
	// genLiteral is a date literal of the language and its value.
	genLiteral = gen.IntRange(datecalc.MustNew(1930, 1, 1).Unix(), datecalc.MustNew(2040, 12, 31).Unix()).
			Map(func(n int) datecalc.Date { return datecalc.FromUnix(n) })
	equivStates  = []string{"CA", "NV", "TX", "FL", "NY", "MO", "GA"}
	equivZIPs    = []string{"89101", "89501-1234", "90210", "", "63101", "8"}
	equivCarrier = []string{"Acme", "acme", "", "Other Co"}
)

// anchorOf returns the anchor's name and a reader of it.
func anchorOf(i int) (string, func(rules.Input) datecalc.Date) {
	a := equivAnchors[i]
	return a.Name(), func(in rules.Input) datecalc.Date { return in.Anchor(a) }
}

// genCondLeaf generates a condition over one field of the environment:
// every anchor's date (compared, taken apart, in date arithmetic that
// fails on a missing date) and has_ flag, age and age_on, state, zip,
// carrier, id and today.
func genCondLeaf() gopter.Gen {
	return gen.OneGenOf(
		genAnchor.Map(func(i int) genCond {
			name, read := anchorOf(i)
			return genCond{"contact.has_" + name, func(in rules.Input) (bool, error) { return !read(in).IsZero(), nil }}
		}),
		gopter.CombineGens(genAnchor, genOp, genLiteral).Map(func(v []any) genCond {
			name, read := anchorOf(v[0].(int))
			op, lit := v[1].(string), v[2].(datecalc.Date)
			return genCond{fmt.Sprintf("contact.%s %s date(%q)", name, op, lit), func(in rules.Input) (bool, error) {
				return compareOp(op, read(in).Compare(lit)), nil
			}}
		}),
		gopter.CombineGens(genAnchor, gen.OneConstOf("year", "month", "day"), genOp, gen.IntRange(0, 31)).Map(func(v []any) genCond {
			name, read := anchorOf(v[0].(int))
			part, op, n := v[1].(string), v[2].(string), v[3].(int)
			if part == "year" {
				n += 1990
			}
			return genCond{fmt.Sprintf("contact.%s.%s() %s %d", name, part, op, n), func(in rules.Input) (bool, error) {
				d := read(in)
				x := map[string]int{"year": d.Year(), "month": int(d.Month()), "day": d.Day()}[part]
				return compareOp(op, cmpInt(x, n)), nil
			}}
		}),
		gopter.CombineGens(genAnchor, gen.IntRange(-400, 400)).Map(func(v []any) genCond {
			name, read := anchorOf(v[0].(int))
			n := v[1].(int)
			return genCond{fmt.Sprintf("contact.%s.add_days(%d) < today", name, n), func(in rules.Input) (bool, error) {
				d := read(in)
				if d.IsZero() {
					return false, fmt.Errorf("add_days() of a missing date")
				}
				return d.AddDays(n).Before(in.Today), nil
			}}
		}),
		gopter.CombineGens(genAnchor, gen.IntRange(-2000, 20000)).Map(func(v []any) genCond {
			name, read := anchorOf(v[0].(int))
			n := v[1].(int)
			return genCond{fmt.Sprintf("contact.%s.days_until(today) > %d", name, n), func(in rules.Input) (bool, error) {
				d := read(in)
				if d.IsZero() {
					return false, fmt.Errorf("days_until() with a missing date")
				}
				return d.DaysUntil(in.Today) > n, nil
			}}
		}),
		gopter.CombineGens(genOp, gen.IntRange(-1, 100)).Map(func(v []any) genCond {
			op, n := v[0].(string), v[1].(int)
			return genCond{fmt.Sprintf("contact.age %s %d", op, n), func(in rules.Input) (bool, error) {
				return compareOp(op, cmpInt(in.Age(), n)), nil
			}}
		}),
		gopter.CombineGens(genLiteral, gen.IntRange(-1, 100)).Map(func(v []any) genCond {
			lit, n := v[0].(datecalc.Date), v[1].(int)
			return genCond{fmt.Sprintf("contact.age_on(date(%q)) >= %d", lit, n), func(in rules.Input) (bool, error) {
				return in.AgeOn(lit) >= n, nil
			}}
		}),
		gopter.CombineGens(gen.IntRange(-400, 400), gen.IntRange(-1, 100)).Map(func(v []any) genCond {
			days, n := v[0].(int), v[1].(int)
			return genCond{fmt.Sprintf("contact.age_on(today.add_days(%d)) == %d", days, n), func(in rules.Input) (bool, error) {
				return in.AgeOn(in.Today.AddDays(days)) == n, nil
			}}
		}),
		gen.IntRange(0, len(equivStates)-1).Map(func(i int) genCond {
			s := equivStates[i]
			return genCond{fmt.Sprintf("contact.state == %q", s), func(in rules.Input) (bool, error) { return in.State.String() == s, nil }}
		}),
		gen.Const(genCond{`contact.state in ["CA", "NV", "TX"]`, func(in rules.Input) (bool, error) {
			s := in.State.String()
			return s == "CA" || s == "NV" || s == "TX", nil
		}}),
		gen.OneConstOf("89", "891", "9", "").Map(func(p string) genCond {
			return genCond{fmt.Sprintf("hasPrefix(contact.zip, %q)", p), func(in rules.Input) (bool, error) {
				return strings.HasPrefix(in.Contact.ZIP, p), nil
			}}
		}),
		gen.Const(genCond{"len(contact.zip) == 5", func(in rules.Input) (bool, error) { return len(in.Contact.ZIP) == 5, nil }}),
		gen.IntRange(0, len(equivCarrier)-1).Map(func(i int) genCond {
			c := equivCarrier[i]
			return genCond{fmt.Sprintf("contact.carrier == %q", c), func(in rules.Input) (bool, error) { return in.Contact.Carrier == c, nil }}
		}),
		gen.Const(genCond{`lower(contact.carrier) == "acme"`, func(in rules.Input) (bool, error) {
			return strings.ToLower(in.Contact.Carrier) == "acme", nil
		}}),
		gopter.CombineGens(gen.IntRange(2, 5), gen.IntRange(0, 4)).Map(func(v []any) genCond {
			m, r := v[0].(int), v[1].(int)%v[0].(int)
			return genCond{fmt.Sprintf("contact.id %% %d == %d", m, r), func(in rules.Input) (bool, error) { return int(in.Contact.ID)%m == r, nil }}
		}),
		gopter.CombineGens(genOp, genLiteral).Map(func(v []any) genCond {
			op, lit := v[0].(string), v[1].(datecalc.Date)
			return genCond{fmt.Sprintf("today %s date(%q)", op, lit), func(in rules.Input) (bool, error) {
				return compareOp(op, in.Today.Compare(lit)), nil
			}}
		}),
		gen.IntRange(1, 12).Map(func(m int) genCond {
			return genCond{fmt.Sprintf("today.month() <= %d", m), func(in rules.Input) (bool, error) { return int(in.Today.Month()) <= m, nil }}
		}),
	)
}

// genCondition generates a condition of up to depth levels of and, or and
// not over genCondLeaf; both operands are evaluated as expr does, left to
// right and only as far as needed (an error on the right of a false "and"
// never happens).
func genCondition(depth int) gopter.Gen {
	if depth == 0 {
		return genCondLeaf()
	}
	sub := genCondition(depth - 1)
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 3, Gen: genCondLeaf()},
		{Weight: 1, Gen: gopter.CombineGens(sub, sub).Map(func(v []any) genCond {
			a, b := v[0].(genCond), v[1].(genCond)
			return genCond{"(" + a.text + ") && (" + b.text + ")", func(in rules.Input) (bool, error) {
				if x, err := a.eval(in); err != nil || !x {
					return false, err
				}
				return b.eval(in)
			}}
		})},
		{Weight: 1, Gen: gopter.CombineGens(sub, sub).Map(func(v []any) genCond {
			a, b := v[0].(genCond), v[1].(genCond)
			return genCond{"(" + a.text + ") || (" + b.text + ")", func(in rules.Input) (bool, error) {
				if x, err := a.eval(in); err != nil || x {
					return x, err
				}
				return b.eval(in)
			}}
		})},
		{Weight: 1, Gen: sub.Map(func(a genCond) genCond {
			return genCond{"!(" + a.text + ")", func(in rules.Input) (bool, error) {
				x, err := a.eval(in)
				return !x, err
			}}
		})},
	})
}

// genWindow generates a window on any anchor, with or without the month
// start and an own buffer; its exclusion period stays under a year with
// any generated set buffer, so that no rule is refused for its length.
func genWindow() gopter.Gen {
	return gopter.CombineGens(genAnchor, gen.IntRange(0, 120), gen.IntRange(0, 120), gen.Bool(), gen.IntRange(-1, 60)).
		Map(func(v []any) genRule {
			a := equivAnchors[v[0].(int)]
			w := a.Window(v[1].(int), v[2].(int))
			text := fmt.Sprintf("%s_window(%d, %d)", a.Name(), w.Before, w.After)
			if v[3].(bool) {
				w = w.MonthStart()
				text += ".from_month_start()"
			}
			if b := v[4].(int); b >= 0 {
				w = w.WithBuffer(b)
				text += fmt.Sprintf(".buffer(%d)", b)
			}
			r := rules.Windows(w)
			return genRule{text, func(rules.Input) (rules.Rule, error) { return r, nil }}
		})
}

// genRuleLeaf generates a rule without condition: year-round, none, or
// one to three windows joined by +.
func genRuleLeaf() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: gen.Const(genRule{"year_round()", func(rules.Input) (rules.Rule, error) { return rules.YearRound(), nil }})},
		{Weight: 1, Gen: gen.Const(genRule{"no_exclusion()", func(rules.Input) (rules.Rule, error) { return rules.NoExclusion(), nil }})},
		{Weight: 4, Gen: gen.IntRange(1, 3).FlatMap(func(n any) gopter.Gen {
			return gen.SliceOfN(n.(int), genWindow())
		}, nil).Map(func(ws []genRule) genRule {
			texts := make([]string, len(ws))
			var all []rules.Window
			for i, w := range ws {
				texts[i] = w.text
				r, _ := w.eval(rules.Input{})
				all = append(all, r.Windows()...)
			}
			r := rules.Windows(all...)
			return genRule{strings.Join(texts, " + "), func(rules.Input) (rules.Rule, error) { return r, nil }}
		})},
	})
}

// genRuleExpr generates a rule of up to depth nested conditionals.
func genRuleExpr(depth int) gopter.Gen {
	if depth == 0 {
		return genRuleLeaf()
	}
	sub := genRuleExpr(depth - 1)
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: genRuleLeaf()},
		{Weight: 3, Gen: gopter.CombineGens(genCondition(2), sub, sub).Map(func(v []any) genRule {
			c, a, b := v[0].(genCond), v[1].(genRule), v[2].(genRule)
			return genRule{"(" + c.text + ") ? (" + a.text + ") : (" + b.text + ")", func(in rules.Input) (rules.Rule, error) {
				x, err := c.eval(in)
				switch {
				case err != nil:
					return rules.Rule{}, err
				case x:
					return a.eval(in)
				}
				return b.eval(in)
			}}
		})},
	})
}

// genTable is a random rule table: a buffer and the rules of the first
// states of equivStates.
type genTable struct {
	buffer int
	rules  []genRule
}

// text is the table as a rules file: one rule per line, so that the rule
// of line n is at gen.rules:n:5.
func (tb genTable) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pre_window_buffer: %d\n", tb.buffer)
	for i, r := range tb.rules {
		fmt.Fprintf(&b, "%s: %s\n", equivStates[i], r.text)
	}
	return b.String()
}

// goSet is the table built in Go, every rule a function, with the origins
// the loader gives the file's rules.
func (tb genTable) goSet() (*rules.Set, error) {
	var entries []rules.Entry
	for i, r := range tb.rules {
		entries = append(entries, rules.Entry{States: []emailsched.State{st(equivStates[i])}, Func: r.eval, Origin: fmt.Sprintf("gen.rules:%d:5", i+2)})
	}
	return rules.Build(rules.Options{Buffer: tb.buffer, Checksum: "go", Anchors: []rules.Anchor{retirement}}, entries...)
}

func genRuleTable() gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, 90), gen.IntRange(1, len(equivStates)-1).FlatMap(func(n any) gopter.Gen {
		return gen.SliceOfN(n.(int), genRuleExpr(2))
	}, nil)).Map(func(v []any) genTable { return genTable{buffer: v[0].(int), rules: v[1].([]genRule)} })
}

// genEquivDate generates an anchor date relative to the run date: missing,
// in the past (often on Feb 29), or after the run date.
func genEquivDate() gopter.Gen {
	return gen.Weighted([]gen.WeightedGen{
		{Weight: 2, Gen: gen.Const(0)},
		{Weight: 6, Gen: gen.IntRange(1, 365*95)},
		{Weight: 1, Gen: gen.IntRange(-365*3, -1)},
	})
}

// equivContact is a generated contact: dates as offsets from the run date
// (0: missing), and which anchor fields have an issue.
type equivContact struct {
	id              int64
	zip, carrier    string
	ago             []int // by anchor: days before the run date (negative: after it)
	issues          []bool
	feb29           bool
	state, dayShift int
}

func genEquivContact() gopter.Gen {
	n := len(equivAnchors)
	// An anchor's field has an issue one time in four.
	issues := gen.SliceOfN(n, gen.IntRange(0, 3).Map(func(i int) bool { return i == 0 }))
	return gopter.CombineGens(gen.Int64Range(1, 100000), gen.IntRange(0, len(equivZIPs)-1), gen.IntRange(0, len(equivCarrier)-1),
		gen.SliceOfN(n, genEquivDate()), issues, gen.Bool(), gen.IntRange(0, len(equivStates)-1), gen.IntRange(0, 730)).
		Map(func(v []any) equivContact {
			return equivContact{id: v[0].(int64), zip: equivZIPs[v[1].(int)], carrier: equivCarrier[v[2].(int)],
				ago: v[3].([]int), issues: v[4].([]bool), feb29: v[5].(bool), state: v[6].(int), dayShift: v[7].(int)}
		})
}

// contact returns the contact on run date today.
func (ec equivContact) contact(today datecalc.Date) *emailsched.Contact {
	c := &emailsched.Contact{ID: ec.id, ZIP: ec.zip, Carrier: ec.carrier}
	for i, a := range equivAnchors {
		if n := ec.ago[i]; n != 0 && setDate[a.Name()] != nil {
			d := today.AddDays(-n)
			if ec.feb29 && n > 0 {
				// the Feb 29 before that date, when there is one near
				if y := d.Year() - d.Year()%4; datecalc.IsLeap(y) {
					d = datecalc.MustNew(y, time.February, 29)
				}
			}
			setDate[a.Name()](c, d)
		}
		if ec.issues[i] {
			c.Issues = append(c.Issues, emailsched.FieldIssue{Field: a.Spec().Field, Value: "2000-13-01", Reason: "month must be 01-12"})
		}
	}
	return c
}

// TestRandomRulesEquivalence: random rule tables, with conditions over
// every field of the environment (each anchor's date and has_ flag, age,
// age_on, state, zip, carrier, id, today) and windows on every anchor, one
// of them the test's own, answer alike built in Go and loaded from a rules
// file, for random contacts (dates missing, unreadable, in the past, on
// Feb 29 and after the run date) and days: the same rule or the same rule
// error, and the same Blocking, Excluded (reason, window, anniversary,
// period) and NextAllowed.
func TestRandomRulesEquivalence(t *testing.T) {
	props := proptest.New(t, 400)
	opts := dsl.Options{Anchors: []rules.Anchor{retirement}}
	var seen struct{ excluded, blocked, missing, ruleError, rules, contacts int }
	props.Property("a table written in Go and as a rules file answer alike", prop.ForAll(
		func(tb genTable, today datecalc.Date, cs []equivContact) string {
			dslSet, err := opts.Load("gen.rules", []byte(tb.text()))
			if err != nil {
				return fmt.Sprintf("load:\n%s\n%v", tb.text(), err)
			}
			goSet, err := tb.goSet()
			if err != nil {
				return err.Error()
			}
			seen.rules += len(tb.rules)
			for _, ec := range cs {
				c := ec.contact(today)
				s := st(equivStates[ec.state%(len(tb.rules)+1)]) // a state of the table, or the next, which has no rule
				a, b := dslSet.Apply(c, s, today), goSet.Apply(c, s, today)
				if (a.Err() == nil) != (b.Err() == nil) || !a.Rule().Equal(b.Rule()) {
					return fmt.Sprintf("%s on %s for %+v:\n%s\ndsl %v (%v), Go %v (%v)", s, today, ec, tb.text(), a.Rule(), a.Err(), b.Rule(), b.Err())
				}
				seen.contacts++
				if a.Err() != nil {
					seen.ruleError++
				}
				if x, ok := a.Blocking(); ok {
					seen.blocked++
					if strings.HasPrefix(string(x.Reason), emailsched.ReasonPrefixMissingAnchor) {
						seen.missing++
					}
				}
				for _, d := range []datecalc.Date{today, today.AddDays(ec.dayShift), today.AddDays(-ec.dayShift / 3)} {
					if msg := sameAnswers(&a, &b, d); msg != "" {
						return fmt.Sprintf("%s on %s for %+v:\n%s\n%s", s, today, ec, tb.text(), msg)
					}
					if _, ok := a.Excluded(d); ok && a.Err() == nil && a.Rule().Kind() == rules.KindWindows {
						seen.excluded++
					}
				}
			}
			return ""
		},
		genRuleTable(),
		gen.IntRange(datecalc.MustNew(2020, 1, 1).Unix(), datecalc.MustNew(2035, 12, 31).Unix()).Map(func(n int) datecalc.Date { return datecalc.FromUnix(n) }),
		gen.SliceOfN(8, genEquivContact()),
	))
	props.TestingRun(t)
	// The property says something only when every kind of answer occurs.
	t.Logf("%+v", seen)
	if seen.excluded < 100 || seen.missing < 100 || seen.ruleError < 50 || seen.blocked <= seen.missing+seen.ruleError {
		t.Errorf("too few interesting cases: %+v", seen)
	}
}
