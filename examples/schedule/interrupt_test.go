package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// childEnv holds the JSON arguments of the child process of TestInterrupt.
const childEnv = "SCHEDULE_TEST_CHILD_ARGS"

// childMain runs the command as main does, on a source slowed down so that
// a signal arrives in the middle of the run.
func childMain() {
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	testHooks.progressEvery = 200
	// Small enough that the run writes its changes while it reads (the
	// database is in WAL mode): the signal comes in the middle of writes.
	testHooks.bufferRows = 500
	testHooks.source = func(src store.ContactSource) store.ContactSource {
		return slowStore{Store: src.(*sqlite.Store), delay: time.Millisecond}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// slowStore is a sqlite.Store whose contacts arrive slowly: delay every
// fourth contact.
type slowStore struct {
	*sqlite.Store
	delay time.Duration
}

func (s slowStore) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		n := 0
		for c, err := range s.Store.Contacts(ctx) {
			if n++; n%4 == 0 {
				time.Sleep(s.delay)
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

// planRows returns every email_schedules row as text, by contact: the
// columns that make a plan (not ids, run ids or timestamps) when content is
// set, every column otherwise.
func planRows(t *testing.T, path string, content bool) (plan map[int64][]string, other []string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := "*"
	if content {
		cols = "contact_id, email_type, scheduled_send_date, scheduled_send_time, status, skip_reason, priority, campaign_instance_id, email_template, sms_template, event_year, event_month, event_day, catchup_note"
	}
	rows, err := db.Query("SELECT " + cols + ", status IN ('pre-scheduled', 'skipped') FROM email_schedules ORDER BY contact_id, email_type, scheduled_send_date, id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names, _ := rows.Columns()
	plan = map[int64][]string{}
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		var contact int64
		for i, v := range vals[:len(vals)-1] {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if names[i] == "contact_id" {
				contact, _ = v.(int64)
			}
			fmt.Fprintf(&b, "%s=%v|", names[i], v)
		}
		if vals[len(vals)-1] == int64(1) {
			plan[contact] = append(plan[contact], b.String())
		} else {
			other = append(other, b.String())
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan, other
}

// copyDB copies a closed database with its WAL, if any.
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInterrupt runs the command as a child process on a database with a
// stored plan, for a later day (so that many contacts' plans change), and
// sends SIGINT about halfway through the planning pass. The command must exit
// with status 1 and leave every row of the sending system as it was.
//
//   - With -atomic a run is one transaction: every email_schedules row must
//     be byte-identical to before.
//   - With -batch 100 the run commits every 100 contacts: each contact must
//     have its complete old plan or its complete new one (what an
//     uninterrupted run writes on a copy), and some must have the new one
//     (the signal came in the middle of the writes).
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	const contacts = 4000
	tmp := t.TempDir()
	// In WAL mode, where a run that changes many rows writes them while
	// it reads (the crash tests of store/sqlite cover rollback journals).
	first := createDB(t, tmp, contacts, true)
	var out strings.Builder
	if code := run(context.Background(), []string{"-db", first, "-today", "2025-03-03"}, &out, &out); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out.String())
	}
	oldPlan, oldOther := planRows(t, first, true)
	oldRaw, oldOtherRaw := planRows(t, first, false)
	nextDay := []string{"-today", "2025-04-21"}

	// The complete new plan, on a copy.
	ref := filepath.Join(tmp, "ref.sqlite3")
	copyDB(t, first, ref)
	if code := run(context.Background(), append([]string{"-db", ref}, nextDay...), &out, &out); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out.String())
	}
	newPlan, _ := planRows(t, ref, true)
	same := countEqual(oldPlan, newPlan, contacts)
	if same > contacts*3/4 {
		t.Fatalf("only %d of %d contacts change their plan: the test needs more", contacts-same, contacts)
	}

	t.Run("atomic", func(t *testing.T) {
		db := filepath.Join(tmp, "atomic.sqlite3")
		copyDB(t, first, db)
		interrupt(t, append([]string{"-db", db, "-atomic"}, nextDay...), "nothing was committed: the previous plan is intact")
		gotRaw, gotOtherRaw := planRows(t, db, false)
		if diff := cmp.Diff(oldRaw, gotRaw); diff != "" {
			t.Errorf("the stored plan changed (-before +after):\n%.3000s", diff)
		}
		if diff := cmp.Diff(oldOtherRaw, gotOtherRaw); diff != "" {
			t.Errorf("rows of the sending system changed (-before +after):\n%.3000s", diff)
		}
	})

	t.Run("batched", func(t *testing.T) {
		db := filepath.Join(tmp, "batched.sqlite3")
		copyDB(t, first, db)
		interrupt(t, append([]string{"-db", db, "-batch", "100"}, nextDay...), "contacts not yet committed keep their previous plan")
		gotPlan, gotOther := planRows(t, db, true)
		_, gotOtherRaw := planRows(t, db, false)
		if len(gotOther) != len(oldOther) || cmp.Diff(oldOtherRaw, gotOtherRaw) != "" {
			t.Errorf("rows of the sending system changed: %d rows before, %d after", len(oldOther), len(gotOther))
		}
		var kept, renewed, mixed int
		for id := int64(1); id <= contacts; id++ {
			got, old, nw := strings.Join(gotPlan[id], "\n"), strings.Join(oldPlan[id], "\n"), strings.Join(newPlan[id], "\n")
			switch {
			case got == old:
				kept++
			case got == nw:
				renewed++
			default:
				if mixed++; mixed <= 3 {
					t.Errorf("contact %d has neither its old nor its new plan:\ngot:\n%s\nold:\n%s\nnew:\n%s", id, got, old, nw)
				}
			}
		}
		if mixed > 0 {
			t.Errorf("%d contacts have a mixed plan", mixed)
		}
		t.Logf("after SIGINT: %d contacts have their old plan, %d their new one (%d contacts have the same old and new plan)", kept, renewed, same)
		if renewed == 0 {
			t.Error("no batch was committed before the signal: the test did not interrupt a run in the middle of its writes")
		}
	})
}

// interrupt runs the command with args in a child process, sends it SIGINT
// half a second after the planning pass begins, and checks that it exits with
// status 1 and says why (want).
func interrupt(t *testing.T, args []string, want string) {
	t.Helper()
	js, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	signalled := false
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		// The planning pass reads about 4000 contacts a second: half a
		// second in, batches have been written and more are to come.
		if !signalled && strings.Contains(sc.Text(), "pass=planning") {
			time.AfterFunc(500*time.Millisecond, func() { cmd.Process.Signal(os.Interrupt) })
			signalled = true
		}
	}
	io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), log.String())
	}
	if !strings.Contains(log.String(), "schedule: interrupted") || !strings.Contains(log.String(), want) {
		t.Fatalf("the run was not interrupted as expected (%q)\nstderr:\n%s", want, log.String())
	}
}

// countEqual counts the contacts whose two plans are the same.
func countEqual(a, b map[int64][]string, contacts int64) int {
	n := 0
	for id := int64(1); id <= contacts; id++ {
		if strings.Join(a[id], "\n") == strings.Join(b[id], "\n") {
			n++
		}
	}
	return n
}
