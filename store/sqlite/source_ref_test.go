package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"github.com/emailsched/emailsched"
)

// This file keeps the straightforward reader the source replaced: one
// database/sql query per table, every column scanned into an any and
// converted with the helpers of values.go, in one read transaction.
// TestSourceMatchesReference checks that the source yields exactly what it
// yields, in one transaction or in chunks. Contacts are ordered here, in
// Go, by an id parsed in Go; rows whose contact no longer exists become
// deleted contacts when some of them are planned rows.

const (
	refContactsQuery = `SELECT %s, id, email, zip_code, state, CAST(birth_date AS TEXT), CAST(effective_date AS TEXT),
		current_carrier, %s FROM contacts`
	refSchedulesQuery = `SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules ORDER BY contact_id`
	refClicksQuery  = `SELECT contact_id, CAST(clicked_at AS TEXT) FROM tracking_clicks ORDER BY contact_id`
	refEventsQuery  = `SELECT contact_id, CAST(created_at AS TEXT), metadata FROM contact_events WHERE event_type = 'eligibility_answered' ORDER BY contact_id`
	refTargetsQuery = `SELECT contact_id, campaign_instance_id, CAST(trigger_date AS TEXT), status FROM contact_campaigns ORDER BY contact_id`
)

type refCursor struct {
	rows *sql.Rows
	vals []any
	ptrs []any
	key  int64
	ok   bool
	err  error
	add  func(c *emailsched.Contact, v []any)
}

func (c *refCursor) next(orphans *int) {
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

// refRead returns every contact (deep copies) and the stats of the stream.
func refRead(ctx context.Context, db *sql.DB) ([]emailsched.Contact, ReadStats, error) {
	st := ReadStats{Chunks: 1}
	var out []emailsched.Contact
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, st, err
	}
	defer tx.Rollback()
	cols, err := tableColumns(ctx, tx, "contacts")
	if err != nil {
		return nil, st, err
	}
	dnc := "0"
	if cols["do_not_communicate"] {
		dnc = "do_not_communicate"
	}
	children := []struct {
		table, query string
		n            int
		add          func(*emailsched.Contact, []any)
	}{
		{"email_schedules", refSchedulesQuery, 17, func(c *emailsched.Contact, v []any) { refAddEmail(&st, c, v) }},
		{"tracking_clicks", refClicksQuery, 2, func(c *emailsched.Contact, v []any) {
			at, _ := timestamp(v[1])
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementClick, At: at})
			st.Clicks++
		}},
		{"contact_events", refEventsQuery, 3, func(c *emailsched.Contact, v []any) {
			at, _ := timestamp(v[1])
			c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer, At: at,
				MedicalConditions: medicalConditions(v[2])})
			st.HealthAnswers++
		}},
		{"contact_campaigns", refTargetsQuery, 4, func(c *emailsched.Contact, v []any) {
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
	var cursors []*refCursor
	emails := false // cursors[0] is email_schedules
	defer func() {
		for _, c := range cursors {
			c.rows.Close()
		}
	}()
	for _, ch := range children {
		cols, err := tableColumns(ctx, tx, ch.table)
		if err != nil {
			return nil, st, err
		}
		if len(cols) == 0 {
			continue
		}
		rows, err := tx.QueryContext(ctx, ch.query)
		if err != nil {
			return nil, st, err
		}
		c := &refCursor{rows: rows, vals: make([]any, ch.n), ptrs: make([]any, ch.n), add: ch.add}
		for i := range c.vals {
			c.ptrs[i] = &c.vals[i]
		}
		cursors = append(cursors, c)
		emails = emails || ch.table == "email_schedules"
		c.next(&st.OrphanRows)
	}
	rowid := "rowid"
	if _, err := tx.QueryContext(ctx, "SELECT rowid FROM contacts LIMIT 0"); err != nil {
		rowid = "0"
	}
	main, err := tx.QueryContext(ctx, fmt.Sprintf(refContactsQuery, rowid, dnc))
	if err != nil {
		return nil, st, err
	}
	defer main.Close()
	type row struct {
		rowid, id int64
		vals      []any
	}
	var contacts []row
	for main.Next() {
		vals := make([]any, 9)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := main.Scan(ptrs...); err != nil {
			return nil, st, err
		}
		id, ok := refID(vals[1])
		if !ok {
			st.InvalidIDs++
			continue
		}
		r, _ := vals[0].(int64)
		contacts = append(contacts, row{rowid: r, id: id, vals: vals[1:]})
	}
	if err := main.Err(); err != nil {
		return nil, st, err
	}
	slices.SortStableFunc(contacts, func(a, b row) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.rowid, b.rowid)) })
	// gone takes the rows of a contact that no longer exists: a deleted
	// contact when some are planned.
	gone := func(cur *refCursor) {
		g := emailsched.Contact{ID: cur.key}
		for key := cur.key; cur.ok && cur.key == key; {
			st.OrphanRows++
			cur.add(&g, cur.vals)
			cur.next(&st.OrphanRows)
		}
		if len(g.Stored) > 0 {
			g.History, g.Deleted = nil, true
			st.DeletedContacts++
			out = append(out, g)
		}
	}
	for i, r := range contacts {
		if i > 0 && r.id == contacts[i-1].id {
			st.DuplicateIDs++
			continue
		}
		vals := r.vals
		var c emailsched.Contact
		c.ID = r.id
		c.Email = text(vals[1])
		c.ZIP = zip(vals[2])
		c.State = text(vals[3])
		c.Birthday = date(&c, emailsched.FieldBirthday, vals[4])
		c.EffectiveDate = date(&c, emailsched.FieldEffectiveDate, vals[5])
		c.Carrier = text(vals[6])
		c.DoNotCommunicate = flag(vals[7], false)
		for k, cur := range cursors {
			for cur.ok && cur.key < c.ID {
				if k == 0 && emails {
					gone(cur)
					continue
				}
				st.OrphanRows++
				cur.next(&st.OrphanRows)
			}
			for cur.ok && cur.key == c.ID {
				cur.add(&c, cur.vals)
				cur.next(&st.OrphanRows)
			}
			if cur.err != nil {
				return nil, st, cur.err
			}
		}
		st.Contacts++
		st.FieldIssues += len(c.Issues)
		out = append(out, c)
	}
	for k, cur := range cursors {
		for cur.ok {
			if k == 0 && emails {
				gone(cur)
				continue
			}
			st.OrphanRows++
			cur.next(&st.OrphanRows)
		}
		if cur.err != nil {
			return nil, st, cur.err
		}
	}
	slices.SortStableFunc(out, func(a, b emailsched.Contact) int { return cmp.Compare(a.ID, b.ID) })
	return out, st, nil
}

// refID reads a contact id: an integer, or a text that is exactly the
// decimal form of one.
func refID(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil && strconv.FormatInt(n, 10) == x
	}
	return 0, false // NULL, a real, a blob
}

func refAddEmail(st *ReadStats, c *emailsched.Contact, v []any) {
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
	if raw == string(emailsched.StatusPreScheduled) || raw == string(emailsched.StatusSkipped) {
		c.Stored = append(c.Stored, e)
	} else {
		c.History = append(c.History, e)
	}
}
