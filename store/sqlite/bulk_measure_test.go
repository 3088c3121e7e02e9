package sqlite

import (
	"context"
	"database/sql"
	goflag "flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var bulkMeasure = goflag.String("bulk.measure", "", "measure where bulk writes pay on a copy of this planned organisation database (see bulkShare)")

// TestBulkThreshold measures, on copies of a planned database of the
// production schema, the time to add a share s of the rows email_schedules
// holds with the indexes maintained and with them dropped and created
// again, for several shares: bulkShare is set from where the two cross.
// Run: go test ./store/sqlite -run TestBulkThreshold -bulk.measure PATH -v
func TestBulkThreshold(t *testing.T) {
	if *bulkMeasure == "" {
		t.Skip("a measurement: give -bulk.measure PATH")
	}
	ctx := context.Background()
	for _, share := range []float64{0.05, 0.1, 0.15, 0.2, 0.3, 0.5} {
		var times [2]time.Duration
		for i, bulk := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "m.sqlite3")
			copyTestFile(t, *bulkMeasure, path)
			db, err := sql.Open("sqlite3", path)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				t.Fatal(err)
			}
			var idx []secondaryIndex
			if bulk {
				if idx, err = dropIndexes(ctx, conn); err != nil {
					t.Fatal(err)
				}
			}
			// Rows like the table's, spread over it as a run's are, in a
			// later year so that no unique index refuses them.
			if _, err := conn.ExecContext(ctx, `INSERT INTO email_schedules (contact_id, email_type, scheduled_send_date, scheduled_send_time,
				status, skip_reason, priority, event_year, event_month, event_day, created_at, updated_at)
				SELECT contact_id, email_type, scheduled_send_date, scheduled_send_time, 'pre-scheduled', skip_reason, priority,
				event_year + 50, event_month, event_day, created_at, updated_at FROM email_schedules WHERE abs(id * 2654435761) % 10000 < ?`, int(share*10000)); err != nil {
				t.Fatal(err)
			}
			if bulk {
				if err := createIndexes(ctx, conn, idx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
			times[i] = time.Since(start)
			conn.Close()
			db.Close()
		}
		t.Logf("share %.2f of the table's rows: indexes maintained %v, bulk %v (bulk/maintained %.2f)", share,
			times[0].Round(time.Millisecond), times[1].Round(time.Millisecond), times[1].Seconds()/times[0].Seconds())
	}
}

func copyTestFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
