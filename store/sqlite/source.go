package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// ReadStats counts what a stream of contacts read and what it had to leave
// out. Nothing in it stops a stream: dirty rows are skipped and counted.
type ReadStats struct {
	Contacts int
	// Rows counts the email_schedules rows given to contacts (history
	// and stored plan).
	Rows int
	// UnknownTypeRows counts email_schedules rows skipped because their
	// email_type is not one ParseEmailType knows.
	UnknownTypeRows int
	// BadDateRows counts rows kept with a zero Date because their
	// scheduled_send_date was unreadable.
	BadDateRows int
	// OrphanRows counts rows of per-contact tables whose contact_id names
	// no contact (or is not an integer); they are skipped.
	OrphanRows int
	// Clicks and HealthAnswers count the engagement read.
	Clicks, HealthAnswers int
	// Targets counts campaign targets read; BadTargets those skipped
	// because the instance id or the trigger date was unreadable.
	Targets, BadTargets int
	// FieldIssues counts the contacts' FieldIssues.
	FieldIssues int
	// SkippedCampaignTypes and SkippedInstances count catalogue rows
	// Campaigns left out (unusable name, unreadable dates or targets).
	SkippedCampaignTypes, SkippedInstances int
	// InvalidIDs counts contacts rows left out because their id is not an
	// integer (NULL, a real, a text that is not one); DuplicateIDs those
	// left out because an earlier row (by rowid) has the same id. Both are
	// possible only when contacts.id is not the table's INTEGER PRIMARY
	// KEY, and both are reported as invalid contacts (store.LeftOutReporter).
	InvalidIDs, DuplicateIDs int
	// DeletedContacts counts contacts that no longer exist but had
	// planned rows, which the stream yielded with Deleted set.
	DeletedContacts int
	// Chunks is the number of read transactions the stream used: 1 in WAL
	// mode, one per readChunk contacts in rollback-journal mode.
	Chunks int
}

// LeftOut implements store.LeftOutReporter: the contacts rows the last
// stream that ended could not yield, by reason.
func (s *Store) LeftOut() map[string]int {
	st := s.ReadStats()
	out := map[string]int{}
	if st.InvalidIDs > 0 {
		out[store.LeftOutInvalidID] = st.InvalidIDs
	}
	if st.DuplicateIDs > 0 {
		out[store.LeftOutDuplicateID] = st.DuplicateIDs
	}
	return out
}

// ReadStats returns the counts of the last stream that ended (and of the
// last Campaigns call).
func (s *Store) ReadStats() ReadStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// The columns the stream reads, by table, in the order the conversions
// take them; the first is the contact id. Date and time columns are read
// through CAST(... AS TEXT) so that the driver never converts them to
// time.Time by their declared type (which loses unreadable values).
var (
	contactColumns = []string{"id", "email", "zip_code", "state", "CAST(birth_date AS TEXT)",
		"CAST(effective_date AS TEXT)", "current_carrier", "do_not_communicate"}
	scheduleColumns = []string{"contact_id", "id", "email_type", "CAST(scheduled_send_date AS TEXT)", "status",
		"skip_reason", "priority", "campaign_instance_id", "email_template", "sms_template", "scheduler_run_id",
		"event_year", "event_month", "event_day", "catchup_note", "metadata", "CAST(actual_send_datetime AS TEXT)"}
	clickColumns  = []string{"contact_id", "CAST(clicked_at AS TEXT)"}
	eventColumns  = []string{"contact_id", "CAST(created_at AS TEXT)", "metadata"}
	targetColumns = []string{"contact_id", "campaign_instance_id", "CAST(trigger_date AS TEXT)", "status"}
)

// Indexes in contactColumns and scheduleColumns.
const (
	colState, colCarrier                                              = 3, 6
	colType, colStatus, colSkip, colTemplate, colSMS, colRun, colNote = 2, 4, 5, 8, 9, 10, 14
)

