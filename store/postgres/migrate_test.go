package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/postgres"
)

func TestValidSchema(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"public", true}, {"org_001", true}, {"_x", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"Org", false}, {"1org", false}, {"org-1", false}, {"pg_catalog", false},
		{`a"b`, false}, {"org 1", false}, {strings.Repeat("a", 64), false},
	} {
		err := postgres.ValidSchema(tc.name)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, postgres.ErrBadSchema)) {
			t.Errorf("ValidSchema(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
	s := postgres.New(nil, postgres.Options{Schema: "Bad-Name"})
	if err := s.Migrate(context.Background()); !errors.Is(err, postgres.ErrBadSchema) {
		t.Errorf("Migrate with a bad schema name: %v", err)
	}
	if _, err := s.Begin(context.Background(), emailsched.RunInfo{ID: "x", SendTime: "08:30"}); !errors.Is(err, postgres.ErrBadSchema) {
		t.Errorf("Begin with a bad schema name: %v", err)
	}
	for _, err := range s.Contacts(context.Background()) {
		if !errors.Is(err, postgres.ErrBadSchema) {
			t.Errorf("Contacts with a bad schema name: %v", err)
		}
	}
}

// TestMigrateAdditive: the migrations run on a schema an application made
// (an extra column, an extra table, an email_schedules table without this
// adapter's columns, a contacts table with date columns) add what is
// missing and keep everything else; running them again changes nothing;
// concurrent first migrations of one schema both succeed.
func TestMigrateAdditive(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	const pre = `CREATE SCHEMA org_pre;
		CREATE TABLE org_pre.contacts (id bigint PRIMARY KEY, email text, zip_code text, state text, birth_date date,
			effective_date date, loyalty_tier text);
		INSERT INTO org_pre.contacts VALUES (1, 'a@example.com', '64101', 'MO', '1950-05-20', '2016-07-01', 'gold');
		CREATE TABLE org_pre.app_notes (id int PRIMARY KEY, note text);
		INSERT INTO org_pre.app_notes VALUES (1, 'keep me');
		CREATE TABLE org_pre.email_schedules (id bigserial PRIMARY KEY, contact_id bigint NOT NULL, email_type text NOT NULL,
			scheduled_send_date date NOT NULL, status text NOT NULL, sent_by text);
		INSERT INTO org_pre.email_schedules (contact_id, email_type, scheduled_send_date, status, sent_by)
			VALUES (1, 'birthday', '2024-05-06', 'sent', 'mailer-7')`
	if _, err := pool.Exec(ctx, pre); err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		var out string
		err := pool.QueryRow(ctx, `SELECT (SELECT string_agg(table_name || '.' || column_name || ':' || data_type ||
				':' || coalesce(column_default, ''), ',' ORDER BY table_name, column_name)
				FROM information_schema.columns WHERE table_schema = 'org_pre')
			|| (SELECT string_agg(note, ',') FROM org_pre.app_notes)
			|| (SELECT string_agg(id::text || contact_id::text || email_type || scheduled_send_date || status || sent_by, ',') FROM org_pre.email_schedules)
			|| (SELECT string_agg(id::text || loyalty_tier, ',') FROM org_pre.contacts)
			|| (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'org_pre')`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	s := postgres.New(pool, postgres.Options{Schema: "org_pre"})
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	once := dump()
	for _, want := range []string{"app_notes.note", "contacts.loyalty_tier", "email_schedules.sent_by", "email_schedules.metadata",
		"email_schedules.scheduler_run_id", "keep me", "mailer-7", "1gold", "scheduler_checkpoints.plan_load"} {
		if !strings.Contains(once, want) {
			t.Errorf("after the migrations the schema lacks %q:\n%s", want, once)
		}
	}
	if strings.Contains(once, "email_schedules.status:text:'") {
		t.Errorf("status got a default, which would make other systems' rows look like this scheduler's:\n%s", once)
	}
	// Again, by another Store: nothing changes.
	if err := postgres.New(pool, postgres.Options{Schema: "org_pre"}).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if again := dump(); again != once {
		t.Errorf("the second migration changed the schema:\nbefore %s\nafter  %s", once, again)
	}
	var applied int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM org_pre.emailsched_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 2 {
		t.Errorf("%d migrations recorded, want 2", applied)
	}
	// A run works on it, reading the date columns, and leaves history be.
	rep := runPlan(t, testToday, s, s, "on-pre")
	if rep.Contacts != 1 || rep.Rows.Inserted == 0 {
		t.Errorf("run on the migrated schema: %d contacts, rows %+v", rep.Contacts, rep.Rows)
	}
	c := readAll(t, s)[0]
	if c.Birthday.String() != "1950-05-20" || len(c.History) != 1 || c.History[0].Status != emailsched.StatusSent {
		t.Errorf("contact read back as %+v", c)
	}

	// Concurrent first migrations of a new schema.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = postgres.New(pool, postgres.Options{Schema: "org_race"}).Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'org_race'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 9 {
		t.Errorf("org_race has %d tables, want 9", tables)
	}
}
