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
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// settleScenario is a database and the runs made on it before today: each
// step jumps some days ahead and runs, from the stored load or with a
// counting pass.
type settleScenario struct {
	Contacts []richScenario
	Jumps    []int
	Counted  []bool
	Cap      float64 // daily cap in percent
}

func (sc settleScenario) String() string {
	return fmt.Sprintf("%d contacts, jumps %v, counted %v, cap %v %%", len(sc.Contacts), sc.Jumps, sc.Counted, sc.Cap)
}

func genSettleScenario() gopter.Gen {
	jump := gen.OneGenOf(gen.IntRange(0, 2), gen.IntRange(1, 10), gen.IntRange(1, 400))
	return gopter.CombineGens(gen.SliceOfN(16, genRichScenario()), gen.SliceOfN(4, jump), gen.SliceOfN(4, gen.Bool()),
		gen.OneConstOf(7.0, 15.0, 30.0, 100.0)).Map(func(v []any) settleScenario {
		return settleScenario{Contacts: v[0].([]richScenario), Jumps: v[1].([]int), Counted: v[2].([]bool), Cap: v[3].(float64)}
	}).SuchThat(func(sc settleScenario) bool { return len(sc.Contacts) > 0 && len(sc.Jumps) > 0 })
}

// TestPropertiesRunsSettle: whatever ran before (a first run, jumps of 0 to
// 400 days, runs from the stored load or with a counting pass), a run on
// the same day with the same inputs writes nothing, from the stored load
// and with a counting pass alike.
func TestPropertiesRunsSettle(t *testing.T) {
	props := proptest.New(t, 200)
	ctx := context.Background()
	cat := propertyCatalogue()
	props.Property("a rerun on the same day writes nothing", prop.ForAll(func(sc settleScenario) bool {
		stored, err := New(Config{DailyCapPercent: Float(sc.Cap)})
		if err != nil {
			t.Fatal(err)
		}
		counted, err := New(Config{DailyCapPercent: Float(sc.Cap), FullCountingPass: true})
		if err != nil {
			t.Fatal(err)
		}
		cs := make([]emailsched.Contact, len(sc.Contacts))
		for i := range sc.Contacts {
			cs[i] = sc.Contacts[i].Contact
			cs[i].ID = int64(i + 1)
		}
		m, err := memory.New(cs, cat)
		if err != nil {
			t.Fatal(err)
		}
		day := sc.Contacts[0].Today
		for i, jump := range sc.Jumps {
			day = day.AddDays(jump)
			s := stored
			if i < len(sc.Counted) && sc.Counted[i] {
				s = counted
			}
			if _, err := s.RunAt(ctx, day, m, m); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []*Scheduler{stored, counted, stored} {
			before := m.Plan()
			rep, err := s.RunAt(ctx, day, m, m)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != (store.RowCounts{Unchanged: rep.Rows.Unchanged}) {
				after := m.Plan()
				for id := int64(1); id <= int64(len(cs)); id++ {
					if b, a := contactRows(before, id), contactRows(after, id); !sameRows(b, a) {
						t.Logf("%v: contact %d changed on %v (load from %s):\nbefore %v\nafter  %v", sc, id, day, rep.LoadFrom, rowsOf(b), rowsOf(a))
					}
				}
				return false
			}
		}
		return true
	}, genSettleScenario()))
	props.TestingRun(t)
}

func contactRows(plan []emailsched.Email, id int64) []emailsched.Email {
	var out []emailsched.Email
	for _, e := range plan {
		if e.ContactID == id {
			out = append(out, e)
		}
	}
	return out
}
