package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// Open a database, migrate it and stream its contacts.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "org-001.sqlite3")
	// A generated organisation database in the old shape.
	if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{
		Gen: demodata.GenOptions{Seed: 1, Contacts: 1000}, Shape: sqlitefixture.Old,
	}); err != nil {
		log.Fatal(err)
	}

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	s := sqlite.New(db, sqlite.Options{})
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, err := range s.Contacts(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n, "contacts")
	// Output: 1000 contacts
}
