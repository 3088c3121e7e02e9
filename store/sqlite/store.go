package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/emailsched/emailsched/store"
)

// Compile-time checks of the capabilities a Store offers.
var (
	_ store.ContactSource  = (*Store)(nil)
	_ store.CampaignSource = (*Store)(nil)
	_ store.LoadSource     = (*Store)(nil)
	_ store.IdentitySource = (*Store)(nil)
	_ store.ContactLookup  = (*Store)(nil)
	_ store.ScheduleSink   = (*Store)(nil)
)

// Sentinel errors.
var (
	// ErrBusy is wrapped (next to the driver's error) when the database
	// stayed busy or locked through every retry.
	ErrBusy = errors.New("sqlite: database busy")
	// ErrIntegrity is returned when PRAGMA integrity_check does not
	// answer "ok" (for instance on a backup).
	ErrIntegrity = errors.New("sqlite: integrity check failed")
)

// Options configure a Store. The zero value means the documented defaults.
type Options struct {
	// BatchContacts is the number of contacts whose changes one write
	// transaction carries when the run is not atomic. Defaults to 1000. A
	// contact's changes are never split across transactions.
	BatchContacts int
	// Atomic makes a run one transaction: an interrupted or failed run
	// leaves the previous plan entirely intact (only its checkpoint row
	// remains, marked failed when possible). A nightly run holds the write
	// lock only while it applies its (small) delta at the end; a run whose
	// delta is large (a first run) holds it much longer: see Begin.
	//
	// The default, false, is also the schedule command's (its -atomic and
	// the configuration's atomic turn it on): a run commits in short
	// transactions of BatchContacts whole contacts, so that the sending
	// system keeps writing beside it. An interrupted run then leaves every
	// contact with its complete previous or complete new plan, and the next
	// run finishes the job.
	//
	// An atomic run whose changes are a large share of email_schedules (a
	// first run, or a change of rules that re-plans most rows) writes them
	// in bulk: inside its transaction it drops the table's secondary
	// indexes, writes, and creates them again from their own statements
	// before the commit (see BulkWrites).
	Atomic bool
	// BulkWrites lets a run that is not atomic write in bulk too: when its
	// changes turn out to be a large share of email_schedules (at least half
	// of its rows, and 20,000 rows), it writes them in one
	// transaction, dropping the table's secondary indexes (those that
	// enforce no uniqueness) and creating them again from their own
	// statements, with their ANALYZE statistics, before the commit. That is
	// several times faster than keeping eleven indexes up to date row by
	// row, and other connections never see the table without its indexes:
	// until the commit they see the database as it was, and a crash rolls
	// everything back. The sending system waits while that transaction is
	// written, as in an atomic run (the summary's Lock line says how long),
	// so opt in for onboarding outside its busy hours. With it, a run
	// writes once it has read everything, also in WAL mode. Atomic runs
	// write in bulk whenever their changes are large.
	BulkWrites bool
	// BufferRows is the number of changed rows a run keeps in memory
	// before it starts writing them while it still reads (in WAL mode) or
	// moves them to a temporary file (in rollback-journal mode). Defaults
	// to 100,000, about 25 MB: a nightly run of 3 million contacts changes
	// fewer rows and never holds the write lock while it reads.
	BufferRows int
	// LockWait is how long Begin waits for another run of the same
	// database to finish (two runs never overlap). Zero does not wait:
	// Begin fails at once with an error wrapping ErrRunInProgress.
	LockWait time.Duration
	// Retry bounds the retries of SQLITE_BUSY and SQLITE_LOCKED.
	Retry RetryPolicy
	// Backup, when its Dir is set, makes Begin take an online backup of the
	// database before the run changes anything, migrations included (see
	// Store.Backup), and prune old ones.
	Backup BackupOptions
	// Logger receives what the Store waits for (a lock another
	// connection holds, another run) every few seconds while it waits.
	// Defaults to a logger that discards everything.
	Logger *slog.Logger
	// Now is the clock for created_at, updated_at and checkpoint times.
	// Defaults to time.Now. (The run lock's lease always uses the real
	// clock: other processes compare it with theirs.)
	Now func() time.Time
}