// Contacts implements store.ContactSource.
//
// The stream reads with one query per table, each ordered by contact id:
// contacts, email_schedules, tracking_clicks, contact_events
// (eligibility_answered only) and contact_campaigns. It merges them like a
// merge join, so memory does not grow with the number of contacts. Tables
// and columns that do not exist read as empty (a database that was never
// migrated reads as it is). The yielded *Contact is one reused buffer.
//
// In WAL mode the stream is one read transaction, which never blocks a
// writer, and email_schedules (most of the rows) is read on a second
// connection from the pool, by a goroutine that decodes its rows while the
// stream's goroutine reads the other tables and the caller plans: on two
// cores the read takes about half as long. The second connection's read
// transaction is checked to see the same snapshot as the first (no commit
// between them, by PRAGMA data_version); when a commit came between, when
// the database is not a file, or when the pool is limited to fewer than
// four open connections, everything is read on one connection.
//
// In rollback-journal mode an open read transaction blocks every other
// connection's commits (the sending system's, the run's own), so the
// stream reads readChunk contacts per read transaction, with their rows:
// each contact is read whole from one snapshot, and the sending system
// waits at most one chunk (tens of milliseconds). This needs contacts.id to
// be the table's INTEGER PRIMARY KEY; otherwise the stream is one read
// transaction, which the log says.
//
// Email rows whose status is exactly "pre-scheduled" or "skipped" form the
// contact's Stored plan; every other row is History (statuses are
// normalised by emailsched.ParseStatus). Rows with an unknown email_type are
// skipped, unreadable dates become zero dates, and unreadable contact dates
// become zero dates with a FieldIssue; ReadStats counts all of it. An
// event_year without a valid month and day reads as January 1 of that year,
// so that "already sent for this event year" still holds.
//
// Contacts that no longer exist but still have planned rows are yielded
// with Deleted set (their ID and Stored rows), in ID order, so that a run
// deletes those rows. A contacts row whose id is not an integer, or
// repeats an earlier row's id, cannot be placed in the order: it is left
// out and counted (ReadStats, LeftOut).
func (s *Store) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		var st ReadStats
		defer func() {
			s.mu.Lock()
			camp := s.stats
			st.SkippedCampaignTypes, st.SkippedInstances = camp.SkippedCampaignTypes, camp.SkippedInstances
			s.stats = st
			s.mu.Unlock()
		}()
		if err := s.stream(ctx, &st, yield); err != nil {
			yield(nil, err)
		}
	}
}

// Contact implements store.ContactLookup: contact id, with everything
// Contacts gives it, read on its own through the contact_id indexes in one
// short read transaction, however large the database. The planned rows of
// a contact that no longer exists are not a contact: it is not found. A
// contacts table whose id is not its INTEGER PRIMARY KEY cannot be read by
// id: the contacts are then read in order up to it.
func (s *Store) Contact(ctx context.Context, id int64) (*emailsched.Contact, error) {
	var found *emailsched.Contact
	take := func(c *emailsched.Contact, err error) bool {
		if err != nil || c.ID > id {
			return false
		}
		if c.ID == id && !c.Deleted {
			cp := c.Clone()
			found = &cp
			return false
		}
		return true
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: contact %d: %w", id, err)
	}
	defer conn.Close()
	keyed := true
	err = conn.Raw(func(dc any) error {
		rc, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("the driver connection %T cannot run queries", dc)
		}
		r := &reader{ctx: ctx, conn: rc, st: &ReadStats{}}
		defer r.close()
		return s.retry(ctx, "contact", func() error {
			if err := r.begin(); err != nil {
				return err
			}
			if keyed = r.keyed; !keyed || id == math.MinInt64 {
				keyed = false
				return nil
			}
			lo := id - 1
			if err := r.openQueries(bounds{lo: &lo, hi: &id}); err != nil {
				r.close()
				return err
			}
			return r.run(take)
		})
	})
	if err == nil && !keyed {
		for c, err := range s.Contacts(ctx) {
			if !take(c, err) {
				if err != nil {
					return nil, err
				}
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: contact %d: %w", id, err)
	}
	if found == nil {
		return nil, fmt.Errorf("sqlite: contact %d: %w", id, store.ErrNotFound)
	}
	return found, nil
}

// readChunk is the number of contacts a read transaction of a stream in
// rollback-journal mode carries: with their rows and their planning, a few
// tens of milliseconds, which is how long the sending system may wait.
const readChunk = 8192

// rawConn is what the stream needs of the driver's connection (the
// mattn/go-sqlite3 connection has both).
type rawConn interface {
	driver.ExecerContext
	driver.QueryerContext
}

// stream reads at the driver level, inside conn.Raw: database/sql's Rows
// would add locking, a Scan and a conversion per row to values the driver
// has already made, about a tenth of the read.
func (s *Store) stream(ctx context.Context, st *ReadStats, yield func(*emailsched.Contact, error) bool) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: contacts: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		rc, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("sqlite: contacts: the driver connection %T cannot run queries", dc)
		}
		r := &reader{ctx: ctx, conn: rc, db: s.db, st: st, chunk: s.chunk}
		defer r.close()
		if err := s.retry(ctx, "contacts", r.begin); err != nil {
			return err
		}
		if !r.chunked {
			if err := s.retry(ctx, "contacts", r.openAll); err != nil {
				return err
			}
			if err := r.run(yield); err != nil {
				return fmt.Errorf("sqlite: contacts: %w", err)
			}
			return nil
		}
		if !r.keyed {
			s.opts.Logger.Warn("the contacts table has no INTEGER PRIMARY KEY id: reading it in one read transaction, " +
				"which blocks other connections' commits until it ends (rollback-journal mode)")
		}
		r.close() // the transaction that learnt the schema
		var lo *int64
		for {
			var last bool
			err := s.retry(ctx, "contacts", func() error {
				var err error
				last, err = r.openChunk(lo)
				return err
			})
			if err != nil {
				return err
			}
			if err := r.run(yield); err != nil {
				return fmt.Errorf("sqlite: contacts: %w", err)
			}
			if r.stopped || last {
				return nil
			}
			r.close()
			hi := r.hi
			lo = &hi
		}
	})
}

