package sqlite

import (
	"cmp"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
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
// The stream runs in one read transaction (a consistent snapshot; in WAL
// mode it does not block writers) on one connection, with one query per
// table, each ordered by contact id: contacts, email_schedules,
// tracking_clicks, contact_events (eligibility_answered only) and
// contact_campaigns. It merges them like a merge join, so memory does not
// grow with the number of contacts. Tables that do not exist are left out.
// The yielded *Contact is one reused buffer.
//
// Email rows whose status is exactly "pre-scheduled" or "skipped" form the
// contact's Stored plan; every other row is History (statuses are
// normalised by emailsched.ParseStatus). Rows with an unknown email_type are
// skipped, unreadable dates become zero dates, and unreadable contact dates
// become zero dates with a FieldIssue; ReadStats counts all of it. An
// event_year without a valid month and day reads as January 1 of that year,
// so that "already sent for this event year" still holds.
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
		r := &reader{ctx: ctx, conn: rc, st: st}
		defer r.close()
		if err := s.retry(ctx, "contacts", r.open); err != nil {
			return err
		}
		if err := r.run(yield); err != nil {
			return fmt.Errorf("sqlite: contacts: %w", err)
		}
		return nil
	})
}

// reader is one stream: its queries, open in one read transaction, and
// what it knows of the values.
type reader struct {
	ctx     context.Context
	conn    rawConn
	st      *ReadStats
	main    driver.Rows // contacts
	cursors []*cursor   // the per-contact tables

	// Vocabularies of the columns read through one (see vocab); the
	// others' are empty.
	state, carrier                                      vocab
	types, statuses, skips, templates, sms, runs, notes vocab
	answers                                             vocab // contact_events.metadata
	// The parsed forms of some vocabularies, by code.
	typeOf    []parsedType
	statusOf  []emailsched.Status
	medicalOf []bool
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

// cursor walks one query ordered by contact_id; the first column of every
// query is the contact id.
type cursor struct {
	rows driver.Rows
	vals []driver.Value
	key  int64
	ok   bool
	err  error
	add  func(c *emailsched.Contact, v []driver.Value)
}

// next moves to the next row with an integer contact id, counting the
// others in orphans.
func (c *cursor) next(orphans *int) {
	for {
		if err := c.rows.Next(c.vals); err != nil {
			c.ok = false
			if err != io.EOF {
				c.err = err
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

// close closes the queries and ends the transaction, even after ctx ended.
func (r *reader) close() {
	for _, c := range r.cursors {
		c.rows.Close()
	}
	r.cursors = nil
	if r.main != nil {
		r.main.Close()
		r.main = nil
	}
	_, _ = r.conn.ExecContext(context.Background(), "ROLLBACK", nil)
}

// open begins the read transaction, learns the vocabularies and opens the
// queries of the tables that exist. It leaves nothing open when it fails.
func (r *reader) open() (err error) {
	r.close()
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if _, err := r.conn.ExecContext(r.ctx, "BEGIN", nil); err != nil {
		return err
	}
	cols, err := r.columns("contacts")
	if err != nil {
		return err
	}
	contact := slices.Clone(contactColumns)
	if _, ok := cols["do_not_communicate"]; !ok {
		contact[7] = "0"
	}
	vocabs := map[int]*vocab{colState: &r.state, colCarrier: &r.carrier}
	r.sample("contacts", cols, contact, vocabs)
	var q query
	main := q.build("contacts", contact, "", "id", vocabs)

	children := []struct {
		table, where string
		cols         []string
		vocabs       map[int]*vocab
		add          func(*emailsched.Contact, []driver.Value)
	}{
		{"email_schedules", "", scheduleColumns, map[int]*vocab{colType: &r.types, colStatus: &r.statuses,
			colSkip: &r.skips, colTemplate: &r.templates, colSMS: &r.sms, colRun: &r.runs, colNote: &r.notes}, r.addEmail},
		{"tracking_clicks", "", clickColumns, nil, r.addClick},
		{"contact_events", "event_type = 'eligibility_answered'", eventColumns, map[int]*vocab{2: &r.answers}, r.addAnswer},
		{"contact_campaigns", "", targetColumns, nil, r.addTarget},
	}
	for _, ch := range children {
		cols, err := r.columns(ch.table)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			continue
		}
		r.sample(ch.table, cols, ch.cols, ch.vocabs)
		var q query
		rows, err := r.conn.QueryContext(r.ctx, q.build(ch.table, ch.cols, ch.where, "contact_id", ch.vocabs), q.args)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.table, err)
		}
		r.cursors = append(r.cursors, &cursor{rows: rows, vals: make([]driver.Value, len(ch.cols)), add: ch.add})
	}
	if r.main, err = r.conn.QueryContext(r.ctx, main, q.args); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}

	// What the rows would parse over and over, parsed once.
	r.typeOf = make([]parsedType, len(r.types.values))
	for i, v := range r.types.values {
		t, err := emailsched.ParseEmailType(v)
		r.typeOf[i] = parsedType{t, err == nil}
	}
	r.statusOf = make([]emailsched.Status, len(r.statuses.values))
	for i, v := range r.statuses.values {
		r.statusOf[i], _ = emailsched.ParseStatus(v)
	}
	r.medicalOf = make([]bool, len(r.answers.values))
	for i, v := range r.answers.values {
		r.medicalOf[i] = medicalConditions(v)
	}
	return nil
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

// run merges the queries into contacts and yields them.
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
		c.Reset()
		c.ID, _ = integer(vals[0])
		c.Email = text(vals[1])
		c.ZIP = zip(vals[2])
		c.State = r.state.text(vals[colState])
		c.Birthday = contactDate(&c, emailsched.FieldBirthday, vals[4])
		c.EffectiveDate = contactDate(&c, emailsched.FieldEffectiveDate, vals[5])
		c.Carrier = r.carrier.text(vals[colCarrier])
		c.DoNotCommunicate = flag(vals[7], false)
		for _, cur := range r.cursors {
			for cur.ok && cur.key < c.ID {
				st.OrphanRows++
				cur.next(&st.OrphanRows)
			}
			for cur.ok && cur.key == c.ID {
				cur.add(&c, cur.vals)
				cur.next(&st.OrphanRows)
			}
			if cur.err != nil {
				return cur.err
			}
		}
		st.Contacts++
		st.FieldIssues += len(c.Issues)
		if !yield(&c, nil) {
			return nil
		}
	}
	for _, cur := range r.cursors {
		for cur.ok {
			st.OrphanRows++
			cur.next(&st.OrphanRows)
		}
		if cur.err != nil {
			return cur.err
		}
	}
	return nil
}

