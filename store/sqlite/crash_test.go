package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/internal/crashtest"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// The crash test re-executes the test binary as a child that plans a
// database (env crashChildEnv = the database path, crashModeEnv = a
// crashModes key) and reports its progress on stdout: "begin", "w" after
// each Write, "commit" before Commit, "done" after it.
const (
	crashChildEnv = "EMAILSCHED_SQLITE_CRASH_CHILD"
	crashModeEnv  = "EMAILSCHED_SQLITE_CRASH_MODE"
)

// crashModes are the writers' ways of writing that the crash test kills:
// changes applied at Commit in short transactions or in one, written while
// the run reads (WAL mode: in short transactions, or in an atomic run past
// BufferRows), spilled to a file until the end (rollback-journal mode).
var crashModes = map[string]sqlite.Options{
	"batches":       {BatchContacts: 15},
	"atomic":        {Atomic: true},
	"spill-batches": {BatchContacts: 15, BufferRows: 200},
	"stream-atomic": {Atomic: true, BufferRows: 200},
	// Bulk writes: the secondary indexes are dropped and created again
	// inside the run's transaction (the child lowers the bulk minimum).
	"bulk-atomic": {Atomic: true, BufferRows: 200},
	"bulk-optin":  {BulkWrites: true, BatchContacts: 15, BufferRows: 200},
}

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		if strings.HasPrefix(os.Getenv(crashModeEnv), "bulk-") {
			sqlite.SetBulkMinRows(1)
		}
		if err := crashChild(path, crashModes[os.Getenv(crashModeEnv)]); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const crashRunID = "crash-run"

func crashChild(path string, opts sqlite.Options) error {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	s := sqlite.New(db, opts)
	sch := newScheduler(nil, crashRunID)
	if _, err = sch.RunAt(ctx, testToday, s, crashtest.Sink{ScheduleSink: s}); err != nil {
		return err
	}
	if strings.HasPrefix(os.Getenv(crashModeEnv), "bulk-") && !s.LastWrite().Bulk {
		return errors.New("the run did not write in bulk")
	}
	return nil
}

// runChild runs the child on path (see crashtest.Run).
func runChild(t *testing.T, path, mode string, kill func(line string, writes int, since time.Duration) bool, after time.Duration) crashtest.Result {
	t.Helper()
	return crashtest.Run(t, []string{crashChildEnv + "=" + path, crashModeEnv + "=" + mode}, kill, after)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(to + ext)
		if _, err := os.Stat(from + ext); err == nil {
			t.Fatalf("%s%s exists: the base must be checkpointed", from, ext)
		}
	}
}

