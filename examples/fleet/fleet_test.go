package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// queueKind is one of the two queues; every queue test runs with both.
type queueKind struct {
	name string
	// queue returns the -queue flag of a test whose organisations are in
	// dir ("" for the default SQLite file).
	queue func(t testing.TB, dir string) string
}

var queueKinds = []queueKind{
	{"sqlite", func(testing.TB, string) string { return "" }},
	{"postgres", func(t testing.TB, _ string) string { return pgQueueURL(t) }},
}

// forEachQueue runs test as a subtest with each queue.
func forEachQueue(t *testing.T, test func(t *testing.T, queueFlag func(dir string) []string)) {
	for _, k := range queueKinds {
		t.Run(k.name, func(t *testing.T) {
			test(t, func(dir string) []string {
				if q := k.queue(t, dir); q != "" {
					return []string{"-queue", q}
				}
				return nil
			})
		})
	}
}

// queueState is what a queue holds after a test: River's jobs of the
// fleet and the fleet summary's rows of the test day.
type queueState struct {
	jobs []*rivertype.JobRow
	rows []summaryRow
}

// inspect reads the state of the queue of a test.
func inspect(t *testing.T, dir string, queueArgs []string) queueState {
	t.Helper()
	ctx := context.Background()
	var st queueState
	var ierr error
	f := func(list func(*river.JobListParams) (*river.JobListResult, error), db summaryDB) int {
		res, err := list(river.NewJobListParams().Kinds(jobKind).First(10_000).States(
			rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
			rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled))
		if err != nil {
			ierr = err
			return 1
		}
		st.jobs = res.Jobs
		st.rows, ierr = readSummary(ctx, db, fixtureToday)
		return 0
	}
	var err error
	if len(queueArgs) == 2 && isPostgres(queueArgs[1]) {
		_, err = withPgQueue(ctx, queueArgs[1], func(q *queue[pgx.Tx]) int {
			c, err := river.NewClient(q.driver, &river.Config{})
			if err != nil {
				ierr = err
				return 1
			}
			return f(func(p *river.JobListParams) (*river.JobListResult, error) { return c.JobList(ctx, p) }, q.db)
		})
	} else {
		_, err = withSQLiteQueue(ctx, filepath.Join(dir, defaultQueueFile), func(q *queue[*sql.Tx]) int {
			c, err := river.NewClient(q.driver, &river.Config{})
			if err != nil {
				ierr = err
				return 1
			}
			return f(func(p *river.JobListParams) (*river.JobListResult, error) { return c.JobList(ctx, p) }, q.db)
		})
	}
	if err != nil || ierr != nil {
		t.Fatalf("inspect the queue: %v, %v", err, ierr)
	}
	return st
}

// statuses returns the summary's status per organisation.
func (s queueState) statuses() map[string]string {
	m := map[string]string{}
	for _, r := range s.rows {
		m[r.org] = r.status
	}
	return m
}

// jobStates returns River's state of each organisation's job, and fails
// when an organisation has more than one job.
func (s queueState) jobStates(t *testing.T) map[string]rivertype.JobState {
	t.Helper()
	m := map[string]rivertype.JobState{}
	for _, j := range s.jobs {
		var a planArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			t.Fatal(err)
		}
		if _, dup := m[a.Org]; dup {
			t.Errorf("%s has two jobs for %s", a.Org, a.Day)
		}
		m[a.Org] = j.State
	}
	return m
}

// writeFleetFile writes a fleet file into dir with fast retries.
func writeFleetFile(t *testing.T, dir, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "fleet.yaml")
	text := "workers: 2\nmax_attempts: 4\nretry_base: 200ms\nretry_max: 1s\njob_timeout: 60s\nrescue_after: 90s\n" + extra
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testQueueHooks makes the in-process queue quick for one test.
func testQueueHooks(t *testing.T) {
	saved := testHooks
	quickQueue()
	t.Cleanup(func() { testHooks = saved })
}

