package sqlitefixture_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// schemaFile is the schema of a production organisation database.
const schemaFile = "../../../testdata/schema/org-db.schema.sql"

// sequenceStatement is the one statement of the schema file that SQLite
// refuses to execute: it creates sqlite_sequence itself, with the first
// AUTOINCREMENT table.
const sequenceStatement = "CREATE TABLE sqlite_sequence(name,seq);"

// TestEmbeddedSchema fails when the package's embedded copy of the schema
// and testdata/schema/org-db.schema.sql differ by a byte.
func TestEmbeddedSchema(t *testing.T) {
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	got := []byte(sqlitefixture.ProductionSchema())
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	line := bytes.Count(want[:i], []byte("\n")) + 1
	t.Fatalf("store/sqlite/sqlitefixture/org-db.schema.sql (%d bytes) differs from %s (%d bytes) at byte %d, line %d: copy the file",
		len(got), schemaFile, len(want), i, line)
}

// masterRow is a row of sqlite_master but for rootpage.
type masterRow struct {
	Type, Name, TblName string
	SQL                 sql.NullString
}

func (r masterRow) String() string {
	s := "NULL"
	if r.SQL.Valid {
		s = fmt.Sprintf("%q", r.SQL.String)
	}
	return fmt.Sprintf("%s %s on %s: %s", r.Type, r.Name, r.TblName, s)
}

// master returns sqlite_master in creation order (rowid).
func master(t *testing.T, path string) []masterRow {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []masterRow
	for rows.Next() {
		var r masterRow
		if err := rows.Scan(&r.Type, &r.Name, &r.TblName, &r.SQL); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// referenceDB executes the schema file verbatim on an empty database: as
// one script, which stops at the statement SQLite refuses, and then the
// rest of the script.
func referenceDB(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "reference.sqlite3")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	script := string(src)
	i := strings.Index(script, "\n"+sequenceStatement+"\n")
	if i < 0 {
		t.Fatalf("the schema file has no line %q", sequenceStatement)
	}
	if _, err := db.Exec(script); err == nil || !strings.Contains(err.Error(), "reserved for internal use") {
		t.Fatalf("executing the schema file: %v, want SQLite's refusal of %s", err, sequenceStatement)
	}
	if _, err := db.Exec(script[i+1+len(sequenceStatement):]); err != nil {
		t.Fatalf("executing the schema file after %s: %v", sequenceStatement, err)
	}
	return path
}

// cliReferenceDB executes the schema file with the sqlite3 shell, when
// there is one.
func cliReferenceDB(t *testing.T) string {
	t.Helper()
	shell, err := exec.LookPath("sqlite3")
	if err != nil {
		return ""
	}
	path := filepath.Join(t.TempDir(), "cli.sqlite3")
	in, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(shell, path)
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	// The shell reports the statement it cannot execute and goes on.
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "sqlite_sequence") {
		t.Fatalf("sqlite3 < %s: %v\n%s", schemaFile, err, out)
	}
	return path
}

func diffMaster(t *testing.T, name string, got, want []masterRow) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w masterRow
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: sqlite_master row %d (of %d, want %d):\n got %v\nwant %v", name, i+1, len(got), len(want), g, w)
			return
		}
	}
}