// reader is one stream: what it learnt of the schema, its queries (of the
// whole tables, or of one chunk of contact ids), and what it knows of the
// values.
type reader struct {
	ctx  context.Context
	conn rawConn
	// db, when set, lends the stream a second connection, on which a
	// goroutine reads email_schedules (see feed); nil reads everything on
	// conn.
	db      *sql.DB
	st      *ReadStats
	main    driver.Rows // contacts
	cursors []cursor    // the per-contact tables
	emails  cursor      // the email_schedules cursor among them, if any
	feed    *feed       // email_schedules on the second connection, if any
	// beforeFeed, when set (by tests), runs just before the feed's
	// transaction begins.
	beforeFeed func()

	// What begin learnt: the contacts query's columns (the first is the
	// contact id, or the expression that makes one), whether contacts.id
	// is the rowid (keyed), and whether the stream reads in chunks.
	contactCols     []string
	keyed, chunked  bool
	children        []child
	chunk           int   // contacts per chunk (readChunk; tests make it smaller)
	hi              int64 // the last contact id of the current chunk
	inTx            bool
	lastID          int64 // the last contact yielded, for the order
	yielded         bool
	stopped         bool // the caller broke out of the loop
	ghost           emailsched.Contact
	state, carrier  vocab // vocabularies of the columns read through one
	answers         vocab // contact_events.metadata
	emailDecoder    decoder
	medicalOf       []bool // parsed answers, by code
	contactVocabs   map[int]*vocab
	chunkedOverride *bool // tests: force chunked or not
}

// cursor walks one query ordered by contact id.
type cursor interface {
	// next moves to the next row with an integer contact id, counting the
	// others in orphans.
	next(orphans *int)
	// current returns the contact id of the row it is on; ok is false
	// after the last row.
	current() (key int64, ok bool)
	// add gives the current row to c.
	add(c *emailsched.Contact)
	// err is the error that ended the rows early, if any.
	err() error
	close()
}

// sqlCursor is a cursor over a query of the stream's connection; the
// first column of its rows is the contact id.
type sqlCursor struct {
	rows  driver.Rows
	vals  []driver.Value
	key   int64
	ok    bool
	fail  error
	addTo func(c *emailsched.Contact, v []driver.Value)
}

func (c *sqlCursor) next(orphans *int) {
	for {
		if err := c.rows.Next(c.vals); err != nil {
			c.ok = false
			if err != io.EOF {
				c.fail = err
			}
			return
		}
		if id, ok := c.vals[0].(int64); ok {
			c.key, c.ok = id, true
			return
		}
		*orphans++
	}
}

