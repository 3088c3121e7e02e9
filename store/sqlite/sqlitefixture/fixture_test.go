package sqlitefixture_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// digest hashes every row of the tables (by default, those of Full).
func digest(t *testing.T, path string, tables ...string) string {
	if len(tables) == 0 {
		tables = []string{"contacts", "email_schedules", "tracking_clicks", "contact_events", "contact_campaigns", "campaign_types", "campaign_instances"}
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	for _, table := range tables {
		order := "rowid"
		if table == "sqlite_sequence" { // its rows come in the order of the tables' first inserts
			order = "name"
		}
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY " + order)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		v := make([]any, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		for rows.Next() {
			rows.Scan(p...)
			fmt.Fprintf(h, "%v\n", v)
		}
		rows.Close()
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestDeterministicAndFast creates the same database twice (same seed:
// identical rows) for each shape and logs the rate of Create.
func TestDeterministicAndFast(t *testing.T) {
	for _, shape := range []sqlitefixture.Shape{sqlitefixture.Production, sqlitefixture.Full} {
		t.Run(shape.String(), func(t *testing.T) {
			opts := sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 11, Contacts: 20000}, Shape: shape}
			var tables []string
			if shape == sqlitefixture.Production {
				tables = productionTables
			}
			var sums []string
			for i := range 2 {
				path := filepath.Join(t.TempDir(), fmt.Sprintf("f%d.sqlite3", i))
				start, c0 := time.Now(), cpuTime()
				if err := sqlitefixture.Create(context.Background(), path, opts); err != nil {
					t.Fatal(err)
				}
				el, cpu := time.Since(start), cpuTime()-c0
				t.Logf("%d contacts: %v wall (%.0f contacts/s), %v CPU (%.0f contacts/CPU-s)", opts.Gen.Contacts, el,
					float64(opts.Gen.Contacts)/el.Seconds(), cpu, float64(opts.Gen.Contacts)/cpu.Seconds())
				sums = append(sums, digest(t, path, tables...))
			}
			if sums[0] != sums[1] {
				t.Error("the same options gave different databases")
			}
		})
	}
}