// TestProductionSchema checks that the sqlite_master of Production
// databases (made by Create, and by CreateSchema, Write and CreateIndexes)
// equals, in creation order and byte for byte, that of an empty database
// on which the schema file was executed verbatim.
func TestProductionSchema(t *testing.T) {
	ctx := context.Background()
	want := master(t, referenceDB(t))
	if len(want) < 80 {
		t.Fatalf("the reference has %d objects", len(want))
	}
	if cli := cliReferenceDB(t); cli != "" {
		diffMaster(t, "the sqlite3 shell's reference", master(t, cli), want)
	} else {
		t.Log("no sqlite3 shell: its reference is not checked")
	}

	gen := demodata.GenOptions{Seed: 4, Contacts: 500, StoredFraction: 0.3}
	created := filepath.Join(t.TempDir(), "created.sqlite3")
	if err := sqlitefixture.Create(ctx, created, sqlitefixture.Options{Gen: gen}); err != nil {
		t.Fatal(err)
	}
	diffMaster(t, "Create", master(t, created), want)

	steps := filepath.Join(t.TempDir(), "steps.sqlite3")
	db, err := sql.Open("sqlite3", steps)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gen.Campaigns = demodata.DemoCampaigns(gen.Today)
	if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Production); err != nil {
		t.Fatal(err)
	}
	if err := sqlitefixture.Write(ctx, db, demodata.GenerateSeq(gen), gen.Campaigns, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
	if err := sqlitefixture.CreateIndexes(ctx, db, sqlitefixture.Options{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	diffMaster(t, "CreateSchema+Write+CreateIndexes", master(t, steps), want)
	if a, b := digest(t, created, productionTables...), digest(t, steps, productionTables...); a != b {
		t.Error("Create and CreateSchema+Write+CreateIndexes wrote different rows")
	}
}

// productionTables are the tables of the production schema.
var productionTables = []string{"contacts", "email_schedules", "tracking_clicks", "contact_events", "contact_campaigns",
	"campaign_types", "campaign_instances", "scheduler_checkpoints", "leads", "batches", "batch_contacts", "batch_logs",
	"email_send_tracking", "deleted_contacts", "config_versions", "sqlite_sequence", "contacts_backup",
	"eligibility_answers", "campaign_change_log", "followup_processing_log", "email_tracking"}

func openRO(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestProductionConstraints checks that a Production database satisfies
// its constraints, foreign keys included, and is left in journal mode
// DELETE (WAL with Options.WAL).
func TestProductionConstraints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "org.sqlite3")
	if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 2, Contacts: 3000, StoredFraction: 0.5}}); err != nil {
		t.Fatal(err)
	}
	db := openRO(t, path)
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, parent string
		var rowid, fk sql.NullInt64
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			t.Fatal(err)
		}
		t.Errorf("foreign key violation: %s row %v → %s", table, rowid.Int64, parent)
	}
	rows.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q, %v", ok, err)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM pragma_foreign_key_list('contact_campaigns')"); n != 2 {
		t.Errorf("contact_campaigns declares %d foreign keys, want 2", n)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal mode %q (%v), want delete", mode, err)
	}
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("%s left beside the database", suffix)
		}
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"SELECT count(*) FROM contacts", 3000},
		{"SELECT count(*) FROM contacts WHERE first_name IS NULL OR last_name IS NULL OR email IS NULL OR email = ''", 0},
		{"SELECT count(*) FROM (SELECT contact_id, email_type, event_year FROM email_schedules GROUP BY 1, 2, 3 HAVING count(*) > 1 AND event_year IS NOT NULL)", 0},
		{"SELECT count(*) FROM tracking_clicks WHERE length(tracking_id) <> 16", 0},
		{"SELECT count(*) FROM scheduler_checkpoints", 4},
		{"SELECT count(*) FROM scheduler_checkpoints WHERE status = 'completed' AND error_message IS NULL AND completed_at > run_timestamp AND contacts_processed = 3000", 3},
		{"SELECT count(*) FROM scheduler_checkpoints WHERE status = 'failed' AND error_message <> '' AND completed_at IS NULL", 1},
		{"SELECT count(DISTINCT scheduler_run_id) FROM scheduler_checkpoints WHERE length(contacts_checksum) = 64", 4},
		{"SELECT count(*) FROM leads", 5},
		{"SELECT count(*) FROM contact_events WHERE lead_id IS NOT NULL AND contact_id IS NULL", 3},
		{"SELECT count(*) FROM batch_contacts", 8},
		{"SELECT count(*) FROM email_send_tracking", 8},
		{"SELECT count(*) FROM deleted_contacts WHERE original_contact_id > 3000", 2},
		{"SELECT seq FROM sqlite_sequence WHERE name = 'contacts'", 3002},
		{"SELECT count(*) FROM config_versions", 2},
		{"SELECT count(*) FROM campaign_instances", 5},
		{"SELECT count(*) FROM campaign_types", 4},
		{"SELECT count(*) > 0 FROM contact_campaigns", 1},
		{"SELECT count(*) FROM contact_campaigns", queryInt(t, db, "SELECT count(*) FROM contact_campaigns WHERE campaign_instance_id IN (SELECT id FROM campaign_instances)")},
		// The dirt that the constraints allow.
		{"SELECT count(*) > 0 FROM email_schedules WHERE scheduled_send_date LIKE '% 00:00:00'", 1},
		{"SELECT count(*) > 0 FROM email_schedules WHERE email_type IN ('BIRTHDAY', 'EFFECTIVE_DATE', 'AEP', 'POST_WINDOW')", 1},
		{"SELECT count(*) > 0 FROM email_schedules WHERE email_type = 'SCHEDULED_RATE_INCREASE'", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE birth_date LIKE '% 00:00:00'", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE state IS NULL", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE state = ''", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE state <> upper(trim(state))", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE zip_code LIKE '_____-____'", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE current_carrier = ''", 1},
		{"SELECT count(*) > 0 FROM contacts WHERE birth_date IN ('unknown', '03/14/1949', '1955-13-45', '1951-02-29')", 1},
	} {
		if got := queryInt(t, db, c.query); got != c.want {
			t.Errorf("%s: %d, want %d", c.query, got, c.want)
		}
	}

	wal := filepath.Join(dir, "wal.sqlite3")
	if err := sqlitefixture.Create(ctx, wal, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 2, Contacts: 10}, WAL: true}); err != nil {
		t.Fatal(err)
	}
	if err := openRO(t, wal).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("with WAL: journal mode %q (%v), want wal", mode, err)
	}
}