func (c *sqlCursor) current() (int64, bool)     { return c.key, c.ok }
func (c *sqlCursor) add(ct *emailsched.Contact) { c.addTo(ct, c.vals) }
func (c *sqlCursor) err() error                 { return c.fail }
func (c *sqlCursor) close()                     { c.rows.Close() }

// closeQueries closes the queries (and stops the feed), even after ctx
// ended.
func (r *reader) closeQueries() {
	if r.feed != nil {
		r.feed.stop()
		r.feed = nil
	}
	for _, c := range r.cursors {
		c.close()
	}
	r.cursors, r.emails = nil, nil
	if r.main != nil {
		r.main.Close()
		r.main = nil
	}
}

// close closes the queries and ends the read transaction.
func (r *reader) close() {
	r.closeQueries()
	_, _ = r.conn.ExecContext(context.Background(), "ROLLBACK", nil)
	r.inTx = false
}

// A child is a per-contact table the stream merges in.
type child struct {
	table, where string
	cols         []string
	vocabs       map[int]*vocab
	add          func(*emailsched.Contact, []driver.Value)
	declared     map[string]string // the table's columns; none when it does not exist
	// textKey: contact_id has TEXT affinity, so every value is a text
	// (never a contact's id), and comparing it with an integer bound would
	// compare texts: a chunked stream reads the table once, in its first
	// chunk, where every row is counted as an orphan.
	textKey bool
}

// contactKey makes the contact id of a contacts row whose id column is not
// the rowid: an integer, or a text that is exactly one; anything else is
// NULL, which the stream counts as an invalid id.
const contactKey = "CASE WHEN typeof(id) = 'integer' THEN id " +
	"WHEN typeof(id) = 'text' AND CAST(CAST(id AS INTEGER) AS TEXT) = id THEN CAST(id AS INTEGER) END"

// open begins the read transaction, learns the schema and opens the
// queries of whole tables: a stream in one transaction.
func (r *reader) open() error {
	if err := r.begin(); err != nil {
		return err
	}
	return r.openAll()
}

// begin begins a read transaction and learns what the stream reads: the
// tables and columns that exist (missing ones read as NULL), the
// vocabularies, whether contacts.id is the rowid, and whether the database
// is in WAL mode (else the stream reads in chunks). It leaves the
// transaction open.
func (r *reader) begin() (err error) {
	r.close()
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if _, err := r.conn.ExecContext(r.ctx, "BEGIN", nil); err != nil {
		return err
	}
	r.inTx = true
	cols, err := r.columns("contacts")
	if err != nil {
		return err
	}
	if r.keyed, err = r.rowidKey(cols); err != nil {
		return err
	}
	r.contactCols = present(cols, contactColumns)
	if !r.keyed {
		r.contactCols[0] = contactKey
	}
	r.contactVocabs = map[int]*vocab{colState: &r.state, colCarrier: &r.carrier}
	r.sample("contacts", cols, r.contactCols, r.contactVocabs)

	e := &r.emailDecoder
	r.children = []child{
		{table: "email_schedules", cols: scheduleColumns, add: r.addEmail, vocabs: map[int]*vocab{colType: &e.types,
			colStatus: &e.statuses, colSkip: &e.skips, colTemplate: &e.templates, colSMS: &e.sms, colRun: &e.runs,
			colNote: &e.notes}},
		{table: "tracking_clicks", cols: clickColumns, add: r.addClick},
		{table: "contact_events", where: "event_type = 'eligibility_answered'", cols: eventColumns,
			vocabs: map[int]*vocab{2: &r.answers}, add: r.addAnswer},
		{table: "contact_campaigns", cols: targetColumns, add: r.addTarget},
	}
	for i := range r.children {
		ch := &r.children[i]
		if ch.declared, err = r.columns(ch.table); err != nil {
			return err
		}
		if len(ch.declared) > 0 {
			ch.cols = present(ch.declared, ch.cols)
			ch.textKey = textAffinity(ch.declared["contact_id"])
			if _, ok := ch.declared["event_type"]; ch.table == "contact_events" && !ok {
				ch.declared = nil // no event types: no answers
				continue
			}
			r.sample(ch.table, ch.declared, ch.cols, ch.vocabs)
		}
	}
	// What the rows would parse over and over, parsed once.
	e.learn()
	r.medicalOf = make([]bool, len(r.answers.values))
	for i, v := range r.answers.values {
		r.medicalOf[i] = medicalConditions(v)
	}
	var mode string
	if err := one(r.ctx, r.conn, "PRAGMA journal_mode", &mode); err != nil {
		return err
	}
	r.chunked = !strings.EqualFold(mode, "wal") && r.keyed
	if r.chunkedOverride != nil {
		r.chunked = *r.chunkedOverride && r.keyed
	}
	if r.chunk == 0 {
		r.chunk = readChunk
	}
	return nil
}

