package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Bulk writing: SQLite keeps every index of a table up to date row by row,
// and with the eleven secondary indexes of a production email_schedules
// that maintenance is most of the cost of writing a first run's millions
// of rows (each insert touches a page of every index, in random order).
// Building an index once the rows are in sorts them instead, several times
// cheaper. A run whose changes are a large share of the table therefore
// drops the table's secondary indexes inside its transaction, writes, and
// creates them again, from their own CREATE statements, before it commits.
//
// Only inside one transaction: other connections see the database as it
// was until the commit, indexes included, and a crash at any moment rolls
// the drop back with everything else. Indexes that enforce uniqueness stay
// (they decide which rows may be stored), as do the table's triggers.

// bulkShare is the share of email_schedules' rows from which a run's
// changes are written in bulk: a run that changes at least bulkShare × the
// rows the table holds. Measured on the 2-core development machine with
// the production indexes (TestBulkThreshold, on a planned database of
// 100,000 contacts), adding a share s of the table's rows with the indexes
// maintained, then in bulk, took: s = 0.1: 2.0 s and 4.9 s; 0.2: 2.8 s and
// 5.0 s; 0.3: 4.5 s and 9.0 s; 0.5: 9.4 s and 8.0 s. A rebuild sorts every
// row of the table, changed or not, so it pays only for a large share; on
// larger tables, whose indexes no longer fit in the page cache, keeping
// them up to date row by row costs more and the two cross earlier. A first
// run writes several times the rows the table holds (its history).
const bulkShare = 0.5

// bulkMinRows: runs that change fewer rows never write in bulk, whatever
// the share (a small table's indexes are cheap either way, and counting
// the table's rows is not worth it).
var bulkMinRows = 20_000

// WriteStats describe how a run wrote: in bulk or not (see
// Options.BulkWrites), and the checkpoints of the write-ahead log.
type WriteStats struct {
	// Bulk is set when the run wrote in bulk.
	Bulk bool
	// Indexes is the number of secondary indexes dropped and created again.
	Indexes int
	// Drop and Build are the time spent dropping them and creating them
	// again (Build is the index build).
	Drop, Build time.Duration
	// Checkpoints is the number of checkpoints of the write-ahead log the
	// run made after its commits (WAL mode), and CheckpointTime the time
	// they took. A checkpoint copies the log into the database; it cannot
	// go past the oldest snapshot another connection still reads, which is
	// what lets the log grow.
	Checkpoints    int
	CheckpointTime time.Duration
}

// secondaryIndex is an index of email_schedules that a bulk run drops and
// creates again: its name, its CREATE statement as sqlite_master holds it,
// and its rows of the statistics tables (ANALYZE's), which DROP INDEX
// deletes.
type secondaryIndex struct {
	Index
	stats []statRows
}

// Index is an index a bulk write drops and creates again: its name and
// its CREATE statement, as sqlite_master holds it.
type Index struct {
	Name, SQL string
}

// statRows are the rows of one statistics table for one index.
type statRows struct {
	table string
	cols  []string
	rows  [][]any
}

// statTables are the statistics tables ANALYZE may have made.
var statTables = []string{"sqlite_stat1", "sqlite_stat4"}

