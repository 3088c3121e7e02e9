package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
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

// cursor walks one query ordered by contact_id; the first column of every
// query is the contact id.
type cursor struct {
	rows *sql.Rows
	vals []any
	ptrs []any
	key  int64
	ok   bool
	err  error
	add  func(c *emailsched.Contact, v []any)
}

func newCursor(rows *sql.Rows, n int, add func(*emailsched.Contact, []any)) *cursor {
	c := &cursor{rows: rows, vals: make([]any, n), ptrs: make([]any, n), add: add}
	for i := range c.vals {
		c.ptrs[i] = &c.vals[i]
	}
	return c
}

// next moves to the next row with an integer contact id, counting the
// others in orphans.
func (c *cursor) next(orphans *int) {
	for c.rows.Next() {
		if err := c.rows.Scan(c.ptrs...); err != nil {
			c.err, c.ok = err, false
			return
		}
		if id, ok := c.vals[0].(int64); ok {
			c.key, c.ok = id, true
			return
		}
		*orphans++
	}
	c.ok, c.err = false, c.rows.Err()
}

// The queries of a stream. Date and time columns are read through CAST(...
// AS TEXT) so that the driver never converts them to time.Time by their
// declared type (which loses unreadable values).
const (
	contactsQuery = `SELECT id, email, zip_code, state, CAST(birth_date AS TEXT), CAST(effective_date AS TEXT),
		current_carrier, %s FROM contacts ORDER BY id`
	schedulesQuery = `SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules ORDER BY contact_id`
	clicksQuery  = `SELECT contact_id, CAST(clicked_at AS TEXT) FROM tracking_clicks ORDER BY contact_id`
	eventsQuery  = `SELECT contact_id, CAST(created_at AS TEXT), metadata FROM contact_events WHERE event_type = 'eligibility_answered' ORDER BY contact_id`
	targetsQuery = `SELECT contact_id, campaign_instance_id, CAST(trigger_date AS TEXT), status FROM contact_campaigns ORDER BY contact_id`
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

// errStop ends a stream whose consumer broke out of the loop.
type errStop struct{}

func (errStop) Error() string { return "stop" }

func (s *Store) stream(ctx context.Context, st *ReadStats, yield func(*emailsched.Contact, error) bool) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: contacts: %w", err)
	}
	defer conn.Close()

	var cursors []*cursor
	var main *sql.Rows
	closeAll := func() {
		for _, c := range cursors {
			c.rows.Close()
		}
		cursors = nil
		if main != nil {
			main.Close()
			main = nil
		}
	}
	defer func() {
		closeAll()
		rollback(conn)
	}()

	err = s.retry(ctx, "contacts", func() error {
		closeAll()
		rollback(conn)
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			return err
		}
		var err error
		main, cursors, err = s.openQueries(ctx, conn, st)
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range cursors {
		c.next(&st.OrphanRows)
	}

	var c emailsched.Contact
	vals := make([]any, 8)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for main.Next() {
		if err := main.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlite: contacts: %w", err)
		}
		c.Reset()
		c.ID, _ = integer(vals[0])
		c.Email = text(vals[1])
		c.ZIP = zip(vals[2])
		c.State = text(vals[3])
		c.Birthday = date(&c, emailsched.FieldBirthday, vals[4])
		c.EffectiveDate = date(&c, emailsched.FieldEffectiveDate, vals[5])
		c.Carrier = text(vals[6])
		c.DoNotCommunicate = flag(vals[7], false)
		for _, cur := range cursors {
			for cur.ok && cur.key < c.ID {
				st.OrphanRows++
				cur.next(&st.OrphanRows)
			}
			for cur.ok && cur.key == c.ID {
				cur.add(&c, cur.vals)
				cur.next(&st.OrphanRows)
			}
			if cur.err != nil {
				return fmt.Errorf("sqlite: contacts: %w", cur.err)
			}
		}
		st.Contacts++
		st.FieldIssues += len(c.Issues)
		if !yield(&c, nil) {
			return nil
		}
	}
	if err := main.Err(); err != nil {
		return fmt.Errorf("sqlite: contacts: %w", err)
	}
	for _, cur := range cursors {
		for cur.ok {
			st.OrphanRows++
			cur.next(&st.OrphanRows)
		}
		if cur.err != nil {
			return fmt.Errorf("sqlite: contacts: %w", cur.err)
		}
	}
	return nil
}