// present returns cols with each expression whose column the table lacks
// replaced by NULL.
func present(declared map[string]string, cols []string) []string {
	out := slices.Clone(cols)
	for i, c := range out {
		if _, ok := declared[columnName(c)]; !ok {
			out[i] = "NULL"
		}
	}
	return out
}

// rowidKey reports whether contacts.id is the table's rowid (its INTEGER
// PRIMARY KEY): integers, unique, in the table's own order.
func (r *reader) rowidKey(cols map[string]string) (bool, error) {
	if !strings.EqualFold(cols["id"], "INTEGER") {
		return false, nil
	}
	rows, err := r.conn.QueryContext(r.ctx, `SELECT (SELECT count(*) FROM pragma_table_info('contacts') WHERE pk > 0),
		(SELECT pk FROM pragma_table_info('contacts') WHERE lower(name) = 'id'),
		(SELECT sql FROM sqlite_master WHERE type = 'table' AND lower(name) = 'contacts')`, nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	v := make([]driver.Value, 3)
	if err := rows.Next(v); err != nil {
		return false, err
	}
	pks, _ := integer(v[0])
	pk, _ := integer(v[1])
	withoutRowid := strings.Contains(strings.ToUpper(text(v[2])), "WITHOUT ROWID")
	return pks == 1 && pk == 1 && !withoutRowid, nil
}

// bounds select the contact ids of a chunk: (lo, hi], with lo nil for the
// first chunk (which also takes the rows without an id) and hi nil for the
// last (which also takes the rows whose id is not an integer, sorted after
// every integer).
type bounds struct{ lo, hi *int64 }

// clause returns the WHERE condition of bounds on column key, binding its
// arguments in q.
func (b bounds) clause(q *query, key string) string {
	switch {
	case b.lo == nil && b.hi == nil:
		return ""
	case b.lo == nil:
		return "(" + key + " IS NULL OR " + key + " <= " + q.bind(*b.hi) + ")"
	case b.hi == nil:
		return key + " > " + q.bind(*b.lo)
	}
	return key + " > " + q.bind(*b.lo) + " AND " + key + " <= " + q.bind(*b.hi)
}

// openAll opens the queries of whole tables in the transaction begin left
// open.
func (r *reader) openAll() error {
	if !r.inTx {
		if _, err := r.conn.ExecContext(r.ctx, "BEGIN", nil); err != nil {
			return err
		}
		r.inTx = true
	}
	if err := r.openQueries(bounds{}); err != nil {
		r.close() // a retry begins afresh
		return err
	}
	r.st.Chunks = 1
	return nil
}

// openChunk begins a read transaction and opens the queries of the next
// chunk: the readChunk contacts after lo (nil: from the first). It reports
// whether this is the last chunk.
func (r *reader) openChunk(lo *int64) (last bool, err error) {
	r.close()
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if _, err := r.conn.ExecContext(r.ctx, "BEGIN", nil); err != nil {
		return false, err
	}
	r.inTx = true
	var q query
	text := "SELECT id FROM contacts"
	if lo != nil {
		text += " WHERE id > " + q.bind(*lo)
	}
	text += " ORDER BY id LIMIT 1 OFFSET " + strconv.Itoa(r.chunk-1)
	rows, err := r.conn.QueryContext(r.ctx, text, q.args)
	if err != nil {
		return false, fmt.Errorf("contacts: %w", err)
	}
	v := make([]driver.Value, 1)
	err = rows.Next(v)
	rows.Close()
	b := bounds{lo: lo}
	switch {
	case err == io.EOF:
		last = true
	case err != nil:
		return false, fmt.Errorf("contacts: %w", err)
	default:
		hi, _ := integer(v[0])
		r.hi, b.hi = hi, &hi
	}
	r.st.Chunks++
	return last, r.openQueries(b)
}

// openQueries opens the cursors of the per-contact tables and the contacts
// query, over b, in the open transaction. The feed serves only whole
// tables: a chunk is read on the stream's connection.
func (r *reader) openQueries(b bounds) error {
	// The second connection's snapshot must be this one's: the feed notes
	// the database's version before this transaction reads anything and
	// checks it once its own has begun, after the queries below.
	var f *feed
	if r.db != nil && b.lo == nil && b.hi == nil {
		f = newFeed(r.ctx, r.db)
	}
	defer func() {
		if f != nil && r.feed != f {
			f.stop()
		}
	}()
	for _, ch := range r.children {
		if len(ch.declared) == 0 {
			continue
		}
		cb := b
		if ch.textKey && (b.lo != nil || b.hi != nil) {
			if b.lo != nil {
				continue // read in the first chunk
			}
			cb = bounds{}
		}
		var q query
		text := q.build(ch.table, ch.cols, ch.where, "contact_id", ch.vocabs, cb)
		if f != nil && ch.table == "email_schedules" {
			if r.beforeFeed != nil {
				r.beforeFeed()
			}
			// A clone of the decoder: its memo is the goroutine's own.
			if cur := f.start(text, q.args, r.emailDecoder.clone(), r.st); cur != nil {
				r.feed = f
				r.cursors = append(r.cursors, cur)
				r.emails = cur
				continue
			}
			f = nil // it stopped itself: read the table here
		}
		rows, err := r.conn.QueryContext(r.ctx, text, q.args)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.table, err)
		}
		cur := &sqlCursor{rows: rows, vals: make([]driver.Value, len(ch.cols)), addTo: ch.add}
		r.cursors = append(r.cursors, cur)
		if ch.table == "email_schedules" {
			r.emails = cur
		}
	}
	var q query
	order := "id"
	if !r.keyed {
		order = "1" // the id's key; ties by rowid, when the table has one
		if r.hasRowid() {
			order = "1, rowid"
		}
	}
	main := q.build("contacts", r.contactCols, "", order, r.contactVocabs, b)
	var err error
	if r.main, err = r.conn.QueryContext(r.ctx, main, q.args); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	return nil
}