// TestProductionContacts checks that every contact reads back as the
// package documentation says.
func TestProductionContacts(t *testing.T) {
	gen := demodata.GenOptions{Seed: 8, Contacts: 4000}
	path := filepath.Join(t.TempDir(), "org.sqlite3")
	if err := sqlitefixture.Create(context.Background(), path, sqlitefixture.Options{Gen: gen}); err != nil {
		t.Fatal(err)
	}
	db := openRO(t, path)
	var cols []string
	rows, err := db.Query("SELECT name FROM pragma_table_info('contacts')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, c)
	}
	rows.Close()
	if slices.Contains(cols, "do_not_communicate") {
		t.Error("contacts has do_not_communicate")
	}
	stored := map[int64][3]string{}
	rows, err = db.Query("SELECT id, email, first_name, last_name FROM contacts")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var v [3]string
		if err := rows.Scan(&id, &v[0], &v[1], &v[2]); err != nil {
			t.Fatal(err)
		}
		stored[id] = v
	}
	rows.Close()
	missing, tagged, optedOut := 0, 0, 0
	for _, c := range demodata.Generate(gen) {
		v, ok := stored[c.ID]
		if !ok {
			t.Fatalf("contact %d not written", c.ID)
		}
		want := sqlitefixture.UniqueEmail(c.ID, c.Email)
		if v[0] != want {
			t.Errorf("contact %d: email %q, want %q (generated %q)", c.ID, v[0], want, c.Email)
		}
		switch {
		case c.Email == "":
			missing++
			if want != fmt.Sprintf("no-email-%d", c.ID) {
				t.Errorf("contact %d without an address: %q", c.ID, want)
			}
		case want != c.Email:
			tagged++
			if want != fmt.Sprintf("%s #%d", c.Email, c.ID) {
				t.Errorf("contact %d: %q for %q", c.ID, want, c.Email)
			}
		}
		first, last, _ := strings.Cut(c.Email, ".")
		last, _, _ = strings.Cut(last, "@")
		if v[1] != first || v[2] != last {
			t.Errorf("contact %d: names %q %q, want %q %q", c.ID, v[1], v[2], first, last)
		}
		if c.DoNotCommunicate {
			optedOut++
		}
	}
	if missing == 0 || tagged == 0 || optedOut == 0 {
		t.Errorf("the generated data lacks cases: %d without an address, %d implausible, %d opted out", missing, tagged, optedOut)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM campaign_instances"); n != 5 {
		t.Errorf("%d campaign instances, want 5", n)
	}
}

