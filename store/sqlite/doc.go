// Package sqlite is the reference storage adapter of emailsched for the
// SQLite organisation databases (org-NNN.sqlite3): a store.ContactSource,
// store.CampaignSource, store.LoadSource and store.ScheduleSink over the
// caller's *sql.DB, opened with github.com/mattn/go-sqlite3 (cgo stays in
// this package).
//
// # Getting started
//
//	db, err := sqlite.Open(ctx, "org-001.sqlite3") // an existing organisation database
//	if err != nil { ... }
//	defer db.Close()
//	s := sqlite.New(db, sqlite.Options{Atomic: true})
//	report, err := sch.Run(ctx, s, s) // a *scheduler.Scheduler; the first run migrates
//
// # Opening
//
// Open refuses, changing nothing, a path that does not exist (creating a
// database is an explicit act: Create), a file that is not an SQLite
// database (an empty file, a pipe, anything without SQLite's header) and a
// database without a contacts table. OpenReadOnly opens read-only (SQLite's
// mode=ro and query_only): dry runs, explanations, status and previews use
// it, so that they change nothing, not even the journal mode, and work on a
// database this scheduler never wrote to (missing tables and columns read
// as empty).
//
// The journal mode is the database owner's choice: switching a file to WAL
// is a persistent change every program using it sees, so the adapter does
// it only when asked (UseWAL). It works in either mode:
//   - In WAL mode readers never block writers: a run reads in one read
//     transaction while the sending system writes, and a run that changes
//     many rows writes them while it reads.
//   - In rollback-journal mode (production databases use delete) any open
//     read transaction blocks every other connection's commits, so a run
//     reads its contacts in chunks of a few thousand, each in a short read
//     transaction, and writes only once it has read everything.
//
// # Migrations
//
// Migrate (which the first Begin runs) creates only what is missing: tables,
// columns (ALTER TABLE ADD COLUMN) and an index on contact_id for each
// per-contact table unless an index leading with contact_id exists. It
// never drops, renames or rewrites anything, never alters the application's
// contacts table, and never gives an added column a default that would
// make another system's rows look like this scheduler's. Before it changes
// anything it refuses a schema it cannot write safely (ErrForeignSchema):
// an email_schedules table without a status column, a NOT NULL column it
// does not know how to fill. The scheduler_checkpoints table that an
// earlier scheduler left (with NOT NULL scheduler_run_id and
// contacts_checksum) gets this scheduler's columns, and both layouts are
// filled.
//
// # Reading
//
// Contacts streams contacts in id order, merging one query per table
// (contacts, email_schedules, tracking_clicks, contact_events,
// contact_campaigns), each ordered by contact_id, as cursors: no query per
// contact, memory independent of the number of contacts, one reused
// Contact buffer. In WAL mode email_schedules is read on a second
// connection, on the same snapshot, by a goroutine of its own. Dirty values
// never break the stream: see Contacts and ReadStats. The planned rows of
// contacts that no longer exist are yielded as deleted contacts, so that a
// run deletes them (their history stays). A contacts row whose id is not an
// integer, or repeats another's, is left out and reported as an invalid
// contact.
//
// # Writing, beside the sending system
//
// Begin takes the run lock (two runs of one database never overlap; a lock
// a crashed run left behind does not block) and returns a Writer that
// applies each contact's store.Delta under guards that never let it touch a
// row of the sending system. The sending system keeps writing while a run
// reads and plans; the run writes in short transactions of whole contacts
// (about 200 ms each at most, with pauses between them), while it reads in
// WAL mode, at the end in rollback-journal mode. A row the sending system
// takes over during the run is left alone and counted (RowCounts.Taken). A
// new row that a unique index of the database refuses (one of its history
// rows holds the key) is not inserted and is counted
// (RowCounts.Conflicting); any other refusal (NOT NULL, CHECK, a trigger)
// fails the run. An
// atomic run (Options.Atomic) writes everything in one transaction, and
// then holds the write lock for as long as that takes: the writer reports
// the longest hold (store.WriteReport), and the scheduler's summary prints
// it. A run in one transaction whose changes are a large share of
// email_schedules (a first run) writes in bulk: it drops the table's
// secondary indexes inside its transaction and creates them again, exactly
// as they were, before the commit, several times faster than keeping them
// up to date row by row (Options.BulkWrites opts a run that is not atomic
// in). See Begin.
//
// A run with Options.Atomic is one transaction; otherwise its changes are
// committed in batches of whole contacts. After a crash at any moment every
// contact has its complete old or complete new plan, history is untouched,
// and the next run finishes the job: it plans the contacts the interrupted
// run did not reach, balancing them against the volume now stored (which
// holds the rewritten contacts on their balanced days, so a few emails can
// land on other days than an uninterrupted run would have chosen), and
// leaves a plan that a further run on the day does not change. Each run
// leaves a row in scheduler_checkpoints (see Checkpoint); a completed run
// also stores the per-day volume of its plan there, which StoredLoad gives
// the next run's load balancing (store.LoadSource), so that it reads the
// database once.
// SQLITE_BUSY and SQLITE_LOCKED are retried with bounded exponential
// backoff, and what a run waits for is logged every few seconds
// (Options.Logger). Backup takes an online backup, before anything
// changes when Begin takes it.
package sqlite
