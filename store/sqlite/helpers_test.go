package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// openDB opens a database file in t's temporary directory.
func openDB(t testing.TB, name string) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := sqlite.Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// newStore returns a migrated Store over a database of the given shape
// holding contacts.
func newStore(t testing.TB, shape sqlitefixture.Shape, unique sqlitefixture.Unique, contacts []emailsched.Contact, camps emailsched.Campaigns, opts sqlite.Options) (*sqlite.Store, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	db, _ := openDB(t, "org.sqlite3")
	if err := sqlitefixture.CreateSchema(ctx, db, shape); err != nil {
		t.Fatal(err)
	}
	seq := func(yield func(*emailsched.Contact) bool) {
		for i := range contacts {
			if !yield(&contacts[i]) {
				return
			}
		}
	}
	if err := sqlitefixture.Write(ctx, db, seq, camps, unique); err != nil {
		t.Fatal(err)
	}
	if err := sqlitefixture.CreateIndexes(ctx, db, sqlitefixture.Options{Shape: shape, Unique: unique}); err != nil {
		t.Fatal(err)
	}
	s := sqlite.New(db, opts)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, db
}

// readAll reads every contact, deep-copying each.
func readAll(t testing.TB, s *sqlite.Store) []emailsched.Contact {
	t.Helper()
	var out []emailsched.Contact
	for c, err := range s.Contacts(context.Background()) {
		if err != nil {
			t.Fatalf("Contacts: %v", err)
		}
		out = append(out, c.Clone())
	}
	return out
}

var _ = demodata.Generate
