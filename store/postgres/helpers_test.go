package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/pgtest"
	"github.com/emailsched/emailsched/store/postgres"
)

func TestMain(m *testing.M) {
	if crashChildMain() {
		return
	}
	os.Exit(pgtest.Main(m))
}

// newPool returns a pool on a fresh database of the test server, tuned as
// postgres.NewPool tunes it, closed when the test ends.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.NewPool(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var schemas atomic.Int64

// newSchema returns a fresh schema name.
func newSchema() string { return fmt.Sprintf("org_%03d", schemas.Add(1)) }

// seq yields the contacts of a slice.
func seq(cs []emailsched.Contact) func(func(*emailsched.Contact) bool) {
	return func(yield func(*emailsched.Contact) bool) {
		for i := range cs {
			if !yield(&cs[i]) {
				return
			}
		}
	}
}

// loaded returns a migrated store over a fresh schema of pool holding
// contacts and camps.
func loaded(t testing.TB, pool *pgxpool.Pool, contacts []emailsched.Contact, camps emailsched.Campaigns, opts postgres.Options) *postgres.Store {
	t.Helper()
	if opts.Schema == "" {
		opts.Schema = newSchema()
	}
	if err := postgres.Load(context.Background(), pool, opts.Schema, seq(contacts), camps); err != nil {
		t.Fatal(err)
	}
	return postgres.New(pool, opts)
}

// readAll reads every contact, deep-copying each.
func readAll(t testing.TB, s *postgres.Store) []emailsched.Contact {
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
