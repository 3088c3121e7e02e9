package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/emailsched/emailsched/internal/safefile"
)

// Errors of Open, OpenReadOnly and Create. Each leaves the file as it was.
var (
	// ErrNoDatabase: the path does not exist. Creating a database is an
	// explicit act (Create).
	ErrNoDatabase = errors.New("sqlite: no database at this path")
	// ErrNotDatabase: the file is not an SQLite database (an empty file,
	// another kind of file, a directory, a pipe or a device).
	ErrNotDatabase = errors.New("sqlite: not an SQLite database file")
	// ErrNoContacts: the database has no contacts table, so it is not an
	// organisation database.
	ErrNoContacts = errors.New("sqlite: the database has no contacts table")
	// ErrExists: Create was given a path that exists.
	ErrExists = errors.New("sqlite: the file exists")
)

// sqliteHeader starts every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// The connection settings of every database the adapter opens: a 5 s busy
// timeout (the adapter retries past it, logging what it waits for),
// foreign keys as the organisation databases' applications have them
// (off), a 64 MiB page cache per connection. synchronous is chosen by
// journal mode in dsn.
const baseParams = "_busy_timeout=5000&_foreign_keys=0&_cache_size=-65536"

// Open opens the organisation database at path for reading and writing.
// The file must exist, be an SQLite database and hold a contacts table:
// otherwise the error wraps ErrNoDatabase, ErrNotDatabase or ErrNoContacts
// and nothing was changed.
//
// Open never changes the journal mode: it is the database owner's choice,
// a persistent setting that every program using the file sees (see UseWAL).
// In WAL mode connections use synchronous=NORMAL (durable at checkpoints,
// consistent always); in rollback-journal mode synchronous=FULL, which
// that mode needs to survive a power loss. The caller closes the *sql.DB.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	return open(ctx, path, false)
}

// OpenReadOnly opens the database at path read-only, with the checks of
// Open: SQLite's mode=ro and query_only, so that nothing can be written,
// not even the journal mode. Dry runs, explanations, status and previews
// use it: they work on a database that was never migrated and leave its
// bytes as they were. A Store over it refuses to Begin (store.ErrReadOnly).
func OpenReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	return open(ctx, path, true)
}

// Create makes a new, empty database file at path (which must not exist:
// ErrExists) and opens it as Open does. The first run (or Migrate) creates
// the tables, the contacts table included.
func Create(ctx context.Context, path string) (*sql.DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, path)
		}
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()
	db, err := connect(ctx, path, false)
	if err == nil {
		// An empty file becomes a database only when something is
		// written: make it one now, so that Open recognises it.
		_, err = db.ExecContext(ctx, "PRAGMA user_version = 0; CREATE TABLE emailsched_created (x); DROP TABLE emailsched_created")
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		os.Remove(path)
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return db, nil
}

func checkPath(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("sqlite: %q: the path must be a file name, non-empty, without '?' or '#'", path)
	}
	return nil
}

func open(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db, err := connect(ctx, path, readOnly)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND lower(name) = 'contacts'").Scan(&n)
	if err == nil && n == 0 {
		err = ErrNoContacts
	}
	if err != nil {
		db.Close()
		if errors.Is(err, ErrNoContacts) {
			return nil, fmt.Errorf("%w: %s", err, path)
		}
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// checkFile refuses, before SQLite opens anything, what would not be an
// organisation database: a missing path, anything but a regular file (a
// FIFO would block the open for ever), an empty file (SQLite would take it
// over as a new database) or a file without SQLite's header.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNoDatabase, path)
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is %s, not a regular file", ErrNotDatabase, path, safefile.Kind(fi.Mode()))
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: %s is empty", ErrNotDatabase, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return fmt.Errorf("%w: %s does not start with the SQLite header", ErrNotDatabase, path)
	}
	return nil
}

// connect opens the pool with the adapter's settings, choosing synchronous
// by the database's journal mode.
func connect(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	mode := ""
	if readOnly {
		mode = "&mode=ro&_query_only=1"
	}
	probe, err := sql.Open("sqlite3", "file:"+path+"?"+baseParams+mode)
	if err != nil {
		return nil, err
	}
	var jm string
	err = probe.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm)
	probe.Close()
	if err != nil {
		if strings.Contains(err.Error(), "file is not a database") {
			return nil, fmt.Errorf("%w: %w", ErrNotDatabase, err)
		}
		return nil, err
	}
	sync := "&_synchronous=FULL"
	if strings.EqualFold(jm, "wal") {
		sync = "&_synchronous=NORMAL"
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?"+baseParams+sync+mode)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// UseWAL switches the database to write-ahead-log journal mode. It is the
// owner's decision, not the adapter's: the mode is stored in the file and
// every program that opens it afterwards works in WAL mode (it needs a
// file system with shared memory, and leaves -wal and -shm files beside
// the database). In WAL mode the sending system's writes never wait for a
// run's reading, and a run's writes overlap its reading. Connections
// opened before the switch keep synchronous=FULL; open the database again
// for NORMAL.
func UseWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: switching to WAL: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: switching to WAL: the journal mode stayed %q", mode)
	}
	return nil
}

// JournalMode returns the database's journal mode, lower case ("wal",
// "delete", "truncate", "persist", "memory" or "off").
func JournalMode(ctx context.Context, db *sql.DB) (string, error) {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", fmt.Errorf("sqlite: journal mode: %w", err)
	}
	return strings.ToLower(mode), nil
}
