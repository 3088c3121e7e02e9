package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	// transaction carries. Defaults to 1000. A contact's changes are never
	// split across transactions.
	BatchContacts int
	// Atomic makes a run one transaction: batches are still written as
	// they fill, but nothing is committed before Writer.Commit, so an
	// interrupted or failed run leaves the previous plan entirely intact
	// (only its 'running' checkpoint row remains, marked failed when
	// possible). The price is a write lock held for the whole run and a
	// write-ahead log as large as the run's changes: right for nightly
	// runs, heavy for a first run of millions of rows.
	Atomic bool
	// Retry bounds the retries of SQLITE_BUSY and SQLITE_LOCKED.
	Retry RetryPolicy
	// Backup, when its Dir is set, makes Begin take an online backup of the
	// database before the run (see Store.Backup) and prune old ones.
	Backup BackupOptions
	// Now is the clock for created_at, updated_at and checkpoint times.
	// Defaults to time.Now.
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
	// days after each backup. Defaults to 7; negative keeps every backup.
	KeepDays int
}

// Store is the SQLite adapter: a store.ContactSource, store.CampaignSource,
// store.LoadSource and store.ScheduleSink over an organisation database. It
// is safe for concurrent use. It does not own the *sql.DB it was given.
type Store struct {
	db   *sql.DB
	opts Options

	mu    sync.Mutex
	stats ReadStats
}

// New returns a Store over db, a database opened with the "sqlite3" driver
// of github.com/mattn/go-sqlite3 (for instance by Open). It does no I/O:
// call Migrate once before the first run. The database should be in WAL
// mode (Open sets it) so that the source can read while the sink writes.
func New(db *sql.DB, opts Options) *Store {
	if opts.BatchContacts <= 0 {
		opts.BatchContacts = 1000
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
	if opts.Backup.KeepDays == 0 {
		opts.Backup.KeepDays = 7
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: db, opts: opts}
}

// DB returns the database the Store works on.
func (s *Store) DB() *sql.DB { return s.db }

// Open opens the SQLite database file at path (creating it when missing)
// with the settings the adapter is meant for: WAL journal, a 5 s busy
// timeout, synchronous=NORMAL (durable at every WAL checkpoint, consistent
// always), foreign keys off as in existing organisation databases, and a 64
// MiB page cache per connection. The caller closes the *sql.DB.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: the path must be non-empty and contain no '?' or '#'", path)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_synchronous=NORMAL&_foreign_keys=0&_cache_size=-65536"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

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
// it fails.
func (s *Store) retry(ctx context.Context, what string, f func() error) error {
	wait := s.opts.Retry.Initial
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if !transient(err) {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		if attempt >= s.opts.Retry.Attempts {
			return fmt.Errorf("sqlite: %s: %w after %d attempts: %w", what, ErrBusy, attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: %s: %w (while retrying %v)", what, ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, s.opts.Retry.Max)
	}
}