// hasRowid reports whether the contacts table has a rowid to order ties.
func (r *reader) hasRowid() bool {
	rows, err := r.conn.QueryContext(r.ctx, "SELECT rowid FROM contacts LIMIT 0", nil)
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// columns returns the declared types of a table's columns by lower-case
// name; empty when the table does not exist.
func (r *reader) columns(table string) (map[string]string, error) {
	rows, err := r.conn.QueryContext(r.ctx, "SELECT name, type FROM pragma_table_info(?)", []driver.NamedValue{{Ordinal: 1, Value: table}})
	if err != nil {
		return nil, fmt.Errorf("table_info(%s): %w", table, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	v := make([]driver.Value, 2)
	for {
		if err := rows.Next(v); err == io.EOF {
			return cols, nil
		} else if err != nil {
			return nil, fmt.Errorf("table_info(%s): %w", table, err)
		}
		cols[strings.ToLower(text(v[0]))] = text(v[1])
	}
}

// run merges the queries into contacts and yields them: those of the
// deleted contacts whose planned rows remain too. It sets r.stopped when
// the caller breaks out of the loop.
func (r *reader) run(yield func(*emailsched.Contact, error) bool) error {
	st := r.st
	for _, c := range r.cursors {
		c.next(&st.OrphanRows)
	}
	var c emailsched.Contact
	vals := make([]driver.Value, len(contactColumns))
	for {
		if err := r.main.Next(vals); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		id, ok := vals[0].(int64)
		if !ok {
			st.InvalidIDs++
			continue
		}
		if r.yielded && id <= r.lastID {
			st.DuplicateIDs++
			continue
		}
		c.Reset()
		c.ID = id
		c.Email = text(vals[1])
		c.ZIP = zip(vals[2])
		c.State = r.state.text(vals[colState])
		c.Birthday = contactDate(&c, emailsched.FieldBirthday, vals[4])
		c.EffectiveDate = contactDate(&c, emailsched.FieldEffectiveDate, vals[5])
		c.Carrier = r.carrier.text(vals[colCarrier])
		c.DoNotCommunicate = flag(vals[7], false)
		for _, cur := range r.cursors {
			for key, ok := cur.current(); ok && key < c.ID; key, ok = cur.current() {
				if cur == r.emails {
					if !r.gone(cur, key, yield) {
						return nil
					}
					continue
				}
				st.OrphanRows++
				cur.next(&st.OrphanRows)
			}
			for key, ok := cur.current(); ok && key == c.ID; key, ok = cur.current() {
				cur.add(&c)
				cur.next(&st.OrphanRows)
			}
			if err := cur.err(); err != nil {
				return err
			}
		}
		st.Contacts++
		st.FieldIssues += len(c.Issues)
		r.lastID, r.yielded = c.ID, true
		if !yield(&c, nil) {
			r.stopped = true
			return nil
		}
	}
	for _, cur := range r.cursors {
		for key, ok := cur.current(); ok; key, ok = cur.current() {
			if cur == r.emails {
				if !r.gone(cur, key, yield) {
					return nil
				}
				continue
			}
			st.OrphanRows++
			cur.next(&st.OrphanRows)
		}
		if err := cur.err(); err != nil {
			return err
		}
	}
	return nil
}

// gone takes the email rows of contact id key, which no longer exists,
// and yields it as deleted when some of them are planned rows: the run
// deletes those, the history stays. It returns false when the caller
// broke out of the loop.
func (r *reader) gone(cur cursor, key int64, yield func(*emailsched.Contact, error) bool) bool {
	g := &r.ghost
	g.Reset()
	for k, ok := cur.current(); ok && k == key; k, ok = cur.current() {
		r.st.OrphanRows++
		cur.add(g)
		cur.next(&r.st.OrphanRows)
	}
	if len(g.Stored) == 0 {
		return true
	}
	g.ID, g.Deleted, g.History = key, true, g.History[:0]
	r.st.DeletedContacts++
	r.lastID, r.yielded = key, true
	if !yield(g, nil) {
		r.stopped = true
		return false
	}
	return true
}

// addEmail adds one email_schedules row (see scheduleColumns) to c.
func (r *reader) addEmail(c *emailsched.Contact, v []driver.Value) {
	t, stored, ok := r.emailDecoder.classify(v)
	if !ok {
		r.st.UnknownTypeRows++
		return
	}
	rows := &c.History
	if stored {
		rows = &c.Stored
	}
	// Filled in place: an Email is some 200 bytes, not worth copying twice.
	*rows = append(*rows, emailsched.Email{})
	if !r.emailDecoder.fill(&(*rows)[len(*rows)-1], t, v) {
		r.st.BadDateRows++
	}
	r.st.Rows++
}

func (r *reader) addClick(c *emailsched.Contact, v []driver.Value) {
	at, _ := instant(v[1])
	c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementClick, At: at})
	r.st.Clicks++
}

func (r *reader) addAnswer(c *emailsched.Contact, v []driver.Value) {
	at, _ := instant(v[1])
	var med bool
	if n, ok := r.answers.code(v[2]); ok {
		med = r.medicalOf[n]
	} else {
		med = medicalConditions(v[2])
	}
	c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer, At: at,
		MedicalConditions: med})
	r.st.HealthAnswers++
}

