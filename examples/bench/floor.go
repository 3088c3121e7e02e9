package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/emailsched/emailsched/store/sqlite"
)

// The floor's queries. They read the columns the adapter's source reads
// (store/sqlite, source.go), with the same casts, in one plain SELECT each.
const (
	// floorContactsSQL is completed by contactsQuery.
	floorContactsSQL = `SELECT %s FROM contacts ORDER BY id`
	// floorSchedulesSQL is one full scan in table order (no ORDER BY: the
	// adapter's order by contact_id is its own choice, not SQLite's need).
	floorSchedulesSQL = `SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules`
)

// insertColumns are the columns the adapter's sink inserts.
const insertColumns = `contact_id, email_type, scheduled_send_date, scheduled_send_time,
	status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
	event_year, event_month, event_day, catchup_note, metadata, created_at, updated_at`

// nInsertColumns is the number of insertColumns.
const nInsertColumns = 18

// readBackSQL reads the rows a run wrote, with their values as stored.
const readBackSQL = `SELECT contact_id, email_type, CAST(scheduled_send_date AS TEXT), CAST(scheduled_send_time AS TEXT),
	status, skip_reason, priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
	event_year, event_month, event_day, catchup_note, metadata, CAST(created_at AS TEXT), CAST(updated_at AS TEXT)
	FROM email_schedules WHERE scheduler_run_id = ? ORDER BY id`

// multiRows is the number of rows of one multi-row INSERT (18 parameters
// each, well under SQLite's limit of 32766).
const multiRows = 100

// chunkRows is the number of rows read back between two timed insert bursts.
const chunkRows = 100 * multiRows

// floorContactColumns are the columns of contacts the adapter's source
// reads.
var floorContactColumns = []string{"id", "email", "zip_code", "state", "CAST(birth_date AS TEXT)", "CAST(effective_date AS TEXT)",
	"current_carrier", "do_not_communicate"}

// contactsQuery is floorContactsSQL with the columns that contacts has, and
// NULL for those it lacks, as the adapter's source reads them (a production
// database has no do_not_communicate).
func contactsQuery(ctx context.Context, db *sql.DB) (string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM pragma_table_info('contacts')")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		have[strings.ToLower(n)] = true
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	cols := make([]string, len(floorContactColumns))
	for i, c := range floorContactColumns {
		name := strings.TrimSuffix(strings.TrimPrefix(c, "CAST("), " AS TEXT)")
		cols[i] = c
		if !have[name] {
			cols[i] = "NULL"
		}
	}
	return fmt.Sprintf(floorContactsSQL, strings.Join(cols, ", ")), nil
}

// readContacts reads every contact with one plain SELECT and returns the
// number of rows and the time (which does not include looking up the
// columns).
func readContacts(ctx context.Context, db *sql.DB) (int, time.Duration, error) {
	q, err := contactsQuery(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	return scanAll(ctx, db, q, len(floorContactColumns))
}

// readSchedules reads the whole email_schedules table with one full scan.
func readSchedules(ctx context.Context, db *sql.DB) (int, time.Duration, error) {
	return scanAll(ctx, db, floorSchedulesSQL, 17)
}

// scanAll runs query and scans every row into sql.RawBytes (the cheapest
// scan database/sql offers), timing it all.
func scanAll(ctx context.Context, db *sql.DB, query string, cols int) (int, time.Duration, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	vals := make([]sql.RawBytes, cols)
	ptrs := make([]any, cols)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, 0, err
	}
	return n, time.Since(start), nil
}

