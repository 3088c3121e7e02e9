package sqlite_test

import (
	"testing"

	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
	"github.com/emailsched/emailsched/store/storetest"
)

// TestConformance runs store/storetest on the full shape. The suite's
// fixture holds rows that neither unique index of SPEC §9 admits (80
// post_window rows of one contact, ...), so it runs without one; the
// unique indexes are covered by the sink tests.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		s, _ := newStore(t, sqlitefixture.Full, sqlitefixture.NoUnique, f.Contacts, f.Campaigns, sqlite.Options{BatchContacts: 7})
		return s, s
	})
}
