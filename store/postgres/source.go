package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// ReadStats counts what the last stream read and what it left out. Nothing
// in it stops a stream: rows it cannot use are skipped and counted.
type ReadStats struct {
	Contacts int
	// Rows counts the email_schedules rows given to contacts.
	Rows int
	// UnknownTypeRows counts email_schedules rows skipped because their
	// email_type is not one emailsched.ParseEmailType knows.
	UnknownTypeRows int
	// OrphanRows counts rows of per-contact tables whose contact_id names
	// no contact (or is NULL); they are skipped.
	OrphanRows int
	// Clicks and HealthAnswers count the engagement read.
	Clicks, HealthAnswers int
	// Targets counts campaign targets read; BadTargets those skipped
	// because their instance id or trigger date is missing.
	Targets, BadTargets int
	// FieldIssues counts the contacts' FieldIssues.
	FieldIssues int
	// DeletedContacts counts contacts that no longer exist but had planned
	// rows, which the stream yielded with Deleted set.
	DeletedContacts int
}

// ReadStats returns the counts of the last stream that ended.
func (s *Store) ReadStats() ReadStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// fetchRows is the number of rows one FETCH of a stream's cursor brings:
// the stream holds at most that many rows per table in memory, whatever
// the number of contacts, and pays one round trip per fetchRows rows.
const fetchRows = 2000

// The stream's queries, one per table, each ordered by contact id; the
// first column is the contact id. Columns the application owns are read as
// text, whatever their type, so that a contacts table with date columns
// reads as well as one with text columns. A column the table lacks reads
// as its default (the application's contacts table is never altered).
var (
	contactsSelect = []selected{{"id", "id", "", nil}, {"email", "coalesce(email::text, '')", "''", nil},
		{"zip_code", "coalesce(zip_code::text, '')", "''", nil}, {"state", "coalesce(state::text, '')", "''", nil},
		{"birth_date", "coalesce(birth_date::text, '')", "''", nil}, {"effective_date", "coalesce(effective_date::text, '')", "''", nil},
		{"current_carrier", "coalesce(current_carrier::text, '')", "''", nil},
		{"do_not_communicate", "coalesce(do_not_communicate::boolean, false)", "false", nil}}
	// email_schedules is most of what a stream reads: columns of the types
	// the migrations give them are read as they are (native), which costs
	// the server far less than a conversion per value (a date to text
	// above all); the decoding handles their NULLs as the casts would.
	emailsSelect = []selected{{"contact_id", "contact_id", "", ints}, {"id", "id", "", ints},
		{"email_type", "email_type::text", "", texts},
		{"scheduled_send_date", "scheduled_send_date::text", "NULL::text", []string{"date"}},
		{"status", "coalesce(status::text, '')", "", texts}, {"skip_reason", "coalesce(skip_reason::text, '')", "''", texts},
		{"priority", numberExpr("priority", "int"), "0", ints}, {"campaign_instance_id", numberExpr("campaign_instance_id", "bigint"), "0::bigint", ints},
		{"email_template", "coalesce(email_template::text, '')", "''", texts}, {"sms_template", "coalesce(sms_template::text, '')", "''", texts},
		{"scheduler_run_id", "coalesce(scheduler_run_id::text, '')", "''", texts}, {"event_year", numberExpr("event_year", "int"), "0", ints},
		{"event_month", numberExpr("event_month", "int"), "0", ints}, {"event_day", numberExpr("event_day", "int"), "0", ints},
		{"catchup_note", "coalesce(catchup_note::text, '')", "''", texts}, {"metadata", "coalesce(metadata::text, '')", "''", texts},
		{"actual_send_datetime", "actual_send_datetime::timestamptz", "NULL::timestamptz", []string{"timestamp with time zone"}}}
	clicksSelect  = []selected{{"contact_id", "contact_id", "", nil}, {"clicked_at", "clicked_at::timestamptz", "NULL::timestamptz", nil}}
	answersSelect = []selected{{"contact_id", "contact_id", "", nil}, {"created_at", "created_at::timestamptz", "NULL::timestamptz", nil},
		{"metadata", "coalesce(metadata::text, '')", "''", nil}}
	targetsSelect = []selected{{"contact_id", "contact_id", "", nil}, {"campaign_instance_id", "campaign_instance_id::bigint", "NULL::bigint", nil},
		{"trigger_date", "trigger_date::text", "NULL::text", nil}, {"status", "coalesce(status::text, '')", "''", nil}}
)

// selected is one column of a stream query: the expression that reads it,
// what stands in when the table lacks it ("" when it cannot be missing:
// the table is then not read), and the column types (information_schema's
// data_type) read as they are instead, without the expression.
type selected struct {
	column, expr, missing string
	native                []string
}