// addEmail adds one email_schedules row (see scheduleColumns) to c.
func (r *reader) addEmail(c *emailsched.Contact, v []driver.Value) {
	t, ok := r.emailType(v[colType])
	if !ok {
		r.st.UnknownTypeRows++
		return
	}
	raw := r.statuses.text(v[colStatus])
	// Only the exact statuses the sink's guards accept form the plan; a
	// row spelt otherwise is history and is never touched.
	rows := &c.History
	if raw == string(emailsched.StatusPreScheduled) || raw == string(emailsched.StatusSkipped) {
		rows = &c.Stored
	}
	// Filled in place: an Email is some 200 bytes, not worth copying twice.
	*rows = append(*rows, emailsched.Email{})
	e := &(*rows)[len(*rows)-1]
	e.Type, e.ContactID = t, c.ID
	e.ID, _ = integer(v[1])
	if e.Date, ok = rowDate(v[3]); !ok || e.Date.IsZero() {
		r.st.BadDateRows++
	}
	if n, ok := r.statuses.code(v[colStatus]); ok {
		e.Status = r.statusOf[n]
	} else {
		e.Status, _ = emailsched.ParseStatus(raw)
	}
	e.SkipReason = emailsched.SkipReason(r.skips.text(v[colSkip]))
	p, _ := integer(v[6])
	e.Priority = int(p)
	e.CampaignInstanceID, _ = integer(v[7])
	e.EmailTemplate = r.templates.text(v[colTemplate])
	e.SMSTemplate = r.sms.text(v[colSMS])
	e.RunID = r.runs.text(v[colRun])
	e.Event = eventDate(v[11], v[12], v[13])
	e.CatchUpNote = r.notes.text(v[colNote])
	e.Metadata = text(v[15])
	if v[16] != nil {
		e.SentAt, _ = instant(v[16])
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

// emailType is ParseEmailType of the stored type.
func (r *reader) emailType(v any) (emailsched.EmailType, bool) {
	if n, ok := r.types.code(v); ok {
		p := r.typeOf[n]
		return p.t, p.ok
	}
	s := text(v)
	if p, ok := r.typeMemo[s]; ok {
		return p.t, p.ok
	}
	t, err := emailsched.ParseEmailType(s)
	if r.typeMemo == nil {
		r.typeMemo = make(map[string]parsedType)
	}
	if len(r.typeMemo) < maxMemo {
		r.typeMemo[s] = parsedType{t, err == nil}
	}
	return t, err == nil
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

// build returns the query of cols of table, each read through its
// vocabulary in vocabs (by index in cols) when that has values.
func (q *query) build(table string, cols []string, where, order string, vocabs map[int]*vocab) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		vc := vocabs[i]
		if vc == nil || len(vc.values) == 0 {
			b.WriteString(c)
			continue
		}
		// NULL first: it would be compared with every value.
		b.WriteString("CASE WHEN " + c + " IS NULL THEN NULL ELSE CASE " + c)
		for k, v := range vc.values {
			q.args = append(q.args, driver.NamedValue{Ordinal: len(q.args) + 1, Value: v})
			fmt.Fprintf(&b, " WHEN ?%d THEN %d", len(q.args), k+1)
		}
		b.WriteString(" ELSE " + c + " END END")
	}
	b.WriteString(" FROM " + table)
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	b.WriteString(" ORDER BY " + order)
	return b.String()
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