func TestEnqueueTwiceThenWork(t *testing.T) {
	forEachQueue(t, func(t *testing.T, queueFlag func(string) []string) {
		testQueueHooks(t)
		dir := t.TempDir()
		orgs := createOrgs(t, dir, 3, 200)
		qf := queueFlag(dir)
		args := append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", writeFleetFile(t, dir, "")}, qf...)
		for range 2 {
			if code, _, stderr := runCmd(t, append(args, "-enqueue")...); code != 0 {
				t.Fatalf("-enqueue: exit %d\n%s", code, stderr)
			}
		}
		st := inspect(t, dir, qf)
		want := map[string]rivertype.JobState{}
		for _, o := range orgs {
			want[o] = rivertype.JobStateAvailable
		}
		if d := cmp.Diff(want, st.jobStates(t)); d != "" {
			t.Errorf("jobs after enqueueing twice (-want +got):\n%s", d)
		}

		code, stdout, stderr := runCmd(t, append(args, "-work")...)
		if code != 0 {
			t.Fatalf("-work: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// Enqueueing and working again adds no job and plans nothing.
		if code, _, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("enqueue and work again: exit %d\n%s", code, stderr)
		}
		st = inspect(t, dir, qf)
		for _, o := range orgs {
			want[o] = rivertype.JobStateCompleted
		}
		if d := cmp.Diff(want, st.jobStates(t)); d != "" {
			t.Errorf("jobs after working (-want +got):\n%s", d)
		}
		for _, o := range orgs {
			if n := completedOn(checkpoints(t, filepath.Join(dir, o+orgExt)), fixtureToday); n != 1 {
				t.Errorf("%s: %d completed runs of the day, want 1", o, n)
			}
			integrityOK(t, filepath.Join(dir, o+orgExt))
		}
		for _, r := range st.rows {
			if r.status != statusPlanned || r.attempts != 1 || r.inserted == 0 || !strings.HasPrefix(r.summary, "Run "+r.runID) {
				t.Errorf("summary row %+v: want planned in one attempt, with rows and the run's summary", r)
			}
		}
		for _, want := range []string{"Fleet runs of 2025-03-03", "ORGANISATION", "org-001", "planned", "Total     3 organisations: 3 planned"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("-work printed no %q:\n%s", want, stdout)
			}
		}

		code, stdout, _ = runCmd(t, append([]string{"-orgs", dir, "-status", "-day", "2025-03-03"}, qf...)...)
		if code != 0 || !strings.Contains(stdout, "3 planned") {
			t.Errorf("-status: exit %d\n%s", code, stdout)
		}
		code, stdout, _ = runCmd(t, append([]string{"-orgs", dir, "-status", "-day", "2025-03-03", "-org", "org-002"}, qf...)...)
		if code != 0 || !strings.Contains(stdout, "org-002, 2025-03-03: planned after 1 attempt(s)") || !strings.Contains(stdout, "Rows ") {
			t.Errorf("-status -org: exit %d\n%s", code, stdout)
		}
	})
}

