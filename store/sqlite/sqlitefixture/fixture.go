package sqlitefixture

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3" // the sqlite3 driver, and bulk's statements

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store/demodata"
)

// Shape selects the schema of the database.
type Shape int

const (
	// Production is the schema of a production organisation database
	// (testdata/schema/org-db.schema.sql), verbatim: every table, column,
	// constraint, index and trigger, and nothing else. It is the default.
	// Its contacts have no do_not_communicate column and its
	// campaign_instances no target_states and target_carriers: generated
	// opt-outs and campaign target lists are not stored. See the package
	// documentation for how contacts are written under its constraints.
	Production Shape = iota
	// Full has contacts (with do_not_communicate), email_schedules,
	// campaign_types, campaign_instances (with target_states and
	// target_carriers), contact_campaigns, tracking_clicks, contact_events
	// and an older system's scheduler_checkpoints, without constraints
	// beyond NOT NULL on a few columns of email_schedules.
	Full
	// Old has only contacts and email_schedules, the latter without
	// scheduler_run_id, catchup_note and metadata. Engagement, campaign
	// targets and those row fields are not written.
	Old
)

// String returns "production", "full" or "old".
func (s Shape) String() string {
	switch s {
	case Production:
		return "production"
	case Full:
		return "full"
	case Old:
		return "old"
	}
	return "Shape(" + strconv.Itoa(int(s)) + ")"
}

// Unique selects the unique index of email_schedules of the shapes Full and
// Old (Production has the one of its schema).
type Unique int

const (
	NoUnique        Unique = iota
	UniqueEventYear        // (contact_id, email_type, event_year)
	UniqueSendDate         // (contact_id, email_type, scheduled_send_date)
)

// String returns "none", "event_year" or "send_date".
func (u Unique) String() string {
	switch u {
	case NoUnique:
		return "none"
	case UniqueEventYear:
		return "event_year"
	case UniqueSendDate:
		return "send_date"
	}
	return "Unique(" + strconv.Itoa(int(u)) + ")"
}

// Options describe a database.
type Options struct {
	// Gen generates the contacts (demodata.GenerateSeq). With Shape
	// Production or Full and no Gen.Campaigns,
	// demodata.DemoCampaigns(Gen.Today) is used.
	Gen   demodata.GenOptions
	Shape Shape
	// ProductionIndexes adds, to Full and Old, an index set like the one
	// of production databases (ten indexes on email_schedules, a few on the
	// other tables). Production has the indexes of its schema: true is an
	// error with it.
	ProductionIndexes bool
	// Unique is the unique index of email_schedules of Full and Old.
	// Production always has the unique index of its schema,
	// idx_email_schedules_unique_event on (contact_id, email_type,
	// event_year): with it, Unique must be NoUnique (the zero value) or
	// UniqueEventYear, which both mean that index; UniqueSendDate is an
	// error.
	Unique Unique
	// WAL switches a finished Production database to WAL mode. Without
	// it, a Production database is left in journal mode DELETE (a
	// rollback journal), as production databases are. Full and Old are
	// always left in WAL mode, with or without it.
	WAL bool
}

// check rejects options that contradict each other.
func (o *Options) check() error {
	switch o.Unique {
	case NoUnique, UniqueEventYear, UniqueSendDate:
	default:
		return fmt.Errorf("sqlitefixture: unknown %v", o.Unique)
	}
	switch o.Shape {
	case Production:
		if o.ProductionIndexes {
			return errors.New("sqlitefixture: ProductionIndexes applies to the shapes Full and Old: Production has the indexes of its schema")
		}
		if o.Unique == UniqueSendDate {
			return errors.New("sqlitefixture: Unique send_date contradicts Production, whose schema has its unique index on (contact_id, email_type, event_year)")
		}
	case Full, Old:
	default:
		return fmt.Errorf("sqlitefixture: unknown %v", o.Shape)
	}
	return nil
}

