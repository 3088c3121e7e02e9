// Package sqlite is the reference storage adapter of emailsched for the
// SQLite organisation databases (org-NNN.sqlite3): a store.ContactSource,
// store.CampaignSource, store.LoadSource and store.ScheduleSink over the
// caller's *sql.DB, opened with github.com/mattn/go-sqlite3 (cgo stays in
// this package).
//
// # Getting started
//
//	db, err := sqlite.Open(ctx, "org-001.sqlite3") // WAL, busy timeout, synchronous=NORMAL
//	if err != nil { ... }
//	defer db.Close()
//	s := sqlite.New(db, sqlite.Options{})
//	if err := s.Migrate(ctx); err != nil { ... }
//	report, err := sch.Run(ctx, s, s) // a *scheduler.Scheduler
//
// # Migrations
//
// Migrate runs the embedded schema (schema/schema.sql) idempotently: it
// creates missing tables, adds missing columns with ALTER TABLE ADD COLUMN
// (after PRAGMA table_info) and creates one index on contact_id per
// per-contact table unless an index leading with contact_id already exists.
// It never drops, renames or rewrites anything, and never alters the
// application's contacts table. It works on databases that have only the
// old contacts/email_schedules shape and on those that also have the
// campaign, tracking and event tables.
//
// # Reading
//
// Contacts streams contacts in id order in one read transaction, merging
// one query per table (contacts, email_schedules, tracking_clicks,
// contact_events, contact_campaigns), each ordered by contact_id, as
// cursors: no query per contact, memory independent of the number of
// contacts, one reused Contact buffer. email_schedules is read on a second
// connection, on the same snapshot, by a goroutine of its own, so that a
// second core steps and decodes it. Dirty values never break the stream:
// see Contacts and ReadStats.
//
// # Writing
//
// Begin returns a Writer that applies each contact's store.Delta (delete,
// update, insert) in batches of whole contacts, one IMMEDIATE transaction
// per batch, under guards that never let it touch a row of the sending
// system. The unit of atomicity is the batch: after a crash at any moment
// every contact has its complete old or complete new plan, and the next run
// finishes the job. A full batch is written on a goroutine of its own while
// the run reads and plans the next. Each run leaves a row in
// scheduler_checkpoints (see Checkpoint); a completed run also stores the
// per-day volume of its plan there, which StoredLoad gives the next run's
// load balancing (store.LoadSource), so that it reads the database once.
// SQLITE_BUSY and SQLITE_LOCKED are retried with bounded
// exponential backoff. See Begin for the details, and Backup for the
// optional online backup before a run.
//
// The database should be in WAL mode (Open sets it) so that reading and
// writing a run overlap; in rollback-journal mode the reader's lock blocks
// the writer's commits.
package sqlite
