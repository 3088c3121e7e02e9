package sqlitefixture

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/emailsched/emailsched"
)

// productionSchema is the schema of a production organisation database,
// a byte-for-byte copy of testdata/schema/org-db.schema.sql (a test checks
// that the two do not differ).
//
//go:embed org-db.schema.sql
var productionSchema string

// ProductionSchema returns the schema of a production organisation database
// (testdata/schema/org-db.schema.sql), verbatim: the output of sqlite3's
// .schema, which the Production shape executes.
func ProductionSchema() string { return productionSchema }

// statement is one statement of a schema script.
type statement struct {
	sql  string // from its first token to its ';' (excluded)
	kind string // "table", "index", "trigger", "view" or "" (anything else)
	name string // the name of the object it creates, unquoted
}

// sequenceTable is the statement of .schema output that no script can
// execute: SQLite creates sqlite_sequence itself, with exactly this
// definition, with the first AUTOINCREMENT table, and refuses to create it
// otherwise ("object name reserved for internal use").
const sequenceTable = "CREATE TABLE sqlite_sequence(name,seq)"

// productionStatements is the production schema split into statements.
var productionStatements = sync.OnceValue(func() []statement { return splitStatements(productionSchema) })

// splitStatements splits a script into its statements the way the sqlite3
// shell does (sqlite3_complete): a statement ends at a ';' outside quotes
// and comments, except inside CREATE TRIGGER, which ends at the ';' that
// follows the keyword END. Comments between statements are dropped; those
// inside a statement are kept (SQLite stores them in sqlite_master).
func splitStatements(src string) []statement {
	var out []statement
	start := -1        // offset of the current statement's first token
	var words []string // its first words, upper case
	trigger, afterEnd := false, false
	begin := func(i int) {
		if start < 0 {
			start = i
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(src)
			}
			continue
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if j := strings.Index(src[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(src)
			}
			continue
		case c == '\'' || c == '"' || c == '`' || c == '[':
			begin(i)
			closing := c
			if c == '[' {
				closing = ']'
			}
			if j := strings.IndexByte(src[i+1:], closing); j >= 0 {
				i += j + 2
			} else {
				i = len(src)
			}
			afterEnd = false
			continue
		case c == ';':
			if start >= 0 && (!trigger || afterEnd) {
				out = append(out, classify(src[start:i], words))
				start, words, trigger = -1, words[:0], false
			}
			afterEnd = false
			i++
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case isWordByte(c):
			begin(i)
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			w := strings.ToUpper(src[i:j])
			if len(words) < 3 {
				words = append(words, w)
				// CREATE [TEMP|TEMPORARY] TRIGGER
				if w == "TRIGGER" && words[0] == "CREATE" && (len(words) == 2 || words[1] == "TEMP" || words[1] == "TEMPORARY") {
					trigger = true
				}
			}
			afterEnd = w == "END"
			i = j
			continue
		}
		begin(i)
		afterEnd = false
		i++
	}
	if start >= 0 {
		if s := strings.TrimSpace(src[start:]); s != "" {
			out = append(out, classify(s, words))
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// classify names the object a CREATE statement creates.
func classify(sql string, words []string) statement {
	st := statement{sql: sql}
	if len(words) < 2 || words[0] != "CREATE" {
		return st
	}
	rest := strings.TrimSpace(sql[len("CREATE"):])
	for _, kw := range []string{"TEMPORARY", "TEMP", "UNIQUE", "VIRTUAL"} {
		if len(rest) > len(kw) && strings.EqualFold(rest[:len(kw)], kw) && rest[len(kw)] <= ' ' {
			rest = strings.TrimSpace(rest[len(kw):])
		}
	}
	for _, kind := range []string{"TABLE", "INDEX", "TRIGGER", "VIEW"} {
		if len(rest) > len(kind) && strings.EqualFold(rest[:len(kind)], kind) && rest[len(kind)] <= ' ' {
			st.kind = strings.ToLower(kind)
			rest = strings.TrimSpace(rest[len(kind):])
			break
		}
	}
	if st.kind == "" {
		return st
	}
	if len(rest) > 13 && strings.EqualFold(rest[:13], "IF NOT EXISTS") {
		rest = strings.TrimSpace(rest[13:])
	}
	// The name: quoted, or up to the first space or parenthesis.
	if rest != "" && (rest[0] == '"' || rest[0] == '`' || rest[0] == '[') {
		closing := rest[0]
		if closing == '[' {
			closing = ']'
		}
		if j := strings.IndexByte(rest[1:], closing); j >= 0 {
			st.name = rest[1 : j+1]
		}
		return st
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r <= ' ' || r == '(' })
	if end < 0 {
		end = len(rest)
	}
	st.name = rest[:end]
	return st
}

// execSchema executes statements of the production schema in order, but
// for sequenceTable (see there).
func execSchema(ctx context.Context, conn execer, stmts []statement) error {
	for _, st := range stmts {
		if st.sql == sequenceTable {
			continue
		}
		if _, err := conn.ExecContext(ctx, st.sql); err != nil {
			return fmt.Errorf("sqlitefixture: schema: %.60q: %w", st.sql, err)
		}
	}
	return nil
}

// execer is a *sql.DB or a *sql.Conn.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// stagedTargets is the temporary table that holds contact_campaigns rows
// while a Production database is loaded: the production schema creates
// contact_campaigns only after the indexes of the contact tables.
const stagedTargets = "sqlitefixture_contact_campaigns"

// createProduction fills an empty database with the production schema and
// the data of Write, in one transaction on one connection. It executes the
// schema's statements in their order, so that sqlite_master ends up as the
// schema file makes it, and loads every table before the first index or
// trigger that follows its creation: the tables created at the start
// (contacts, email_schedules, ...) before any index, the ones created later
// (campaign_types, ..., scheduler_checkpoints) right after their CREATE
// TABLE. contact_campaigns rows wait in a temporary table meanwhile.
func createProduction(ctx context.Context, db *sql.DB, contacts iter.Seq[*emailsched.Contact], opts writeOptions) (err error) {
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
	stmts := productionStatements()
	first := 0
	for first < len(stmts) && stmts[first].kind == "table" {
		first++
	}
	if err := execSchema(ctx, conn, stmts[:first]); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+stagedTargets+
		" (contact_id, campaign_instance_id, trigger_date, status, created_at, updated_at)"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	opts.targets = stagedTargets
	// The schema's unique index, idx_email_schedules_unique_event, comes
	// after the data.
	opts.unique = UniqueEventYear
	w, err := newWriter(ctx, conn, opts)
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.stream(ctx, contacts); err != nil {
		return err
	}
	done := map[string]bool{}
	for _, t := range lateTables {
		ok, err := w.fill(ctx, t)
		if err != nil {
			return err
		}
		done[t] = ok
	}
	for _, st := range stmts[first:] {
		if err := execSchema(ctx, conn, []statement{st}); err != nil {
			return err
		}
		if st.kind != "table" {
			continue
		}
		if st.name == "contact_campaigns" {
			if _, err := conn.ExecContext(ctx, "INSERT INTO contact_campaigns ("+strings.Join(targetColumns, ",")+") SELECT "+
				strings.Join(targetColumns, ",")+" FROM temp."+stagedTargets+" ORDER BY rowid"); err != nil {
				return fmt.Errorf("sqlitefixture: contact_campaigns: %w", err)
			}
			continue
		}
		for _, t := range lateTables {
			if t == st.name && !done[t] {
				if done[t], err = w.fill(ctx, t); err != nil {
					return err
				}
			}
		}
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE temp."+stagedTargets); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlitefixture: %w", err)
	}
	return nil
}
