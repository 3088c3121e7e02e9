package dsl_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

// propertySeed is fixed so that runs are reproducible; it is printed on
// failure.
const propertySeed = 20250601

// TestDefaultEquivalence: the embedded default.rules and the Go-built
// rules.Default answer alike (excluded or not, by which window, for which
// period, with which reason) for random contacts, states and dates.
func TestDefaultEquivalence(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(propertySeed)
	params.MinSuccessfulTests = 5000
	props := gopter.NewProperties(params)
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
		func(si int, bd, ed datecalc.Date, off int, issue bool) bool {
			s := states[si]
			c := &emailsched.Contact{ID: 1, Birthday: bd, EffectiveDate: ed}
			if issue {
				c.Issues = []emailsched.FieldIssue{{Field: emailsched.FieldBirthday}}
			}
			today := epoch.AddDays(off)
			a, b := dslSet.Apply(c, s, today), goSet.Apply(c, s, today)
			if !a.Rule().Equal(b.Rule()) || a.Err() != nil || b.Err() != nil {
				t.Logf("seed %d: %s: rules %v and %v", propertySeed, s, a.Rule(), b.Rule())
				return false
			}
			for d := range 3 {
				day := today.AddDays(d * 97)
				x1, ok1 := a.Excluded(day)
				x2, ok2 := b.Excluded(day)
				if ok1 != ok2 || !cmp.Equal(x1, x2, cmp.AllowUnexported(rules.Rule{})) {
					t.Logf("seed %d: %s on %s: dsl %v %+v, go %v %+v", propertySeed, s, day, ok1, x1, ok2, x2)
					return false
				}
				n1, f1 := a.NextAllowed(day)
				n2, f2 := b.NextAllowed(day)
				if n1 != n2 || f1 != f2 {
					t.Logf("seed %d: %s NextAllowed(%s): %s %v vs %s %v", propertySeed, s, day, n1, f1, n2, f2)
					return false
				}
			}
			return true
		},
		gen.IntRange(0, len(states)-1),
		dateGen(365*60),
		dateGen(365*60),
		gen.IntRange(0, 365*40),
		gen.Bool(),
	))
	props.TestingRun(t)
}
