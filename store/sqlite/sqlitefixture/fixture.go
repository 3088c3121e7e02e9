// Package sqlitefixture writes organisation databases in the real schema
// for tests, benchmarks and demos: deterministic (a seed), fast (batched
// inserts in one transaction) and as dirty as the databases in the field.
//
// Contacts come from storetest.GenerateSeq (or any sequence, see Write) and
// are written with raw values that a careful reader must cope with but that
// read back to the same contacts: dates with a " 00:00:00" time part,
// missing values as NULL or as "", the raw text of unreadable dates, ZIP+4,
// lower-case and padded states, and legacy upper-case email types
// (BIRTHDAY, SCHEDULED_RATE_INCREASE, ...) in history rows.
//
//	err := sqlitefixture.Create(ctx, "org-001.sqlite3", sqlitefixture.Options{
//		Gen:   storetest.GenOptions{Seed: 1, Contacts: 100_000},
//		Shape: sqlitefixture.Full, ProductionIndexes: true,
//	})
package sqlitefixture

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store/storetest"
)

// Shape selects the tables of the database.
type Shape int

const (
	// Full has contacts (with do_not_communicate), email_schedules,
	// campaign_types, campaign_instances, contact_campaigns,
	// tracking_clicks, contact_events and an older system's
	// scheduler_checkpoints.
	Full Shape = iota
	// Old has only contacts and email_schedules, the latter without
	// scheduler_run_id, catchup_note and metadata. Engagement, campaign
	// targets and those row fields are not written.
	Old
)

// Unique selects the unique index of email_schedules (SPEC §9).
type Unique int

const (
	NoUnique        Unique = iota
	UniqueEventYear        // (contact_id, email_type, event_year)
	UniqueSendDate         // (contact_id, email_type, scheduled_send_date)
)

// Options describe a database.
type Options struct {
	// Gen generates the contacts (storetest.GenerateSeq). With Shape Full
	// and no Gen.Campaigns, storetest.DemoCampaigns(Gen.Today) is used.
	Gen   storetest.GenOptions
	Shape Shape
	// ProductionIndexes adds the production index set (ten indexes on
	// email_schedules, a few on the other tables).
	ProductionIndexes bool
	Unique            Unique
}

// Create writes a new database file at path (it must not exist) with the
// contacts of opts.Gen, then the indexes. The file is left in WAL mode.
func Create(ctx context.Context, path string, opts Options) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlitefixture: %s exists", path)
	}
	// Loading a new file needs no journal; the finished database is
	// switched to WAL, the mode of organisation databases.
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=OFF&_synchronous=OFF&_cache_size=-262144&_busy_timeout=5000")
	if err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	defer db.Close()
	gen := opts.Gen
	if opts.Shape == Full && len(gen.Campaigns.Instances) == 0 {
		gen.Campaigns = storetest.DemoCampaigns(gen.Today)
	}
	if err := CreateSchema(ctx, db, opts.Shape); err != nil {
		return err
	}
	if err := Write(ctx, db, storetest.GenerateSeq(gen), gen.Campaigns, opts.Unique); err != nil {
		return err
	}
	if err := CreateIndexes(ctx, db, opts); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	return nil
}

// CreateSchema creates the tables of shape in an empty database.
func CreateSchema(ctx context.Context, db *sql.DB, shape Shape) error {
	stmts := []string{oldContacts + "\n)", oldSchedules + "\n)"}
	if shape == Full {
		stmts = []string{oldContacts + ",\n    do_not_communicate BOOLEAN DEFAULT FALSE\n)", oldSchedules + fullSchedulesExtra + "\n)"}
		stmts = append(stmts, fullTables...)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlitefixture: schema: %w", err)
		}
	}
	return nil
}

// CreateIndexes adds the unique index and, if asked, the production index
// set. Creating indexes after the data is the fast way to load a database.
func CreateIndexes(ctx context.Context, db *sql.DB, opts Options) error {
	var stmts []string
	switch opts.Unique {
	case UniqueEventYear:
		stmts = append(stmts, uniqueEventYearIndex)
	case UniqueSendDate:
		stmts = append(stmts, uniqueSendDateIndex)
	}
	if opts.ProductionIndexes {
		stmts = append(stmts, productionIndexes...)
		if opts.Shape == Full {
			stmts = append(stmts, productionFullIndexes...)
		}
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlitefixture: index: %w", err)
		}
	}
	return nil
}

