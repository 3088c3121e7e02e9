package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched/internal/crashtest"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// The crash test re-executes the test binary as a child that plans one
// schema (crashURLEnv, crashSchemaEnv, crashModeEnv: a crashModes key) and
// reports its progress on stdout: "begin", "w" after each Write, "commit"
// before Commit, "done" after it. The parent kills it with SIGKILL.
const (
	crashURLEnv    = "EMAILSCHED_PG_CRASH_URL"
	crashSchemaEnv = "EMAILSCHED_PG_CRASH_SCHEMA"
	crashModeEnv   = "EMAILSCHED_PG_CRASH_MODE"
	crashRunID     = "crash-run"
)

var crashModes = map[string]postgres.Options{
	"batches": {BatchContacts: 15},
	"atomic":  {Atomic: true, BatchContacts: 50},
}

// crashChildMain runs the crash test's child when this process is one, and
// reports whether it was (it then exits).
func crashChildMain() bool {
	url := os.Getenv(crashURLEnv)
	if url == "" {
		return false
	}
	if err := crashChild(url, os.Getenv(crashSchemaEnv), crashModes[os.Getenv(crashModeEnv)]); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	os.Exit(0)
	return true
}

func crashChild(url, schema string, opts postgres.Options) error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	opts.Schema = schema
	s := postgres.New(pool, opts)
	_, err = newScheduler(crashRunID).RunAt(ctx, testToday, s, crashtest.Sink{ScheduleSink: s})
	return err
}

// runChild runs the child on schema (see crashtest.Run).
func runChild(t *testing.T, url, schema, mode string, kill func(line string, writes int, since time.Duration) bool, after time.Duration) crashtest.Result {
	t.Helper()
	return crashtest.Run(t, []string{crashURLEnv + "=" + url, crashSchemaEnv + "=" + schema, crashModeEnv + "=" + mode}, kill, after)
}

