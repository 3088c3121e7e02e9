package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// dirtyValues are values of every storage class and of the odd shapes
// found in the field; any column may get any of them.
var dirtyValues = []any{nil, "", " ", "x", "é", int64(0), int64(1), int64(7), int64(300), int64(-5),
	2.5, 5.0, 1e20, 0.1, []byte("bl"), []byte{}, []byte{0xff, 0},
	"2025-03-03", "  2025-03-03  ", "2025-02-30", "0000-00-00", "2025-3-3", "2025-03-03 14:30:00",
	"2025-03-03T14:30:00", "2025-03-03T14:30:00+02:00", "2025-03-03 14:30:00.25", "2025-03-03 14:30:00Z",
	"2025-03-03 25:00:00", "1700000000", int64(1700000000), int64(1700000000000), int64(20250303), "garbage",
	"true", "no", "off", "0", "1", "12", " 7 "}

// columnValues are the plausible values of each column, drawn more often
// than the dirty ones.
var columnValues = map[string][]any{
	"email":              {"a@b.co", "x@y.z", "joan.rodriguez3@outlook.com"},
	"zip_code":           {"02134", int64(2134), "90210-1234", "60601"},
	"state":              {"CA", "ca", " NY ", "Texas", "TX"},
	"birth_date":         {"1955-05-01", "1961-03-15", "1952-02-29", "1955-05-01 00:00:00"},
	"effective_date":     {"2011-03-01", "2022-05-01", "2019-02-30", " 2015-07-01 "},
	"current_carrier":    {"Humana", "Anthem", "UnitedHealthcare"},
	"do_not_communicate": {int64(0), int64(1), "yes", "false"},
	"email_type": {"birthday", "effective_date", "aep", "post_window", "BIRTHDAY", "AEP", "SCHEDULED_RATE_INCREASE",
		"campaign_rate_increase", "campaign_promotion", "campaign_Bad", "carrier_pigeon", " birthday ", "Birthday",
		"followup_1_cold", "followup_4_hq_with_yes"},
	"scheduled_send_date": {"2025-03-03", "2024-12-31", "2025-03-03 00:00:00", "soon"},
	"status": {"pre-scheduled", "skipped", "sent", "delivered", "scheduled", " Pre-Scheduled ", "SKIPPED", "Sent",
		"weird", "pre-scheduled "},
	"skip_reason":          {"exclusion_window:CA:birthday", "year_round:NY", "frequency_limit", "campaign_conflict"},
	"priority":             {int64(10), int64(20), "high", "5"},
	"campaign_instance_id": {int64(1), int64(2), int64(1000), "x"},
	"email_template":       {"rate_increase_legacy", "spring_review"},
	"sms_template":         {"sms_a"},
	"scheduler_run_id":     {"run-1", "run-2", "storetest-gen-previous"},
	"event_year":           {int64(2024), int64(2025), "2025", int64(99999)},
	"event_month":          {int64(1), int64(2), int64(12), int64(13)},
	"event_day":            {int64(1), int64(29), int64(30), int64(31)},
	"catchup_note":         {"catch-up", "catch-up: the ideal send date had passed"},
	"metadata": {`{"has_medical_conditions":true,"main_questions_yes_count":2}`, `{"main_questions_yes_count":"1"}`,
		`{"has_medical_conditions":"no"}`, `{"initial_email_id":5}`, "not json"},
	"actual_send_datetime": {"2025-02-19 13:42:36", "2025-02-19T13:42:36Z", "2025-02-19"},
	"clicked_at":           {"2025-01-29 10:29:00", "2024-09-16T03:11:53", int64(1714557600)},
	"created_at":           {"2024-09-18 19:50:37", "2024-05-02"},
	"event_type":           {"eligibility_answered", "eligibility_answered", "page_view"},
	"trigger_date":         {"2025-03-17", "2025-04-03 00:00:00", "never"},
}

// contactIDs are the contact_id values of the per-contact tables besides
// the contacts' own ids: orphans of every kind.
var contactIDs = []any{int64(0), int64(-1), int64(1 << 40), 2.5, "abc", "3", nil, []byte("1")}

