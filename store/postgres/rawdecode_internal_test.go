package postgres

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/pgtest"
	"github.com/emailsched/emailsched/store/demodata"
)

// TestRawEmails: the stream's email query comes in the shape rawEmails
// decodes itself (were it not, every stream would silently take the slower
// generic scan), and both decode every row alike: with the columns of the
// types the migrations give (read natively) and with other types (read
// through casts), NULLs and infinite dates included, and with the same
// result for both schemas.
func TestRawEmails(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	today := datecalc.MustNew(2025, time.March, 3)
	camps := demodata.DemoCampaigns(today)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 9, Contacts: 300, Today: today, HistoryFraction: 0.7,
		DirtyFraction: 0.2, StoredFraction: 0.7, Campaigns: camps, CampaignFraction: 0.3})
	seq := func(yield func(*emailsched.Contact) bool) {
		for i := range contacts {
			if !yield(&contacts[i]) {
				return
			}
		}
	}
	// Every nullable column NULL on some rows, infinite dates, and dates
	// at the ends of the range a Date holds.
	nulls := []string{
		`ALTER TABLE {schema}.email_schedules ALTER COLUMN status DROP NOT NULL`,
		`UPDATE {schema}.email_schedules SET priority = NULL, skip_reason = NULL, event_year = NULL, campaign_instance_id = NULL WHERE id % 7 = 0`,
		`UPDATE {schema}.email_schedules SET status = NULL, email_template = NULL, sms_template = NULL, scheduler_run_id = NULL,
			catchup_note = NULL, metadata = NULL, event_month = NULL, event_day = NULL WHERE id % 11 = 0`,
		`UPDATE {schema}.email_schedules SET scheduled_send_date = 'infinity' WHERE id % 13 = 0`,
		`UPDATE {schema}.email_schedules SET scheduled_send_date = '-infinity' WHERE id % 17 = 0`,
		// The ends of the years 1 to 9999, and a day past each.
		`UPDATE {schema}.email_schedules SET scheduled_send_date = '9999-12-31' WHERE id % 19 = 0`,
		`UPDATE {schema}.email_schedules SET scheduled_send_date = '10000-01-01' WHERE id % 23 = 0`,
		`UPDATE {schema}.email_schedules SET scheduled_send_date = '0001-01-01' WHERE id % 29 = 0`,
		`UPDATE {schema}.email_schedules SET scheduled_send_date = '0001-12-31 BC' WHERE id % 31 = 0`,
	}
	// The other schema's columns have types a foreign schema may have.
	others := []string{
		`ALTER TABLE {schema}.email_schedules ALTER COLUMN scheduled_send_date TYPE text,
			ALTER COLUMN status TYPE varchar(40), ALTER COLUMN priority TYPE numeric,
			ALTER COLUMN event_year TYPE text, ALTER COLUMN campaign_instance_id TYPE numeric,
			ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb`,
	}
	var decoded [][]emailRow
	for _, schema := range []string{"raw_native", "raw_cast"} {
		if err := Load(ctx, pool, schema, seq, camps); err != nil {
			t.Fatal(err)
		}
		s := New(pool, Options{Schema: schema})
		stmts := nulls
		if schema == "raw_cast" {
			// Values that are not whole numbers read as 0, like the NULLs
			// of the other schema on the same rows.
			junk := `UPDATE {schema}.email_schedules SET event_year = ' x1 ', priority = 10.5, campaign_instance_id = 1e30 WHERE id % 7 = 0`
			stmts = append(append(slices.Clone(others), nulls...), junk)
		}
		for _, q := range stmts {
			if _, err := pool.Exec(ctx, s.sql(q)); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		want, got := decodeEmails(t, pool, s, false), decodeEmails(t, pool, s, true)
		if len(want) < 300 {
			t.Fatalf("%s: only %d email rows", schema, len(want))
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(emailRow{})); diff != "" {
			t.Errorf("%s: rawEmails decodes differently (-Scan +raw):\n%s", schema, diff)
		}
		decoded = append(decoded, got)
	}
	if diff := cmp.Diff(decoded[0], decoded[1], cmp.AllowUnexported(emailRow{})); diff != "" {
		t.Errorf("the native and the cast columns decode differently (-native +cast):\n%s", diff)
	}
}

// decodeEmails reads s's email rows with the stream's query, with
// rawEmails (raw) or scanEmail.
func decodeEmails(t *testing.T, pool *pgxpool.Pool, s *Store, raw bool) []emailRow {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	cols, err := s.columns(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := s.query("email_schedules", cols["email_schedules"], emailsSelect, "contact_id IS NOT NULL", "contact_id, id")
	if !ok {
		t.Fatal("no email query")
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	scan := scanEmail
	if raw {
		scan = rawEmails(rows)
		if reflect.ValueOf(scan).Pointer() == reflect.ValueOf(scanEmail).Pointer() {
			t.Fatalf("rawEmails does not decode the stream's email query (columns %v)", rows.FieldDescriptions())
		}
	}
	var out []emailRow
	for rows.Next() {
		var e emailRow
		if _, err := scan(rows, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
