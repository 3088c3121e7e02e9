package sqlite

import (
	"context"
	"fmt"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// PlannedVolume implements store.VolumeSource: one grouped query over the
// pre-scheduled rows dated from from to to. On the production schema (and
// on the email_schedules table the adapter creates) an index leads with the
// send date, or with the status and then the send date, so the query reads
// those days' rows only: about a second for two weeks of a 3-million-contact
// plan. Without such an index SQLite scans the table. Rows whose date is
// not a YYYY-MM-DD date are not counted (the run reads them as invalid). It
// works on a database opened read-only, migrated or not.
func (s *Store) PlannedVolume(ctx context.Context, from, to datecalc.Date) ([]store.TypeVolume, error) {
	cols, err := tableColumns(ctx, s.db, "email_schedules")
	if err != nil {
		return nil, fmt.Errorf("sqlite: planned volume: %w", err)
	}
	if !cols["scheduled_send_date"] || !cols["email_type"] || !cols["status"] {
		return nil, nil // no plan this adapter could have written
	}
	// Dates are TEXT: a day's rows are those from "YYYY-MM-DD" up to the
	// next day, whatever follows the date in the column.
	rows, err := s.db.QueryContext(ctx, `SELECT substr(scheduled_send_date, 1, 10), email_type, count(*)
		FROM email_schedules WHERE status = ? AND scheduled_send_date >= ? AND scheduled_send_date < ?
		GROUP BY 1, 2 ORDER BY 1, 2`, string(emailsched.StatusPreScheduled), from.String(), to.AddDays(1).String())
	if err != nil {
		return nil, fmt.Errorf("sqlite: planned volume: %w", err)
	}
	defer rows.Close()
	var out []store.TypeVolume
	for rows.Next() {
		var day, typ string
		var n int
		if err := rows.Scan(&day, &typ, &n); err != nil {
			return nil, fmt.Errorf("sqlite: planned volume: %w", err)
		}
		d, err := datecalc.Parse(day)
		if err != nil || d.Before(from) || d.After(to) {
			continue
		}
		out = append(out, store.TypeVolume{Date: d, Type: emailsched.EmailType(typ), Emails: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: planned volume: %w", err)
	}
	return out, nil
}

var _ store.VolumeSource = (*Store)(nil)