func TestBadRulesFailForGood(t *testing.T) {
	forEachQueue(t, func(t *testing.T, queueFlag func(string) []string) {
		testQueueHooks(t)
		dir := t.TempDir()
		createOrgs(t, dir, 3, 100)
		if err := os.WriteFile(filepath.Join(dir, "bad.rules"), []byte("extends: default\nTX: no_such_window(3)\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fleet := writeFleetFile(t, dir, "per_organisation:\n  org-002:\n    rules: bad.rules\n")
		qf := queueFlag(dir)
		code, stdout, stderr := runCmd(t, append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", fleet}, qf...)...)
		if code != exitRun {
			t.Errorf("exit %d, want %d (a run failed)\n%s\n%s", code, exitRun, stdout, stderr)
		}
		st := inspect(t, dir, qf)
		want := map[string]string{"org-001": statusPlanned, "org-002": statusFailed, "org-003": statusPlanned}
		if d := cmp.Diff(want, st.statuses()); d != "" {
			t.Errorf("statuses (-want +got):\n%s", d)
		}
		states := st.jobStates(t)
		if states["org-002"] != rivertype.JobStateCancelled || states["org-001"] != rivertype.JobStateCompleted {
			t.Errorf("job states %v: want org-002 cancelled (no retry), the others completed", states)
		}
		for _, r := range st.rows {
			if r.org == "org-002" && (r.attempts != 1 || !strings.Contains(r.errText, "bad.rules:2")) {
				t.Errorf("org-002: %d attempts, error %q; want one attempt and the rules file's position", r.attempts, r.errText)
			}
		}
		for _, j := range st.jobs {
			if j.State == rivertype.JobStateCancelled && (len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "bad.rules:2")) {
				t.Errorf("the cancelled job's errors: %+v", j.Errors)
			}
		}
		if n := len(checkpoints(t, filepath.Join(dir, "org-002"+orgExt))); n != 0 {
			t.Errorf("org-002 has %d runs: bad rules must not start one", n)
		}
		if !strings.Contains(stdout, "1 failed") {
			t.Errorf("the table does not count the failure:\n%s", stdout)
		}

		// The rules fixed, enqueueing again adds a job for org-002 only.
		if err := os.WriteFile(filepath.Join(dir, "bad.rules"), []byte("extends: default\nTX: year_round()\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = runCmd(t, append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", fleet}, qf...)...)
		if code != 0 {
			t.Fatalf("after the fix: exit %d\n%s\n%s", code, stdout, stderr)
		}
		st = inspect(t, dir, qf)
		want["org-002"] = statusPlanned
		if d := cmp.Diff(want, st.statuses()); d != "" {
			t.Errorf("statuses after the fix (-want +got):\n%s", d)
		}
		if len(st.jobs) != 4 {
			t.Errorf("%d jobs after the fix, want 4 (org-002's second)", len(st.jobs))
		}
	})
}

func TestTransientFailureRetried(t *testing.T) {
	forEachQueue(t, func(t *testing.T, queueFlag func(string) []string) {
		testQueueHooks(t)
		testHooks.retry = sqlite.RetryPolicy{Attempts: 1} // no retry inside the store: the queue retries
		dir := t.TempDir()
		createOrgs(t, dir, 2, 100)
		qf := queueFlag(dir)
		// Another connection holds org-001's write lock for longer than
		// the store's busy timeout (5 s): until the first attempt fails.
		locker, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "org-001"+orgExt))
		if err != nil {
			t.Fatal(err)
		}
		defer locker.Close()
		conn, err := locker.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE; CREATE TABLE lock_holder (x)"); err != nil {
			t.Fatal(err)
		}
		stderr := &watchWriter{want: "failed, will retry", seen: make(chan struct{})}
		released := make(chan struct{})
		go func() {
			defer close(released)
			select {
			case <-stderr.seen:
			case <-time.After(60 * time.Second):
			}
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
		}()
		var stdout strings.Builder
		code := run(context.Background(), append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", writeFleetFile(t, dir, "")}, qf...), &stdout, stderr)
		<-released
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
		st := inspect(t, dir, qf)
		if d := cmp.Diff(map[string]string{"org-001": statusPlanned, "org-002": statusPlanned}, st.statuses()); d != "" {
			t.Errorf("statuses (-want +got):\n%s", d)
		}
		for _, r := range st.rows {
			if r.org == "org-001" && r.attempts < 2 {
				t.Errorf("org-001 planned in %d attempt(s): the lock should have failed the first", r.attempts)
			}
		}
		if log := stderr.String(); !strings.Contains(log, "failed, will retry") || !strings.Contains(log, "database busy") {
			t.Errorf("no retry logged:\n%s", log)
		}
		if n := completedOn(checkpoints(t, filepath.Join(dir, "org-001"+orgExt)), fixtureToday); n != 1 {
			t.Errorf("org-001: %d completed runs, want 1", n)
		}
	})
}