// Create writes a new database file at path (it must not exist) with the
// schema of opts.Shape and the contacts of opts.Gen (see Write), the
// indexes created after the data. A Production database is left in journal
// mode DELETE unless opts.WAL is set, Full and Old in WAL mode. On an error
// the file is removed.
func Create(ctx context.Context, path string, opts Options) (err error) {
	if err := opts.check(); err != nil {
		return err
	}
	// Created here, exclusively: "must not exist" holds at the moment the
	// file appears, and a file this call did not create is never removed.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("sqlitefixture: %s exists", path)
		}
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	f.Close()
	// Loading a new file needs no journal; the finished database is
	// switched to the journal mode it is meant to have.
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=OFF&_synchronous=OFF&_cache_size=-262144&_busy_timeout=5000")
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("sqlitefixture: %w", cerr)
		}
		if err != nil {
			for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}
	}()
	gen := opts.Gen
	if opts.Shape != Old && len(gen.Campaigns.Instances) == 0 {
		gen.Campaigns = demodata.DemoCampaigns(gen.Today)
	}
	mode := "WAL"
	if opts.Shape == Production {
		if err := createProduction(ctx, db, demodata.GenerateSeq(gen), writeOptions{camps: gen.Campaigns}); err != nil {
			return err
		}
		if !opts.WAL {
			mode = "DELETE"
		}
	} else {
		if err := CreateSchema(ctx, db, opts.Shape); err != nil {
			return err
		}
		if err := Write(ctx, db, demodata.GenerateSeq(gen), gen.Campaigns, opts.Unique); err != nil {
			return err
		}
		if err := CreateIndexes(ctx, db, opts); err != nil {
			return err
		}
	}
	var got string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode="+mode).Scan(&got); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	if !strings.EqualFold(got, mode) {
		return fmt.Errorf("sqlitefixture: journal mode %s, want %s", got, mode)
	}
	return nil
}

// CreateSchema creates the schema of shape in an empty database: for Full
// and Old the tables (CreateIndexes adds the indexes), for Production the
// whole schema, indexes and triggers included, executed statement by
// statement in the order of the schema file (Create is faster: it loads the
// tables before their indexes).
func CreateSchema(ctx context.Context, db *sql.DB, shape Shape) error {
	var stmts []string
	switch shape {
	case Production:
		return execSchema(ctx, db, productionStatements())
	case Full:
		stmts = []string{oldContacts + ",\n    do_not_communicate BOOLEAN DEFAULT FALSE\n)", oldSchedules + fullSchedulesExtra + "\n)"}
		stmts = append(stmts, fullTables...)
	case Old:
		stmts = []string{oldContacts + "\n)", oldSchedules + "\n)"}
	default:
		return fmt.Errorf("sqlitefixture: unknown %v", shape)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlitefixture: schema: %w", err)
		}
	}
	return nil
}

// CreateIndexes adds to a Full or Old database the unique index and, if
// asked, the production-like index set. Creating indexes after the data is
// the fast way to load a database. A Production database has its indexes
// from CreateSchema: CreateIndexes only checks opts.
func CreateIndexes(ctx context.Context, db *sql.DB, opts Options) error {
	if err := opts.check(); err != nil {
		return err
	}
	if opts.Shape == Production {
		return nil
	}
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
// dates.
//
// With a unique index u, or one that email_schedules already has, a row
// whose key the contact's earlier rows already hold is left out, so that
// the index can be created (or the row inserted).
//
// Where the database has the constraints of Production on contacts (email
// NOT NULL or UNIQUE, first_name and last_name NOT NULL, each detected on
// its own), contacts are written as the package documentation describes;
// two contacts with the same plausible address are then an error
// (demodata.GenerateSeq never makes them).
//
// In a database of the production schema Write also writes the rows of the
// other tables listed there (an earlier scheduler's checkpoints, leads,
// batches, ...), into each of them that is still empty: when contacts are
// written in chunks, by several calls, the first call writes them.
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
	w, err := newWriter(ctx, conn, writeOptions{unique: u, camps: camps})
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.stream(ctx, contacts); err != nil {
		return err
	}
	for _, t := range lateTables {
		if _, err := w.fill(ctx, t); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	return nil
}

// writeOptions configure a writer.
type writeOptions struct {
	unique Unique
	camps  emailsched.Campaigns
	// targets is the table that receives contact_campaigns rows
	// (contact_campaigns when empty).
	targets string
}

// targetColumns are the columns of contact_campaigns the writer fills.
var targetColumns = []string{"contact_id", "campaign_instance_id", "trigger_date", "status", "created_at", "updated_at"}

type writer struct {
	conn                                         *sql.Conn
	contacts, schedules, clicks, events, targets *bulk
	opts                                         writeOptions
	uniques                                      []Unique // the unique keys of email_schedules to keep
	keys                                         []string
	// Constraints of contacts (see the package documentation).
	uniqueEmail, firstRequired, lastRequired bool
	trackingID                               bool // tracking_clicks.tracking_id exists
	// What was written, for the rows of the other tables.
	count struct {
		contacts, scheduled, skipped int
		lastID                       int64
		first                        []int64 // the first contact IDs (batchContacts of them)
	}
}

// columns returns the columns of table and whether each is NOT NULL; none
// when the table does not exist.
func columns(ctx context.Context, conn *sql.Conn, table string) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, "notnull" FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("sqlitefixture: %w", err)
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var n string
		var notNull bool
		if err := rows.Scan(&n, &notNull); err != nil {
			return nil, fmt.Errorf("sqlitefixture: %w", err)
		}
		m[n] = notNull
	}
	return m, rows.Err()
}