// RetryPolicy bounds the retries of transient errors (the database is busy
// or locked by another connection). The wait doubles from Initial up to
// Max between attempts.
type RetryPolicy struct {
	// Attempts is the number of tries in total. Defaults to 10; 1 means
	// no retry.
	Attempts int
	// Initial is the first wait. Defaults to 10ms.
	Initial time.Duration
	// Max caps each wait. Defaults to 1s.
	Max time.Duration
}

// BackupOptions configure the backup Begin takes before a run.
type BackupOptions struct {
	// Dir receives the backup files; "" disables backups before runs.
	Dir string
	// KeepDays deletes this Store's backups in Dir older than that many
	// days after each backup. Zero keeps every backup.
	KeepDays int
}

// Store is the SQLite adapter: a store.ContactSource, store.CampaignSource,
// store.LoadSource and store.ScheduleSink over an organisation database. It
// is safe for concurrent use. It does not own the *sql.DB it was given.
type Store struct {
	db   *sql.DB
	opts Options

	mu        sync.Mutex
	stats     ReadStats
	lastWrite WriteStats

	// chunk is the number of contacts per read transaction in
	// rollback-journal mode (readChunk; tests make it small).
	chunk int
}

// LastWrite describes how the last run this Store committed wrote
// (in bulk or not, and its checkpoints).
func (s *Store) LastWrite() WriteStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastWrite
}

// New returns a Store over db, a database opened with the "sqlite3" driver
// of github.com/mattn/go-sqlite3 (by Open, OpenReadOnly or Create, or by
// the caller with the same care). It does no I/O: the first Begin migrates
// what is missing (see Migrate).
func New(db *sql.DB, opts Options) *Store {
	if opts.BatchContacts <= 0 {
		opts.BatchContacts = 1000
	}
	if opts.BufferRows <= 0 {
		opts.BufferRows = 100_000
	}
	if opts.Retry.Attempts <= 0 {
		opts.Retry.Attempts = 10
	}
	if opts.Retry.Initial <= 0 {
		opts.Retry.Initial = 10 * time.Millisecond
	}
	if opts.Retry.Max <= 0 {
		opts.Retry.Max = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, opts: opts}
}

// DB returns the database the Store works on.
func (s *Store) DB() *sql.DB { return s.db }

// transient reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any
// extended code): another connection holds a lock, retrying can succeed.
func transient(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// uniqueViolation reports whether err is a UNIQUE constraint failure.
func uniqueViolation(err error) bool {
	if err == nil {
		return false // the common case, without errors.As's allocation
	}
	se, ok := errors.AsType[sqlite3.Error](err)
	return ok && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// retry runs f until it succeeds, fails with a non-transient error, the
// attempts are used up or ctx ends. f must leave no transaction open when
// it fails. Each attempt may wait up to the busy timeout (5 s) inside
// SQLite; from the second second on, every failed attempt is logged, so
// that an operator sees what a run waits for.
func (s *Store) retry(ctx context.Context, what string, f func() error) error {
	return s.retryWith(ctx, what, s.opts.Retry, f)
}

// retryWith is retry under policy p.
func (s *Store) retryWith(ctx context.Context, what string, p RetryPolicy, f func() error) error {
	wait := p.Initial
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if !transient(err) {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("sqlite: %s: %w after %d attempts in %v: %w", what, ErrBusy, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		if waited := time.Since(start); waited >= time.Second {
			s.opts.Logger.Info("waiting for the database: another connection holds a lock (the sending system, or another program)",
				"for", what, "waited", waited.Round(100*time.Millisecond).String(), "attempt", attempt, "err", err.Error())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: %s: %w (while retrying %v)", what, ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, p.Max)
	}
}
