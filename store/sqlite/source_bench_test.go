package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/emailsched/emailsched/store/sqlite"
)

var (
	sourceDB   = flag.String("source.db", "", "run TestSourceRead on this database (e.g. a nightly database kept by examples/bench -keep)")
	sourceReps = flag.Int("source.reps", 5, "repetitions of each TestSourceRead measurement (the median is reported)")
	sourceOnly = flag.Bool("source.only", false, "TestSourceRead measures the source alone (for profiles)")
)

// TestSourceRead reads every contact of -source.db through the source, next
// to the bench's floor (one plain SELECT of the contacts and one full scan
// of email_schedules into sql.RawBytes), and logs wall and CPU time,
// allocations and the ratios (medians of -source.reps, alternating which
// goes first). Writing is left out, unlike TestThroughput: it isolates the
// source's cost.
//
//	go test -run TestSourceRead -v ./store/sqlite/ -source.db /tmp/nightly.sqlite3
func TestSourceRead(t *testing.T) {
	if *sourceDB == "" {
		t.Skip("set -source.db to run")
	}
	ctx := context.Background()
	db := openRO(t, *sourceDB)
	s := sqlite.New(db, sqlite.Options{})

	type sample struct {
		wall, cpu     time.Duration
		allocs, bytes uint64
	}
	measure := func(f func()) sample {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start, c0 := time.Now(), cpuTime()
		f()
		w, c := time.Since(start), cpuTime()-c0
		runtime.ReadMemStats(&m1)
		return sample{w, c, m1.Mallocs - m0.Mallocs, m1.TotalAlloc - m0.TotalAlloc}
	}
	var contacts, rows int
	adapter := func() {
		contacts, rows = 0, 0
		for c, err := range s.Contacts(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			contacts++
			rows += len(c.Stored) + len(c.History)
		}
	}
	floor := func() {
		scanAll[sql.RawBytes](t, db, `SELECT id, email, zip_code, state, CAST(birth_date AS TEXT), CAST(effective_date AS TEXT),
		current_carrier, do_not_communicate FROM contacts ORDER BY id`)
		scanAll[sql.RawBytes](t, db, `SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules`)
	}
	// queries runs the source's queries, scanned like the source scans,
	// without building contacts: the source's cost above it is its own.
	queries := func() {
		for _, q := range []string{
			`SELECT id, email, zip_code, state, CAST(birth_date AS TEXT), CAST(effective_date AS TEXT), current_carrier, do_not_communicate FROM contacts ORDER BY id`,
			`SELECT contact_id, id, email_type, CAST(scheduled_send_date AS TEXT), status, skip_reason,
		priority, campaign_instance_id, email_template, sms_template, scheduler_run_id,
		event_year, event_month, event_day, catchup_note, metadata, CAST(actual_send_datetime AS TEXT)
		FROM email_schedules ORDER BY contact_id`,
			`SELECT contact_id, CAST(clicked_at AS TEXT) FROM tracking_clicks ORDER BY contact_id`,
			`SELECT contact_id, CAST(created_at AS TEXT), metadata FROM contact_events WHERE event_type = 'eligibility_answered' ORDER BY contact_id`,
			`SELECT contact_id, campaign_instance_id, CAST(trigger_date AS TEXT), status FROM contact_campaigns ORDER BY contact_id`,
		} {
			scanAll[any](t, db, q)
		}
	}
	med := func(ss []sample, get func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, x := range ss {
			v[i] = get(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	wall := func(x sample) float64 { return x.wall.Seconds() }
	cpu := func(x sample) float64 { return x.cpu.Seconds() }
	allocs := func(x sample) float64 { return float64(x.allocs) }
	bytes := func(x sample) float64 { return float64(x.bytes) }
	summary := func(name string, ss []sample) string {
		return fmt.Sprintf("%s: wall %.2fs CPU %.2fs, %.1f allocs/contact, %.0f B/contact, %.0f MB", name,
			med(ss, wall), med(ss, cpu), med(ss, allocs)/float64(contacts), med(ss, bytes)/float64(contacts), med(ss, bytes)/1e6)
	}
	var a, f, q []sample
	if *sourceOnly {
		for range *sourceReps {
			a = append(a, measure(adapter))
		}
		t.Log(summary("source", a))
		return
	}
	for rep := range *sourceReps {
		if rep%2 == 0 {
			a = append(a, measure(adapter))
			q = append(q, measure(queries))
			f = append(f, measure(floor))
		} else {
			f = append(f, measure(floor))
			q = append(q, measure(queries))
			a = append(a, measure(adapter))
		}
	}
	t.Logf("%d contacts, %d email rows", contacts, rows)
	t.Log(summary("source", a))
	t.Log(summary("floor", f))
	cpus := func(ss []sample) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, x := range ss {
			out[i] = x.cpu.Round(time.Millisecond)
		}
		return out
	}
	t.Log(summary("queries", q) + " (the source's queries alone, scanned into any)")
	least := func(ss []sample) float64 {
		m := ss[0].cpu
		for _, x := range ss {
			m = min(m, x.cpu)
		}
		return m.Seconds()
	}
	t.Logf("ratio source/floor: wall %.2f CPU %.2f, least CPU %.2f  [CPU source %v, floor %v]",
		med(a, wall)/med(f, wall), med(a, cpu)/med(f, cpu), least(a)/least(f), cpus(a), cpus(f))
}

// scanAll scans every row of query into values of type T (any, or
// sql.RawBytes as the floor does).
func scanAll[T any](t *testing.T, db *sql.DB, query string) {
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]T, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
