package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// interruptScenario is a database, a run history before the day, and a
// run of the day interrupted after some contacts.
type interruptScenario struct {
	Seed     int64
	Contacts int
	Cap      float64
	Before   int // days between a first run and the day; 0: no earlier run
	StopAt   int // the planning pass is cancelled when this many contacts are done
	Batch    int
	Counted  bool // the day's runs count the volume instead of using the stored one
	// The generated database: the run date, and the shares of contacts
	// with a stored plan, with history rows and with campaign targets (0:
	// the generator's).
	Day                       datecalc.Date
	Stored, History, Campaign float64
}

func (sc interruptScenario) String() string {
	type fields interruptScenario // without this method
	return fmt.Sprintf("%+v", fields(sc))
}

// interruptedRunSettles runs sc on a fresh database and on a copy of it
// without the interruption, and says how the interrupted run's rerun
// differs: "" when it finished the job. Finishing the job: every email of
// the uninterrupted plan, with its status and reason, and no other
// (load balancing may have put some on other days, see
// TestPropertyInterruptedRunSettles), and a further run on the day
// writes nothing.
func interruptedRunSettles(t *testing.T, sc interruptScenario) string {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.sqlite3")
	gen := demodata.GenOptions{Seed: sc.Seed, Contacts: sc.Contacts, Today: sc.Day, StoredFraction: sc.Stored,
		HistoryFraction: sc.History, CampaignFraction: sc.Campaign}
	if err := sqlitefixture.Create(ctx, base, sqlitefixture.Options{Gen: gen}); err != nil {
		t.Fatal(err)
	}
	cfg := scheduler.Config{DailyCapPercent: scheduler.Float(sc.Cap), FullCountingPass: sc.Counted}
	if sc.Before > 0 {
		run(t, base, scheduler.Config{DailyCapPercent: scheduler.Float(sc.Cap)}, sc.Day.AddDays(-sc.Before), sc.Batch, nil)
	}
	ref := filepath.Join(dir, "ref.sqlite3")
	copyFile(t, base, ref)
	run(t, ref, cfg, sc.Day, sc.Batch, nil)
	work := filepath.Join(dir, "work.sqlite3")
	copyFile(t, base, work)
	stop := sc.StopAt
	run(t, work, cfg, sc.Day, sc.Batch, &stop)
	run(t, work, cfg, sc.Day, sc.Batch, nil)
	want, got := dump(t, openRO(t, ref), true, true), dump(t, openRO(t, work), true, true)
	if diff := cmp.Diff(withoutSendDay(want), withoutSendDay(got)); diff != "" {
		return fmt.Sprintf("%v: after the interruption, emails or statuses differ (-uninterrupted +got):\n%s", sc, diff)
	}
	if rep := run(t, work, cfg, sc.Day, sc.Batch, nil); rep.Rows.Written() != 0 {
		return fmt.Sprintf("%v: a further run on the day wrote %+v", sc, rep.Rows)
	}
	return ""
}

// TestPropertyInterruptedRunSettles: a run interrupted at any point after
// some batches committed, then run again, finishes the job, and a further
// run on the day writes nothing: on random production databases, after
// random run histories, from the stored volume or a counting pass.
//
// The rerun's plan has every email of an uninterrupted run's, with the
// same statuses, but not always on the same days. Plans are stable from
// run to run: the rerun keeps the rows the interrupted run already
// rewrote, including the days load balancing moved them to, and balances
// the other contacts against that volume, which is not the volume the
// interrupted run balanced against (those rows were on their old days
// then). Load balancing moves emails off a crowded day in contact order,
// so another volume can move other contacts' emails.
func TestPropertyInterruptedRunSettles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes many databases")
	}
	props := proptest.New(t, 40)
	props.Property("an interrupted run, run again, finishes the job", prop.ForAll(func(sc interruptScenario) bool {
		problem := interruptedRunSettles(t, sc)
		if problem != "" {
			t.Log(problem)
		}
		return problem == ""
	}, gopter.CombineGens(gen.Int64Range(1, 1<<30), gen.IntRange(30, 150), gen.OneConstOf(2.0, 7.0, 30.0), gen.OneConstOf(0, 1, 5, 30),
		gen.IntRange(1, 150), gen.IntRange(1, 20), gen.Bool()).Map(func(v []any) interruptScenario {
		seed := v[0].(int64)
		return interruptScenario{Seed: seed, Contacts: v[1].(int), Cap: v[2].(float64), Before: v[3].(int),
			StopAt: v[4].(int), Batch: v[5].(int), Counted: v[6].(bool), Day: testToday.AddDays(int(seed % 200)), Stored: 0.3}
	})))
	props.TestingRun(t)
}

// run runs the scheduler on the database at path for day, in batches of
// batch contacts; with stop, the planning pass is cancelled once *stop
// contacts are done (the run's error is then expected and ignored).
func run(t *testing.T, path string, cfg scheduler.Config, day datecalc.Date, batch int, stop *int) *scheduler.Report {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stop != nil {
		cfg.ProgressEvery = scheduler.Int(1)
		cfg.Progress = func(pass string, done int) {
			if pass == scheduler.PassPlanning && done >= *stop {
				cancel()
			}
		}
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := sqlite.New(db, sqlite.Options{BatchContacts: batch})
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.RunAt(ctx, day, st, st)
	if err != nil && stop == nil {
		t.Fatal(err)
	}
	return rep
}

// TestInterruptedRunRecordsAtOnce: a run interrupted while the source still
// reads (rollback-journal mode reads in chunks of transactions) records its
// failure without waiting for a lock its own reading holds. It used to wait
// on its own read transaction until the retries ran out.
func TestInterruptedRunRecordsAtOnce(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 9, Contacts: 300}})
	var logs strings.Builder
	cfg := scheduler.Config{}
	stop := 150
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.ProgressEvery = scheduler.Int(1)
	cfg.Progress = func(pass string, done int) {
		if pass == scheduler.PassPlanning && done >= stop {
			cancel()
		}
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := sqlite.New(db, sqlite.Options{BatchContacts: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunAt(cctx, testToday, st, st); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want the cancellation", err)
	}
	if strings.Contains(logs.String(), "waiting for the database") {
		t.Errorf("recording the failure waited for a lock:\n%s", logs.String())
	}
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := cps[len(cps)-1]; last.Status != sqlite.CheckpointFailed || !strings.Contains(last.Error, "context canceled") {
		t.Errorf("checkpoint %+v", last)
	}
}
