package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// streamWith reads every contact of db like Store.Contacts, with a second
// connection for email_schedules when feed is set, and reports whether the
// stream used one. beforeFeed runs just before the feed's transaction.
func streamWith(t *testing.T, db *sql.DB, feed bool, beforeFeed func()) ([]emailsched.Contact, ReadStats, bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []emailsched.Contact
	var st ReadStats
	fed := false
	err = conn.Raw(func(dc any) error {
		r := &reader{ctx: ctx, conn: dc.(rawConn), st: &st, beforeFeed: beforeFeed}
		if feed {
			r.db = db
		}
		defer r.close()
		if err := r.open(); err != nil {
			return err
		}
		fed = r.feed != nil
		return r.run(func(c *emailsched.Contact, err error) bool {
			got = append(got, c.Clone())
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st, fed
}

// createDB creates a database in WAL mode (the feed's) or in the default
// rollback-journal mode, closed at the end of the test.
func createDB(t testing.TB, path string, wal bool) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if wal {
		if err := UseWAL(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// dirtyDB is a database of n dirty contacts, in the fixture's schema or,
// when odd is set, in oddSchema (which allows NULL contact ids).
func dirtyDB(t *testing.T, seed uint64, n int, odd bool) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db := createDB(t, filepath.Join(t.TempDir(), "feed.sqlite3"), true)
	if odd {
		for _, q := range oddSchema {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	} else if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Full); err != nil {
		t.Fatal(err)
	}
	fillDirty(t, db, rand.New(rand.NewPCG(seed, 11)), n)
	return db
}

// TestFeedReadsWhatOneConnectionReads compares the stream with a second
// connection for email_schedules against the stream on one connection and
// against the reference reader, over dirty databases of several chunks,
// and over runs of orphans longer than a chunk (NULL contact ids sort
// first, text ones last).
func TestFeedReadsWhatOneConnectionReads(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		db := dirtyDB(t, seed, 360+int(seed)*40, seed >= 2)
		if seed >= 2 {
			for _, q := range []string{
				"INSERT INTO email_schedules (contact_id, email_type, status) SELECT NULL, 'birthday', 'sent' FROM email_schedules LIMIT 700",
				"INSERT INTO email_schedules (contact_id, email_type, status) SELECT 'x', 'aep', 'pre-scheduled' FROM email_schedules LIMIT 300",
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		one, oneStats, fed := streamWith(t, db, false, nil)
		if fed {
			t.Fatal("a stream without db used a feed")
		}
		two, twoStats, fed := streamWith(t, db, true, nil)
		if !fed {
			t.Fatal("the stream did not use its second connection")
		}
		if diff := cmp.Diff(one, two, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("seed %d: contacts (-one connection +two):\n%s", seed, diff)
		}
		if diff := cmp.Diff(oneStats, twoStats); diff != "" {
			t.Errorf("seed %d: ReadStats (-one connection +two):\n%s", seed, diff)
		}
		ref, refStats, err := refRead(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ref, two, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("seed %d: contacts (-reference +two connections):\n%s", seed, diff)
		}
		if diff := cmp.Diff(refStats, twoStats); diff != "" {
			t.Errorf("seed %d: ReadStats (-reference +two connections):\n%s", seed, diff)
		}
		if twoStats.Rows+twoStats.UnknownTypeRows < 2*chunkRows || (seed >= 2 && twoStats.OrphanRows < chunkRows+300) {
			t.Errorf("seed %d: too few rows to test chunks: %+v", seed, twoStats)
		}
		if n := db.Stats().InUse; n != 0 {
			t.Errorf("%d connections still in use", n)
		}
	}
}

// TestFeedSnapshotMoved commits a change between the two transactions: the
// stream must notice and read email_schedules on its own connection, from
// its own snapshot (without the change).
func TestFeedSnapshotMoved(t *testing.T) {
	ctx := context.Background()
	db := dirtyDB(t, 9, 120, false)
	before, beforeStats, _ := streamWith(t, db, false, nil)
	var commitErr error
	got, stats, fed := streamWith(t, db, true, func() {
		_, commitErr = db.ExecContext(ctx, "INSERT OR IGNORE INTO email_schedules (contact_id, email_type, status) VALUES (1, 'birthday', 'sent')")
		if commitErr == nil {
			_, commitErr = db.ExecContext(ctx, "UPDATE email_schedules SET scheduled_send_date = '2031-01-01'")
		}
	})
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	if fed {
		t.Error("the stream used a second connection whose snapshot is not its own")
	}
	if diff := cmp.Diff(before, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("contacts (-before the commit +read):\n%s", diff)
	}
	if diff := cmp.Diff(beforeStats, stats); diff != "" {
		t.Errorf("ReadStats (-before the commit +read):\n%s", diff)
	}
	// Without the commit in between, the feed serves again.
	if _, _, fed := streamWith(t, db, true, nil); !fed {
		t.Error("no feed on a quiet database")
	}
	if n := db.Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use", n)
	}
}

// TestFeedOnlyWhereItCanServe: no second connection for a database that is
// not a file or a pool that could not lend one safely.
func TestFeedOnlyWhereItCanServe(t *testing.T) {
	ctx := context.Background()
	mem, err := sql.Open("sqlite3", "file:feedmem?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if f := newFeed(ctx, mem); f != nil {
		f.stop()
		t.Error("a feed over an in-memory database")
	}
	file := dirtyDB(t, 1, 20, false)
	for _, tc := range []struct {
		limit int
		want  bool
	}{{0, true}, {1, false}, {minPoolForFeed - 1, false}, {minPoolForFeed, true}} {
		file.SetMaxOpenConns(tc.limit)
		f := newFeed(ctx, file)
		if (f != nil) != tc.want {
			t.Errorf("pool of %d: feed %v, want %v", tc.limit, f != nil, tc.want)
		}
		if f != nil {
			f.stop() // never started: releases the connection
		}
		if n := file.Stats().InUse; n != 0 {
			t.Errorf("pool of %d: %d connections still in use", tc.limit, n)
		}
	}
	file.SetMaxOpenConns(0)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if f := newFeed(cancelled, file); f != nil {
		f.stop()
		t.Error("a feed on a cancelled context")
	}
}

// TestFeedEndsWithTheStream: a consumer that stops early, or a cancelled
// context, ends the feed's goroutine and gives its connection back.
func TestFeedEndsWithTheStream(t *testing.T) {
	db := dirtyDB(t, 3, 400, false)
	s := New(db, Options{})
	n := 0
	for _, err := range s.Contacts(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	if n := db.Stats().InUse; n != 0 {
		t.Errorf("after an early stop: %d connections in use", n)
	}
	// The feed's connection went back to the pool with its page cache.
	var conns []*sql.Conn
	for range db.Stats().OpenConnections {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		var size int64
		if err := conn.QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&size); err != nil || size != -65536 {
			t.Errorf("a pool connection's cache_size is %d (%v), want -65536 (Open's)", size, err)
		}
	}
	if len(conns) < 2 {
		t.Errorf("%d connections in the pool after a stream, want the stream's two", len(conns))
	}
	for _, c := range conns {
		c.Close()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n = 0
	for _, err := range s.Contacts(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 5 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("after cancelling: %v, want context.Canceled", last)
	}
	if n := db.Stats().InUse; n != 0 {
		t.Errorf("after cancelling: %d connections in use", n)
	}
}
