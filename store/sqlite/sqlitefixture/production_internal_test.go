package sqlitefixture

import (
	"slices"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	src := `-- a comment; with a semicolon
CREATE TABLE IF NOT EXISTS "a b" (x TEXT DEFAULT ';', -- and here; too
  y /* a ; comment */ INTEGER);
CREATE TABLE sqlite_sequence(name,seq);
create unique index [i;1] ON "a b"(x);
CREATE TRIGGER t AFTER UPDATE ON "a b"
FOR EACH ROW
BEGIN
    UPDATE "a b" SET y = 1 WHERE x = OLD.x;
    SELECT 'END;';
END;
CREATE TEMP TRIGGER t2 AFTER INSERT ON "a b" BEGIN SELECT 1; END;
CREATE INDEX j ON "a b"(y)`
	got := splitStatements(src)
	want := []statement{
		{sql: "CREATE TABLE IF NOT EXISTS \"a b\" (x TEXT DEFAULT ';', -- and here; too\n  y /* a ; comment */ INTEGER)", kind: "table", name: "a b"},
		{sql: sequenceTable, kind: "table", name: "sqlite_sequence"},
		{sql: `create unique index [i;1] ON "a b"(x)`, kind: "index", name: "i;1"},
		{sql: "CREATE TRIGGER t AFTER UPDATE ON \"a b\"\nFOR EACH ROW\nBEGIN\n    UPDATE \"a b\" SET y = 1 WHERE x = OLD.x;\n    SELECT 'END;';\nEND", kind: "trigger", name: "t"},
		{sql: `CREATE TEMP TRIGGER t2 AFTER INSERT ON "a b" BEGIN SELECT 1; END`, kind: "trigger", name: "t2"},
		{sql: `CREATE INDEX j ON "a b"(y)`, kind: "index", name: "j"},
	}
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w statement
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("statement %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}
}

// TestProductionStatements checks the split of the production schema: every
// statement creates a named table, index or trigger.
func TestProductionStatements(t *testing.T) {
	stmts := productionStatements()
	kinds := map[string]int{}
	for _, st := range stmts {
		if st.kind == "" || st.name == "" {
			t.Errorf("unclassified statement %.60q", st.sql)
		}
		kinds[st.kind]++
	}
	if kinds["table"] != 21 || kinds["trigger"] != 3 || kinds["index"] != 50 {
		t.Errorf("%d statements: %v", len(stmts), kinds)
	}
}
