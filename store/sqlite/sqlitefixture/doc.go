// Package sqlitefixture writes organisation databases for tests, benchmarks
// and demos: deterministic (a seed), fast (batched inserts in one
// transaction, indexes after the data) and as dirty as the databases in the
// field.
//
//	err := sqlitefixture.Create(ctx, "org-001.sqlite3", sqlitefixture.Options{
//		Gen: demodata.GenOptions{Seed: 1, Contacts: 100_000},
//	})
//
// # Shapes
//
// The default shape, Production, is the schema of a production
// organisation database (testdata/schema/org-db.schema.sql, embedded in
// this package; ProductionSchema returns it), executed verbatim: the same
// tables, columns, constraints, indexes and triggers, including an earlier
// scheduler's scheduler_checkpoints, and nothing added. The sqlite_master of
// a Production database equals, row for row and byte for byte, that of an
// empty database on which the schema file was executed. The file is left
// in journal mode DELETE, as production databases are (Options.WAL
// switches it to WAL). Full and Old are made-up shapes of earlier tests:
// Full adds do_not_communicate and target lists, Old lacks the engagement
// and campaign tables; both are left in WAL mode.
//
// # Data
//
// Contacts come from demodata.GenerateSeq (or any sequence, see Write) and
// are written with raw values that a careful reader must cope with but that
// read back to the same contacts: dates with a " 00:00:00" time part,
// missing values as NULL or as "", the raw text of unreadable dates, ZIP+4,
// lower-case and padded states, and legacy upper-case email types
// (BIRTHDAY, EFFECTIVE_DATE, AEP, POST_WINDOW, SCHEDULED_RATE_INCREASE) in
// history rows.
//
// # Production constraints
//
// Production's constraints change what some generated values become; all
// else is written as in Full:
//
//   - contacts.email is NOT NULL UNIQUE. An address that is empty (or
//     spaces only) is written as the placeholder "no-email-<id>" (no '@'),
//     an implausible one as itself followed by " #<id>" ("n/a" of contact
//     17 becomes "n/a #17"), a plausible one as it is; UniqueEmail is that
//     function. A contact without an address therefore reads back with an
//     invalid address (the scheduler counts it invalid_email, not
//     no_email), and an implausible address stays implausible. The
//     generator's plausible addresses contain the contact ID and never
//     repeat; two contacts of another sequence with the same plausible
//     address make Write fail.
//   - first_name and last_name are NOT NULL: a name that cannot be derived
//     (from the address, as in every shape) is "" instead of NULL.
//   - contacts has no do_not_communicate column: generated opt-outs
//     (Contact.DoNotCommunicate) are not stored, and every contact reads
//     back as not opted out.
//   - campaign_instances has no target_states and target_carriers:
//     instances' target lists are not stored, and every instance reads back
//     without restriction. Its UNIQUE(campaign_type, instance_name) and
//     contact_campaigns' UNIQUE(contact_id, campaign_instance_id,
//     trigger_date) hold for demodata's catalogue and targets.
//   - tracking_clicks has tracking_id NOT NULL (16 hex digits, from the
//     contact ID) and neither message_id nor url.
//   - the unique index on email_schedules(contact_id, email_type,
//     event_year) leaves out a row whose key an earlier row of the same
//     contact (history first, then stored) holds, as Options.Unique
//     UniqueEventYear does for the other shapes.
//
// Foreign keys are declared; the database is loaded with them off, as the
// production applications run, but the rows satisfy every one of them
// (PRAGMA foreign_key_check reports nothing) as long as the contacts'
// campaign targets name instances of the catalogue and the instances'
// types are in it, which demodata guarantees.
//
// A Production database also holds rows of tables the adapter does not
// read, the same whatever the seed but for the counts and IDs noted: the
// earlier scheduler's last four nightly runs in scheduler_checkpoints (the
// nights before demodata.DefaultToday, run IDs "run_YYYYMMDD_HHMMSS",
// SHA-256 checksums, the contact and row counts of the data, the third run
// 'failed' with an error_message, the others 'completed'); five leads with
// three contact_events of theirs (lead_id set, contact_id NULL); two
// batches of the sending system, one failed test batch and one completed
// batch of the first eight contacts (batch_contacts, batch_logs, and one
// email_send_tracking row per contact); two deleted_contacts whose IDs
// follow the last contact's (the contacts' AUTOINCREMENT sequence is raised
// past them); and two config_versions. (Write, called in chunks, writes
// them with its first call.) eligibility_answers,
// campaign_change_log, followup_processing_log, email_tracking and
// contacts_backup stay empty.
package sqlitefixture