// insertRows inserts the rows that run runID wrote in src into dst, in one
// transaction on one connection, the way mode says, and returns the number of
// rows and the measure (Time is the writing alone: the rows are read back
// from src in chunks between timed bursts of inserts, so memory stays bounded
// and reading them costs nothing in the figure).
//
// With bulk, the transaction is the adapter's bulk write done by hand: it
// drops the secondary indexes of email_schedules (Drop; the selection of
// secondaryIndexesSQL, their statements saved first), inserts the rows, runs
// the saved CREATE INDEX statements (Build) and commits. Time includes both.
func insertRows(ctx context.Context, src, dst *sql.DB, runID, mode string, bulk bool) (n int, m insertMeasure, err error) {
	m.Mode = mode
	rows, err := src.QueryContext(ctx, readBackSQL, runID)
	if err != nil {
		return 0, m, err
	}
	defer rows.Close()
	conn, err := dst.Conn(ctx)
	if err != nil {
		return 0, m, err
	}
	defer conn.Close()

	t := time.Now()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, m, err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var idx []sqlite.Index
	if bulk {
		d := time.Now()
		if idx, err = sqlite.SecondaryIndexes(ctx, conn); err != nil {
			return 0, m, fmt.Errorf("reading the secondary indexes: %w", err)
		}
		for _, ix := range idx {
			if _, err := conn.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(ix.Name, `"`, `""`)+`"`); err != nil {
				return 0, m, fmt.Errorf("dropping %s: %w", ix.Name, err)
			}
		}
		m.Indexes, m.Drop = len(idx), time.Since(d)
	}
	one, err := conn.PrepareContext(ctx, "INSERT INTO email_schedules ("+insertColumns+") VALUES "+placeholders(1))
	if err != nil {
		return 0, m, err
	}
	defer one.Close()
	var multi *sql.Stmt
	if mode == insertMulti {
		if multi, err = conn.PrepareContext(ctx, "INSERT INTO email_schedules ("+insertColumns+") VALUES "+placeholders(multiRows)); err != nil {
			return 0, m, err
		}
		defer multi.Close()
	}
	busy := time.Since(t)

	flush := func(buf []any) error {
		t := time.Now()
		defer func() { busy += time.Since(t) }()
		for len(buf) > 0 {
			if multi != nil && len(buf) >= multiRows*nInsertColumns {
				if _, err := multi.ExecContext(ctx, buf[:multiRows*nInsertColumns]...); err != nil {
					return err
				}
				buf = buf[multiRows*nInsertColumns:]
				continue
			}
			if _, err := one.ExecContext(ctx, buf[:nInsertColumns]...); err != nil {
				return err
			}
			buf = buf[nInsertColumns:]
		}
		return nil
	}

	vals := make([]any, nInsertColumns)
	ptrs := make([]any, nInsertColumns)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	buf := make([]any, 0, chunkRows*nInsertColumns)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, m, err
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b) // keep TEXT as TEXT: []byte would bind as a BLOB
			}
			buf = append(buf, v)
		}
		n++
		if len(buf) == cap(buf) {
			if err := flush(buf); err != nil {
				return n, m, err
			}
			buf = buf[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return n, m, err
	}
	if err := flush(buf); err != nil {
		return n, m, err
	}
	t = time.Now()
	for _, ix := range idx {
		if _, err := conn.ExecContext(ctx, ix.SQL); err != nil {
			return n, m, fmt.Errorf("creating %s again: %w", ix.Name, err)
		}
	}
	m.Build = time.Since(t)
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return n, m, err
	}
	committed = true
	busy += time.Since(t)
	m.Time = busy
	return n, m, nil
}

// placeholders returns "(?,...,?),..." for rows rows of the insert columns.
func placeholders(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", nInsertColumns), ",") + ")"
	var b strings.Builder
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// tableHeader is the header of the scaling table of README.md. "first
// floor" is the floor with the indexes maintained; "index build" is the
// first run's (– when it did not write in bulk) and the bulk floor's.
const tableHeader = "| contacts | plan rows | first run s | first floor s | first ratio | bulk floor s | bulk ratio | index build s (run / bulk floor) | first peak RSS MiB | nightly run s | nightly floor s | nightly ratio | rewritten % | nightly peak RSS MiB | load avg start → end |\n" +
	"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"

// tableRow formats one line of the scaling table; a scenario that did not
// run shows "–".
func tableRow(contacts int, first, nightly *result, loadStart, loadEnd string) string {
	cells := []string{fmt.Sprint(contacts)}
	plan := "–"
	if first != nil {
		plan = fmt.Sprint(first.Planned)
	} else if nightly != nil {
		plan = fmt.Sprint(nightly.Planned)
	}
	cells = append(cells, plan)
	if first != nil {
		bulkFloor, build := "–", "–"
		if first.Write.Bulk {
			build = fmt.Sprintf("%.2f", first.Write.Build.Seconds())
		}
		if b := first.Floor.Bulk; b != nil {
			bulkFloor = fmt.Sprintf("%.2f", b.Total.Seconds())
			build += fmt.Sprintf(" / %.2f", b.Best.Build.Seconds())
		} else {
			build += " / –"
		}
		cells = append(cells, fmt.Sprintf("%.2f", first.EndToEnd.Seconds()), fmt.Sprintf("%.2f", first.Floor.Total.Seconds()),
			fmt.Sprintf("%.2f", first.ratio()), bulkFloor, fmt.Sprintf("%.2f", first.bulkRatio()), build,
			fmt.Sprintf("%.0f", float64(first.PeakRSS)/(1<<20)))
	} else {
		cells = append(cells, "–", "–", "–", "–", "–", "–", "–")
	}
	if nightly != nil {
		cells = append(cells, fmt.Sprintf("%.2f", nightly.EndToEnd.Seconds()), fmt.Sprintf("%.2f", nightly.Floor.Total.Seconds()),
			fmt.Sprintf("%.2f", nightly.ratio()), fmt.Sprintf("%.3f", nightly.rewrittenPercent()), fmt.Sprintf("%.0f", float64(nightly.PeakRSS)/(1<<20)))
	} else {
		cells = append(cells, "–", "–", "–", "–", "–")
	}
	cells = append(cells, loadStart+" → "+loadEnd)
	return "| " + strings.Join(cells, " | ") + " |"
}
