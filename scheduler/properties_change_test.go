package scheduler

import (
	"context"
	"fmt"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store/memory"
)

// knobs are random plan-deciding settings: timing, rules and caps.
type knobs struct {
	BirthdayBefore, EDBefore, CatchUp, MaxEmails, RulesIndex int
	DailyCapPercent                                          float64
}

func (k knobs) config(t testing.TB) Config {
	return Config{Rules: changeRuleSets(t)[k.RulesIndex], BirthdayDaysBefore: Int(k.BirthdayBefore),
		EffectiveDateDaysBefore: Int(k.EDBefore), CatchUpSpreadDays: Int(k.CatchUp), MaxEmailsPerPeriod: Int(k.MaxEmails),
		DailyCapPercent: Float(k.DailyCapPercent)}
}

func genKnobs() gopter.Gen {
	return gopter.CombineGens(gen.OneConstOf(14, 21, 0), gen.OneConstOf(30, 45, 7), gen.OneConstOf(7, 3, 1),
		gen.OneConstOf(2, 1, 5), gen.IntRange(0, 2), gen.OneConstOf(7.0, 20.0, 100.0)).Map(func(v []any) knobs {
		return knobs{BirthdayBefore: v[0].(int), EDBefore: v[1].(int), CatchUp: v[2].(int), MaxEmails: v[3].(int),
			RulesIndex: v[4].(int), DailyCapPercent: v[5].(float64)}
	})
}

// changeRuleSets are the rule sets a change picks from: the default set
// and two that differ from it in a few states.
func changeRuleSets(t testing.TB) []*rules.Set {
	st := emailsched.MustState
	build := func(name string, entries ...rules.Entry) *rules.Set {
		set, err := rules.Build(rules.Options{Buffer: 60, Name: name}, entries...)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	return []*rules.Set{
		rules.Default(),
		build("wide", rules.Entry{States: []emailsched.State{st("CA"), st("TX"), st("FL")}, Rule: rules.Windows(rules.BirthdayWindow(30, 60)), Origin: "t:1:1"},
			rules.Entry{States: []emailsched.State{st("NY")}, Rule: rules.YearRound(), Origin: "t:2:1"}),
		build("ed", rules.Entry{States: []emailsched.State{st("CA"), st("MO"), st("OH")}, Rule: rules.Windows(rules.EffectiveDateWindow(30, 33)), Origin: "t:1:1"}),
	}
}

// changeScenario is a stored plan made with old settings some days before
// today, and new settings for today's run.
type changeScenario struct {
	Contacts []richScenario
	Old, New knobs
	Age      int // days between the stored plan and today
}

func (sc changeScenario) String() string {
	return fmt.Sprintf("old %+v, new %+v, age %d, %d contacts", sc.Old, sc.New, sc.Age, len(sc.Contacts))
}

// TestPropertiesChangeReplans: after a change of rules, timing or caps, one
// run gives every email what a database without a stored plan gets from
// the new settings on the same day, and the emails the change does not
// touch keep their stored rows (their ID and the run that wrote them).
func TestPropertiesChangeReplans(t *testing.T) {
	props := proptest.New(t, 150)
	ctx := context.Background()
	cat := propertyCatalogue()
	props.Property("a run after a change equals a plan from scratch; untouched rows are kept", prop.ForAll(func(sc changeScenario) bool {
		old, nw := sc.Old.config(t), sc.New.config(t)
		sOld, err := New(old)
		if err != nil {
			t.Fatal(err)
		}
		sNew, err := New(nw)
		if err != nil {
			t.Fatal(err)
		}
		if sOld.Identity() == sNew.Identity() {
			return true // no change: stability keeps stored dates (TestPropertiesRun)
		}
		today := sc.Contacts[0].Today
		cs := make([]emailsched.Contact, len(sc.Contacts))
		for i := range sc.Contacts {
			cs[i] = sc.Contacts[i].Contact
			cs[i].ID = int64(i + 1)
		}
		changed, err := memory.New(cs, cat)
		if err != nil {
			t.Fatal(err)
		}
		scratch, err := memory.New(cs, cat)
		if err != nil {
			t.Fatal(err)
		}
		// The stored plan: made with the old settings, on one day or two.
		for day := today.AddDays(-sc.Age); !day.After(today); day = day.AddDays(max(sc.Age, 1)) {
			if _, err := sOld.RunAt(ctx, day, changed, changed); err != nil {
				t.Fatal(err)
			}
		}
		before := map[int64]emailsched.Email{}
		for _, e := range changed.Plan() {
			before[e.ID] = e
		}
		rep, err := sNew.RunAt(ctx, today, changed, changed)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Replan.Changed() {
			t.Logf("the run did not see the change: %+v", rep.Replan)
			return false
		}
		if _, err := sNew.RunAt(ctx, today, scratch, scratch); err != nil {
			t.Fatal(err)
		}
		for i := range cs {
			id := cs[i].ID
			got, _ := changed.Rows(id)
			want, _ := scratch.Rows(id)
			if !sameRows(got, want) {
				t.Logf("contact %d: after the change\n%v\nfrom scratch\n%v", id, rowsOf(got), rowsOf(want))
				return false
			}
			for _, e := range got {
				if b, ok := before[e.ID]; ok && b.SameContent(&e) && b.RunID != e.RunID {
					t.Logf("contact %d: row %d is unchanged but was rewritten (run %s → %s)", id, e.ID, b.RunID, e.RunID)
					return false
				}
			}
		}
		return true
	}, gopter.CombineGens(gen.SliceOfN(12, genRichScenario()), genKnobs(), genKnobs(), gen.IntRange(0, 6)).Map(func(v []any) changeScenario {
		return changeScenario{Contacts: v[0].([]richScenario), Old: v[1].(knobs), New: v[2].(knobs), Age: v[3].(int)}
	}).SuchThat(func(sc changeScenario) bool { return len(sc.Contacts) > 0 })))
	props.TestingRun(t)
}

// sameRows reports whether two plans hold the same emails, whatever their
// order and row IDs.
func sameRows(a, b []emailsched.Email) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for i := range a {
		found := false
		for j := range b {
			if !used[j] && a[i].SameContent(&b[j]) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
