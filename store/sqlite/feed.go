package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/emailsched/emailsched"
)

// decoder turns email_schedules rows (see scheduleColumns) into Emails.
// Its vocabularies and parsed tables are read-only once learnt; its memo is
// not, so each goroutine decodes with its own clone.
type decoder struct {
	types, statuses, skips, templates, sms, runs, notes vocab
	// The parsed forms of some vocabularies, by code.
	typeOf   []parsedType
	statusOf []emailsched.Status
	// typeMemo memoises ParseEmailType for the types outside the
	// vocabulary, up to maxMemo of them.
	typeMemo map[string]parsedType
}

type parsedType struct {
	t  emailsched.EmailType
	ok bool
}

// maxMemo bounds typeMemo, so that a column of mostly distinct values
// cannot grow it without limit.
const maxMemo = 256

// learn parses the vocabularies' values once, for every row to look up.
func (d *decoder) learn() {
	d.typeOf = make([]parsedType, len(d.types.values))
	for i, v := range d.types.values {
		t, err := emailsched.ParseEmailType(v)
		d.typeOf[i] = parsedType{t, err == nil}
	}
	d.statusOf = make([]emailsched.Status, len(d.statuses.values))
	for i, v := range d.statuses.values {
		d.statusOf[i], _ = emailsched.ParseStatus(v)
	}
	d.typeMemo = nil
}

// clone returns a decoder sharing d's read-only tables, with a memo of its
// own.
func (d *decoder) clone() *decoder {
	c := *d
	c.typeMemo = nil
	return &c
}

// classify returns the row's email type, false when ParseEmailType does
// not know it, and whether the row belongs to the stored plan: only the
// exact statuses the sink's guards accept form the plan; a row spelt
// otherwise is history and is never touched.
func (d *decoder) classify(v []driver.Value) (t emailsched.EmailType, stored, ok bool) {
	if t, ok = d.emailType(v[colType]); !ok {
		return t, false, false
	}
	raw := d.statuses.text(v[colStatus])
	return t, raw == string(emailsched.StatusPreScheduled) || raw == string(emailsched.StatusSkipped), true
}

// fill sets e from the row, of type t; false when its date was unreadable
// (e.Date is then zero).
func (d *decoder) fill(e *emailsched.Email, t emailsched.EmailType, v []driver.Value) (dateOK bool) {
	e.Type = t
	e.ContactID, _ = integer(v[0])
	e.ID, _ = integer(v[1])
	e.Date, dateOK = rowDate(v[3])
	if n, ok := d.statuses.code(v[colStatus]); ok {
		e.Status = d.statusOf[n]
	} else {
		e.Status, _ = emailsched.ParseStatus(text(v[colStatus]))
	}
	e.SkipReason = emailsched.SkipReason(d.skips.text(v[colSkip]))
	p, _ := integer(v[6])
	e.Priority = int(p)
	e.CampaignInstanceID, _ = integer(v[7])
	e.EmailTemplate = d.templates.text(v[colTemplate])
	e.SMSTemplate = d.sms.text(v[colSMS])
	e.RunID = d.runs.text(v[colRun])
	e.Event = eventDate(v[11], v[12], v[13])
	e.CatchUpNote = d.notes.text(v[colNote])
	e.Metadata = text(v[15])
	if v[16] != nil {
		e.SentAt, _ = instant(v[16])
	}
	return dateOK && !e.Date.IsZero()
}

// emailType is ParseEmailType of the stored type.
func (d *decoder) emailType(v any) (emailsched.EmailType, bool) {
	if n, ok := d.types.code(v); ok {
		p := d.typeOf[n]
		return p.t, p.ok
	}
	s := text(v)
	if p, ok := d.typeMemo[s]; ok {
		return p.t, p.ok
	}
	t, err := emailsched.ParseEmailType(s)
	if d.typeMemo == nil {
		d.typeMemo = make(map[string]parsedType)
	}
	if len(d.typeMemo) < maxMemo {
		d.typeMemo[s] = parsedType{t, err == nil}
	}
	return t, err == nil
}