func (s *Store) openQueries(ctx context.Context, conn *sql.Conn, st *ReadStats) (*sql.Rows, []*cursor, error) {
	cols, err := tableColumns(ctx, conn, "contacts")
	if err != nil {
		return nil, nil, err
	}
	dnc := "0"
	if cols["do_not_communicate"] {
		dnc = "do_not_communicate"
	}
	var cursors []*cursor
	fail := func(err error) (*sql.Rows, []*cursor, error) {
		for _, c := range cursors {
			c.rows.Close()
		}
		return nil, nil, err
	}
	type child struct {
		table, query string
		n            int
		add          func(*emailsched.Contact, []any)
	}
	children := []child{
		{"email_schedules", schedulesQuery, 17, func(c *emailsched.Contact, v []any) { addEmail(st, c, v) }},
		{"tracking_clicks", clicksQuery, 2, func(c *emailsched.Contact, v []any) {
			at, _ := timestamp(v[1])
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementClick, At: at})
			st.Clicks++
		}},
		{"contact_events", eventsQuery, 3, func(c *emailsched.Contact, v []any) {
			at, _ := timestamp(v[1])
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer, At: at,
				MedicalConditions: medicalConditions(v[2])})
			st.HealthAnswers++
		}},
		{"contact_campaigns", targetsQuery, 4, func(c *emailsched.Contact, v []any) {
			id, ok1 := integer(v[1])
			d, ok2 := plainDate(v[2])
			if !ok1 || !ok2 || id == 0 || d.IsZero() {
				st.BadTargets++
				return
			}
			c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: id, Trigger: d, Status: text(v[3])})
			st.Targets++
		}},
	}
	for _, ch := range children {
		cols, err := tableColumns(ctx, conn, ch.table)
		if err != nil {
			return fail(err)
		}
		if len(cols) == 0 {
			continue
		}
		rows, err := conn.QueryContext(ctx, ch.query)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", ch.table, err))
		}
		cursors = append(cursors, newCursor(rows, ch.n, ch.add))
	}
	main, err := conn.QueryContext(ctx, fmt.Sprintf(contactsQuery, dnc))
	if err != nil {
		return fail(fmt.Errorf("contacts: %w", err))
	}
	return main, cursors, nil
}

// addEmail adds one email_schedules row (see schedulesQuery) to c.
func addEmail(st *ReadStats, c *emailsched.Contact, v []any) {
	t, err := emailsched.ParseEmailType(text(v[2]))
	if err != nil {
		st.UnknownTypeRows++
		return
	}
	e := emailsched.Email{Type: t, ContactID: c.ID}
	e.ID, _ = integer(v[1])
	var ok bool
	if e.Date, ok = plainDate(v[3]); !ok || e.Date.IsZero() {
		st.BadDateRows++
	}
	raw := text(v[4])
	e.Status, _ = emailsched.ParseStatus(raw)
	e.SkipReason = emailsched.SkipReason(text(v[5]))
	p, _ := integer(v[6])
	e.Priority = int(p)
	e.CampaignInstanceID, _ = integer(v[7])
	e.EmailTemplate = text(v[8])
	e.SMSTemplate = text(v[9])
	e.RunID = text(v[10])
	e.Event = eventDate(v[11], v[12], v[13])
	e.CatchUpNote = text(v[14])
	e.Metadata = text(v[15])
	if v[16] != nil {
		e.SentAt, _ = timestamp(v[16])
	}
	st.Rows++
	// Only the exact statuses the sink's guards accept form the plan; a
	// row spelt otherwise is history and is never touched.
	if raw == string(emailsched.StatusPreScheduled) || raw == string(emailsched.StatusSkipped) {
		c.Stored = append(c.Stored, e)
	} else {
		c.History = append(c.History, e)
	}
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