func (r *reader) addTarget(c *emailsched.Contact, v []driver.Value) {
	id, ok1 := integer(v[1])
	d, ok2 := rowDate(v[2])
	if !ok1 || !ok2 || id == 0 || d.IsZero() {
		r.st.BadTargets++
		return
	}
	c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: id, Trigger: d, Status: text(v[3])})
	r.st.Targets++
}

func eventDate(y, m, d any) datecalc.Date {
	yy, ok := integer(y)
	if !ok || yy < 1 || yy > 9999 {
		return datecalc.Date{}
	}
	mm, _ := integer(m)
	dd, _ := integer(d)
	if mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 {
		if e, err := datecalc.New(int(yy), time.Month(mm), int(dd)); err == nil {
			return e
		}
	}
	e, _ := datecalc.New(int(yy), 1, 1)
	return e
}

// query is the SQL of one stream query being built, with its arguments.
type query struct{ args []driver.NamedValue }

// bind adds an argument and returns its placeholder.
func (q *query) bind(v any) string {
	q.args = append(q.args, driver.NamedValue{Ordinal: len(q.args) + 1, Value: v})
	return "?" + strconv.Itoa(len(q.args))
}

// build returns the query of cols of table over the contact ids of b,
// each column read through its vocabulary in vocabs (by index in cols)
// when that has values.
func (q *query) build(table string, cols []string, where, order string, vocabs map[int]*vocab, b bounds) string {
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		vc := vocabs[i]
		if vc == nil || len(vc.values) == 0 {
			sb.WriteString(c)
			continue
		}
		// NULL first: it would be compared with every value.
		sb.WriteString("CASE WHEN " + c + " IS NULL THEN NULL ELSE CASE " + c)
		for k, v := range vc.values {
			fmt.Fprintf(&sb, " WHEN %s THEN %d", q.bind(v), k+1)
		}
		sb.WriteString(" ELSE " + c + " END END")
	}
	sb.WriteString(" FROM " + table)
	key := "contact_id"
	if table == "contacts" {
		key = "id"
	}
	conds := slices.DeleteFunc([]string{where, b.clause(q, key)}, func(s string) bool { return s == "" })
	if len(conds) > 0 {
		sb.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	sb.WriteString(" ORDER BY " + order)
	return sb.String()
}