// numberExpr reads column as an integer of sqlType (int or bigint)
// whatever its type: 0 for NULL and for a value that is not a whole
// number in the type's range (a text column may hold anything; a failed
// cast would end the stream).
func numberExpr(column, sqlType string) string {
	digits := 9
	if sqlType == "bigint" {
		digits = 18
	}
	return fmt.Sprintf(`coalesce(CASE WHEN btrim(%[1]s::text) ~ '^-?[0-9]{1,%[2]d}$' THEN btrim(%[1]s::text)::%[3]s END, 0)`, column, digits, sqlType)
}

// The native types of the email columns read as integers and as text.
var (
	ints  = []string{"smallint", "integer", "bigint"}
	texts = []string{"text"}
)

// query builds the SELECT of table over the columns cols has (with their
// types), or reports false when a column that cannot be missing is.
func (s *Store) query(table string, cols map[string]string, sel []selected, where, order string) (string, bool) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range sel {
		if i > 0 {
			b.WriteString(", ")
		}
		typ, has := cols[c.column]
		switch {
		case has && slices.Contains(c.native, typ):
			b.WriteString(c.column)
		case has:
			b.WriteString(c.expr)
		case c.missing == "":
			return "", false
		default:
			b.WriteString(c.missing)
		}
	}
	b.WriteString(" FROM " + s.schema + "." + table)
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	b.WriteString(" ORDER BY " + order)
	return b.String(), true
}

// Contacts implements store.ContactSource.
//
// The stream reads every table from one snapshot while the sending system
// (and the run's own writer, on another connection) go on writing: a
// REPEATABLE READ READ ONLY transaction exports its snapshot, and the
// transactions that read email_schedules and contacts on connections of
// their own (when the pool has them to spare) import it. Each table is
// read in contact id order (contacts, email_schedules, tracking_clicks,
// contact_events of type eligibility_answered, contact_campaigns): the big
// ones by a plain query decoded on a goroutine, the others through a
// server-side cursor, fetchRows rows at a time. They are merged like a
// merge join: no query per contact, memory independent of the number of
// contacts, and one reused Contact buffer.
//
// Email rows whose status is exactly "pre-scheduled" or "skipped" form the
// contact's Stored plan; every other row is History (statuses normalised
// by emailsched.ParseStatus). Rows with an unknown email_type are skipped
// and counted (ReadStats); an unreadable birth or effective date becomes a
// zero date with a FieldIssue. Contacts that no longer exist but still
// have planned rows are yielded with Deleted set (their ID and Stored
// rows), in ID order, so that a run deletes those rows.
func (s *Store) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		var st ReadStats
		defer func() {
			s.mu.Lock()
			s.stats = st
			s.mu.Unlock()
		}()
		if err := s.stream(ctx, "", &st, yield); err != nil {
			yield(nil, fmt.Errorf("postgres: contacts: %w", err))
		}
	}
}

