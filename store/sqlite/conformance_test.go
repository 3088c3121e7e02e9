package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
	"github.com/emailsched/emailsched/store/storetest"
)

// TestConformance runs store/storetest on a database the adapter created
// from nothing (Create, then its migrations). The suite's fixture holds
// rows that neither unique index of existing databases admits (80
// post_window rows of one contact, ...), and this schema has none; the
// unique indexes are covered by the sink tests. Deleted contacts are
// written, then removed from contacts as an application does.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		ctx := context.Background()
		db, _ := openDB(t, "org.sqlite3")
		s := sqlite.New(db, sqlite.Options{BatchContacts: 7})
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		writeFixture(t, db, f)
		return s, s
	})
}

// writeFixture writes the suite's fixture into db's tables, then removes
// its deleted contacts from contacts, keeping their rows.
func writeFixture(t *testing.T, db *sql.DB, f storetest.Fixture) {
	t.Helper()
	all := f.AllContacts()
	seq := func(yield func(*emailsched.Contact) bool) {
		for i := range all {
			if !yield(&all[i]) {
				return
			}
		}
	}
	if err := sqlitefixture.Write(context.Background(), db, seq, f.Campaigns, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Deleted {
		if _, err := db.Exec("DELETE FROM contacts WHERE id = ?", c.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConformanceProduction runs store/storetest on the schema of a
// production organisation database, which keeps no opt-out flag and
// requires an address of its own for every contact (the suite's fixture
// then holds neither opt-outs nor shared addresses). The adapter's
// migrations add the campaign target lists. As in TestConformance, the
// unique index on (contact_id, email_type, event_year) is left out: the
// suite's rows do not admit it; the sink tests and the end-to-end test
// cover it.
func TestConformanceProduction(t *testing.T) {
	storetest.RunWithLimits(t, storetest.Limits{NoOptOut: true, PlainEmails: true},
		func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
			ctx := context.Background()
			db, _ := openDB(t, "org.sqlite3")
			if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Production); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("DROP INDEX idx_email_schedules_unique_event"); err != nil {
				t.Fatal(err)
			}
			s := sqlite.New(db, sqlite.Options{BatchContacts: 7})
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			writeFixture(t, db, f)
			return s, s
		})
}
