package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// PlannedVolume implements store.VolumeSource: one grouped query over the
// pre-scheduled rows dated from from to to, which the index on (status,
// scheduled_send_date) serves without reading other days' rows.
func (s *Store) PlannedVolume(ctx context.Context, from, to datecalc.Date) ([]store.TypeVolume, error) {
	ok, err := s.hasTable(ctx, "email_schedules")
	if err != nil || !ok {
		return nil, wrap("planned volume", err)
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT scheduled_send_date::text, email_type, count(*)
		FROM {schema}.email_schedules WHERE status = $1 AND scheduled_send_date BETWEEN $2::date AND $3::date
		GROUP BY 1, 2 ORDER BY 1, 2`), string(emailsched.StatusPreScheduled), from.String(), to.String())
	if err != nil {
		return nil, wrap("planned volume", err)
	}
	var out []store.TypeVolume
	var day, typ string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&day, &typ, &n}, func() error {
		if d, ok := dbDate(day); ok && !d.IsZero() {
			out = append(out, store.TypeVolume{Date: d, Type: emailsched.EmailType(typ), Emails: n})
		}
		return nil
	})
	return out, wrap("planned volume", err)
}
