package postgres

import (
	"context"
	"reflect"
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
// generic scan), and both decode every row alike.
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
	if err := Load(ctx, pool, "raw", seq, camps); err != nil {
		t.Fatal(err)
	}
	s := New(pool, Options{Schema: "raw"})
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
	decode := func(raw bool) []emailRow {
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
	want, got := decode(false), decode(true)
	if len(want) < 300 {
		t.Fatalf("only %d email rows", len(want))
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(emailRow{})); diff != "" {
		t.Errorf("rawEmails decodes differently (-Scan +raw):\n%s", diff)
	}
}
