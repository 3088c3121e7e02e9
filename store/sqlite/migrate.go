package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/emailsched/emailsched/store"
)

//go:embed schema/schema.sql
var schemaSQL string

// table is a table of schema.sql.
type table struct {
	name    string
	create  string
	columns []column
}

type column struct {
	name string
	add  string // the definition used by ALTER TABLE ADD COLUMN
}

// requiredIndex is an index the adapter needs: one whose first column is
// column, on table. Any existing index that leads with the column serves
// (a production database's unique indexes do); only when none exists is
// name created.
type requiredIndex struct{ table, column, name string }

var requiredIndexes = []requiredIndex{
	{"email_schedules", "contact_id", "idx_email_schedules_contact_id"},
	{"contact_campaigns", "contact_id", "idx_contact_campaigns_contact_id"},
	{"tracking_clicks", "contact_id", "idx_tracking_clicks_contact_id"},
	{"contact_events", "contact_id", "idx_contact_events_contact_id"},
	{"scheduler_checkpoints", "run_id", "idx_scheduler_checkpoints_run_id"},
}

// tableIndexes are created with their table, when the adapter creates it:
// the status-and-date index lets PlannedVolume read a few days of the plan
// instead of the whole table (an owner's existing table keeps its own
// indexes: the production schema has such an index).
var tableIndexes = map[string][]string{
	"email_schedules": {"CREATE INDEX IF NOT EXISTS idx_email_schedules_status_date ON email_schedules(status, scheduled_send_date)"},
}

// appTables are created when missing but never altered: the application
// owns them (and may insert into them positionally).
var appTables = map[string]bool{"contacts": true}

var (
	createRe  = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)$`)
	defaultRe = regexp.MustCompile(`(?i)\bDEFAULT\s+('[^']*'|-?[0-9.]+)`)
)

// parseSchema reads schema.sql (see the format rules at its top).
func parseSchema(src string) ([]table, error) {
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []table
	for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		m := createRe.FindStringSubmatch(stmt)
		if m == nil {
			return nil, fmt.Errorf("sqlite: schema.sql: unexpected statement %.40q", stmt)
		}
		t := table{name: m[1], create: stmt}
		for _, l := range strings.Split(m[2], "\n") {
			l = strings.TrimSuffix(strings.TrimSpace(l), ",")
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			add := f[0] + " " + f[1]
			if d := defaultRe.FindString(l); d != "" {
				add += " " + d
			}
			t.columns = append(t.columns, column{name: f[0], add: add})
		}
		out = append(out, t)
	}
	return out, nil
}

// ErrForeignSchema is wrapped when a table this scheduler writes has a
// shape it cannot write safely: an email_schedules table without a status
// column (its rows could not be told apart from this scheduler's), or a
// NOT NULL column without a default that the adapter does not fill. Nothing
// is changed.
var ErrForeignSchema = errors.New("sqlite: the database's schema cannot be written safely")

// Migrate brings the database to the shape the adapter needs, creating only
// what is missing: the tables it reads and writes (email_schedules,
// campaign_types, campaign_instances, contact_campaigns, tracking_clicks,
// contact_events, scheduler_checkpoints, and contacts on an empty
// database), the columns an existing table lacks (ALTER TABLE ADD COLUMN,
// checked with PRAGMA table_info; the contacts table is never altered), and
// an index on contact_id for each per-contact table unless an index leading
// with contact_id exists. It never drops, renames or rewrites anything, and
// no column it adds gets a default that makes existing rows look like this
// scheduler's, so it is idempotent and safe on production databases. It
// runs in one IMMEDIATE transaction: after a failure the database is as it
// was. The production index set is not created here (see sqlitefixture).
//
// Before it changes anything it checks that the schema can be written
// safely (ErrForeignSchema): an email_schedules table without a status
// column is refused, never migrated, because this scheduler owns exactly
// the rows whose status is pre-scheduled or skipped and a status added with
// any value would either claim the other system's rows or hide them.
//
// Begin migrates, so callers need not; Migrate is for those who want the
// change at a moment of their choosing.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	tables, err := parseSchema(schemaSQL)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer conn.Close()
	if err := preflight(ctx, conn); err != nil {
		return err
	}
	return s.retry(ctx, "migrate", func() error {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		if err := migrate(ctx, conn, tables); err != nil {
			rollback(conn)
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			rollback(conn)
			return err
		}
		return nil
	})
}

// writable returns store.ErrReadOnly (wrapped) for a database opened
// read-only.
func (s *Store) writable(ctx context.Context) error {
	var ro int
	if err := s.db.QueryRowContext(ctx, "PRAGMA query_only").Scan(&ro); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if ro != 0 {
		return fmt.Errorf("sqlite: the database was opened read-only: %w", store.ErrReadOnly)
	}
	return nil
}

