package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
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

// store is a memory store of the scenario's contacts, numbered from 1,
// with the property catalogue.
func (sc settleScenario) store(t *testing.T) *memory.Store {
	cs := make([]emailsched.Contact, len(sc.Contacts))
	for i := range sc.Contacts {
		cs[i] = sc.Contacts[i].Contact
		cs[i].ID = int64(i + 1)
	}
	m, err := memory.New(cs, propertyCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	return m
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
	props.Property("a rerun on the same day writes nothing", prop.ForAll(func(sc settleScenario) bool {
		stored, err := New(Config{DailyCapPercent: Float(sc.Cap)})
		if err != nil {
			t.Fatal(err)
		}
		counted, err := New(Config{DailyCapPercent: Float(sc.Cap), FullCountingPass: true})
		if err != nil {
			t.Fatal(err)
		}
		m := sc.store(t)
		cs := sc.Contacts
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

// failingSettle is a sink whose settling runs cannot begin.
type failingSettle struct{ *memory.Store }

func (f failingSettle) Begin(ctx context.Context, info emailsched.RunInfo) (store.Writer, error) {
	if strings.Contains(info.ID, "-settle") {
		return nil, errors.New("disk full")
	}
	return f.Store.Begin(ctx, info)
}

// forgetfulSink keeps the plan but not its per-day volume, as a dry run's
// sink keeps neither: nothing for a settling run to start from.
type forgetfulSink struct{ *memory.Store }

func (f forgetfulSink) Begin(ctx context.Context, info emailsched.RunInfo) (store.Writer, error) {
	w, err := f.Store.Begin(ctx, info)
	return struct{ store.Writer }{w}, err
}

// TestSettleRun: a run that balanced from a stored volume differing from
// the planned one settles in a second run, says so in its summary, and
// reports a settling run that fails.
func TestSettleRun(t *testing.T) {
	ctx := context.Background()
	params := gopter.DefaultGenParameters()
	params.Rng = rand.New(rand.NewSource(1))
	for try := 0; try < 500; try++ {
		v, ok := genSettleScenario()(params).Retrieve()
		if !ok {
			continue
		}
		sc := v.(settleScenario)
		replay := func(sink func(*memory.Store) store.ScheduleSink) (*Report, error) {
			s, err := New(Config{DailyCapPercent: Float(sc.Cap)})
			if err != nil {
				t.Fatal(err)
			}
			m := sc.store(t)
			day := sc.Contacts[0].Today
			var rep *Report
			for _, jump := range sc.Jumps {
				day = day.AddDays(jump)
				if rep, err = s.RunAt(ctx, day, m, sink(m)); err != nil || rep.Settled != nil {
					return rep, err
				}
			}
			return rep, nil
		}
		rep, err := replay(func(m *memory.Store) store.ScheduleSink { return m })
		if err != nil {
			t.Fatal(err)
		}
		if rep.Settled == nil {
			continue
		}
		if !rep.LoadDiffered || rep.LoadFrom != LoadStored || !strings.HasSuffix(rep.Settled.RunID, "-settle1") {
			t.Errorf("settled run: differed %v, load from %s, settled by %s", rep.LoadDiffered, rep.LoadFrom, rep.Settled.RunID)
		}
		var b strings.Builder
		if err := rep.WriteSummary(&b); err != nil || !strings.Contains(b.String(), "Settled   this run's day counts differed") {
			t.Errorf("summary does not say the run settled:\n%s", b.String())
		}
		_, err = replay(func(m *memory.Store) store.ScheduleSink { return failingSettle{m} })
		if err == nil || !strings.Contains(err.Error(), "settling the plan") || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("a settling run that fails: %v", err)
		}
		// A sink that keeps no volume is not settled: the report says so.
		rep, err = replay(func(m *memory.Store) store.ScheduleSink { return forgetfulSink{m} })
		if err != nil || rep.Settled != nil {
			t.Errorf("a sink that keeps no volume: settled by %+v, %v", rep.Settled, err)
		}
		// A dry run only says what a run would do.
		dry := &Report{LoadFrom: LoadStored, LoadDiffered: true}
		b.Reset()
		if err := dry.WriteSummary(&b); err != nil || !strings.Contains(b.String(), "a real run would spread the emails again") {
			t.Errorf("dry run summary:\n%s", b.String())
		}
		return
	}
	t.Fatal("no scenario of 500 needed to settle")
}
