package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// emptySHA is the sha256 of nothing.
const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// files returns the names and sha256 of every file in dir.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
		} else {
			out[e.Name()] = e.Type().String()
		}
	}
	return out
}

// TestOpenRefuses: a path that does not exist, an empty file, a file that
// is not a database, a directory, a pipe and a database without a
// contacts table are refused by Open and OpenReadOnly with a clear error,
// and nothing is created or changed.
func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.sqlite3", nil)
	text := write("notes.sqlite3", []byte("these are not the rows you are looking for\n"))
	sub := filepath.Join(dir, "subdir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.sqlite3")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := sqlite.Create(ctx, filepath.Join(dir, "other.sqlite3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT)"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	before := files(t, dir)
	for _, tc := range []struct {
		path string
		want error
		text string
	}{
		{filepath.Join(dir, "missing.sqlite3"), sqlite.ErrNoDatabase, "no database at this path"},
		{empty, sqlite.ErrNotDatabase, "is empty"},
		{text, sqlite.ErrNotDatabase, "does not start with the SQLite header"},
		{sub, sqlite.ErrNotDatabase, "is a directory"},
		{fifo, sqlite.ErrNotDatabase, "is a named pipe"},
		{filepath.Join(dir, "other.sqlite3"), sqlite.ErrNoContacts, "no contacts table"},
	} {
		for name, open := range map[string]func(context.Context, string) (interface{ Close() error }, error){
			"Open": func(ctx context.Context, p string) (interface{ Close() error }, error) { return sqlite.Open(ctx, p) },
			"OpenReadOnly": func(ctx context.Context, p string) (interface{ Close() error }, error) {
				return sqlite.OpenReadOnly(ctx, p)
			},
		} {
			db, err := open(ctx, tc.path)
			if err == nil {
				db.Close()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("%s(%s): %v, want %v naming the path and %q", name, filepath.Base(tc.path), err, tc.want, tc.text)
			}
		}
	}
	if _, err := sqlite.Create(ctx, empty); !errors.Is(err, sqlite.ErrExists) {
		t.Errorf("Create over an existing file: %v", err)
	}
	for _, p := range []string{"", "file:x.db", "x.db?mode=rw", "x#y"} {
		if _, err := sqlite.Open(ctx, p); err == nil || !strings.Contains(err.Error(), "must be a file name") {
			t.Errorf("Open(%q): %v", p, err)
		}
	}
	if diff := cmpMaps(before, files(t, dir)); diff != "" {
		t.Errorf("refused opens changed the directory: %s", diff)
	}
	// Create makes a database that Open then accepts once it has contacts.
	p := filepath.Join(dir, "new.sqlite3")
	db, err := sqlite.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.New(db, sqlite.Options{}).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = sqlite.Open(ctx, p); err != nil {
		t.Fatalf("Open after Create and Migrate: %v", err)
	}
	mode, err := sqlite.JournalMode(ctx, db)
	db.Close()
	if err != nil || mode != "delete" {
		t.Errorf("a new database's journal mode is %q (%v), want the default delete", mode, err)
	}
}

func cmpMaps(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s: %q -> %q", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: new %q", k, v))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestJournalModeIsTheOwners: opening a database in rollback-journal mode
// and running on it leaves it in that mode; UseWAL switches it, and the
// mode stays.
func TestJournalModeIsTheOwners(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 4, Contacts: 200}, Shape: sqlitefixture.Full})
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA journal_mode = DELETE"); err != nil {
		t.Fatal(err)
	}
	s := sqlite.New(db, sqlite.Options{Atomic: true})
	if _, err := newScheduler(t, "rollback").RunAt(ctx, testToday, s, s); err != nil {
		t.Fatal(err)
	}
	if mode, _ := sqlite.JournalMode(ctx, db); mode != "delete" {
		t.Errorf("after a run the journal mode is %q, want delete", mode)
	}
	if err := sqlite.UseWAL(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if mode, _ := sqlite.JournalMode(ctx, db); mode != "wal" {
		t.Errorf("after UseWAL the journal mode is %q", mode)
	}
}