// Contact implements store.ContactLookup: contact id with everything
// Contacts gives it, read through the contact_id indexes in one short
// transaction. A contact that no longer exists is not found, even with
// planned rows left.
func (s *Store) Contact(ctx context.Context, id int64) (*emailsched.Contact, error) {
	var found *emailsched.Contact
	var st ReadStats
	err := s.stream(ctx, strconv.FormatInt(id, 10), &st, func(c *emailsched.Contact, err error) bool {
		if err == nil && c.ID == id && !c.Deleted {
			cp := c.Clone()
			found = &cp
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: contact %d: %w", id, err)
	}
	if found == nil {
		return nil, fmt.Errorf("postgres: contact %d: %w", id, store.ErrNotFound)
	}
	return found, nil
}

// stream reads the contacts (only contact only, when it is not "") and
// yields them. A yield that returns false ends it without an error.
func (s *Store) stream(ctx context.Context, only string, st *ReadStats, yield func(*emailsched.Contact, error) bool) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := cleanupContext()
		defer cancel()
		_ = tx.Rollback(cctx) // read only: nothing to keep
	}()
	cols, err := s.columns(ctx, tx)
	if err != nil {
		return err
	}
	and := func(cond string) string {
		if only == "" {
			return cond
		}
		return cond + " AND contact_id = " + only
	}
	// The merge runs on the caller's goroutine; the queries streamed on
	// connections of their own are decoded on goroutines of their own,
	// stopped (their queries cancelled) when the merge ends.
	sctx, stop := context.WithCancel(ctx)
	r := &reader{ctx: ctx, tx: tx, st: st, stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	defer func() {
		close(r.stop)
		stop()
		r.wg.Wait()
		for _, rel := range r.release {
			rel()
		}
	}()
	if only == "" {
		if r.snapshot, err = exportSnapshot(ctx, tx); err != nil {
			return err
		}
	}
	contactWhere := ""
	if only != "" {
		contactWhere = "id = " + only
	}
	q, ok := s.query("contacts", cols["contacts"], contactsSelect, contactWhere, "id")
	if !ok {
		return nil // no contacts table: a schema that was never migrated holds no contacts
	}
	// email_schedules is most of the rows, then contacts: they are
	// streamed first when the pool has connections to spare.
	r.contacts = newCursor(r, "emailsched_contacts", q, scanContact)
	// email_schedules is read in the order of its contact_id index alone:
	// ordering each contact's rows by id too would sort the whole table
	// on the server (an incremental sort over millions of rows), when
	// the merge can put a contact's few rows in id order itself.
	if q, ok := s.query("email_schedules", cols["email_schedules"], emailsSelect, and("contact_id IS NOT NULL"), "contact_id"); ok {
		r.emails = newCursor(r, "emailsched_emails", q, scanEmail)
		r.emails.prepare = rawEmails
		if err := s.streamed(sctx, r, r.emails); err != nil {
			return err
		}
	}
	if err := s.streamed(sctx, r, r.contacts); err != nil {
		return err
	}
	if q, ok := s.query("tracking_clicks", cols["tracking_clicks"], clicksSelect, and("contact_id IS NOT NULL"), "contact_id, id"); ok {
		r.clicks = newCursor(r, "emailsched_clicks", q, scanClick)
	}
	if _, ok := cols["contact_events"]["event_type"]; ok {
		if q, ok := s.query("contact_events", cols["contact_events"], answersSelect,
			and("contact_id IS NOT NULL AND event_type = 'eligibility_answered'"), "contact_id, id"); ok {
			r.answers = newCursor(r, "emailsched_answers", q, scanAnswer)
		}
	}
	if q, ok := s.query("contact_campaigns", cols["contact_campaigns"], targetsSelect, and("contact_id IS NOT NULL"), "contact_id, id"); ok {
		r.targets = newCursor(r, "emailsched_targets", q, scanTarget)
	}
	cursors := []interface {
		declare() error
		fill() error
	}{r.contacts, r.emails, r.clicks, r.answers, r.targets}
	for _, c := range cursors {
		if err := c.declare(); err != nil {
			return err
		}
	}
	if len(r.fetchers) > 0 {
		r.wg.Add(1)
		go r.prefetch(sctx)
	}
	for _, c := range cursors {
		if err := c.fill(); err != nil {
			return err
		}
	}
	return r.run(yield)
}

// fetcher is a cursor of the stream's transaction that the prefetching
// goroutine fetches ahead of the merge.
type fetcher interface {
	// room reports whether the cursor's feed can take another chunk.
	room() bool
	// fetchAhead fetches the next rows into the feed and reports whether
	// they were the last.
	fetchAhead(ctx context.Context) (last bool, err error)
	// end closes the feed, after the last rows or on err.
	end(err error)
}

// prefetch fetches the cursors of the stream's transaction ahead of the
// merge, on a goroutine of its own (the only one that uses the
// transaction once the cursors are declared), so that the merge never
// waits for a FETCH's round trip: each time one of them has room in its
// feed, it fetches it; when none has, it waits for the merge to take a
// chunk. A failure ends every feed with the error.
func (r *reader) prefetch(ctx context.Context) {
	defer r.wg.Done()
	live := r.fetchers
	var err error
	defer func() {
		for _, f := range live {
			f.end(err)
		}
	}()
	for len(live) > 0 {
		fetched := false
		for i := 0; i < len(live); {
			if !live[i].room() {
				i++
				continue
			}
			var last bool
			if last, err = live[i].fetchAhead(ctx); err != nil {
				return
			}
			fetched = true
			if last {
				live[i].end(nil)
				live = slices.Delete(live, i, i+1)
				continue
			}
			i++
		}
		if !fetched {
			select {
			case <-r.wake:
			case <-r.stop:
				return
			}
		}
	}
}

// exportSnapshot returns the snapshot of tx, which other connections'
// transactions import to read exactly what tx reads.
func exportSnapshot(ctx context.Context, tx pgx.Tx) (string, error) {
	var snap string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
		return "", fmt.Errorf("exporting the snapshot: %w", err)
	}
	return snap, nil
}

// acquireWait bounds the wait for a spare connection of the pool: past it
// the table is read through a cursor of the stream's own transaction.
const acquireWait = 200 * time.Millisecond