// TestProductionWriteInChunks writes the contacts of a Production database
// with two calls of Write: the other tables' rows come once.
func TestProductionWriteInChunks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chunks.sqlite3")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlitefixture.CreateSchema(ctx, db, sqlitefixture.Production); err != nil {
		t.Fatal(err)
	}
	gen := demodata.GenOptions{Seed: 6, Contacts: 300, StoredFraction: 0.5}
	camps := demodata.DemoCampaigns(gen.Today)
	if err := sqlitefixture.Write(ctx, db, demodata.GenerateSeq(gen), camps, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
	gen.Campaigns, gen.FirstID = camps, 301
	if err := sqlitefixture.Write(ctx, db, demodata.GenerateSeq(gen), emailsched.Campaigns{}, sqlitefixture.NoUnique); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM contacts":                 600,
		"SELECT count(*) FROM scheduler_checkpoints":    4,
		"SELECT count(*) FROM leads":                    5,
		"SELECT count(*) FROM pragma_foreign_key_check": 0,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d (%v), want %d", q, n, err, want)
		}
	}
}

func TestUniqueEmail(t *testing.T) {
	for _, c := range []struct {
		addr, want string
	}{
		{"", "no-email-7"},
		{"   ", "no-email-7"},
		{"mary.smith7@gmail.com", "mary.smith7@gmail.com"},
		{"a@b.co", "a@b.co"},
		{"none", "none #7"},
		{"no-email", "no-email #7"},
		{"mary.smith@", "mary.smith@ #7"},
		{"@example.com", "@example.com #7"},
		{"john smith@example.com", "john smith@example.com #7"},
		{"bob@@example.com", "bob@@example.com #7"},
		{"x@localhost", "x@localhost #7"},
		{"x@.com", "x@.com #7"},
		{"x@com.", "x@com. #7"},
	} {
		if got := sqlitefixture.UniqueEmail(7, c.addr); got != c.want {
			t.Errorf("UniqueEmail(7, %q) = %q, want %q", c.addr, got, c.want)
		}
	}
}

// TestOptions checks that options that contradict the shape are refused
// and leave no file.
func TestOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	gen := demodata.GenOptions{Seed: 1, Contacts: 5}
	for i, o := range []sqlitefixture.Options{
		{Gen: gen, ProductionIndexes: true},
		{Gen: gen, Unique: sqlitefixture.UniqueSendDate},
		{Gen: gen, Shape: sqlitefixture.Old + 1},
		{Gen: gen, Shape: sqlitefixture.Full, Unique: sqlitefixture.UniqueSendDate + 1},
	} {
		path := filepath.Join(dir, fmt.Sprintf("bad%d.sqlite3", i))
		if err := sqlitefixture.Create(ctx, path, o); err == nil {
			t.Errorf("%+v: no error", o)
		} else {
			t.Logf("%v", err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%+v: a file was left", o)
		}
		if err := sqlitefixture.CreateIndexes(ctx, nil, o); err == nil {
			t.Errorf("CreateIndexes %+v: no error", o)
		}
	}
	// A catalogue that breaks the schema's UNIQUE(campaign_type,
	// instance_name) fails while loading: the file is removed.
	camps := demodata.DemoCampaigns(gen.Today)
	camps.Instances[1].Name = camps.Instances[0].Name
	dup := filepath.Join(dir, "dup.sqlite3")
	if err := sqlitefixture.Create(ctx, dup, sqlitefixture.Options{Gen: demodata.GenOptions{Contacts: 5, Campaigns: camps}}); err == nil ||
		!strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("duplicate instance names: %v", err)
	}
	if _, err := os.Stat(dup); err == nil {
		t.Error("a failed Create left its file")
	}
	// Redundant but consistent: the schema's own unique index.
	path := filepath.Join(dir, "ok.sqlite3")
	if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{Gen: gen, Unique: sqlitefixture.UniqueEventYear}); err != nil {
		t.Fatal(err)
	}
	if err := sqlitefixture.Create(ctx, path, sqlitefixture.Options{Gen: gen}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("Create on an existing file: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the existing file was removed: %v", err)
	}
	if sqlitefixture.Production != 0 || sqlitefixture.Production.String() != "production" {
		t.Errorf("Production is %d (%s), want the zero Shape", sqlitefixture.Production, sqlitefixture.Production)
	}
}