// A vocabulary is learnt from sampleWindows runs of sampleRows consecutive
// rows spread over the table's rowids, and holds at most maxVocab values:
// SQLite compares a value with each in turn, most frequent first, and a
// long list would cost more than the strings it saves.
const (
	sampleWindows = 16
	sampleRows    = 256
	maxVocab      = 32
)

// sample learns the vocabularies in vocabs (by index in cols) of table:
// the values that recur in a sample of its rows, most frequent first. Only
// columns declared with TEXT affinity get one (see vocab). Sampling only
// saves work: when it fails, the columns get none.
func (r *reader) sample(table string, declared map[string]string, cols []string, vocabs map[int]*vocab) {
	for _, vc := range vocabs {
		vc.values = nil
	}
	var names []string
	var which []*vocab
	for i, vc := range vocabs {
		if t, ok := declared[cols[i]]; ok && textAffinity(t) {
			names, which = append(names, cols[i]), append(which, vc)
		}
	}
	if len(names) == 0 {
		return
	}
	// Two subqueries: SQLite finds min or max alone in the rowid index, but
	// scans the table for both at once.
	bounds, err := r.conn.QueryContext(r.ctx, "SELECT (SELECT min(rowid) FROM "+table+"), (SELECT max(rowid) FROM "+table+")", nil)
	if err != nil {
		return
	}
	mm := make([]driver.Value, 2)
	err = bounds.Next(mm)
	bounds.Close()
	lo, ok1 := mm[0].(int64)
	hi, ok2 := mm[1].(int64)
	if err != nil || !ok1 || !ok2 {
		return
	}
	counts := make([]map[string]int, len(names))
	for k := range counts {
		counts[k] = map[string]int{}
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE rowid >= ? ORDER BY rowid LIMIT %d", strings.Join(names, ", "), table, sampleRows)
	vals := make([]driver.Value, len(names))
	step := uint64(hi-lo) / sampleWindows // hi-lo may overflow int64, not uint64
	for w := range uint64(sampleWindows) {
		rows, err := r.conn.QueryContext(r.ctx, q, []driver.NamedValue{{Ordinal: 1, Value: lo + int64(step*w)}})
		if err != nil {
			return
		}
		for rows.Next(vals) == nil {
			for k, v := range vals {
				if s, ok := v.(string); ok {
					counts[k][s]++
				}
			}
		}
		rows.Close()
	}
	for k, m := range counts {
		var vs []string
		for s, n := range m {
			if n >= 2 {
				vs = append(vs, s)
			}
		}
		slices.SortFunc(vs, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), strings.Compare(a, b)) })
		which[k].values = vs[:min(len(vs), maxVocab)]
	}
}
