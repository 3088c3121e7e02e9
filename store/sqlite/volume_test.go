package sqlite_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// TestPlannedVolume: the per-day, per-type counts of the stored plan equal
// a count of its rows, and the query reads the days through an index on
// the production schema and on a database the adapter created.
func TestPlannedVolume(t *testing.T) {
	ctx := context.Background()
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 3, Contacts: 400}, Shape: sqlitefixture.Production, Unique: sqlitefixture.UniqueEventYear})
	s, db := openStore(t, path, sqlite.Options{Atomic: true})
	sch, err := scheduler.New(scheduler.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sch.RunAt(ctx, testToday, s, s); err != nil {
		t.Fatal(err)
	}
	from, to := testToday, testToday.AddDays(29)
	got, err := s.PlannedVolume(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	rows, err := db.Query(`SELECT scheduled_send_date || ' ' || email_type, count(*) FROM email_schedules
		WHERE status = 'pre-scheduled' AND scheduled_send_date BETWEEN ? AND ? GROUP BY 1`, from.String(), to.String())
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		want[k] = n
	}
	rows.Close()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d day-type counts, the table has %d", len(got), len(want))
	}
	for i, v := range got {
		if want[v.Date.String()+" "+string(v.Type)] != v.Emails {
			t.Errorf("%s %s: %d, the table has %d", v.Date, v.Type, v.Emails, want[v.Date.String()+" "+string(v.Type)])
		}
		if i > 0 && (got[i-1].Date.After(v.Date) || got[i-1].Date == v.Date && got[i-1].Type >= v.Type) {
			t.Errorf("not in day and type order: %v then %v", got[i-1], v)
		}
	}
	checkUsesIndex(t, db)

	// A database the adapter created has the index too.
	fresh, _ := openDB(t, "fresh.sqlite3")
	fs := sqlite.New(fresh, sqlite.Options{})
	if err := fs.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	checkUsesIndex(t, fresh)
	if v, err := fs.PlannedVolume(ctx, from, to); err != nil || len(v) != 0 {
		t.Errorf("empty plan: %v, %v", v, err)
	}
	// A table this adapter could not have written: no plan.
	bare, _ := openDB(t, "bare.sqlite3")
	if _, err := bare.Exec("CREATE TABLE email_schedules (id INTEGER PRIMARY KEY, contact_id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if v, err := sqlite.New(bare, sqlite.Options{}).PlannedVolume(ctx, from, to); err != nil || v != nil {
		t.Errorf("foreign table: %v, %v", v, err)
	}
}

func checkUsesIndex(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT substr(scheduled_send_date, 1, 10), email_type, count(*)
		FROM email_schedules WHERE status = 'pre-scheduled' AND scheduled_send_date >= '2025-03-03' AND scheduled_send_date < '2025-03-17'
		GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX") && !strings.Contains(p, "USING COVERING INDEX") {
		t.Errorf("the volume query scans: %s", p)
	}
}