// Write inserts contacts (with their History and Stored rows, engagement
// and campaign targets) and the campaign catalogue into the tables of a
// database made by CreateSchema (or migrated by store/sqlite), in one
// transaction, writing only the columns and tables that exist. Rows with
// an ID keep it. A contact's Issues give the raw text of its unreadable
// dates. With a unique index u, a row whose key the contact's earlier rows
// already hold is left out, so that the index can be created.
func Write(ctx context.Context, db *sql.DB, contacts iter.Seq[*emailsched.Contact], camps emailsched.Campaigns, u Unique) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	w, err := newWriter(ctx, conn)
	if err != nil {
		return err
	}
	w.unique = u
	for c := range contacts {
		if err := w.contact(ctx, c); err != nil {
			return err
		}
	}
	if err := w.campaigns(ctx, camps); err != nil {
		return err
	}
	for _, b := range w.all {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	return nil
}

type writer struct {
	contacts, schedules, clicks, events, targets *bulk
	all                                          []*bulk
	unique                                       Unique
	keys                                         []string
}

func newWriter(ctx context.Context, conn *sql.Conn) (*writer, error) {
	w := &writer{}
	cols := func(table string) (map[string]bool, error) {
		rows, err := conn.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			return nil, fmt.Errorf("sqlitefixture: %w", err)
		}
		defer rows.Close()
		m := map[string]bool{}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return nil, err
			}
			m[n] = true
		}
		return m, rows.Err()
	}
	mk := func(table string, want ...string) (*bulk, error) {
		have, err := cols(table)
		if err != nil || len(have) == 0 {
			return nil, err
		}
		b := &bulk{conn: conn, table: table}
		for _, c := range want {
			b.keep = append(b.keep, have[c])
			if have[c] {
				b.cols = append(b.cols, c)
			}
		}
		w.all = append(w.all, b)
		return b, nil
	}
	var err error
	if w.contacts, err = mk("contacts", "id", "first_name", "last_name", "email", "current_carrier", "plan_type",
		"effective_date", "birth_date", "gender", "state", "zip_code", "created_at", "updated_at", "status", "do_not_communicate"); err != nil {
		return nil, err
	}
	if w.contacts == nil {
		return nil, errors.New("sqlitefixture: no contacts table")
	}
	if w.schedules, err = mk("email_schedules", "id", "contact_id", "email_type", "scheduled_send_date", "scheduled_send_time",
		"status", "skip_reason", "priority", "campaign_instance_id", "email_template", "sms_template", "scheduler_run_id",
		"event_year", "event_month", "event_day", "catchup_note", "metadata", "actual_send_datetime", "created_at", "updated_at"); err != nil {
		return nil, err
	}
	if w.schedules == nil {
		return nil, errors.New("sqlitefixture: no email_schedules table")
	}
	if w.clicks, err = mk("tracking_clicks", "contact_id", "message_id", "url", "clicked_at"); err != nil {
		return nil, err
	}
	if w.events, err = mk("contact_events", "contact_id", "event_type", "metadata", "created_at"); err != nil {
		return nil, err
	}
	if w.targets, err = mk("contact_campaigns", "contact_id", "campaign_instance_id", "trigger_date", "status", "created_at", "updated_at"); err != nil {
		return nil, err
	}
	return w, nil
}

// h is a small deterministic hash of a contact id and a salt, deciding the
// kind of dirt of each value.
func h(id int64, salt uint64) uint64 {
	x := uint64(id)*0x9e3779b97f4a7c15 ^ salt*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	return x ^ x>>29
}

// missing is NULL or "" for a missing text value.
func missing(id int64, salt uint64) any {
	if h(id, salt)%2 == 0 {
		return nil
	}
	return ""
}

// rawDate writes a date with, sometimes, a time part; an unreadable one
// from the contact's issues; a missing one as NULL or "".
func (w *writer) rawDate(c *emailsched.Contact, field string, d datecalc.Date, salt uint64) any {
	for _, is := range c.Issues {
		if is.Field == field {
			return is.Value
		}
	}
	if d.IsZero() {
		return missing(c.ID, salt)
	}
	if h(c.ID, salt)%10 == 0 {
		return d.String() + " 00:00:00"
	}
	return d.String()
}

