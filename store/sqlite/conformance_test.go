package sqlite_test

import (
	"testing"

	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
	"github.com/emailsched/emailsched/store/storetest"
)

// TestConformance runs store/storetest on the full shape. The suite's
// fixture holds rows that neither unique index of existing databases
// admits (80 post_window rows of one contact, ...), so it runs without
// one; the unique indexes are covered by the sink tests. Deleted contacts
// are written, then removed from contacts as an application does.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		s, db := newStore(t, sqlitefixture.Full, sqlitefixture.NoUnique, f.AllContacts(), f.Campaigns, sqlite.Options{BatchContacts: 7})
		for _, c := range f.Deleted {
			if _, err := db.Exec("DELETE FROM contacts WHERE id = ?", c.ID); err != nil {
				t.Fatal(err)
			}
		}
		return s, s
	})
}