// streamed makes cursor c read its table on a connection of its own, in a
// REPEATABLE READ READ ONLY transaction on the stream's snapshot, with one
// plain query decoded on a goroutine, when the pool has a connection to
// spare. Otherwise c stays a cursor of the stream's transaction: a pool of
// one connection reads as well, only with more round trips.
func (s *Store) streamed(ctx context.Context, r *reader, c streamer) error {
	if c == nil || r.snapshot == "" {
		return nil
	}
	if st := s.pool.Stat(); st.AcquiredConns()+st.ConstructingConns() >= st.MaxConns() {
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, acquireWait)
	conn, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // none to spare after all
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err == nil {
		_, err = tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+r.snapshot+"'")
	}
	r.release = append(r.release, func() {
		if tx != nil {
			cctx, cancel := cleanupContext()
			_ = tx.Rollback(cctx)
			cancel()
		}
		conn.Release()
	})
	if err != nil {
		return fmt.Errorf("importing the snapshot: %w", err)
	}
	c.start(ctx, tx)
	return nil
}

// columns returns the columns of the schema's tables with their types
// (information_schema's data_type), by table: none for a table that does
// not exist.
func (s *Store) columns(ctx context.Context, tx pgx.Tx) (map[string]map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
		WHERE table_schema = $1`, s.opts.Schema)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	var table, column, typ string
	_, err = pgx.ForEachRow(rows, []any{&table, &column, &typ}, func() error {
		if out[table] == nil {
			out[table] = map[string]string{}
		}
		out[table][column] = typ
		return nil
	})
	return out, err
}

// reader is one stream: its transaction and its cursors (nil for a table
// that does not exist).
type reader struct {
	ctx      context.Context
	tx       pgx.Tx
	st       *ReadStats
	snapshot string         // tx's exported snapshot ("" when every table is read in tx)
	stop     chan struct{}  // closed when the merge ends: the decoding goroutines stop
	wg       sync.WaitGroup // the decoding goroutines
	release  []func()       // give the streams' connections back
	fetchers []fetcher      // the cursors of tx that prefetch fetches ahead
	wake     chan struct{}  // the merge took a chunk: prefetch may fetch again
	contacts *cursor[contactRow]
	emails   *cursor[emailRow]
	clicks   *cursor[clickRow]
	answers  *cursor[answerRow]
	targets  *cursor[targetRow]
	ghost    emailsched.Contact
	types    map[string]parsedType // ParseEmailType memoised: a few dozen types
}

type parsedType struct {
	t  emailsched.EmailType
	ok bool
}

// cursor walks the rows of one table in contact id order: a server-side
// cursor of the stream's transaction, fetchRows rows at a time, or (once
// start ran) a plain query on a connection of its own, decoded by a
// goroutine into chunks of fetchRows rows that the merge takes in turn.
type cursor[T any] struct {
	r     *reader
	name  string
	query string
	scan  func(pgx.Rows, *T) (key int64, err error)
	buf   []T
	keys  []int64
	pos   int
	done  bool // the last FETCH returned fewer than fetchRows rows, or the stream ended

	feed chan chunk[T] // the decoded chunks, when streamed
	free chan chunk[T] // the chunks the merge is done with, for reuse
	ferr error         // the error that ended a prefetched feed, set before it closed
	// prepare, when set, returns a faster scan for a streamed query's
	// rows (or scan when their columns are not what it expects).
	prepare func(pgx.Rows) func(pgx.Rows, *T) (int64, error)
}

// chunk is rows a streaming cursor decoded, or the error that ended it.
type chunk[T any] struct {
	rows []T
	keys []int64
	err  error
}

// streamer is a cursor that can be streamed.
type streamer interface {
	start(ctx context.Context, tx pgx.Tx)
}

// chunksAhead is how many decoded chunks a streamed table may hold ahead
// of the merge: memory stays bounded, and the server and the decoding go
// on while the merge works.
const chunksAhead = 4

func newCursor[T any](r *reader, name, query string, scan func(pgx.Rows, *T) (int64, error)) *cursor[T] {
	return &cursor[T]{r: r, name: name, query: query, scan: scan}
}

// start runs the cursor's query in tx on a goroutine that decodes its rows
// into chunks.
func (c *cursor[T]) start(ctx context.Context, tx pgx.Tx) {
	c.feed, c.free = make(chan chunk[T], chunksAhead), make(chan chunk[T], chunksAhead+2)
	c.r.wg.Add(1)
	go func() {
		defer c.r.wg.Done()
		defer close(c.feed)
		send := func(ch chunk[T]) bool {
			select {
			case c.feed <- ch:
				return true
			case <-c.r.stop:
				return false
			}
		}
		rows, err := tx.Query(ctx, c.query)
		if err != nil {
			send(chunk[T]{err: err})
			return
		}
		defer rows.Close()
		scan := c.scan
		if c.prepare != nil {
			scan = c.prepare(rows)
		}
		ch := c.spare()
		for rows.Next() {
			var zero T
			ch.rows = append(ch.rows, zero)
			k, err := scan(rows, &ch.rows[len(ch.rows)-1])
			if err != nil {
				send(chunk[T]{err: err})
				return
			}
			ch.keys = append(ch.keys, k)
			if len(ch.rows) == fetchRows {
				if !send(ch) {
					return
				}
				ch = c.spare()
			}
		}
		if err := rows.Err(); err != nil {
			send(chunk[T]{err: err})
			return
		}
		if len(ch.rows) > 0 {
			send(ch)
		}
	}()
}

// spare returns an empty chunk, reusing one the merge is done with.
func (c *cursor[T]) spare() chunk[T] {
	select {
	case ch := <-c.free:
		clear(ch.rows) // drop the strings of the rows read before
		return chunk[T]{rows: ch.rows[:0], keys: ch.keys[:0]}
	default:
		return chunk[T]{rows: make([]T, 0, fetchRows), keys: make([]int64, 0, fetchRows)}
	}
}

// declare declares the server-side cursor of a cursor that is not
// streamed. In a stream (not a lookup) it is then fetched ahead by
// prefetch.
func (c *cursor[T]) declare() error {
	if c == nil || c.feed != nil {
		return nil
	}
	if _, err := c.r.tx.Exec(c.r.ctx, "DECLARE "+c.name+" NO SCROLL CURSOR FOR "+c.query); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if c.r.snapshot != "" {
		c.feed, c.free = make(chan chunk[T], chunksAhead), make(chan chunk[T], chunksAhead+2)
		c.r.fetchers = append(c.r.fetchers, c)
	}
	return nil
}

func (c *cursor[T]) room() bool { return len(c.feed) < cap(c.feed) }

func (c *cursor[T]) fetchAhead(ctx context.Context) (bool, error) {
	ch := c.spare()
	rows, err := c.r.tx.Query(ctx, "FETCH FORWARD "+strconv.Itoa(fetchRows)+" FROM "+c.name)
	if err != nil {
		return false, fmt.Errorf("%s: %w", c.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var zero T
		ch.rows = append(ch.rows, zero)
		k, err := c.scan(rows, &ch.rows[len(ch.rows)-1])
		if err != nil {
			return false, fmt.Errorf("%s: %w", c.name, err)
		}
		ch.keys = append(ch.keys, k)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("%s: %w", c.name, err)
	}
	if len(ch.rows) > 0 {
		c.feed <- ch // never blocks: prefetch alone sends, when there is room
	}
	return len(ch.rows) < fetchRows, nil
}

func (c *cursor[T]) end(err error) {
	c.ferr = err // before the close, which the merge's receive follows
	close(c.feed)
}

// fill takes the next rows once the buffer is used up.
func (c *cursor[T]) fill() error {
	if c == nil || c.pos < len(c.buf) || c.done {
		return nil
	}
	if c.feed != nil {
		return c.receive()
	}
	c.buf, c.keys, c.pos = c.buf[:0], c.keys[:0], 0
	rows, err := c.r.tx.Query(c.r.ctx, "FETCH FORWARD "+strconv.Itoa(fetchRows)+" FROM "+c.name)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var zero T
		c.buf = append(c.buf, zero)
		k, err := c.scan(rows, &c.buf[len(c.buf)-1])
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		c.keys = append(c.keys, k)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	c.done = len(c.buf) < fetchRows
	return nil
}

// receive takes the next chunk of a streamed cursor, handing the one used
// up back to its goroutine.
func (c *cursor[T]) receive() error {
	if c.buf != nil {
		select {
		case c.free <- chunk[T]{rows: c.buf, keys: c.keys}:
		default:
		}
	}
	c.buf, c.keys, c.pos = nil, nil, 0
	ch, ok := <-c.feed
	select { // prefetch may have waited for room
	case c.r.wake <- struct{}{}:
	default:
	}
	switch {
	case !ok:
		c.done = true
		if c.ferr != nil {
			return c.ferr
		}
	case ch.err != nil:
		c.done = true
		return fmt.Errorf("%s: %w", c.name, ch.err)
	default:
		c.buf, c.keys = ch.rows, ch.keys
	}
	return nil
}

// current returns the contact id of the row the cursor is on; ok is false
// after the last row (and for a table that does not exist).
func (c *cursor[T]) current() (int64, bool) {
	if c == nil || c.pos >= len(c.buf) {
		return 0, false
	}
	return c.keys[c.pos], true
}

func (c *cursor[T]) row() *T { return &c.buf[c.pos] }

// next moves to the next row, fetching more when needed.
func (c *cursor[T]) next() error {
	c.pos++
	return c.fill()
}

type contactRow struct {
	id                                              int64
	email, zip, state, birthday, effective, carrier string
	optOut                                          bool
}

func scanContact(rows pgx.Rows, c *contactRow) (int64, error) {
	err := rows.Scan(&c.id, &c.email, &c.zip, &c.state, &c.birthday, &c.effective, &c.carrier, &c.optOut)
	return c.id, err
}

type emailRow struct {
	contact, id                                           int64
	typ, status, skip, template, sms, run, note, metadata string
	date                                                  datecalc.Date // zero when NULL or unreadable
	priority, year, month, day                            int32
	instance                                              int64
	sent                                                  pgtype.Timestamptz
}

// scanEmail decodes an email row with pgx's Scan, whatever the formats and
// types of its columns: NULLs read as zero values, as the query's casts
// make them when the columns are not read natively.
func scanEmail(rows pgx.Rows, e *emailRow) (int64, error) {
	var skip, status, template, sms, run, note, metadata pgtype.Text
	var priority, instance, year, month, day pgtype.Int8
	var date anyDate
	err := rows.Scan(&e.contact, &e.id, &e.typ, &date, &status, &skip, &priority, &instance, &template,
		&sms, &run, &year, &month, &day, &note, &metadata, &e.sent)
	e.date = date.d
	e.status, e.skip, e.template, e.sms, e.run, e.note, e.metadata = status.String, skip.String, template.String, sms.String,
		run.String, note.String, metadata.String
	e.priority, e.instance = int32(priority.Int64), instance.Int64
	e.year, e.month, e.day = int32(year.Int64), int32(month.Int64), int32(day.Int64)
	return e.contact, err
}

// anyDate scans a date column read natively (a time.Time, or an infinity)
// or as text: the zero Date for NULL and for what is not a date.
type anyDate struct{ d datecalc.Date }

func (a *anyDate) Scan(src any) error {
	a.d = datecalc.Date{}
	switch v := src.(type) {
	case string:
		a.d, _ = dbDate(v)
	case []byte:
		a.d, _ = dbDate(string(v))
	case time.Time:
		a.d = datecalc.FromTime(v)
	}
	return nil
}

// The PostgreSQL type OIDs rawEmails reads.
const (
	oidInt2        = 21
	oidInt4        = 23
	oidInt8        = 20
	oidText        = 25
	oidDate        = 1082
	oidTimestamptz = 1184
)

// rawEmails returns a scan of the email query's rows that decodes their
// raw values itself: email_schedules is most of what a stream reads, and
// pgx's generic Scan, with a new string for every text value, was most of
// its decoding. The strings most rows share (types, statuses, templates,
// run ids) are made once. It returns scanEmail when a column does not come
// as expected (integers, dates and timestamps in binary, text as text),
// which the query makes the case with pgx's default query modes. NULLs
// read as the query's casts make them: 0 and "".
func rawEmails(rows pgx.Rows) func(pgx.Rows, *emailRow) (int64, error) {
	// The expected type of each column: 'i' an integer, 't' text, 'd' a
	// date or text, 's' a timestamptz.
	const kinds = "iitdttiitttiiitts"
	fds := rows.FieldDescriptions()
	if len(fds) != len(kinds) {
		return scanEmail
	}
	for i, fd := range fds {
		ok := false
		switch kinds[i] {
		case 'i':
			ok = fd.Format == pgx.BinaryFormatCode && (fd.DataTypeOID == oidInt2 || fd.DataTypeOID == oidInt4 || fd.DataTypeOID == oidInt8)
		case 't':
			ok = fd.DataTypeOID == oidText
		case 'd':
			ok = fd.DataTypeOID == oidText || fd.Format == pgx.BinaryFormatCode && fd.DataTypeOID == oidDate
		case 's':
			ok = fd.Format == pgx.BinaryFormatCode && fd.DataTypeOID == oidTimestamptz
		}
		if !ok {
			return scanEmail
		}
	}
	in := interner{m: map[string]string{}}
	types := rows.Conn().TypeMap()
	nativeDate := fds[3].DataTypeOID == oidDate
	return func(rows pgx.Rows, e *emailRow) (int64, error) {
		v := rows.RawValues()
		if v[2] == nil { // as Scan: a NULL email_type fails the stream
			return 0, fmt.Errorf("column %s: cannot scan NULL into a string", fds[2].Name)
		}
		var ints [7]int64
		for i, col := range [...]int{0, 1, 6, 7, 11, 12, 13} {
			n, err := rawInt(v[col])
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", fds[col].Name, err)
			}
			ints[i] = n
		}
		e.contact, e.id, e.instance = ints[0], ints[1], ints[3]
		e.priority, e.year, e.month, e.day = int32(ints[2]), int32(ints[4]), int32(ints[5]), int32(ints[6])
		e.typ, e.status, e.skip = in.get(2, v[2]), in.get(4, v[4]), in.get(5, v[5])
		if nativeDate {
			e.date = rawDate(v[3])
		} else {
			e.date, _ = dbDate(in.get(3, v[3]))
		}
		e.template, e.sms, e.run = in.get(8, v[8]), in.get(9, v[9]), in.get(10, v[10])
		e.note, e.metadata = in.get(14, v[14]), in.get(15, v[15])
		if v[16] == nil {
			e.sent = pgtype.Timestamptz{}
		} else if err := types.Scan(oidTimestamptz, pgx.BinaryFormatCode, v[16], &e.sent); err != nil {
			return 0, fmt.Errorf("column %s: %w", fds[16].Name, err)
		}
		return e.contact, nil
	}
}

// rawInt decodes a binary int2, int4 or int8; NULL reads as 0.
func rawInt(b []byte) (int64, error) {
	switch len(b) {
	case 0:
		if b == nil {
			return 0, nil
		}
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	}
	return 0, fmt.Errorf("an integer of %d bytes", len(b))
}

// pgEpoch is day 0 of PostgreSQL's binary dates, in days since 1970-01-01.
var pgEpoch = datecalc.MustNew(2000, time.January, 1).Unix()

// rawDate decodes a binary date, days since 2000-01-01: the zero Date for
// NULL and for a day outside the years 1 to 9999 (the infinities among
// them), as for a text date that does not parse.
func rawDate(b []byte) datecalc.Date {
	if len(b) != 4 {
		return datecalc.Date{}
	}
	return datecalc.FromUnix(pgEpoch + int(int32(binary.BigEndian.Uint32(b))))
}

// interner makes each short string once: a stream's rows repeat a few
// types, statuses, templates and run ids millions of times, often the
// same value as the row before in the same column.
type interner struct {
	last [32]string // by column: the value of the row before
	m    map[string]string
}

// An interner keeps short strings only, a few thousand of them (unique
// values, such as metadata, stop being kept once it is full).
const (
	internLen   = 64
	internCount = 4096
)

// get returns b as a string, b being column col's value (col < 32).
func (in *interner) get(col int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > internLen {
		return string(b)
	}
	if in.last[col] == string(b) {
		return in.last[col]
	}
	s, ok := in.m[string(b)]
	if !ok {
		s = string(b)
		if len(in.m) < internCount {
			in.m[s] = s
		}
	}
	in.last[col] = s
	return s
}

type clickRow struct {
	contact int64
	at      pgtype.Timestamptz
}

func scanClick(rows pgx.Rows, c *clickRow) (int64, error) {
	err := rows.Scan(&c.contact, &c.at)
	return c.contact, err
}

type answerRow struct {
	contact  int64
	at       pgtype.Timestamptz
	metadata string
}

func scanAnswer(rows pgx.Rows, a *answerRow) (int64, error) {
	err := rows.Scan(&a.contact, &a.at, &a.metadata)
	return a.contact, err
}

type targetRow struct {
	contact, instance int64
	valid             bool
	trigger, status   string
}

func scanTarget(rows pgx.Rows, t *targetRow) (int64, error) {
	var inst pgtype.Int8
	var trig pgtype.Text
	err := rows.Scan(&t.contact, &inst, &trig, &t.status)
	t.instance, t.trigger, t.valid = inst.Int64, trig.String, inst.Valid && trig.Valid
	return t.contact, err
}

// errStop ends run when the caller broke out of the loop.
var errStop = errors.New("stopped")

// run merges the cursors into contacts and yields them, with the deleted
// contacts whose planned rows remain.
func (r *reader) run(yield func(*emailsched.Contact, error) bool) error {
	err := r.merge(yield)
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (r *reader) merge(yield func(*emailsched.Contact, error) bool) error {
	st := r.st
	var c emailsched.Contact
	emit := func(c *emailsched.Contact) error {
		// A cancelled context ends the stream with an error even when the
		// rest of it is already fetched.
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if !yield(c, nil) {
			return errStop
		}
		return nil
	}
	for {
		id, ok := r.contacts.current()
		if !ok {
			break
		}
		cr := r.contacts.row()
		// Email rows of contacts before this one belong to deleted
		// contacts.
		for k, ok := r.emails.current(); ok && k < id; k, ok = r.emails.current() {
			if err := r.gone(k, emit); err != nil {
				return err
			}
		}
		c.Reset()
		c.ID, c.Email, c.ZIP, c.State, c.Carrier, c.DoNotCommunicate = id, cr.email, cr.zip, cr.state, cr.carrier, cr.optOut
		c.Birthday = storecol.ContactDate(&c, emailsched.FieldBirthday, cr.birthday)
		c.EffectiveDate = storecol.ContactDate(&c, emailsched.FieldEffectiveDate, cr.effective)
		if err := r.emailsOf(id, &c); err != nil {
			return err
		}
		if err := each(r.clicks, id, &st.OrphanRows, func(x *clickRow) {
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementClick, At: x.at.Time})
			st.Clicks++
		}); err != nil {
			return err
		}
		if err := each(r.answers, id, &st.OrphanRows, func(x *answerRow) {
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer, At: x.at.Time,
				MedicalConditions: storecol.MedicalConditions(x.metadata)})
			st.HealthAnswers++
		}); err != nil {
			return err
		}
		if err := each(r.targets, id, &st.OrphanRows, func(x *targetRow) {
			d, ok := dbDate(x.trigger)
			if !x.valid || !ok || x.instance == 0 || d.IsZero() {
				st.BadTargets++
				return
			}
			c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: x.instance, Trigger: d, Status: x.status})
			st.Targets++
		}); err != nil {
			return err
		}
		st.Contacts++
		st.FieldIssues += len(c.Issues)
		if err := emit(&c); err != nil {
			return err
		}
		if err := r.contacts.next(); err != nil {
			return err
		}
	}
	for k, ok := r.emails.current(); ok; k, ok = r.emails.current() {
		if err := r.gone(k, emit); err != nil {
			return err
		}
	}
	// What is left of the other tables names no contact.
	for _, n := range []func() int{r.clicks.rest, r.answers.rest, r.targets.rest} {
		st.OrphanRows += n()
	}
	return nil
}

// rest counts the rows left in the buffer (orphans after the last
// contact); the cursor is not fetched further.
func (c *cursor[T]) rest() int {
	if c == nil {
		return 0
	}
	n := len(c.buf) - c.pos
	c.pos = len(c.buf)
	return n
}

// each gives f the rows of contact id, skipping (and counting) the rows of
// smaller ids, which name no contact.
func each[T any](c *cursor[T], id int64, orphans *int, f func(*T)) error {
	for k, ok := c.current(); ok && k <= id; k, ok = c.current() {
		if k < id {
			*orphans++
		} else {
			f(c.row())
		}
		if err := c.next(); err != nil {
			return err
		}
	}
	return nil
}

// emailsOf adds the email rows of contact id to c, in id order.
func (r *reader) emailsOf(id int64, c *emailsched.Contact) error {
	for k, ok := r.emails.current(); ok && k == id; k, ok = r.emails.current() {
		r.addEmail(c, r.emails.row())
		if err := r.emails.next(); err != nil {
			return err
		}
	}
	byID(c.History)
	byID(c.Stored)
	return nil
}

// byID puts rows in id order: the query orders email_schedules by
// contact_id alone, and a contact's rows usually come in id order already.
func byID(rows []emailsched.Email) {
	if !slices.IsSortedFunc(rows, compareID) {
		slices.SortStableFunc(rows, compareID)
	}
}

func compareID(a, b emailsched.Email) int { return cmp.Compare(a.ID, b.ID) }

// gone takes the email rows of contact key, which no longer exists, and
// yields it as deleted when some of them are planned rows.
func (r *reader) gone(key int64, emit func(*emailsched.Contact) error) error {
	g := &r.ghost
	g.Reset()
	for k, ok := r.emails.current(); ok && k == key; k, ok = r.emails.current() {
		r.st.OrphanRows++
		r.addEmail(g, r.emails.row())
		if err := r.emails.next(); err != nil {
			return err
		}
	}
	if len(g.Stored) == 0 {
		return nil
	}
	byID(g.Stored)
	g.ID, g.Deleted, g.History = key, true, g.History[:0]
	r.st.DeletedContacts++
	return emit(g)
}

// addEmail files one email_schedules row in c's History or Stored.
func (r *reader) addEmail(c *emailsched.Contact, x *emailRow) {
	p, ok := r.types[x.typ]
	if !ok {
		t, err := emailsched.ParseEmailType(x.typ)
		p = parsedType{t, err == nil}
		if r.types == nil {
			r.types = map[string]parsedType{}
		}
		if len(r.types) < 1024 {
			r.types[x.typ] = p
		}
	}
	if !p.ok {
		r.st.UnknownTypeRows++
		return
	}
	rows := &c.History
	if x.status == string(emailsched.StatusPreScheduled) || x.status == string(emailsched.StatusSkipped) {
		rows = &c.Stored
	}
	status, _ := emailsched.ParseStatus(x.status)
	e := emailsched.Email{ID: x.id, ContactID: x.contact, Type: p.t, Date: x.date, Status: status,
		SkipReason: emailsched.SkipReason(x.skip), Priority: int(x.priority), Event: eventDate(int(x.year), int(x.month), int(x.day)),
		CampaignInstanceID: x.instance, EmailTemplate: x.template, SMSTemplate: x.sms, CatchUpNote: x.note,
		Metadata: x.metadata, RunID: x.run}
	if x.sent.Valid {
		e.SentAt = x.sent.Time
	}
	*rows = append(*rows, e)
	r.st.Rows++
}
