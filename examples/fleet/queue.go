package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/mattn/go-sqlite3" // the queue's SQLite driver
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// queue is the job queue of the fleet: a River driver over the queue's
// database, and the same database for the fleet summary. Everything else
// is the same code for both databases (see withQueue).
type queue[TTx any] struct {
	driver riverdriver.Driver[TTx]
	db     summaryDB
	// what names the database in messages, without a password.
	what string
}

// summaryDB runs the fleet summary's statements. They are written once
// for both databases: $1, $2... in order of first use (SQLite numbers
// parameters so), ON CONFLICT upserts, and only TEXT and integer columns.
type summaryDB interface {
	Exec(ctx context.Context, query string, args ...any) error
	// Query calls each for every row; scan reads the row's columns.
	Query(ctx context.Context, query string, args []any, each func(scan func(dest ...any) error) error) error
}

// isPostgres reports whether -queue names a PostgreSQL database.
func isPostgres(queue string) bool {
	return strings.HasPrefix(queue, "postgres://") || strings.HasPrefix(queue, "postgresql://")
}

// withSQLiteQueue opens the SQLite queue at path (creating the file when
// missing), migrates River's tables and the fleet summary's, and returns
// what f returns on it.
func withSQLiteQueue(ctx context.Context, path string, f func(*queue[*sql.Tx]) int) (int, error) {
	// One connection: River's goroutines and the fleet's statements take
	// turns on it, so that no two of them meet SQLITE_BUSY inside this
	// process; the busy timeout makes the other worker processes of the
	// same file wait for its write lock instead of failing. WAL lets them
	// read while one writes; immediate transactions take the write lock at
	// BEGIN, so that a transaction never fails half-way on a lock another
	// process took after it began to read.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(maxQueueConns)
	if err := db.PingContext(ctx); err != nil {
		return 0, fmt.Errorf("queue %s: %w", path, err)
	}
	q := &queue[*sql.Tx]{driver: riversqlite.New(db), db: sqlDB{db}, what: path}
	if err := q.migrate(ctx); err != nil {
		return 0, err
	}
	return f(q), nil
}

// maxQueueConns is the pool size of a SQLite queue: one, as the River
// driver's documentation advises (the README says what it costs).
var maxQueueConns = 1

// withPgQueue is withSQLiteQueue for a PostgreSQL queue (a postgres://
// URL): River's driver riverpgxv5 over a pgx pool.
func withPgQueue(ctx context.Context, dsn string, f func(*queue[pgx.Tx]) int) (int, error) {
	what := redact(dsn)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("queue %s: %w", what, err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return 0, fmt.Errorf("queue %s: %w", what, err)
	}
	q := &queue[pgx.Tx]{driver: riverpgxv5.New(pool), db: pgxDB{pool}, what: what}
	if err := q.migrate(ctx); err != nil {
		return 0, err
	}
	return f(q), nil
}

// redact returns the URL without its password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// summaryDDL creates the fleet summary table, in both dialects. It only
// ever adds: a table when it is missing.
const summaryDDL = `CREATE TABLE IF NOT EXISTS emailsched_fleet_runs (
	organisation TEXT NOT NULL,
	day TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	duration_ms BIGINT NOT NULL DEFAULT 0,
	rows_inserted BIGINT NOT NULL DEFAULT 0,
	rows_updated BIGINT NOT NULL DEFAULT 0,
	rows_deleted BIGINT NOT NULL DEFAULT 0,
	run_id TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	updated_at TEXT NOT NULL,
	PRIMARY KEY (organisation, day)
)`

// migrate brings River's tables up to date (rivermigrate) and creates the
// fleet summary table. Worker processes that start together may migrate
// at the same time: the loser of such a race finds the work done when it
// tries again.
func (q *queue[TTx]) migrate(ctx context.Context) error {
	m, err := rivermigrate.New(q.driver, nil)
	if err != nil {
		return fmt.Errorf("queue %s: migrations: %w", q.what, err)
	}
	var last error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		if _, last = m.Migrate(ctx, rivermigrate.DirectionUp, nil); last != nil {
			continue
		}
		if last = q.db.Exec(ctx, summaryDDL); last == nil {
			return nil
		}
	}
	return fmt.Errorf("queue %s: migrations: %w", q.what, last)
}

// sqlDB is a summaryDB over database/sql.
type sqlDB struct{ db *sql.DB }

func (s sqlDB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, query, args...)
	return err
}

func (s sqlDB) Query(ctx context.Context, query string, args []any, each func(scan func(dest ...any) error) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, each)
}

// pgxDB is a summaryDB over a pgx pool.
type pgxDB struct{ pool *pgxpool.Pool }

func (p pgxDB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := p.pool.Exec(ctx, query, args...)
	return err
}

func (p pgxDB) Query(ctx context.Context, query string, args []any, each func(scan func(dest ...any) error) error) error {
	rows, err := p.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, each)
}

// rowIter is what eachRow needs of *sql.Rows and pgx.Rows.
type rowIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// eachRow calls each for every row of rows, then reports the rows' error.
func eachRow(rows rowIter, each func(scan func(dest ...any) error) error) error {
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