// insertedColumns are the columns the adapter fills when it inserts into
// email_schedules (see insertSQL); checkpointColumns those it fills in
// scheduler_checkpoints, in either layout (see checkpoint.go).
var insertedColumns = []string{"contact_id", "email_type", "scheduled_send_date", "scheduled_send_time", "status",
	"skip_reason", "priority", "campaign_instance_id", "email_template", "sms_template", "scheduler_run_id",
	"event_year", "event_month", "event_day", "catchup_note", "metadata", "created_at", "updated_at"}

// preflight checks that the tables the adapter writes can be written
// safely, before anything is changed (see ErrForeignSchema).
func preflight(ctx context.Context, q queryer) error {
	cols, err := tableColumns(ctx, q, "email_schedules")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if len(cols) > 0 && !cols["status"] {
		return fmt.Errorf("%w: email_schedules has no status column, so its rows cannot be told apart from this scheduler's "+
			"(which are exactly those with status 'pre-scheduled' or 'skipped'); add a status column whose existing rows carry "+
			"the sending system's statuses, then run again", ErrForeignSchema)
	}
	for _, t := range []struct {
		table  string
		filled []string
	}{{"email_schedules", insertedColumns}, {"scheduler_checkpoints", checkpointFilled}} {
		bad, err := unfilledNotNull(ctx, q, t.table, t.filled)
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if len(bad) > 0 {
			return fmt.Errorf("%w: %s has NOT NULL columns without a default that this scheduler does not know how to fill: %s",
				ErrForeignSchema, t.table, strings.Join(bad, ", "))
		}
	}
	return nil
}

// unfilledNotNull returns the NOT NULL columns of table without a default
// that are not in filled (nor the integer primary key, which fills
// itself).
func unfilledNotNull(ctx context.Context, q queryer, table string, filled []string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?) WHERE \"notnull\" AND dflt_value IS NULL", table)
	if err != nil {
		return nil, fmt.Errorf("table_info(%s): %w", table, err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return nil, fmt.Errorf("table_info(%s): %w", table, err)
		}
		if pk > 0 && strings.EqualFold(typ, "INTEGER") {
			continue
		}
		if !slices.Contains(filled, strings.ToLower(name)) {
			bad = append(bad, name)
		}
	}
	return bad, rows.Err()
}

func migrate(ctx context.Context, conn *sql.Conn, tables []table) error {
	for _, t := range tables {
		have, err := tableColumns(ctx, conn, t.name)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			if _, err := conn.ExecContext(ctx, t.create); err != nil {
				return fmt.Errorf("create table %s: %w", t.name, err)
			}
			for _, q := range tableIndexes[t.name] {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("create an index of %s: %w", t.name, err)
				}
			}
			continue
		}
		if appTables[t.name] {
			continue
		}
		for _, c := range t.columns {
			if have[strings.ToLower(c.name)] {
				continue
			}
			if _, err := conn.ExecContext(ctx, "ALTER TABLE "+t.name+" ADD COLUMN "+c.add); err != nil {
				return fmt.Errorf("add column %s.%s: %w", t.name, c.name, err)
			}
		}
	}
	for _, ix := range requiredIndexes {
		ok, err := hasLeadingIndex(ctx, conn, ix.table, ix.column)
		if err != nil {
			return err
		}
		if !ok {
			q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s(%s)", ix.name, ix.table, ix.column)
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("create index %s: %w", ix.name, err)
			}
		}
	}
	return nil
}

// queryer is what *sql.DB, *sql.Conn and *sql.Tx share.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableColumns returns the lower-case column names of a table; empty when
// the table does not exist.
func tableColumns(ctx context.Context, q queryer, name string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", name)
	if err != nil {
		return nil, fmt.Errorf("table_info(%s): %w", name, err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("table_info(%s): %w", name, err)
		}
		cols[strings.ToLower(c)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table_info(%s): %w", name, err)
	}
	return cols, nil
}

// hasLeadingIndex reports whether a complete (not partial) index of table
// has column as its first column.
func hasLeadingIndex(ctx context.Context, q queryer, table, col string) (bool, error) {
	const query = `SELECT count(*) FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii
		WHERE il.partial = 0 AND ii.seqno = 0 AND lower(ii.name) = lower(?2)`
	var n int
	rows, err := q.QueryContext(ctx, query, table, col)
	if err != nil {
		return false, fmt.Errorf("index_list(%s): %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, fmt.Errorf("index_list(%s): %w", table, err)
		}
	}
	return n > 0, rows.Err()
}

// rollback ends the transaction open on conn, if any, ignoring the error
// that says there is none.
func rollback(conn *sql.Conn) {
	_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
}