// A feed reads email_schedules on a second connection, on a goroutine of
// its own, and hands the decoded rows over in chunks. email_schedules holds
// most of the rows a stream reads (history and the stored plan, three or
// more per contact), so stepping and decoding it on the machine's other
// core takes most of the read off the goroutine that plans.
//
// The two connections read the same snapshot: newFeed notes the database's
// data_version on the second connection before the stream's transaction
// reads anything, and start compares it with the version inside the
// second connection's own transaction. data_version changes with every
// commit of another connection, so equal versions mean no commit came
// between the two snapshots, which are then the same. When they differ, or
// the second connection cannot serve, the stream reads the table on its
// own connection as it would without a feed.
type feed struct {
	ctx     context.Context
	conn    *sql.Conn
	version int64

	full chan *chunk // filled chunks, in order; closed after the last
	free chan *chunk // chunks the cursor has emptied
	quit chan struct{}
	done chan struct{} // closed when the goroutine has ended
	err  error         // what ended the rows early; read after full is closed
}

// chunk is a run of decoded rows.
type chunk struct {
	rows    []emailRow
	orphans int // rows before these whose contact id is not an integer
}

// emailRow is one decoded email_schedules row.
type emailRow struct {
	e      emailsched.Email
	kind   rowKind
	dateOK bool
}

type rowKind uint8

const (
	rowHistory rowKind = iota
	rowStored
	rowUnknownType
)

// Chunks of chunkRows rows, feedChunks of them: a channel operation per
// chunk rather than per row, and enough rows in flight (about a thousand
// contacts' worth, some 1.5 MiB) for either goroutine to be descheduled
// for a while without stopping the other.
const (
	chunkRows  = 512
	feedChunks = 8
)

// feedCacheKiB is the page cache of the feed's connection while it reads:
// the read walks the contact_id index and the rows it points to once, so a
// large cache would only add to the process's memory (the pool's
// connections have 64 MiB each, see Open). The connection's own size is
// restored before it goes back to the pool.
const feedCacheKiB = 8 << 10

// newFeed takes a second connection from db and notes the version of the
// database; nil when a second connection cannot serve the stream: a pool
// too small to lend one without risking a deadlock with the sink's, a
// database that is not a file (every connection to a private in-memory
// database has a database of its own), or any error.
func newFeed(ctx context.Context, db *sql.DB) *feed {
	if n := db.Stats().MaxOpenConnections; n != 0 && n < minPoolForFeed {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil
	}
	f := &feed{ctx: ctx, conn: conn}
	var file string
	err = conn.Raw(func(dc any) error {
		rc, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("the driver connection %T cannot run queries", dc)
		}
		if err := one(ctx, rc, "SELECT file FROM pragma_database_list WHERE name = 'main'", &file); err != nil {
			return err
		}
		return one(ctx, rc, "PRAGMA data_version", &f.version)
	})
	if err != nil || file == "" {
		conn.Close()
		return nil
	}
	return f
}

// minPoolForFeed is the smallest limit of open connections under which a
// stream takes a second one: the stream's two and the sink's writer, with
// one to spare.
const minPoolForFeed = 4

// one reads the single value of a one-row query into dst (*string or
// *int64).
func one[T string | int64](ctx context.Context, rc rawConn, q string, dst *T) error {
	rows, err := rc.QueryContext(ctx, q, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return err
	}
	x, ok := v[0].(T)
	if !ok {
		return fmt.Errorf("%s: %T", q, v[0])
	}
	*dst = x
	return nil
}

// start begins the second connection's read transaction, checks that its
// snapshot is the stream's and runs the query q on the goroutine. It
// returns the cursor over the decoded rows, or nil when the feed cannot
// serve (it has then stopped and released its connection). Rows are
// counted in st by the cursor, on the stream's goroutine.
func (f *feed) start(q string, args []driver.NamedValue, d *decoder, st *ReadStats) cursor {
	f.full = make(chan *chunk, feedChunks)
	f.free = make(chan *chunk, feedChunks)
	f.quit = make(chan struct{})
	f.done = make(chan struct{})
	for range feedChunks {
		f.free <- &chunk{rows: make([]emailRow, 0, chunkRows)}
	}
	started := make(chan bool, 1)
	go func() {
		defer close(f.done)
		defer f.conn.Close()
		f.conn.Raw(func(dc any) error {
			f.read(dc.(rawConn), q, args, d, started)
			return nil
		})
	}()
	if !<-started {
		<-f.done
		return nil
	}
	return &feedCursor{f: f, st: st}
}