func textOrMissing(id int64, salt uint64, s string) any {
	if s == "" {
		return missing(id, salt)
	}
	return s
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

var legacy = map[emailsched.EmailType]string{
	emailsched.TypeBirthday: "BIRTHDAY", emailsched.TypeEffectiveDate: "EFFECTIVE_DATE",
	emailsched.TypeAEP: "AEP", emailsched.TypePostWindow: "POST_WINDOW",
	"campaign_rate_increase": "SCHEDULED_RATE_INCREASE",
}

const stamp = "2006-01-02 15:04:05"

// fixedStamp fills created_at and updated_at, so that a seed gives the
// same bytes every time.
const fixedStamp = "2024-01-01 00:00:00"

func (w *writer) contact(ctx context.Context, c *emailsched.Contact) error {
	first, last, _ := strings.Cut(c.Email, ".")
	last, _, _ = strings.Cut(last, "@")
	dnc := any(int64(0))
	if c.DoNotCommunicate {
		dnc = int64(1)
	}
	created := "2020-01-01 09:00:00"
	if err := w.contacts.add(ctx, c.ID, nullText(first), nullText(last), textOrMissing(c.ID, 1, c.Email),
		textOrMissing(c.ID, 2, c.Carrier), "Plan G",
		w.rawDate(c, emailsched.FieldEffectiveDate, c.EffectiveDate, 3), w.rawDate(c, emailsched.FieldBirthday, c.Birthday, 4),
		nil, textOrMissing(c.ID, 5, c.State), textOrMissing(c.ID, 6, c.ZIP), created, created, "active", dnc); err != nil {
		return err
	}
	w.keys = w.keys[:0]
	for _, rows := range [][]emailsched.Email{c.History, c.Stored} {
		for i := range rows {
			if err := w.email(ctx, c.ID, &rows[i], uint64(i)); err != nil {
				return err
			}
		}
	}
	for _, e := range c.Engagement {
		at := e.At.UTC().Format(stamp)
		switch e.Kind {
		case emailsched.EngagementClick:
			if w.clicks != nil {
				if err := w.clicks.add(ctx, c.ID, nil, "https://example.com/plans", at); err != nil {
					return err
				}
			}
		case emailsched.EngagementHealthAnswer:
			if w.events != nil {
				md := `{"has_medical_conditions":false,"main_questions_yes_count":0}`
				if e.MedicalConditions {
					md = `{"has_medical_conditions":true,"main_questions_yes_count":2}`
					if h(c.ID, 7)%2 == 0 {
						md = `{"main_questions_yes_count":1}`
					}
				}
				if err := w.events.add(ctx, c.ID, "eligibility_answered", md, at); err != nil {
					return err
				}
			}
		}
	}
	if w.events != nil && h(c.ID, 8)%20 == 0 { // other events are not engagement
		if err := w.events.add(ctx, c.ID, "email_opened", `{"x":1}`, "2024-01-01 00:00:00"); err != nil {
			return err
		}
	}
	if w.targets != nil {
		for _, t := range c.Campaigns {
			if err := w.targets.add(ctx, c.ID, t.InstanceID, t.Trigger.String(), t.Status, fixedStamp, fixedStamp); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *writer) email(ctx context.Context, contact int64, e *emailsched.Email, i uint64) error {
	typ := string(e.Type)
	if l, ok := legacy[e.Type]; ok && !e.Status.IsPlanned() && h(contact, 10+i)%3 == 0 {
		typ = l
	}
	date := any(nil)
	if !e.Date.IsZero() {
		date = e.Date.String()
		if h(contact, 20+i)%8 == 0 {
			date = e.Date.String() + " 00:00:00"
		}
	}
	var ey, em, ed any
	if !e.Event.IsZero() {
		y, m, d := e.Event.Date()
		ey, em, ed = int64(y), int64(m), int64(d)
	}
	var sent any
	if !e.SentAt.IsZero() {
		sent = e.SentAt.UTC().Format(stamp)
	}
	if w.unique != NoUnique {
		key := typ + "|" + fmt.Sprint(ey)
		if w.unique == UniqueSendDate {
			key = typ + "|" + fmt.Sprint(date)
		}
		if slices.Contains(w.keys, key) {
			return nil
		}
		w.keys = append(w.keys, key)
	}
	created := "2024-01-01 00:00:00"
	return w.schedules.add(ctx, nullInt(e.ID), contact, typ, date, "08:30:00", string(e.Status), nullText(string(e.SkipReason)),
		int64(e.Priority), nullInt(e.CampaignInstanceID), nullText(e.EmailTemplate), nullText(e.SMSTemplate), nullText(e.RunID),
		ey, em, ed, nullText(e.CatchUpNote), nullText(e.Metadata), sent, created, created)
}

func (w *writer) campaigns(ctx context.Context, camps emailsched.Campaigns) error {
	if len(camps.Types) > 0 {
		b := &bulk{conn: w.contacts.conn, table: "campaign_types", cols: []string{"name", "respect_exclusion_windows",
			"enable_followups", "days_before_event", "target_all_contacts", "priority", "active", "created_at", "updated_at"}}
		for _, t := range camps.Types {
			if err := b.add(ctx, t.Name, t.RespectExclusionWindows, t.EnableFollowUps, int64(t.DaysBeforeEvent),
				t.TargetAllContacts, int64(t.Priority), t.Active, fixedStamp, fixedStamp); err != nil {
				return err
			}
		}
		w.all = append(w.all, b)
	}
	if len(camps.Instances) > 0 {
		b := &bulk{conn: w.contacts.conn, table: "campaign_instances", cols: []string{"id", "campaign_type", "instance_name",
			"email_template", "sms_template", "active_start_date", "active_end_date", "metadata", "target_states", "target_carriers",
			"created_at", "updated_at"}}
		for _, in := range camps.Instances {
			var states []string
			for _, s := range in.TargetStates {
				states = append(states, s.String())
			}
			if err := b.add(ctx, in.ID, in.Type, in.Name, nullText(in.EmailTemplate), nullText(in.SMSTemplate),
				nullText(in.Start.String()), nullText(in.End.String()), nullText(in.Metadata),
				list(states, in.ID%2 == 0), list(in.TargetCarriers, in.ID%2 == 1), fixedStamp, fixedStamp); err != nil {
				return err
			}
		}
		w.all = append(w.all, b)
	}
	return nil
}

// list writes a target list as a JSON array or comma-separated.
func list(xs []string, asJSON bool) any {
	if len(xs) == 0 {
		return nil
	}
	if !asJSON {
		return strings.Join(xs, ", ")
	}
	return `["` + strings.Join(xs, `","`) + `"]`
}

// bulk inserts rows with multi-row INSERT statements whose values are SQL
// literals: one call into SQLite per 512 rows instead of one per value,
// which is what makes the generator fast. Values are the generator's own
// (strings, int64, bool, nil), quoted as SQL literals.
type bulk struct {
	conn  *sql.Conn
	table string
	cols  []string
	keep  []bool // per value given to add: whether its column exists
	sb    []byte
	n     int
}

const bulkRows = 512

func (b *bulk) add(ctx context.Context, vals ...any) error {
	if b.n == 0 {
		b.sb = fmt.Appendf(b.sb[:0], "INSERT INTO %s (%s) VALUES ", b.table, strings.Join(b.cols, ","))
	} else {
		b.sb = append(b.sb, ',')
	}
	b.sb = append(b.sb, '(')
	first := true
	for i, v := range vals {
		if b.keep != nil && !b.keep[i] {
			continue
		}
		if !first {
			b.sb = append(b.sb, ',')
		}
		first = false
		b.sb = appendLiteral(b.sb, v)
	}
	b.sb = append(b.sb, ')')
	b.n++
	if b.n < bulkRows {
		return nil
	}
	return b.flush(ctx)
}

func appendLiteral(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case bool:
		if x {
			return append(b, '1')
		}
		return append(b, '0')
	case string:
		if strings.IndexByte(x, 0) >= 0 { // a NUL would end the text: write a blob
			b = append(b, "CAST(X'"...)
			b = hex.AppendEncode(b, []byte(x))
			return append(b, "' AS TEXT)"...)
		}
		b = append(b, '\'')
		for i := 0; i < len(x); i++ {
			if x[i] == '\'' {
				b = append(b, '\'')
			}
			b = append(b, x[i])
		}
		return append(b, '\'')
	}
	panic(fmt.Sprintf("sqlitefixture: unexpected value %T", v)) // only the generator's own values reach here
}

func (b *bulk) flush(ctx context.Context) error {
	if b.n == 0 {
		return nil
	}
	if _, err := b.conn.ExecContext(ctx, string(b.sb)); err != nil {
		return fmt.Errorf("sqlitefixture: %s: %w", b.table, err)
	}
	b.n = 0
	return nil
}