// TestReadOnlyStore: a store over a database opened read-only reads, on a
// database that was never migrated, and refuses to Begin or Migrate; the
// file's bytes are unchanged.
func TestReadOnlyStore(t *testing.T) {
	ctx := context.Background()
	for _, wal := range []bool{false, true} {
		t.Run(fmt.Sprintf("wal=%v", wal), func(t *testing.T) {
			path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 6, Contacts: 300}, Shape: sqlitefixture.Old})
			if !wal {
				setJournal(t, path, "DELETE")
			}
			before := files(t, filepath.Dir(path))
			db, err := sqlite.OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			s := sqlite.New(db, sqlite.Options{})
			if _, err := s.Begin(ctx, emailsched.RunInfo{ID: "ro", Today: testToday, SendTime: "08:30"}); !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("Begin: %v, want store.ErrReadOnly", err)
			}
			if err := s.Migrate(ctx); !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("Migrate: %v, want store.ErrReadOnly", err)
			}
			rep, err := newScheduler(t, "dry").RunAt(ctx, testToday, s, store.Discard{})
			if err != nil {
				t.Fatalf("a dry run on an un-migrated database: %v", err)
			}
			if rep.Contacts != 300 || rep.Rows.Inserted == 0 {
				t.Errorf("dry run: %d contacts, rows %+v", rep.Contacts, rep.Rows)
			}
			if _, err := newScheduler(t, "explain").ExplainAt(ctx, testToday, s, 7); err != nil {
				t.Errorf("explain: %v", err)
			}
			if cps, err := s.Checkpoints(ctx); err != nil || len(cps) != 0 {
				t.Errorf("Checkpoints: %v, %v", cps, err)
			}
			if _, ok, err := s.StoredLoad(ctx); ok || err != nil {
				t.Errorf("StoredLoad: %v, %v", ok, err)
			}
			db.Close()
			after := files(t, filepath.Dir(path))
			if wal {
				// SQLite needs a WAL index (-shm) to read a WAL database,
				// and opens (creates empty) the -wal file: no content.
				base := filepath.Base(path)
				delete(after, base+"-shm")
				delete(before, base+"-shm")
				if _, had := before[base+"-wal"]; !had && after[base+"-wal"] == emptySHA {
					delete(after, base+"-wal")
				}
			}
			if diff := cmpMaps(before, after); diff != "" {
				t.Errorf("read-only work changed files: %s", diff)
			}
		})
	}
}

// setJournal switches a database's journal mode (as its owner would).
func setJournal(t *testing.T, path, mode string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA journal_mode = " + mode); err != nil {
		t.Fatal(err)
	}
}

// TestPreflight: a database whose email_schedules has no status column,
// or a NOT NULL column the adapter does not fill, is refused before
// anything changes (the file's bytes are the same).
func TestPreflight(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, schedules, want string
	}{
		{"NoStatus", "CREATE TABLE email_schedules (id INTEGER PRIMARY KEY, contact_id INTEGER, email_type TEXT, scheduled_send_date TEXT)",
			"email_schedules has no status column"},
		{"UnknownNotNull", "CREATE TABLE email_schedules (id INTEGER PRIMARY KEY, contact_id INTEGER, email_type TEXT, scheduled_send_date TEXT, status TEXT, tenant TEXT NOT NULL)",
			"email_schedules has NOT NULL columns without a default that this scheduler does not know how to fill: tenant"},
		{"CheckpointNotNull", "CREATE TABLE scheduler_checkpoints (id INTEGER PRIMARY KEY, run_timestamp TEXT NOT NULL, shard INTEGER NOT NULL)",
			"scheduler_checkpoints has NOT NULL columns without a default that this scheduler does not know how to fill: shard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "org.sqlite3")
			db, err := sqlite.Create(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, zip_code TEXT, state TEXT)",
				"INSERT INTO contacts VALUES (1, 'a@example.com', '60601', 'IL')", tc.schedules} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			before := files(t, filepath.Dir(path))
			s := sqlite.New(db, sqlite.Options{Backup: sqlite.BackupOptions{Dir: filepath.Join(t.TempDir(), "b")}})
			_, err = newScheduler(t, "refused").RunAt(ctx, testToday, s, s)
			if !errors.Is(err, sqlite.ErrForeignSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run: %v, want ErrForeignSchema saying %q", err, tc.want)
			}
			db.Close()
			if diff := cmpMaps(before, files(t, filepath.Dir(path))); diff != "" {
				t.Errorf("a refused run changed files: %s", diff)
			}
		})
	}
}

// TestBackupBeforeMigration: the backup a run takes is of the database as
// it was, before its migrations; no file but the backup is left, and
// retention removes every file a backup wrote.
func TestBackupBeforeMigration(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"WAL", "DELETE"} {
		t.Run(mode, func(t *testing.T) {
			path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 8, Contacts: 200}, Shape: sqlitefixture.Old})
			setJournal(t, path, mode)
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			schema0 := schemaOf(t, sqlite.New(db, sqlite.Options{}))
			dir := filepath.Join(t.TempDir(), "backups")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// Leftovers of an old backup that a crash interrupted, and of
			// an old backup's WAL: retention removes them with it.
			for _, f := range []string{"org-001.backup-20240101T000000.000Z.sqlite3", "org-001.backup-20240101T000000.000Z.sqlite3-wal",
				"org-001.backup-20240102T000000.000Z.sqlite3.partial", "org-001.backup-20240102T000000.000Z.sqlite3.partial-shm"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Date(2025, 3, 3, 4, 0, 0, 0, time.UTC)
			s := sqlite.New(db, sqlite.Options{Now: func() time.Time { return now }, Backup: sqlite.BackupOptions{Dir: dir, KeepDays: 30}})
			if _, err := newScheduler(t, "with-backup").RunAt(ctx, testToday, s, s); err != nil {
				t.Fatal(err)
			}
			got := files(t, dir)
			backup := "org-001.backup-20250303T040000.000Z.sqlite3"
			if len(got) != 1 || got[backup] == "" {
				t.Fatalf("backup directory holds %v, want only %s", got, backup)
			}
			bdb, err := sqlite.OpenReadOnly(ctx, filepath.Join(dir, backup))
			if err != nil {
				t.Fatal(err)
			}
			defer bdb.Close()
			if diff := cmpMaps(strMap(schema0), strMap(schemaOf(t, sqlite.New(bdb, sqlite.Options{})))); diff != "" {
				t.Errorf("the backup's schema is not the database's before the run: %s", diff)
			}
			if mode, _ := sqlite.JournalMode(ctx, bdb); mode != "delete" {
				t.Errorf("the backup is in journal mode %q, want one self-contained file", mode)
			}
		})
	}
}