// read is the goroutine: it checks the snapshot, says so on started, then
// reads and decodes every row into chunks.
func (f *feed) read(rc rawConn, q string, args []driver.NamedValue, d *decoder, started chan<- bool) {
	var cacheSize, version int64
	err := one(f.ctx, rc, "PRAGMA cache_size", &cacheSize)
	if err == nil {
		_, err = rc.ExecContext(f.ctx, fmt.Sprintf("PRAGMA cache_size = -%d", feedCacheKiB), nil)
		defer rc.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = %d", cacheSize), nil)
	}
	defer rc.ExecContext(context.Background(), "ROLLBACK", nil)
	if err == nil {
		_, err = rc.ExecContext(f.ctx, "BEGIN", nil)
	}
	if err == nil {
		err = one(f.ctx, rc, "PRAGMA data_version", &version)
	}
	var rows driver.Rows
	if err == nil && version == f.version {
		rows, err = rc.QueryContext(f.ctx, q, args)
	}
	if rows == nil {
		started <- false
		return
	}
	defer rows.Close()
	started <- true
	defer close(f.full)

	vals := make([]driver.Value, len(scheduleColumns))
	for {
		var ch *chunk
		select {
		case ch = <-f.free:
		case <-f.quit:
			return
		}
		ch.rows, ch.orphans = ch.rows[:0], 0
		for len(ch.rows) < chunkRows {
			if err = rows.Next(vals); err != nil {
				break
			}
			id, ok := vals[0].(int64)
			if !ok {
				ch.orphans++
				continue
			}
			ch.rows = append(ch.rows, emailRow{})
			row := &ch.rows[len(ch.rows)-1]
			t, stored, ok := d.classify(vals)
			switch {
			case !ok:
				row.kind, row.e.ContactID = rowUnknownType, id
				continue
			case stored:
				row.kind = rowStored
			}
			row.dateOK = d.fill(&row.e, t, vals)
		}
		if err != nil && err != io.EOF {
			f.err = err
		}
		select {
		case f.full <- ch:
		case <-f.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// stop ends the goroutine and waits for it to release its connection.
func (f *feed) stop() {
	if f.quit == nil { // never started
		f.conn.Close()
		return
	}
	close(f.quit)
	<-f.done
}

// feedCursor is the cursor over a feed's chunks, on the stream's
// goroutine.
type feedCursor struct {
	f   *feed
	st  *ReadStats
	ch  *chunk
	i   int
	end bool
}

func (c *feedCursor) next(orphans *int) {
	if c.ch != nil && c.i+1 < len(c.ch.rows) {
		c.i++
		return
	}
	for !c.end {
		if c.ch != nil {
			c.f.free <- c.ch // never blocks: there are feedChunks chunks
		}
		ch, ok := <-c.f.full
		if !ok {
			c.ch, c.end = nil, true
			return
		}
		*orphans += ch.orphans
		c.ch, c.i = ch, 0
		if len(ch.rows) > 0 {
			return
		}
	}
}

func (c *feedCursor) current() (int64, bool) {
	if c.ch == nil {
		return 0, false
	}
	return c.ch.rows[c.i].e.ContactID, true
}

func (c *feedCursor) add(ct *emailsched.Contact) {
	row := &c.ch.rows[c.i]
	switch row.kind {
	case rowUnknownType:
		c.st.UnknownTypeRows++
		return
	case rowStored:
		ct.Stored = append(ct.Stored, row.e)
	default:
		ct.History = append(ct.History, row.e)
	}
	if !row.dateOK {
		c.st.BadDateRows++
	}
	c.st.Rows++
}

func (c *feedCursor) err() error {
	if c.end {
		return c.f.err
	}
	return nil
}

// close is the reader's: it stops the feed.
func (c *feedCursor) close() {}