// uniqueIndexes returns the column lists of the unique indexes of table,
// each joined with ",".
func uniqueIndexes(ctx context.Context, conn *sql.Conn, table string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT il.name, COALESCE(ii.name, '') FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii
		WHERE il."unique" = 1 ORDER BY il.seq, ii.seqno`, table)
	if err != nil {
		return nil, fmt.Errorf("sqlitefixture: %w", err)
	}
	defer rows.Close()
	var out []string
	last := ""
	for rows.Next() {
		var index, col string
		if err := rows.Scan(&index, &col); err != nil {
			return nil, fmt.Errorf("sqlitefixture: %w", err)
		}
		if index != last || len(out) == 0 {
			out = append(out, col)
		} else {
			out[len(out)-1] += "," + col
		}
		last = index
	}
	return out, rows.Err()
}

// table returns a bulk inserter of the columns of want that table has, or
// nil when it does not exist or has none of them. The values given to its
// add are those of want.
func (w *writer) table(ctx context.Context, table string, want ...string) (*bulk, map[string]bool, error) {
	have, err := columns(ctx, w.conn, table)
	if err != nil || len(have) == 0 {
		return nil, nil, err
	}
	b := &bulk{conn: w.conn, table: table}
	for _, c := range want {
		_, ok := have[c]
		b.keep = append(b.keep, ok)
		if ok {
			b.cols = append(b.cols, c)
		}
	}
	if len(b.cols) == 0 {
		return nil, have, nil
	}
	return b, have, nil
}

func newWriter(ctx context.Context, conn *sql.Conn, opts writeOptions) (*writer, error) {
	w := &writer{conn: conn, opts: opts}
	var err error
	var cols map[string]bool
	if w.contacts, cols, err = w.table(ctx, "contacts", "id", "first_name", "last_name", "email", "current_carrier", "plan_type",
		"effective_date", "birth_date", "gender", "state", "zip_code", "created_at", "updated_at", "status", "do_not_communicate"); err != nil {
		return nil, err
	}
	if w.contacts == nil {
		return nil, errors.New("sqlitefixture: no contacts table")
	}
	w.firstRequired, w.lastRequired = cols["first_name"], cols["last_name"]
	w.uniqueEmail = cols["email"]
	uniq, err := uniqueIndexes(ctx, conn, "contacts")
	if err != nil {
		return nil, err
	}
	w.uniqueEmail = w.uniqueEmail || slices.Contains(uniq, "email")

	if w.schedules, _, err = w.table(ctx, "email_schedules", "id", "contact_id", "email_type", "scheduled_send_date", "scheduled_send_time",
		"status", "skip_reason", "priority", "campaign_instance_id", "email_template", "sms_template", "scheduler_run_id",
		"event_year", "event_month", "event_day", "catchup_note", "metadata", "actual_send_datetime", "created_at", "updated_at"); err != nil {
		return nil, err
	}
	if w.schedules == nil {
		return nil, errors.New("sqlitefixture: no email_schedules table")
	}
	if opts.unique != NoUnique {
		w.uniques = append(w.uniques, opts.unique)
	}
	if uniq, err = uniqueIndexes(ctx, conn, "email_schedules"); err != nil {
		return nil, err
	}
	for _, cols := range uniq {
		u := NoUnique
		switch cols {
		case "contact_id,email_type,event_year":
			u = UniqueEventYear
		case "contact_id,email_type,scheduled_send_date":
			u = UniqueSendDate
		}
		if u != NoUnique && !slices.Contains(w.uniques, u) {
			w.uniques = append(w.uniques, u)
		}
	}

	if w.clicks, cols, err = w.table(ctx, "tracking_clicks", "tracking_id", "contact_id", "message_id", "url", "clicked_at"); err != nil {
		return nil, err
	}
	_, w.trackingID = cols["tracking_id"]
	if w.events, _, err = w.table(ctx, "contact_events", "contact_id", "event_type", "metadata", "created_at"); err != nil {
		return nil, err
	}
	targets := cmp.Or(opts.targets, "contact_campaigns")
	if w.targets, _, err = w.table(ctx, targets, targetColumns...); err != nil {
		return nil, err
	}
	return w, nil
}

// stream writes the contacts and flushes their tables.
func (w *writer) stream(ctx context.Context, contacts iter.Seq[*emailsched.Contact]) error {
	for c := range contacts {
		if err := w.contact(ctx, c); err != nil {
			return err
		}
	}
	for _, b := range []*bulk{w.contacts, w.schedules, w.clicks, w.events, w.targets} {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	return w.close()
}

// close finalizes the statements of the contacts' tables.
func (w *writer) close() error {
	var errs []error
	for _, b := range []*bulk{w.contacts, w.schedules, w.clicks, w.events, w.targets} {
		errs = append(errs, b.close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	return nil
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

// UniqueEmail returns what Write stores for the address of contact id
// where contacts.email is NOT NULL or UNIQUE (as in Production): a
// plausible address as it is; an empty one (or spaces only) as the
// placeholder "no-email-<id>", which has no '@'; any other as itself
// followed by " #<id>", which makes it unique and keeps it implausible.
// Both read back as invalid addresses, never as missing ones.
//
// Plausible is the scheduler's test: 3 to 254 bytes after trimming spaces,
// exactly one '@' with a non-empty local part, a domain with a dot that
// neither starts nor ends it, and no spaces or control characters.
func UniqueEmail(id int64, addr string) string {
	if strings.TrimSpace(addr) == "" {
		return "no-email-" + strconv.FormatInt(id, 10)
	}
	if plausible(addr) {
		return addr
	}
	return addr + " #" + strconv.FormatInt(id, 10)
}

// plausible reports whether addr is a plausible email address (see
// UniqueEmail).
func plausible(addr string) bool {
	addr = strings.TrimSpace(addr)
	at := strings.IndexByte(addr, '@')
	if len(addr) < 3 || len(addr) > 254 || at < 1 || strings.IndexByte(addr[at+1:], '@') >= 0 {
		return false
	}
	domain := addr[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot < 1 || dot == len(domain)-1 || domain[0] == '.' {
		return false
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] <= ' ' || addr[i] == 0x7f {
			return false
		}
	}
	return true
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
	firstName, lastName, email := nullText(first), nullText(last), textOrMissing(c.ID, 1, c.Email)
	if w.firstRequired {
		firstName = first
	}
	if w.lastRequired {
		lastName = last
	}
	if w.uniqueEmail {
		email = UniqueEmail(c.ID, c.Email)
	}
	dnc := any(int64(0))
	if c.DoNotCommunicate {
		dnc = int64(1)
	}
	created := "2020-01-01 09:00:00"
	if err := w.contacts.add(ctx, c.ID, firstName, lastName, email,
		textOrMissing(c.ID, 2, c.Carrier), "Plan G",
		w.rawDate(c, emailsched.FieldEffectiveDate, c.EffectiveDate, 3), w.rawDate(c, emailsched.FieldBirthday, c.Birthday, 4),
		nil, textOrMissing(c.ID, 5, c.State), textOrMissing(c.ID, 6, c.ZIP), created, created, "active", dnc); err != nil {
		return err
	}
	w.count.contacts++
	w.count.lastID = max(w.count.lastID, c.ID)
	if len(w.count.first) < batchContacts {
		w.count.first = append(w.count.first, c.ID)
	}
	w.keys = w.keys[:0]
	for _, rows := range [][]emailsched.Email{c.History, c.Stored} {
		for i := range rows {
			if err := w.email(ctx, c.ID, &rows[i], uint64(i)); err != nil {
				return err
			}
		}
	}
	clicks := uint64(0)
	for _, e := range c.Engagement {
		at := e.At.UTC().Format(stamp)
		switch e.Kind {
		case emailsched.EngagementClick:
			if w.clicks != nil {
				var tracking any
				if w.trackingID {
					tracking = fmt.Sprintf("%016x", h(c.ID, 40+clicks))
				}
				clicks++
				if err := w.clicks.add(ctx, tracking, c.ID, nil, "https://example.com/plans", at); err != nil {
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
	if len(w.uniques) > 0 {
		n := len(w.keys)
		for _, u := range w.uniques {
			key := typ + "|" + fmt.Sprint(ey)
			if u == UniqueSendDate {
				key = typ + "|" + fmt.Sprint(date)
			}
			key = u.String() + "|" + key
			if slices.Contains(w.keys, key) {
				w.keys = w.keys[:n]
				return nil
			}
			w.keys = append(w.keys, key)
		}
	}
	if e.Status == emailsched.StatusSkipped {
		w.count.skipped++
	} else {
		w.count.scheduled++
	}
	created := "2024-01-01 00:00:00"
	return w.schedules.add(ctx, nullInt(e.ID), contact, typ, date, "08:30:00", string(e.Status), nullText(string(e.SkipReason)),
		int64(e.Priority), nullInt(e.CampaignInstanceID), nullText(e.EmailTemplate), nullText(e.SMSTemplate), nullText(e.RunID),
		ey, em, ed, nullText(e.CatchUpNote), nullText(e.Metadata), sent, created, created)
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

// bulk inserts rows with prepared multi-row INSERT statements whose
// parameters are bound directly on the driver's connection: one call into
// SQLite per batch of rows and no SQL to parse or compile but once per
// table, which is what makes the generator fast. Values are the
// generator's own (strings, int64, int, bool, nil).
type bulk struct {
	conn  *sql.Conn
	table string
	cols  []string
	keep  []bool // per value given to add: whether its column exists
	args  []driver.NamedValue
	n     int         // rows in args
	full  driver.Stmt // the INSERT of a full batch, prepared at the first
}

// bulkRows is the number of rows of a batch, unless its parameters would
// exceed maxParams.
const (
	bulkRows  = 512
	maxParams = 32766 // SQLITE_MAX_VARIABLE_NUMBER
)

func (b *bulk) add(ctx context.Context, vals ...any) error {
	if b.args == nil {
		b.args = make([]driver.NamedValue, min(bulkRows, maxParams/len(b.cols))*len(b.cols))
		for i := range b.args {
			b.args[i].Ordinal = i + 1
		}
	}
	k := b.n * len(b.cols)
	for i, v := range vals {
		if b.keep != nil && !b.keep[i] {
			continue
		}
		if x, ok := v.(int); ok {
			v = int64(x)
		}
		b.args[k].Value = v
		k++
	}
	b.n++
	if k < len(b.args) {
		return nil
	}
	return b.flush(ctx)
}

// insertSQL is the INSERT of rows rows.
func (b *bulk) insertSQL(rows int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(b.cols)), ",") + ")"
	return "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ",") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
}

// flush inserts the rows added since the last flush; a nil bulk (a table
// that does not exist) has none.
func (b *bulk) flush(ctx context.Context) error {
	if b == nil || b.n == 0 {
		return nil
	}
	args := b.args[:b.n*len(b.cols)]
	err := b.conn.Raw(func(dc any) error {
		st, full := b.full, len(args) == len(b.args)
		if st == nil || !full {
			c, ok := dc.(*sqlite3.SQLiteConn)
			if !ok {
				return fmt.Errorf("not a go-sqlite3 connection: %T", dc)
			}
			var err error
			if st, err = c.Prepare(b.insertSQL(b.n)); err != nil {
				return err
			}
			if full {
				b.full = st
			} else {
				defer st.Close()
			}
		}
		_, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
		return err
	})
	b.n = 0
	if err != nil {
		return fmt.Errorf("sqlitefixture: %s: %w", b.table, err)
	}
	return nil
}

// close finalizes the prepared statement, if any.
func (b *bulk) close() error {
	if b == nil || b.full == nil {
		return nil
	}
	err := b.conn.Raw(func(any) error { return b.full.Close() })
	b.full = nil
	return err
}