func strMap(xs []string) map[string]string {
	m := map[string]string{}
	for _, x := range xs {
		m[x] = "x"
	}
	return m
}

// TestRunLock: a run holds the database's run lock from Begin to its end;
// a second run fails at once naming the first, or waits (logging what it
// waits for) when LockWait allows; a lock whose process is gone, or whose
// lease expired, does not block.
func TestRunLock(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 2, Contacts: 50}, Shape: sqlitefixture.Full})
	s1, db := openStore(t, path, sqlite.Options{})
	w1, err := s1.Begin(ctx, emailsched.RunInfo{ID: "first", Today: testToday, SendTime: "08:30", StartedAt: time.Date(2025, 3, 3, 6, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := openStore(t, path, sqlite.Options{})
	_, err = s2.Begin(ctx, emailsched.RunInfo{ID: "second", Today: testToday, SendTime: "08:30"})
	if !errors.Is(err, sqlite.ErrRunInProgress) || !strings.Contains(err.Error(), "run first, started 2025-03-03 06:00:00 UTC") {
		t.Errorf("second Begin: %v, want ErrRunInProgress naming the first run", err)
	}
	// Waiting: the first run ends while the second waits.
	var logs bytes.Buffer
	s3, _ := openStore(t, path, sqlite.Options{LockWait: 20 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	time.AfterFunc(1500*time.Millisecond, func() { w1.Commit(ctx, store.Summary{}) })
	start := time.Now()
	w3, err := s3.Begin(ctx, emailsched.RunInfo{ID: "third", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatalf("third Begin: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the third run did not wait (%v)", waited)
	}
	if !strings.Contains(logs.String(), "waiting for another run of this database to finish") || !strings.Contains(logs.String(), "run first") {
		t.Errorf("the wait was not logged:\n%s", logs.String())
	}
	// A run whose process died: its lock is stale at once.
	if err := w3.Commit(ctx, store.Summary{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO scheduler_checkpoints (run_id, run_timestamp, started_at, status, lease_until, owner)
		VALUES ('crashed', '2025-03-03 05:00:00', '2025-03-03 05:00:00', 'running', '2999-01-01 00:00:00', ?)`, deadOwner(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO scheduler_checkpoints (run_id, run_timestamp, started_at, status, lease_until, owner)
		VALUES ('expired', '2025-03-03 05:00:00', '2025-03-03 05:00:00', 'running', '2000-01-01 00:00:00', 'elsewhere 1')`); err != nil {
		t.Fatal(err)
	}
	w4, err := s2.Begin(ctx, emailsched.RunInfo{ID: "fourth", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatalf("Begin after a crashed run: %v", err)
	}
	w4.Abort(ctx, nil)
	cps, _ := s2.Checkpoints(ctx)
	for _, c := range cps {
		if (c.RunID == "crashed" || c.RunID == "expired") && (c.Status != sqlite.CheckpointFailed || !strings.Contains(c.Error, "abandoned")) {
			t.Errorf("stale run %s: %+v", c.RunID, c)
		}
	}
}

// deadOwner is the owner text of a process of this host that has ended.
func deadOwner(t *testing.T) string {
	t.Helper()
	host, _ := os.Hostname()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Skip("cannot start a process:", err)
	}
	p.Wait()
	return fmt.Sprintf("%s %d", host, p.Pid)
}

// TestLockWaitLogged: a run that waits for the write lock another
// connection holds logs what it waits for, and fails clearly when the wait
// is longer than its retries allow.
func TestLockWaitLogged(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 2, Contacts: 50}, Shape: sqlitefixture.Full})
	_, db := openStore(t, path, sqlite.Options{})
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	// A short busy timeout, so that each attempt waits a tenth of a second.
	quick, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	s := sqlite.New(quick, sqlite.Options{Retry: sqlite.RetryPolicy{Attempts: 12, Initial: 50 * time.Millisecond, Max: 100 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, err = s.Begin(ctx, emailsched.RunInfo{ID: "blocked", Today: testToday, SendTime: "08:30"})
	conn.ExecContext(ctx, "ROLLBACK")
	if !errors.Is(err, sqlite.ErrBusy) {
		t.Errorf("Begin: %v, want ErrBusy", err)
	}
	if !strings.Contains(logs.String(), "waiting for the database: another connection holds a lock") {
		t.Errorf("the wait was not logged:\n%s", logs.String())
	}
}

var _ = scheduler.New
