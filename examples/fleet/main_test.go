package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// workerEnv, when set, makes the test binary a worker process of the
// fleet: its value is the JSON list of the command's arguments. The
// process tests (a worker killed with SIGKILL, the bench) start the test
// binary so, as a deployment starts the program.
const (
	workerEnv = "FLEET_TEST_WORKER_ARGS"
	// slowEnv slows the worker's reading to that many microseconds per
	// contact, so that it is caught in the middle of a run.
	slowEnv = "FLEET_TEST_SLOW_US"
	// connsEnv sets the SQLite queue's pool size (maxQueueConns).
	connsEnv = "FLEET_TEST_QUEUE_CONNS"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(workerEnv); args != "" {
		os.Exit(workerMain(args))
	}
	code := runTests(m)
	if pristine.dir != "" {
		os.RemoveAll(pristine.dir)
	}
	os.Exit(code)
}

// workerMain runs the command in a worker process started by a test.
func workerMain(argsJSON string) int {
	var args []string
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	quickQueue()
	if n := os.Getenv(connsEnv); n != "" {
		fmt.Sscan(n, &maxQueueConns)
	}
	if us := os.Getenv(slowEnv); us != "" {
		var n int
		fmt.Sscan(us, &n)
		testHooks.source = func(src store.ContactSource) store.ContactSource {
			return slowSource{src, time.Duration(n) * time.Microsecond}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

// quickQueue makes the queue react quickly, for tests.
func quickQueue() {
	testHooks.fetchPoll = 200 * time.Millisecond
	testHooks.drainPoll = 200 * time.Millisecond
}

// slowSource reads its contacts slowly.
type slowSource struct {
	store.ContactSource
	per time.Duration
}

func (s slowSource) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		for c, err := range s.ContactSource.Contacts(ctx) {
			time.Sleep(s.per)
			if !yield(c, err) {
				return
			}
		}
	}
}

// fixtureToday is the run date of the tests.
var fixtureToday = datecalc.MustNew(2025, 3, 3)

// createOrgs writes n generated organisation databases (production
// schema) of the given size into dir, named org-001... It reuses one
// generated file per size, copied.
func createOrgs(t testing.TB, dir string, n, contacts int) []string {
	t.Helper()
	pristine := pristineOrg(t, contacts)
	data, err := os.ReadFile(pristine)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("org-%03d", i)
		if err := os.WriteFile(filepath.Join(dir, name+orgExt), data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

var pristine = struct {
	sync.Mutex
	dir   string
	paths map[int]string
}{paths: map[int]string{}}

// pristineOrg returns a generated database of that many contacts, made
// once per test binary.
func pristineOrg(t testing.TB, contacts int) string {
	t.Helper()
	pristine.Lock()
	defer pristine.Unlock()
	if p, ok := pristine.paths[contacts]; ok {
		return p
	}
	if pristine.dir == "" {
		d, err := os.MkdirTemp("", "fleet-pristine-")
		if err != nil {
			t.Fatal(err)
		}
		pristine.dir = d
	}
	p := filepath.Join(pristine.dir, fmt.Sprintf("org-%d.sqlite3", contacts))
	if err := sqlitefixture.Create(context.Background(), p, sqlitefixture.Options{
		Gen: demodata.GenOptions{Seed: 7, Contacts: contacts, Today: fixtureToday, StoredFraction: 0.3},
	}); err != nil {
		t.Fatal(err)
	}
	pristine.paths[contacts] = p
	return p
}

// checkpoints returns the checkpoints of an organisation database.
func checkpoints(t *testing.T, path string) []sqlite.Checkpoint {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cps, err := sqlite.New(db, sqlite.Options{}).Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cps
}

// completedOn counts the runs that completed day: the completed
// checkpoints of the day, a run's settling run (RUNID-settle1, written by
// the same scheduler.RunAt) counted with it.
func completedOn(cps []sqlite.Checkpoint, day datecalc.Date) int {
	runs := map[string]bool{}
	for _, c := range cps {
		if c.Status == sqlite.CheckpointCompleted && c.RunDate == day.String() {
			base, _, _ := strings.Cut(c.RunID, "-settle")
			runs[base] = true
		}
	}
	return len(runs)
}

// integrityOK runs PRAGMA integrity_check on the database at path.
func integrityOK(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("%s: integrity_check %q, %v", filepath.Base(path), res, err)
	}
}

// runCmd runs the command in this process.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsageAndFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"-h"}, 0, "Example", ""},
		{[]string{"-version"}, 0, "fleet ", ""},
		{[]string{"-nope"}, exitInput, "", "flag provided but not defined: -nope"},
		{[]string{}, exitInput, "", "-orgs is missing"},
		{[]string{"-orgs", dir, "-status", "-work"}, exitInput, "", "cannot be combined"},
		{[]string{"-orgs", dir, "-enqueue", "-work"}, exitInput, "", "cannot be combined"},
		{[]string{"-orgs", dir, "-day", "2025-03-03"}, exitInput, "", "go with -status"},
		{[]string{"-orgs", dir, "-log-format", "xml"}, exitInput, "", "-log-format"},
		{[]string{"-orgs", dir, "-workers", "-1"}, exitInput, "", "-workers"},
		{[]string{"-orgs", filepath.Join(dir, "none")}, exitInput, "", "not a directory"},
		{[]string{"-orgs", dir, "-today", "2025-3-3"}, exitInput, "", "-today"},
		{[]string{"-orgs", dir, "-status", "-day", "03/03/2025"}, exitInput, "", "-day"},
		{[]string{"-orgs", dir, "-fleet", filepath.Join(dir, "none.yaml")}, exitInput, "", "fleet file"},
		{[]string{"-orgs", dir, "-rules", filepath.Join(dir, "none.rules")}, exitInput, "", "rules"},
	} {
		code, stdout, stderr := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) ||
			tc.stdout == "" && stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad usage wrote %v", entries)
	}
}