// dumpRows returns the rows of email_schedules, history (every column, by
// id) or the plan (content and run id, by contact, sorted).
func dumpHistory(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT row(e.*)::text FROM `+pgx.Identifier{schema, "email_schedules"}.Sanitize()+
		` e WHERE status NOT IN ('pre-scheduled', 'skipped') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dumpPlan(t *testing.T, pool *pgxpool.Pool, schema string) map[int64][]string {
	t.Helper()
	// The send day, time and run id first (withoutSendDay blanks them),
	// then the rest; NULL is written out, so that every field keeps its
	// place.
	rows, err := pool.Query(context.Background(), `SELECT contact_id, concat_ws('|', scheduled_send_date,
		coalesce(scheduled_send_time, 'NULL'), coalesce(scheduler_run_id, 'NULL'), email_type, status,
		coalesce(skip_reason, 'NULL'), coalesce(priority::text, 'NULL'), coalesce(campaign_instance_id::text, 'NULL'),
		coalesce(email_template, 'NULL'), coalesce(sms_template, 'NULL'), coalesce(event_year::text, 'NULL'),
		coalesce(event_month::text, 'NULL'), coalesce(event_day::text, 'NULL'), coalesce(catchup_note, 'NULL'),
		coalesce(metadata, 'NULL')) FROM `+pgx.Identifier{schema, "email_schedules"}.Sanitize()+
		` WHERE status IN ('pre-scheduled', 'skipped')`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]string{}
	var c int64
	var line string
	if _, err := pgx.ForEachRow(rows, []any{&c, &line}, func() error {
		out[c] = append(out[c], line)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// withoutSendDay returns dumpPlan's plans with the send date and time and
// the run id blanked and sorted again: what balancing may change, and the
// run id, which a row keeps while it does not change.
func withoutSendDay(plans map[int64][]string) map[int64][]string {
	out := make(map[int64][]string, len(plans))
	for c, lines := range plans {
		for _, l := range lines {
			f := strings.SplitN(l, "|", 4)
			out[c] = append(out[c], "||"+f[len(f)-1])
		}
		slices.Sort(out[c])
	}
	return out
}

// TestCrashSafety kills a planning run with SIGKILL at many moments (by
// time, after a number of written contacts, around its start and its
// commit), in short transactions and atomic, and checks after each: the
// history is identical, every contact has its complete old or complete
// new plan (an atomic run: all old or all new), the checkpoints say what
// happened, and a following run finishes the job (the plan of an
// uninterrupted run when the kill left every contact on one plan; a
// plan with the same emails and statuses, settled, otherwise) and marks the killed run's checkpoint failed.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	pool := newPool(t)
	url := pool.Config().ConnString()
	camps := demodata.DemoCampaigns(testToday)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 42, Contacts: 1500, Today: testToday, StoredFraction: 0.4,
		HistoryFraction: 0.5, Campaigns: camps, CampaignFraction: 0.2})
	fresh := func() string {
		s := loaded(t, pool, contacts, camps, postgres.Options{})
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s.Schema()
	}
	base := fresh()
	history, oldPlan := dumpHistory(t, pool, base), dumpPlan(t, pool, base)
	for _, tc := range []struct {
		mode  string
		kills int
	}{{"batches", 9}, {"atomic", 6}} {
		t.Run(tc.mode, func(t *testing.T) {
			ref := fresh()
			child := runChild(t, url, ref, tc.mode, nil, 0)
			dur, writes := child.Took, child.Writes
			if writes < 50 {
				t.Fatalf("the reference run wrote only %d contacts", writes)
			}
			newPlan := dumpPlan(t, pool, ref)
			changed := 0
			for c := range newPlan {
				if !slices.Equal(oldPlan[c], newPlan[c]) {
					changed++
				}
			}
			t.Logf("reference run: %v, %d contacts written, %d contacts with a changed plan", dur, writes, changed)
			atomic := crashModes[tc.mode].Atomic
			partial := 0
			for i := range tc.kills {
				var kill func(string, int, time.Duration) bool
				var after time.Duration
				var how string
				switch i % 3 {
				case 0: // by time, from process start to past the end
					after = dur * time.Duration(i+2) / time.Duration(tc.kills)
					how = fmt.Sprintf("after %v", after)
				case 1: // after k written contacts
					k := 1 + i*writes/tc.kills
					kill = func(line string, w int, _ time.Duration) bool { return line == "w" && w >= k }
					how = fmt.Sprintf("after write %d", k)
				case 2: // at the start, or during the commit
					event, d := "commit", time.Duration(i-2)*15*time.Millisecond
					if i == 2 {
						event, d = "begin", 0
					}
					kill = func(line string, _ int, _ time.Duration) bool {
						if line == event {
							time.Sleep(d)
							return true
						}
						return false
					}
					how = fmt.Sprintf("%v after %s", d, event)
				}
				t.Run(fmt.Sprintf("kill%02d", i), func(t *testing.T) {
					work := fresh()
					killed := runChild(t, url, work, tc.mode, kill, after).Killed
					if diff := cmp.Diff(history, dumpHistory(t, pool, work)); diff != "" {
						t.Fatalf("killed %s: history changed:\n%s", how, diff)
					}
					got := dumpPlan(t, pool, work)
					olds, news := 0, 0
					for c := range union(oldPlan, newPlan, got) {
						switch {
						case slices.Equal(got[c], newPlan[c]) && slices.Equal(got[c], oldPlan[c]):
						case slices.Equal(got[c], oldPlan[c]):
							olds++
						case slices.Equal(got[c], newPlan[c]):
							news++
						default:
							t.Errorf("killed %s: contact %d has neither its old nor its new plan:\nold %q\nnew %q\ngot %q",
								how, c, oldPlan[c], newPlan[c], got[c])
						}
					}
					if olds > 0 && news > 0 {
						partial++
						if atomic {
							t.Errorf("killed %s: an atomic run left %d contacts on the old plan and %d on the new", how, olds, news)
						}
					}
					s := postgres.New(pool, postgres.Options{Schema: work, LockTimeout: 10 * time.Second})
					cps, err := s.Checkpoints(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if len(cps) > 1 || len(cps) == 1 && cps[0].Status == postgres.CheckpointFailed {
						t.Errorf("killed %s: checkpoints %+v, want at most the killed run's", how, cps)
					}
					t.Logf("killed %s (killed=%v): %d contacts on the old plan, %d on the new; checkpoints %d", how, killed, olds, news, len(cps))

					// The next run finishes the job. When the kill left
					// every contact on one plan, it ends with the plan of
					// the uninterrupted run. When it left some on each,
					// the next run keeps the rows already rewritten (plans
					// are stable from run to run) and balances the other
					// contacts from that volume, which can place a few of
					// their emails on other days than the uninterrupted
					// run did (a property of the scheduler, met on SQLite
					// as well): its plan must then be settled, so that a
					// run right after it writes nothing.
					runPlan(t, testToday, s, s, crashRunID)
					if olds == 0 || news == 0 {
						if diff := cmp.Diff(newPlan, dumpPlan(t, pool, work)); diff != "" {
							t.Errorf("killed %s: the following run's plan differs from the uninterrupted run's (-want +got):\n%s", how, diff)
						}
					} else {
						if diff := cmp.Diff(withoutSendDay(newPlan), withoutSendDay(dumpPlan(t, pool, work))); diff != "" {
							t.Errorf("killed %s: the following run's emails or statuses differ from the uninterrupted run's (-want +got):\n%s", how, diff)
						}
						if again := runPlan(t, testToday, s, s, crashRunID+"-again"); again.Rows.Written() != 0 {
							t.Errorf("killed %s: the run after the following run wrote %+v, want nothing", how, again.Rows)
						}
					}
					if diff := cmp.Diff(history, dumpHistory(t, pool, work)); diff != "" {
						t.Errorf("killed %s: history changed by the following run:\n%s", how, diff)
					}
					after, err := s.Checkpoints(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					for j, cp := range after {
						last := j == len(after)-1
						switch {
						case last && (cp.Status != postgres.CheckpointCompleted || !cp.HasLoad):
							t.Errorf("killed %s: the following run's checkpoint %+v, want completed with its load", how, cp)
						case !last && cp.Status == postgres.CheckpointRunning:
							t.Errorf("killed %s: checkpoint %+v still running after the next run", how, cp)
						case !last && cp.Status == postgres.CheckpointFailed && !strings.HasPrefix(cp.Error, "abandoned"):
							t.Errorf("killed %s: the killed run's checkpoint %+v, want it marked abandoned", how, cp)
						}
					}
				})
			}
			if !atomic && partial < 2 {
				t.Errorf("only %d of %d kills interrupted the run mid-write", partial, tc.kills)
			}
		})
	}
}

func union(ms ...map[int64][]string) map[int64]bool {
	out := map[int64]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}