// SecondaryIndexes returns the indexes of email_schedules that a bulk
// write drops and creates again: those that enforce no constraint,
// created with CREATE INDEX (not UNIQUE, not a PRIMARY KEY or UNIQUE
// constraint of the table), in the order of sqlite_master. (A program that
// measures bulk writes against SQLite alone uses it to drop the same
// indexes.)
func SecondaryIndexes(ctx context.Context, conn *sql.Conn) ([]Index, error) {
	rows, err := conn.QueryContext(ctx, `SELECT m.name, m.sql FROM sqlite_master m
		JOIN pragma_index_list('email_schedules') l ON l.name = m.name
		WHERE m.type = 'index' AND m.tbl_name = 'email_schedules' AND m.sql IS NOT NULL AND l."unique" = 0 AND l.origin = 'c'
		ORDER BY m.rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Index
	for rows.Next() {
		var ix Index
		if err := rows.Scan(&ix.Name, &ix.SQL); err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, rows.Err()
}

// presentStatTables returns the statistics tables the database has.
func presentStatTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	var present []string
	for _, table := range statTables {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			present = append(present, table)
		}
	}
	return present, nil
}

// readStats fills ix's rows of the statistics tables given.
func readStats(ctx context.Context, conn *sql.Conn, tables []string, ix *secondaryIndex) error {
	for _, table := range tables {
		rows, err := conn.QueryContext(ctx, `SELECT * FROM `+table+` WHERE idx = ?`, ix.Name)
		if err != nil {
			return err
		}
		sr := statRows{table: table}
		if sr.cols, err = rows.Columns(); err != nil {
			rows.Close()
			return err
		}
		for rows.Next() {
			vals := make([]any, len(sr.cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return err
			}
			sr.rows = append(sr.rows, vals)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(sr.rows) > 0 {
			ix.stats = append(ix.stats, sr)
		}
	}
	return nil
}

// dropIndexes drops the secondary indexes of email_schedules, inside the
// caller's transaction, and returns what createIndexes needs to create
// them again.
func dropIndexes(ctx context.Context, conn *sql.Conn) ([]secondaryIndex, error) {
	list, err := SecondaryIndexes(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: bulk write: reading the indexes: %w", err)
	}
	idx := make([]secondaryIndex, len(list))
	for i, ix := range list {
		idx[i].Index = ix
	}
	stats, err := presentStatTables(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: bulk write: reading the statistics tables: %w", err)
	}
	for i := range idx {
		if err := readStats(ctx, conn, stats, &idx[i]); err != nil {
			return nil, fmt.Errorf("sqlite: bulk write: reading the statistics of %s: %w", idx[i].Name, err)
		}
		if _, err := conn.ExecContext(ctx, `DROP INDEX `+quoteIdent(idx[i].Name)); err != nil {
			return nil, fmt.Errorf("sqlite: bulk write: dropping %s: %w", idx[i].Name, err)
		}
	}
	return idx, nil
}

// createIndexes creates the indexes dropIndexes dropped, from their own
// statements (same names, columns, collations, partial and expression
// definitions: sqlite_master then holds the same text), and puts their
// statistics back.
func createIndexes(ctx context.Context, conn *sql.Conn, idx []secondaryIndex) error {
	for _, ix := range idx {
		if _, err := conn.ExecContext(ctx, ix.SQL); err != nil {
			return fmt.Errorf("sqlite: bulk write: creating %s again: %w", ix.Name, err)
		}
		for _, sr := range ix.stats {
			q := `INSERT INTO ` + sr.table + ` (` + strings.Join(sr.cols, ", ") + `) VALUES (` +
				strings.TrimSuffix(strings.Repeat("?, ", len(sr.cols)), ", ") + `)`
			for _, r := range sr.rows {
				if _, err := conn.ExecContext(ctx, q, r...); err != nil {
					return fmt.Errorf("sqlite: bulk write: the statistics of %s: %w", ix.Name, err)
				}
			}
		}
	}
	return nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// tableRows estimates the rows of email_schedules from above: its largest
// row id, which SQLite finds at the end of the table's b-tree without
// counting millions of rows (ids only grow; deleted rows leave gaps, so a
// run may write in bulk a little less often than it could).
func tableRows(ctx context.Context, conn *sql.Conn) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM email_schedules`).Scan(&n)
	return n, err
}

// large reports whether changes of n rows are a large share of
// email_schedules: at least bulkMinRows and bulkShare of its rows.
func large(ctx context.Context, conn *sql.Conn, n int) (bool, error) {
	if n < bulkMinRows {
		return false, nil
	}
	total, err := tableRows(ctx, conn)
	if err != nil {
		return false, fmt.Errorf("sqlite: bulk write: counting rows: %w", err)
	}
	return float64(n) >= bulkShare*float64(total), nil
}