// oddSchema declares the columns the source reads with types that make the
// driver convert values (to times, to booleans) or that change their
// affinity.
var oddSchema = []string{
	`CREATE TABLE contacts (id INTEGER PRIMARY KEY, email BOOLEAN, zip_code NUMERIC, state DATETIME, birth_date DATE,
		effective_date TIMESTAMP, current_carrier "boolean", do_not_communicate TEXT)`,
	`CREATE TABLE email_schedules (id INTEGER PRIMARY KEY, contact_id NUMERIC, email_type VARCHAR(20), scheduled_send_date TEXT,
		status DATETIME, skip_reason DATE, priority TEXT, campaign_instance_id REAL, email_template TIMESTAMP, sms_template,
		scheduler_run_id DATETIME, event_year TEXT, event_month REAL, event_day BOOLEAN, catchup_note DATE, metadata BLOB,
		actual_send_datetime INTEGER)`,
	`CREATE TABLE tracking_clicks (id INTEGER PRIMARY KEY, contact_id TEXT, clicked_at DATETIME)`,
	`CREATE TABLE contact_events (id INTEGER PRIMARY KEY, contact_id INTEGER, event_type TEXT, metadata DATETIME, created_at BOOLEAN)`,
	`CREATE TABLE contact_campaigns (id INTEGER PRIMARY KEY, contact_id INTEGER, campaign_instance_id TEXT, trigger_date DATETIME,
		status BOOLEAN)`,
}

// fillDirty writes n contacts and rows with random values into the tables
// that exist, leaving out the columns that do not, in one transaction.
func fillDirty(t *testing.T, sqldb *sql.DB, r *rand.Rand, n int) {
	ctx := context.Background()
	db, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Commit(); err != nil {
			t.Fatal(err)
		}
	}()
	pick := func(col string) any {
		if vs := columnValues[col]; len(vs) > 0 && r.IntN(4) != 0 {
			return vs[r.IntN(len(vs))]
		}
		return dirtyValues[r.IntN(len(dirtyValues))]
	}
	contact := func() any {
		if r.IntN(10) == 0 {
			return contactIDs[r.IntN(len(contactIDs))]
		}
		return int64(1 + r.IntN(n+3))
	}
	insert := func(table string, cols []string, row func(col string) any) {
		have, err := tableColumns(ctx, db, table)
		if err != nil {
			t.Fatal(err)
		}
		if len(have) == 0 {
			return
		}
		cols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return !have[c] })
		q := fmt.Sprintf("INSERT OR IGNORE INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "),
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
		args := make([]any, len(cols))
		for i, c := range cols {
			args[i] = row(c)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s %v: %v", q, args, err)
		}
	}
	// A contacts table whose id is not its primary key takes any id: some
	// are NULL, text, reals, duplicates.
	var keys int
	rows, err := db.QueryContext(ctx, "SELECT count(*) FROM pragma_table_info('contacts') WHERE pk > 0")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		if err := rows.Scan(&keys); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	dirtyID := func(id int) any {
		if keys > 0 {
			return int64(id)
		}
		switch r.IntN(24) {
		case 0, 1:
			return strconv.Itoa(id) // a text that is an id
		case 2:
			return nil
		case 3:
			return float64(id) + 0.5
		case 4:
			return fmt.Sprintf("c%d", id)
		case 5, 6:
			return int64(max(1, id-1-r.IntN(3))) // a duplicate, or out of the table's order
		case 7:
			return fmt.Sprintf("%03d", id) // not exactly an integer's text
		}
		return int64(id)
	}
	for id := 1; id <= n; id++ {
		if r.IntN(8) == 0 {
			continue // a gap
		}
		insert("contacts", []string{"id", "email", "zip_code", "state", "birth_date", "effective_date", "current_carrier",
			"do_not_communicate"}, func(c string) any {
			if c == "id" {
				return dirtyID(id)
			}
			return pick(c)
		})
	}
	tables := []struct {
		name string
		cols []string
		rows int
	}{
		{"email_schedules", []string{"email_type", "scheduled_send_date", "status", "skip_reason", "priority",
			"campaign_instance_id", "email_template", "sms_template", "scheduler_run_id", "event_year", "event_month",
			"event_day", "catchup_note", "metadata", "actual_send_datetime"}, 4 * n},
		{"tracking_clicks", []string{"clicked_at"}, n},
		{"contact_events", []string{"event_type", "metadata", "created_at"}, n},
		{"contact_campaigns", []string{"campaign_instance_id", "trigger_date", "status"}, n / 2},
	}
	for _, tb := range tables {
		for range tb.rows {
			insert(tb.name, append([]string{"contact_id"}, tb.cols...), func(c string) any {
				if c == "contact_id" {
					return contact()
				}
				return pick(c)
			})
		}
	}
}