// planByContact dumps the stored plan per contact: with ids and run ids
// (exact) or content only.
func planByContact(t *testing.T, db *sql.DB, exact bool) map[int64][]string {
	t.Helper()
	lines := dump(t, db, true, true)
	if exact {
		lines = nil
		rows, err := db.Query(`SELECT contact_id, id||'|'||quote(scheduler_run_id) FROM email_schedules
			WHERE status IN ('pre-scheduled','skipped') ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		ids := map[int64][]string{}
		for rows.Next() {
			var c int64
			var s string
			if err := rows.Scan(&c, &s); err != nil {
				t.Fatal(err)
			}
			ids[c] = append(ids[c], s)
		}
		// exact = ids and run ids, plus the content dumped in the same
		// order below.
		content := planByContact(t, db, false)
		for c := range content {
			ids[c] = append(ids[c], content[c]...)
		}
		return ids
	}
	out := map[int64][]string{}
	for _, l := range lines {
		c, _, _ := strings.Cut(l, "|")
		var id int64
		fmt.Sscan(c, &id)
		out[id] = append(out[id], l)
	}
	return out
}

// openRO opens a database for checking (and for the run that follows).
func openRO(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCrashSafety kills a planning run with SIGKILL at many moments (by
// time, after a number of written contacts, and around the commit), in
// each journal mode and each way of writing, and checks after each:
// integrity_check is ok, history is byte-identical, every contact has
// exactly its complete old or complete new plan, and a following run
// finishes the job: the plan of an uninterrupted run when the kill left
// every contact on one plan, else the same emails and statuses (balancing
// may choose other days) in a plan that a further run leaves as it is.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	for _, tc := range []struct {
		journal, mode string
		fresh         bool // a database the adapter created, else the production schema
		kills         int
	}{
		{"DELETE", "batches", false, 12},
		{"DELETE", "spill-batches", false, 12},
		{"DELETE", "atomic", true, 6},
		{"WAL", "batches", false, 12}, // written while the run reads
		{"WAL", "atomic", true, 6},
		{"WAL", "stream-atomic", false, 6},
		{"DELETE", "bulk-atomic", false, 9},
		{"DELETE", "bulk-optin", false, 9},
		{"WAL", "bulk-atomic", false, 6},
	} {
		schema := "production"
		if tc.fresh {
			schema = "created"
		}
		t.Run(tc.journal+"/"+tc.mode+"/"+schema, func(t *testing.T) { crashSafety(t, tc.journal, tc.mode, tc.fresh, tc.kills) })
	}
}

// crashBase writes the database the crash test starts from: a production
// organisation database, or one the adapter created from nothing.
func crashBase(t *testing.T, path string, fresh bool) {
	t.Helper()
	ctx := context.Background()
	gen := demodata.GenOptions{Seed: 42, Contacts: 1500, Today: testToday, StoredFraction: 0.4}
	if !fresh {
		if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{Gen: gen}); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sqlite.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlite.New(db, sqlite.Options{}).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	gen.Campaigns = demodata.DemoCampaigns(testToday)
	if err := sqlitefixture.Write(ctx, db, demodata.GenerateSeq(gen), gen.Campaigns, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
}

func crashSafety(t *testing.T, journal, mode string, fresh bool, n int) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.sqlite3")
	crashBase(t, base, fresh)
	func() { // migrate the base once, then close it (checkpointing the WAL)
		db, err := sqlite.Open(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("PRAGMA journal_mode = " + journal); err != nil {
			t.Fatal(err)
		}
		if err := sqlite.New(db, sqlite.Options{}).Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	atomic := crashModes[mode].Atomic || strings.HasPrefix(mode, "bulk-")

	// The uninterrupted run: the reference plan, its duration and writes.
	pristine := filepath.Join(dir, "pristine.sqlite3")
	copyFile(t, base, pristine)
	ref := filepath.Join(dir, "ref.sqlite3")
	copyFile(t, pristine, ref)
	child := runChild(t, ref, mode, nil, 0)
	dur, commitDur, writes := child.Took, child.Commit, child.Writes
	if writes < 50 {
		t.Fatalf("the reference run wrote only %d contacts", writes)
	}
	baseDB, refDB := openRO(t, base), openRO(t, ref)
	oldPlan, newPlan := planByContact(t, baseDB, true), planByContact(t, refDB, true)
	refContent := dump(t, refDB, true, true)
	history := dump(t, baseDB, false, false)
	schema := masterOf(t, baseDB)
	if diff := cmp.Diff(schema, masterOf(t, refDB)); diff != "" {
		t.Fatalf("the uninterrupted run changed the schema (-before +after):\n%s", diff)
	}
	changed := 0
	for c := range newPlan {
		if !slices.Equal(oldPlan[c], newPlan[c]) {
			changed++
		}
	}
	t.Logf("reference run: %v (commit %v), %d contacts written, %d contacts with a changed plan", dur, commitDur, writes, changed)

	partial := 0
	for i := range n {
		var kill func(string, int, time.Duration) bool
		var after time.Duration
		var how string
		switch i % 3 {
		case 0: // by time, from process start to past the end
			after = dur * time.Duration(i+1) / time.Duration(n)
			how = fmt.Sprintf("after %v", after)
		case 1: // after k written contacts
			k := 1 + i*writes/n
			kill = func(line string, w int, _ time.Duration) bool { return line == "w" && w >= k }
			how = fmt.Sprintf("after write %d", k)
		case 2: // around the start, and through the commit
			d := commitDur * time.Duration(i/3) / time.Duration(n/3)
			event := "commit"
			if i == 2 {
				event = "begin"
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
			work := filepath.Join(dir, fmt.Sprintf("work%02d.sqlite3", i))
			copyFile(t, pristine, work)
			killed := runChild(t, work, mode, kill, after).Killed
			db := openRO(t, work)
			if err := sqlite.IntegrityCheck(context.Background(), db); err != nil {
				t.Fatalf("killed %s: %v", how, err)
			}
			if m, _ := sqlite.JournalMode(context.Background(), db); !strings.EqualFold(m, journal) {
				t.Errorf("killed %s: the journal mode is %q, want %q", how, m, journal)
			}
			if diff := cmp.Diff(history, dump(t, db, false, false)); diff != "" {
				t.Fatalf("killed %s: history changed:\n%s", how, diff)
			}
			if diff := cmp.Diff(schema, masterOf(t, db)); diff != "" {
				t.Fatalf("killed %s: the schema changed (-before +after):\n%s", how, diff)
			}
			got := planByContact(t, db, true)
			olds, news := 0, 0
			for c := range union(oldPlan, newPlan, got) {
				switch {
				case slices.Equal(got[c], newPlan[c]) && slices.Equal(got[c], oldPlan[c]):
				case slices.Equal(got[c], oldPlan[c]):
					olds++
				case slices.Equal(got[c], newPlan[c]):
					news++
				default:
					t.Errorf("killed %s: contact %d has neither its old nor its new plan:\nold %q\nnew %q\ngot %q", how, c, oldPlan[c], newPlan[c], got[c])
				}
			}
			if olds > 0 && news > 0 {
				partial++
				if atomic {
					t.Errorf("killed %s: an atomic run left %d contacts on the old plan and %d on the new", how, olds, news)
				}
			}
			t.Logf("killed %s (killed=%v): %d contacts on the old plan, %d on the new", how, killed, olds, news)

			// The next run finishes the job. When the kill left every
			// contact on one plan, it ends with the plan of the
			// uninterrupted run. When it left some on each, the next run
			// keeps the rows already rewritten (plans are stable from run
			// to run) and balances the other contacts against that
			// volume, which may put some of their emails on other days
			// than the uninterrupted run did: the emails and their
			// statuses must be the same, and a run right after it must
			// write nothing.
			s := sqlite.New(db, sqlite.Options{})
			runPlan(t, s, "after-crash")
			after := dump(t, db, true, true)
			if olds == 0 || news == 0 {
				if diff := cmp.Diff(refContent, after); diff != "" {
					t.Errorf("killed %s: the following run's plan differs from the uninterrupted run's (-want +got):\n%s", how, diff)
				}
			} else {
				if diff := cmp.Diff(withoutSendDay(refContent), withoutSendDay(after)); diff != "" {
					t.Errorf("killed %s: the following run's emails or statuses differ from the uninterrupted run's (-want +got):\n%s", how, diff)
				}
				if again := runPlan(t, s, "after-crash-again"); again.Rows.Written() != 0 {
					t.Errorf("killed %s: the run after the following run wrote %+v, want nothing", how, again.Rows)
				}
			}
			if diff := cmp.Diff(history, dump(t, db, false, false)); diff != "" {
				t.Errorf("killed %s: history changed by the following run:\n%s", how, diff)
			}
		})
	}
	if !atomic && partial < 2 {
		t.Errorf("only %d of %d kills interrupted the run mid-write", partial, n)
	}
}

// withoutSendDay returns dump's content lines with the send date and time
// blanked and sorted again: what balancing may change.
func withoutSendDay(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Split(l, "|")
		f[2], f[3] = "", ""
		out[i] = strings.Join(f, "|")
	}
	slices.Sort(out)
	return out
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