func TestAlreadyPlanned(t *testing.T) {
	forEachQueue(t, func(t *testing.T, queueFlag func(string) []string) {
		testQueueHooks(t)
		dir := t.TempDir()
		createOrgs(t, dir, 2, 100)
		fleetFile := writeFleetFile(t, dir, "")
		// A worker planned org-001 and was killed after the run's commit,
		// before the queue recorded the job's completion.
		fc, err := loadFleet(context.Background(), fleetFile)
		if err != nil {
			t.Fatal(err)
		}
		p := &planner{orgs: &sqliteOrgs{dir: dir}, fleet: fc, plan: cli.Plan{}, logger: newLogger(os.Stderr, "text")}
		o, err := p.run(context.Background(), planArgs{Org: "org-001", Day: fixtureToday.String()})
		if err != nil || o.status != statusPlanned {
			t.Fatalf("first run: %+v, %v", o, err)
		}
		qf := queueFlag(dir)
		code, stdout, stderr := runCmd(t, append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", fleetFile}, qf...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		st := inspect(t, dir, qf)
		if d := cmp.Diff(map[string]string{"org-001": statusAlreadyPlanned, "org-002": statusPlanned}, st.statuses()); d != "" {
			t.Errorf("statuses (-want +got):\n%s", d)
		}
		for _, r := range st.rows {
			if r.org == "org-001" && (r.runID != o.runID || r.inserted != int64(o.rows.Inserted)) {
				t.Errorf("org-001: run %s with %d rows inserted; want the first run's %s, %d", r.runID, r.inserted, o.runID, o.rows.Inserted)
			}
		}
		if n := completedOn(checkpoints(t, filepath.Join(dir, "org-001"+orgExt)), fixtureToday); n != 1 {
			t.Errorf("org-001: %d completed runs, want 1", n)
		}
		// Other rules are other settings: the day is planned again.
		rules := filepath.Join(dir, "other.rules")
		if err := os.WriteFile(rules, []byte("extends: default\nTX: year_round()\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		o2, err := (&planner{orgs: p.orgs, fleet: fc, plan: cli.Plan{Rules: rules}, logger: p.logger}).run(context.Background(), planArgs{Org: "org-001", Day: fixtureToday.String()})
		if err != nil || o2.status != statusPlanned {
			t.Errorf("with other rules: %+v, %v; want planned", o2, err)
		}
	})
}

func TestPermanent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	createOrgs(t, dir, 1, 10)
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(bad, []byte("CA: birthday_window(\n"), 0o644)
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("send_time: 25:00\n"), 0o644)
	for _, tc := range []struct {
		name string
		p    planner
		args planArgs
		want bool // permanent
	}{
		{"bad rules", planner{plan: cli.Plan{Rules: bad}}, planArgs{"org-001", "2025-03-03"}, true},
		{"missing rules", planner{plan: cli.Plan{Rules: filepath.Join(dir, "none.rules")}}, planArgs{"org-001", "2025-03-03"}, true},
		{"bad configuration", planner{plan: cli.Plan{Config: badYAML}}, planArgs{"org-001", "2025-03-03"}, true},
		{"no such organisation", planner{}, planArgs{"org-404", "2025-03-03"}, true},
		{"a path for a name", planner{}, planArgs{"../org-001", "2025-03-03"}, true},
		{"bad day", planner{}, planArgs{"org-001", "2025-02-30"}, true},
	} {
		p := tc.p
		p.orgs, p.fleet, p.logger = &sqliteOrgs{dir: dir}, defaultFleet(), newLogger(os.Stderr, "text")
		_, err := p.run(ctx, tc.args)
		if err == nil || permanent(err) != tc.want {
			t.Errorf("%s: %v, permanent %v; want %v", tc.name, err, permanent(err), tc.want)
		}
	}
	for _, err := range []error{sqlite.ErrBusy, sqlite.ErrRunInProgress, sqlite.ErrRunLockLost, context.DeadlineExceeded, os.ErrDeadlineExceeded,
		fmt.Errorf("write: %w", os.ErrPermission)} {
		if permanent(err) {
			t.Errorf("%v is transient, not permanent", err)
		}
	}
}

// watchWriter is a log that closes seen once it holds want.
type watchWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestNextDay plans a day, then the next: the second day's summary
// accounts for every row its runs wrote, a settling run included
// (scheduler.Report.Settled), and the day has one run per organisation.
func TestNextDay(t *testing.T) {
	testQueueHooks(t)
	dir := t.TempDir()
	orgs := createOrgs(t, dir, 2, 2000)
	fleet := writeFleetFile(t, dir, "")
	for _, day := range []string{"2025-03-02", fixtureToday.String()} {
		if code, stdout, stderr := runCmd(t, "-orgs", dir, "-today", day, "-fleet", fleet); code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", day, code, stdout, stderr)
		}
	}
	st := inspect(t, dir, nil)
	for _, r := range st.rows {
		cps := checkpoints(t, filepath.Join(dir, r.org+orgExt))
		var want store.RowCounts
		for _, c := range cps {
			if c.RunDate == fixtureToday.String() && c.Status == sqlite.CheckpointCompleted {
				want.Add(c.Rows)
			}
		}
		got := store.RowCounts{Inserted: int(r.inserted), Updated: int(r.updated), Deleted: int(r.deleted)}
		want.Unchanged, want.Conflicting, want.Taken = 0, 0, 0
		if r.status != statusPlanned || got != want {
			t.Errorf("%s: %s, rows %+v; want planned, the rows of the day's checkpoints %+v", r.org, r.status, got, want)
		}
		if n := completedOn(cps, fixtureToday); n != 1 {
			t.Errorf("%s: %d runs of the day, want 1", r.org, n)
		}
		t.Logf("%s: %d checkpoints, rows of the day %+v", r.org, len(cps), got)
	}
	if len(st.rows) != len(orgs) {
		t.Errorf("%d summary rows for the day, want %d", len(st.rows), len(orgs))
	}
}
