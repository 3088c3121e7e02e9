package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func schemaOf(t *testing.T, s *sqlite.Store) []string {
	t.Helper()
	rows, err := s.DB().Query(`SELECT type||' '||name||' '||coalesce(sql,'') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		rows.Scan(&l)
		out = append(out, l)
	}
	return out
}

// TestMigrate: on the old shape, migrations add the missing tables,
// columns and the contact_id index, keep every row, and a second Migrate
// changes nothing; on a production database they add no index to
// email_schedules (an index leading with contact_id exists).
func TestMigrate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape sqlitefixture.Shape
		prod  bool
	}{{"Old", sqlitefixture.Old, false}, {"FullProduction", sqlitefixture.Full, true}} {
		t.Run(tc.name, func(t *testing.T) {
			path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 5, Contacts: 300}, Shape: tc.shape, ProductionIndexes: tc.prod})
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s := sqlite.New(db, sqlite.Options{})
			cols := columnsOf(t, s, "email_schedules")
			rows0 := rowsOf(t, s, cols)
			contacts0 := rowsOf(t, s, columnsOf(t, s, "contacts"))
			schema0 := schemaOf(t, s)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			schema1 := schemaOf(t, s)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(schema1, schemaOf(t, s)); diff != "" {
				t.Errorf("second Migrate changed the schema:\n%s", diff)
			}
			if diff := cmp.Diff(rows0, rowsOf(t, s, cols)); diff != "" {
				t.Errorf("Migrate changed email_schedules rows:\n%s", diff)
			}
			if diff := cmp.Diff(contacts0, rowsOf(t, s, columnsOf(t, s, "contacts"))); diff != "" {
				t.Errorf("Migrate changed contacts:\n%s", diff)
			}
			added := strings.Join(schema1, "\n")
			for _, want := range []string{"table scheduler_checkpoints", "table tracking_clicks", "table contact_events", "scheduler_run_id", "catchup_note"} {
				if !strings.Contains(added, want) {
					t.Errorf("schema lacks %q", want)
				}
			}
			newIdx := 0
			for _, l := range schema1 {
				if strings.HasPrefix(l, "index idx_email_schedules_contact_id") {
					newIdx++
				}
			}
			if want := map[bool]int{false: 1, true: 0}[tc.prod]; newIdx != want {
				t.Errorf("Migrate created %d email_schedules indexes, want %d", newIdx, want)
			}
			for _, l := range schema0 {
				if !contains(schema1, l) && !strings.HasPrefix(l, "table email_schedules") && !strings.HasPrefix(l, "table scheduler_checkpoints") {
					t.Errorf("Migrate changed %q", l)
				}
			}
			// The stream works on the migrated database.
			if got := readAll(t, s); len(got) != 300 {
				t.Errorf("read %d contacts, want 300", len(got))
			}
		})
	}
}

func columnsOf(t *testing.T, s *sqlite.Store, table string) []string {
	t.Helper()
	rows, err := s.DB().Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		out = append(out, "quote("+c+")")
	}
	return out
}

// rowsOf dumps a table's rows (columns as SQL literals) in rowid order.
func rowsOf(t *testing.T, s *sqlite.Store, cols []string) []string {
	t.Helper()
	table := "email_schedules"
	if contains(cols, "quote(birth_date)") {
		table = "contacts"
	}
	rows, err := s.DB().Query(`SELECT ` + strings.Join(cols, "||'|'||") + ` FROM ` + table + ` ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		rows.Scan(&l)
		out = append(out, l)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestDirtyData writes values no planner would expect, straight into the
// tables: the stream never breaks, unreadable dates become issues, unknown
// types and orphans are skipped and counted, odd text is kept verbatim.
func TestDirtyData(t *testing.T) {
	s, db := newStore(t, sqlitefixture.Full, sqlitefixture.NoUnique, nil, emailsched.Campaigns{}, sqlite.Options{})
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sqlish := "'); DROP TABLE contacts; --"
	exec(`INSERT INTO contacts (id, email, zip_code, state, birth_date, effective_date, current_carrier, do_not_communicate) VALUES
		(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(2, '', '', '', '', '', '', ''),
		(3, ?, '90210-1234', 'ca', '1955-05-01 00:00:00', '2019-02-30', ?, 'yes'),
		(4, 12345, 2134, 7, 19550501, X'00FF', 3.5, 0),
		(5, 'a@b.co', '  ', 'Texas', 'garbage', '1955-05-01T08:30:00Z', 'Humana', 'false'),
		(6, 'x@y.z', '60601', 'IL', '0000-00-00', ' 2015-07-01 ', NULL, 1)`, sqlish, sqlish)
	exec(`INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, status, priority, event_year, event_month, event_day) VALUES
		(3, 'BIRTHDAY', '2024-04-17 00:00:00', 'sent', 10, 2024, 5, 1),
		(3, 'carrier_pigeon', '2024-04-17', 'sent', 10, 2024, 5, 1),
		(3, 'aep', 'soon', 'pre-scheduled', 'high', 'x', NULL, NULL),
		(3, 'birthday', '2025-04-17', ' Pre-Scheduled ', 10, 2025, 2, 30),
		(99, 'aep', '2025-09-15', 'pre-scheduled', 20, 2025, 9, 15),
		(2.5, 'aep', '2025-09-15', 'sent', 20, 2025, 9, 15),
		('abc', 'aep', '2025-09-15', 'sent', 20, 2025, 9, 15),
		(4, ?, ?, ?, ?, ?, ?, ?)`, sqlish, sqlish, sqlish, sqlish, sqlish, sqlish, sqlish)
	exec(`INSERT INTO tracking_clicks (contact_id, clicked_at) VALUES (3, '2024-05-01 10:00:00'), (3, 'yesterday'), (3, 1714557600), (0, '2024-01-01')`)
	exec(`INSERT INTO contact_events (contact_id, event_type, metadata, created_at) VALUES
		(3, 'eligibility_answered', '{"has_medical_conditions": true}', '2024-05-02 10:00:00'),
		(3, 'eligibility_answered', '{"main_questions_yes_count": "2"}', '2024-05-02'),
		(3, 'eligibility_answered', 'not json', NULL),
		(3, 'eligibility_answered', '{"main_questions_yes_count": 0}', '2024-05-03'),
		(3, 'page_view', '{"has_medical_conditions": true}', '2024-05-02')`)
	exec(`INSERT INTO contact_campaigns (contact_id, campaign_instance_id, trigger_date, status) VALUES
		(3, 1, '2025-04-01', 'active'), (3, 'x', '2025-04-01', NULL), (3, 2, 'never', 'active'), (5, 1, '2025-04-01 00:00:00', NULL)`)

	got := readAll(t, s)
	if len(got) != 7 {
		t.Fatalf("read %d contacts, want 6 and the deleted contact 99", len(got))
	}
	// Contact 99 does not exist, but its pre-scheduled row does: a deleted
	// contact, whose plan the next run removes.
	if g := got[6]; g.ID != 99 || !g.Deleted || len(g.Stored) != 1 || len(g.History) != 0 || g.Email != "" {
		t.Errorf("deleted contact: %+v", g)
	}
	got = got[:6]
	c3, c4, c5, c6 := got[2], got[3], got[4], got[5]
	if c3.Email != sqlish || c3.Carrier != sqlish || c3.State != "ca" || c3.ZIP != "90210-1234" || !c3.DoNotCommunicate {
		t.Errorf("contact 3: %+v", c3)
	}
	if c3.Birthday.String() != "1955-05-01" || !c3.EffectiveDate.IsZero() || !c3.HasIssue(emailsched.FieldEffectiveDate) {
		t.Errorf("contact 3 dates: %v %v %v", c3.Birthday, c3.EffectiveDate, c3.Issues)
	}
	if c4.Email != "12345" || c4.ZIP != "2134" || c4.State != "7" || len(c4.Issues) != 2 || c4.DoNotCommunicate {
		t.Errorf("contact 4: %+v", c4)
	}
	if !c5.HasIssue(emailsched.FieldBirthday) || c5.EffectiveDate.String() != "1955-05-01" || c5.DoNotCommunicate {
		t.Errorf("contact 5: %+v", c5)
	}
	if !c6.HasIssue(emailsched.FieldBirthday) || c6.EffectiveDate.String() != "2015-07-01" || !c6.DoNotCommunicate {
		t.Errorf("contact 6: %+v", c6)
	}
	// History: BIRTHDAY (legacy) and ' Pre-Scheduled ' (not exactly a
	// planned status: never touched, so history). Stored: the aep row
	// with an unreadable date.
	if len(c3.History) != 2 || c3.History[0].Type != emailsched.TypeBirthday || c3.History[0].Date.String() != "2024-04-17" {
		t.Errorf("contact 3 history: %+v", c3.History)
	}
	if len(c3.Stored) != 1 || !c3.Stored[0].Date.IsZero() || c3.Stored[0].Priority != 0 {
		t.Errorf("contact 3 stored: %+v", c3.Stored)
	}
	if e := c3.History[1]; e.Event.String() != "2025-01-01" || e.Status != emailsched.StatusPreScheduled {
		t.Errorf("row with Feb 30 event: %+v", e)
	}
	if n := len(c3.Engagement); n != 7 {
		t.Errorf("contact 3 engagement: %d, want 3 clicks and 4 answers: %+v", n, c3.Engagement)
	}
	med := 0
	for _, e := range c3.Engagement {
		if e.MedicalConditions {
			med++
		}
	}
	if med != 2 {
		t.Errorf("%d answers with medical conditions, want 2", med)
	}
	if len(c3.Campaigns) != 1 || len(c5.Campaigns) != 1 {
		t.Errorf("targets: %+v %+v", c3.Campaigns, c5.Campaigns)
	}
	st := s.ReadStats()
	want := sqlite.ReadStats{Contacts: 6, Rows: 4, UnknownTypeRows: 2, BadDateRows: 1, OrphanRows: 4, Clicks: 3, HealthAnswers: 4,
		Targets: 2, BadTargets: 2, FieldIssues: 5, DeletedContacts: 1, Chunks: 1}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("ReadStats (-want +got):\n%s", diff)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM contacts`).Scan(&n)
	if n != 6 {
		t.Errorf("contacts table has %d rows", n)
	}
}

// TestBackup takes an online backup (while a reader holds a snapshot),
// verifies it, and prunes by the age in the names, touching nothing else.
func TestBackup(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 9, Contacts: 500}})
	now := time.Date(2025, 3, 3, 4, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "backups")
	s, db := openStore(t, path, sqlite.Options{Now: func() time.Time { return now }, Backup: sqlite.BackupOptions{Dir: dir, KeepDays: 7}})
	os.MkdirAll(dir, 0o755)
	old := filepath.Join(dir, "org-001.backup-20250220T040000.000Z.sqlite3")
	recent := filepath.Join(dir, "org-001.backup-20250301T040000.000Z.sqlite3")
	other := filepath.Join(dir, "org-002.backup-20200101T000000.000Z.sqlite3")
	notes := filepath.Join(dir, "notes.txt")
	for _, f := range []string{old, recent, other, notes} {
		os.WriteFile(f, []byte("x"), 0o644)
	}
	// A run takes the backup first.
	w, err := s.Begin(context.Background(), emailsched.RunInfo{ID: "with-backup", Today: testToday, SendTime: "08:30"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "org-001.backup-20250303T040000.000Z.sqlite3")
	for f, exists := range map[string]bool{old: false, recent: true, other: true, notes: true, backup: true} {
		if _, err := os.Stat(f); (err == nil) != exists {
			t.Errorf("%s exists=%v, want %v", filepath.Base(f), err == nil, exists)
		}
	}
	bdb, err := sqlite.Open(context.Background(), backup)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := sqlite.IntegrityCheck(context.Background(), bdb); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dump(t, db, false, false), dump(t, bdb, false, false)); diff != "" {
		t.Errorf("backup differs:\n%s", diff)
	}
	// A corrupt file fails the check.
	bad := filepath.Join(t.TempDir(), "bad.sqlite3")
	b, _ := os.ReadFile(backup)
	for i := 4096 * 3; i < len(b) && i < 4096*6; i++ {
		b[i] ^= 0x5a
	}
	os.WriteFile(bad, b, 0o644)
	cdb, _ := sqlite.Open(context.Background(), bad)
	if cdb != nil {
		defer cdb.Close()
		if err := sqlite.IntegrityCheck(context.Background(), cdb); err == nil {
			t.Error("integrity check passed on a corrupted copy")
		}
	}
}