// TestSourceMatchesReference fills databases of several shapes with random
// dirty values and checks that the source yields exactly what the
// straightforward reader of source_ref_test.go yields, and counts the same.
func TestSourceMatchesReference(t *testing.T) {
	ctx := context.Background()
	shapes := []struct {
		name  string
		setup func(t *testing.T, db *sql.DB)
	}{
		{"fixture", func(t *testing.T, db *sql.DB) {
			if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Full); err != nil {
				t.Fatal(err)
			}
		}},
		{"migrated", func(t *testing.T, db *sql.DB) {
			if err := New(db, Options{}).Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}},
		{"old", func(t *testing.T, db *sql.DB) {
			// Without the engagement and campaign tables and without
			// do_not_communicate.
			if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Old); err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"scheduler_run_id", "catchup_note", "metadata"} {
				if _, err := db.ExecContext(ctx, "ALTER TABLE email_schedules ADD COLUMN "+c+" TEXT"); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"odd", func(t *testing.T, db *sql.DB) {
			for _, q := range oddSchema {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"textids", func(t *testing.T, db *sql.DB) {
			// contacts.id is not the rowid: fillDirty gives some rows
			// NULL, text, real and duplicated ids.
			if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Full); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"ALTER TABLE contacts RENAME TO c0",
				"CREATE TABLE contacts (id, email, zip_code, state, birth_date, effective_date, current_carrier, do_not_communicate)",
				"DROP TABLE c0"} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, sh := range shapes {
		for seed := range 8 {
			t.Run(fmt.Sprintf("%s/%d", sh.name, seed), func(t *testing.T) {
				// Half the databases in WAL mode (one read transaction and
				// the feed), half in rollback-journal mode (chunks).
				db := createDB(t, filepath.Join(t.TempDir(), "dirty.sqlite3"), seed%2 == 0)
				sh.setup(t, db)
				fillDirty(t, db, rand.New(rand.NewPCG(uint64(seed), 7)), 60+seed*20)
				if seed%2 == 1 {
					// The same data read through indexes.
					for _, q := range []string{"CREATE INDEX i1 ON email_schedules(contact_id)",
						"CREATE INDEX i2 ON tracking_clicks(contact_id)", "CREATE INDEX i3 ON contact_events(contact_id)",
						"CREATE INDEX i4 ON contact_campaigns(contact_id)"} {
						db.ExecContext(ctx, q) // missing tables are fine
					}
				}
				want, wantStats, err := refRead(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if wantStats.Rows == 0 {
					t.Errorf("no rows read: %+v", wantStats)
				}
				s := New(db, Options{})
				s.chunk = 5 + seed // several chunks in rollback-journal mode
				got, stats := readContacts(t, s)
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("contacts (-reference +source):\n%s", diff)
				}
				if seed%2 == 1 && sh.name != "textids" && stats.Chunks < 3 {
					t.Errorf("a rollback-journal database was read in %d chunks", stats.Chunks)
				}
				wantStats.Chunks = stats.Chunks
				if diff := cmp.Diff(wantStats, stats); diff != "" {
					t.Errorf("ReadStats (-reference +source):\n%s", diff)
				}
				// Each contact read on its own is the contact of the stream;
				// deleted contacts and ids without a contact are not found.
				byID := map[int64]emailsched.Contact{}
				for _, c := range want {
					byID[c.ID] = c
				}
				for k, id := 0, int64(-1); id <= int64(len(want))+4; k, id = k+1, id+1+int64(k%4) {
					c, err := s.Contact(ctx, id)
					w, ok := byID[id]
					if !ok || w.Deleted {
						if !errors.Is(err, store.ErrNotFound) {
							t.Errorf("Contact(%d): %v, %v; want store.ErrNotFound", id, c, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("Contact(%d): %v", id, err)
					}
					if diff := cmp.Diff(w, *c, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("Contact(%d) (-stream +alone):\n%s", id, diff)
					}
				}
			})
		}
	}
}

// readContacts reads every contact of s (deep copies).
func readContacts(t *testing.T, s *Store) ([]emailsched.Contact, ReadStats) {
	t.Helper()
	var got []emailsched.Contact
	for c, err := range s.Contacts(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Clone())
	}
	return got, s.ReadStats()
}

// TestVocabularies checks what vocabularies a stream learns, over contacts
// tables of several shapes.
func TestVocabularies(t *testing.T) {
	ctx := context.Background()
	rest := "email TEXT, zip_code TEXT, state TEXT, birth_date TEXT, effective_date TEXT, current_carrier TEXT"
	for _, tc := range []struct {
		name   string
		schema []string
	}{
		{"rowid", []string{"CREATE TABLE contacts (id INTEGER PRIMARY KEY, " + rest + ")"}},
		{"without rowid", []string{"CREATE TABLE contacts (id INTEGER PRIMARY KEY, " + rest + ") WITHOUT ROWID"}},
		{"no key", []string{"CREATE TABLE contacts (id INTEGER, " + rest + ")"}},
		{"text contact_id", []string{"CREATE TABLE contacts (id INTEGER PRIMARY KEY, " + rest + ")",
			"CREATE TABLE tracking_clicks (id INTEGER PRIMARY KEY, contact_id TEXT, clicked_at TEXT)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := createDB(t, filepath.Join(t.TempDir(), "r.sqlite3"), true)
			for _, q := range append(tc.schema, `CREATE TABLE email_schedules (id INTEGER PRIMARY KEY, contact_id INTEGER,
				email_type TEXT, scheduled_send_date TEXT, status VARCHAR(20), skip_reason CLOB, priority INTEGER,
				campaign_instance_id INTEGER, email_template TEXT, sms_template TEXT, scheduler_run_id TEXT, event_year INTEGER,
				event_month INTEGER, event_day INTEGER, catchup_note BLOB, metadata TEXT, actual_send_datetime TEXT)`) {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 50 {
				if _, err := db.ExecContext(ctx, `INSERT INTO contacts (id, state) VALUES (?, ?)`, i+1, []string{"CA", "TX", "NY"}[i%3]); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, status,
					skip_reason, catchup_note) VALUES (?, 'birthday', '2025-03-03', 'sent', 'x', 'catch-up')`, i%20); err != nil {
					t.Fatal(err)
				}
			}
			r := learnt(t, db)
			// Most frequent first (CA and TX 17 times, NY 16). The declared
			// types decide: TEXT, VARCHAR and CLOB have TEXT affinity, BLOB
			// does not.
			for _, v := range []struct {
				name string
				vc   vocab
				want []string
			}{
				{"state", r.state, []string{"CA", "TX", "NY"}}, {"types", r.emailDecoder.types, []string{"birthday"}},
				{"statuses", r.emailDecoder.statuses, []string{"sent"}}, {"skips", r.emailDecoder.skips, []string{"x"}}, {"notes", r.emailDecoder.notes, nil},
			} {
				if tc.name == "without rowid" && v.name == "state" {
					v.want = nil // no rowid to sample by
				}
				if !slices.Equal(v.vc.values, v.want) {
					t.Errorf("%s vocabulary %q, want %q", v.name, v.vc.values, v.want)
				}
			}
			if got, _ := readContacts(t, New(db, Options{})); len(got) != 50 {
				t.Errorf("read %d contacts, want 50", len(got))
			}
		})
	}
}

// learnt returns a reader of db that opened its first range and closed it.
func learnt(t *testing.T, db *sql.DB) *reader {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var r *reader
	if err := conn.Raw(func(dc any) error {
		r = &reader{ctx: ctx, conn: dc.(rawConn), st: &ReadStats{}}
		defer r.close()
		return r.open()
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestConversions checks that the source's conversions give exactly what
// the general helpers give, on their fast paths and off them.
func TestConversions(t *testing.T) {
	inputs := append(slices.Clone(dirtyValues), "2024-02-29", "2023-02-29", "2025-13-01", "2025-00-10", "0001-01-01",
		"9999-12-31", "2025-03-03 23:59:59", "2025-03-03T00:00:00", "2025-03-03 24:00:00", "2025-03-03 12:60:00",
		"2025-03-03 12:00:60", "2025-03-03x12:00:00", "2025-03-03 12:00:0a", "abcd-ef-gh", "2025/03/03", "          ",
		"1969-12-31 23:59:59", "0001-01-01 00:00:00", time.Date(2025, 3, 3, 14, 30, 0, 0, time.UTC))
	for _, v := range inputs {
		var c1, c2 emailsched.Contact
		if got, want := contactDate(&c1, "f", v), date(&c2, "f", v); got != want || !slices.Equal(c1.Issues, c2.Issues) {
			t.Errorf("contactDate(%#v) = %v %v, date %v %v", v, got, c1.Issues, want, c2.Issues)
		}
		if got, ok := rowDate(v); true {
			want, wok := plainDate(v)
			if got != want || ok != wok {
				t.Errorf("rowDate(%#v) = %v %v, plainDate %v %v", v, got, ok, want, wok)
			}
		}
		got, ok := instant(v)
		want, wok := timestamp(v)
		// Identical values, not only equal instants: same location too.
		if got != want || ok != wok {
			t.Errorf("instant(%#v) = %#v %v, timestamp %#v %v", v, got, ok, want, wok)
		}
	}
	// plainTimestamp's arithmetic is the calendar's.
	for _, s := range []string{"2025-03-03 14:30:05", "1970-01-01 00:00:00", "1969-12-31 23:59:59", "0001-01-01 00:00:00",
		"2024-02-29T23:59:59", "9999-12-31 23:59:59"} {
		got, ok := plainTimestamp(s)
		want, err := time.ParseInLocation("2006-01-02T15:04:05", strings.Replace(s, " ", "T", 1), time.UTC)
		if !ok || err != nil || got != want {
			t.Errorf("plainTimestamp(%q) = %#v %v, want %#v (%v)", s, got, ok, want, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		rowDate("2025-03-03")
		instant("2025-03-03 14:30:00")
	}); n != 0 {
		t.Errorf("%v allocations on the fast paths", n)
	}
}

func TestVocab(t *testing.T) {
	vc := vocab{values: []string{"sent", "pre-scheduled"}}
	for _, tc := range []struct {
		v    any
		code int
		ok   bool
		text string
	}{
		{int64(1), 0, true, "sent"}, {int64(2), 1, true, "pre-scheduled"}, {int64(0), 0, false, "0"},
		{int64(3), 0, false, "3"}, {"sent", 0, false, "sent"}, {nil, 0, false, ""}, {2.0, 0, false, "2"},
	} {
		code, ok := vc.code(tc.v)
		if code != tc.code || ok != tc.ok || vc.text(tc.v) != tc.text {
			t.Errorf("%#v: code %d %v, text %q", tc.v, code, ok, vc.text(tc.v))
		}
	}
	for typ, want := range map[string]bool{"TEXT": true, "text": true, "VARCHAR(20)": true, "CLOB": true,
		"NATIONAL CHARACTER(10)": true, "": false, "BLOB": false, "INTEGER": false, "POINT TEXT": false, "TINYTEXT": true,
		"DATETIME": false, "NUMERIC": false} {
		if textAffinity(typ) != want {
			t.Errorf("textAffinity(%q) = %v", typ, !want)
		}
	}
}
