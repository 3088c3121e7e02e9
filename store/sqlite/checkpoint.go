package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// Checkpoint statuses (the status column of scheduler_checkpoints).
const (
	CheckpointRunning   = "running"
	CheckpointCompleted = "completed"
	CheckpointFailed    = "failed"
)

// ErrRunInProgress is wrapped by Begin when another run of the database
// holds the run lock: two runs never overlap, because the later one would
// plan from rows the earlier one is rewriting.
var ErrRunInProgress = errors.New("sqlite: another run of this database is in progress")

// ErrRunLockLost is wrapped when a run finds, as it writes, that its run
// lock was taken over: it stopped renewing its lease for longer than
// leaseTTL (the process was suspended, say) and another run took the
// database over. It writes nothing more.
var ErrRunLockLost = errors.New("sqlite: this run lost its run lock to another run")

// The run lock is a lease on the run's checkpoint row: a running run
// renews lease_until every leaseRenew, and a lease that was not renewed for
// leaseTTL, or whose owner (host and process id) is a process of this host
// that no longer exists, belongs to a run that stopped without finishing.
// A lease needs no file beside the database and works across hosts that
// share the database's file system.
const (
	leaseTTL   = 45 * time.Second
	leaseRenew = 10 * time.Second
)

// checkpointFilled are the columns of scheduler_checkpoints the adapter
// fills, in its own layout and in the layout of the scheduler that
// preceded it (scheduler_run_id and contacts_checksum NOT NULL,
// run_timestamp, completed_at, emails_scheduled, emails_skipped).
var checkpointFilled = []string{"run_id", "run_timestamp", "started_at", "finished_at", "run_date", "status",
	"contacts_processed", "contacts_checksum", "rules_checksum", "config_checksum", "rows_inserted", "rows_updated", "rows_deleted",
	"rows_unchanged", "rows_conflicting", "rows_taken", "contacts_deleted", "error_message", "lease_until", "owner",
	"plan_load", "scheduler_run_id", "completed_at", "emails_scheduled", "emails_skipped"}

// legacy columns of the earlier scheduler's layout, filled when present.
type checkpointLayout struct {
	schedulerRunID, completedAt, emailsScheduled, emailsSkipped bool
}

func readLayout(ctx context.Context, q queryer) (checkpointLayout, error) {
	cols, err := tableColumns(ctx, q, "scheduler_checkpoints")
	if err != nil {
		return checkpointLayout{}, err
	}
	return checkpointLayout{schedulerRunID: cols["scheduler_run_id"], completedAt: cols["completed_at"],
		emailsScheduled: cols["emails_scheduled"], emailsSkipped: cols["emails_skipped"]}, nil
}

// insertSQL is the INSERT of a new checkpoint row in this layout, with its
// arguments in order: run id, started (text), run date, rules checksum,
// lease, owner, configuration checksum.
func (l checkpointLayout) insertSQL() string {
	cols := "run_id, run_timestamp, started_at, run_date, status, rules_checksum, contacts_checksum, lease_until, owner, " +
		"contacts_processed, rows_inserted, rows_updated, rows_deleted, rows_unchanged, rows_conflicting, rows_taken, contacts_deleted, " +
		"config_checksum"
	vals := "?1, ?2, ?2, ?3, '" + CheckpointRunning + "', ?4, '', ?5, ?6, 0, 0, 0, 0, 0, 0, 0, 0, ?7"
	if l.schedulerRunID {
		cols += ", scheduler_run_id"
		vals += ", ?1"
	}
	return "INSERT INTO scheduler_checkpoints (" + cols + ") VALUES (" + vals + ")"
}

// finishSQL is the UPDATE that completes a checkpoint row.
func (l checkpointLayout) finishSQL() string {
	q := `UPDATE scheduler_checkpoints SET status=?1, finished_at=?2, error_message=NULL, contacts_processed=?3,
		contacts_checksum=?4, rows_inserted=?5, rows_updated=?6, rows_deleted=?7, rows_unchanged=?8, rows_conflicting=?9,
		rows_taken=?10, contacts_deleted=?11, plan_load=?12, lease_until=NULL`
	if l.completedAt {
		q += ", completed_at=?2"
	}
	if l.emailsScheduled {
		q += ", emails_scheduled=?13"
	}
	if l.emailsSkipped {
		q += ", emails_skipped=?14"
	}
	return q + " WHERE rowid=?15 AND status='" + CheckpointRunning + "'"
}

// owner names this process: "host pid".
func owner() string {
	host, _ := os.Hostname()
	return host + " " + strconv.Itoa(os.Getpid())
}

// ownerGone reports whether the owner of a lease is a process of this host
// that no longer exists, so that its lease can be taken at once.
func ownerGone(o string) bool {
	host, pid, ok := strings.Cut(o, " ")
	me, _ := os.Hostname()
	if !ok || host != me {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	return n != os.Getpid() && processGone(n)
}

func leaseText(t time.Time) string { return t.UTC().Format(timeLayout) }

// running is another run that holds the run lock.
type running struct {
	rowid          int64
	runID, started string
	owner          string
}

// acquire takes the run lock and records the run's checkpoint row, in one
// IMMEDIATE transaction on conn: runs whose lease expired, or whose owner
// is gone, are marked failed; a live one makes it wait up to
// Options.LockWait (logging every few seconds) or fail with
// ErrRunInProgress.
func (s *Store) acquire(ctx context.Context, conn *sql.Conn, l checkpointLayout, run emailsched.RunInfo, started string) (int64, error) {
	deadline := time.Now().Add(s.opts.LockWait)
	var lastLog time.Time
	for {
		var rowid int64
		var other *running
		err := s.retry(ctx, "begin", func() error {
			other = nil
			if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				return err
			}
			var err error
			other, err = s.takeStale(ctx, conn)
			if err == nil && other == nil {
				var res sql.Result
				res, err = conn.ExecContext(ctx, l.insertSQL(), run.ID, started, storecol.NullDate(run.Today), storecol.NullText(run.RulesChecksum),
					leaseText(time.Now().Add(leaseTTL)), owner(), storecol.NullText(run.ConfigChecksum))
				if err == nil {
					rowid, err = res.LastInsertId()
				}
			}
			if err != nil {
				rollback(conn)
				return err
			}
			_, err = conn.ExecContext(ctx, "COMMIT")
			if err != nil {
				rollback(conn)
			}
			return err
		})
		if err != nil {
			return 0, err
		}
		if other == nil {
			return rowid, nil
		}
		msg := fmt.Sprintf("run %s, started %s UTC, by %s", other.runID, other.started, other.owner)
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("%w (%s)", ErrRunInProgress, msg)
		}
		if time.Since(lastLog) >= 5*time.Second {
			s.opts.Logger.Info("waiting for another run of this database to finish", "other", msg,
				"wait_left", time.Until(deadline).Round(time.Second).String())
			lastLog = time.Now()
		}
		t := time.NewTimer(min(time.Second, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("sqlite: waiting for another run (%s): %w", msg, ctx.Err())
		case <-t.C:
		}
	}
}

// takeStale marks the running rows of runs that stopped without finishing
// as failed and returns a live one, if any. Rows of the earlier scheduler
// (no run_id) are not this scheduler's runs and are left alone.
func (s *Store) takeStale(ctx context.Context, conn *sql.Conn) (*running, error) {
	rows, err := conn.QueryContext(ctx, `SELECT rowid, run_id, CAST(started_at AS TEXT), CAST(lease_until AS TEXT), owner
		FROM scheduler_checkpoints WHERE status = ? AND run_id IS NOT NULL ORDER BY rowid`, CheckpointRunning)
	if err != nil {
		return nil, err
	}
	now := leaseText(time.Now())
	var stale []int64
	var live *running
	for rows.Next() {
		var r running
		var startedAt, lease, own sql.NullString
		if err := rows.Scan(&r.rowid, &r.runID, &startedAt, &lease, &own); err != nil {
			rows.Close()
			return nil, err
		}
		r.started, r.owner = startedAt.String, own.String
		if !lease.Valid || lease.String <= now || ownerGone(own.String) {
			stale = append(stale, r.rowid)
		} else if live == nil {
			live = &r
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range stale {
		if _, err := conn.ExecContext(ctx, `UPDATE scheduler_checkpoints SET status=?, finished_at=coalesce(finished_at, ?),
			error_message=coalesce(error_message, 'abandoned: the run stopped without finishing (its process ended or stopped renewing its run lock)'),
			lease_until=NULL WHERE rowid=?`, CheckpointFailed, now, id); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// heartbeat renews the run's lease until stop is closed. A renewal that
// meets a busy database (the run's own atomic transaction, the sending
// system) is simply tried again at the next tick: the lease outlives
// several missed renewals.
func (s *Store) heartbeat(rowid int64, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseRenew/2)
			_, _ = s.db.ExecContext(ctx, `UPDATE scheduler_checkpoints SET lease_until=? WHERE rowid=? AND status=?`,
				leaseText(time.Now().Add(leaseTTL)), rowid, CheckpointRunning)
			cancel()
		}
	}
}

// Checkpoint is one row of scheduler_checkpoints: a run of this
// scheduler.
type Checkpoint struct {
	RunID      string
	RunDate    string // the run's Today, YYYY-MM-DD
	StartedAt  time.Time
	FinishedAt time.Time // zero while running (or after a crash)
	// Status is CheckpointRunning, CheckpointCompleted or
	// CheckpointFailed.
	Status           string
	ContactsChecksum string // 16 hex digits
	// RulesChecksum and ConfigChecksum identify the run's settings
	// (store.PlanIdentity).
	RulesChecksum, ConfigChecksum string
	// Contacts is the number of contacts the run processed, and
	// DeletedContacts those whose planned rows it deleted.
	Contacts        int
	DeletedContacts int
	Rows            store.RowCounts
	Error           string
	// Owner is the host and process id of the run.
	Owner string
}

// Checkpoints returns the checkpoint rows of this scheduler's runs,
// oldest first. The rows an earlier scheduler left in the table (without a
// run_id) are not its runs and are left out; a database this scheduler
// never wrote (never migrated, opened read-only) has none.
func (s *Store) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	cols, err := tableColumns(ctx, s.db, "scheduler_checkpoints")
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	if !cols["run_id"] {
		return nil, nil
	}
	pick := func(names ...string) string {
		var have []string
		for _, n := range names {
			if cols[n] {
				have = append(have, "CAST("+n+" AS TEXT)")
			}
		}
		switch len(have) {
		case 0:
			return "NULL"
		case 1:
			return have[0]
		}
		return "coalesce(" + strings.Join(have, ", ") + ")"
	}
	q := "SELECT " + strings.Join([]string{
		pick("run_id"), pick("run_date"), pick("started_at"), pick("finished_at"), pick("status"), pick("contacts_checksum"), pick("rules_checksum"),
		pick("contacts_processed"), pick("rows_inserted"), pick("rows_updated"), pick("rows_deleted"),
		pick("rows_unchanged"), pick("rows_conflicting"), pick("error_message"), pick("rows_taken"),
		pick("contacts_deleted"), pick("owner"), pick("config_checksum"),
	}, ", ") + " FROM scheduler_checkpoints WHERE run_id IS NOT NULL ORDER BY rowid"
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	v := make([]any, 18)
	p := make([]any, len(v))
	for i := range v {
		p[i] = &v[i]
	}
	n := func(x any) int { i, _ := integer(x); return int(i) }
	for rows.Next() {
		if err := rows.Scan(p...); err != nil {
			return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		c := Checkpoint{RunID: text(v[0]), RunDate: text(v[1]), Status: text(v[4]), ContactsChecksum: text(v[5]),
			RulesChecksum: text(v[6]), Error: text(v[13]), Contacts: n(v[7]), DeletedContacts: n(v[15]), Owner: text(v[16]), ConfigChecksum: text(v[17]),
			Rows: store.RowCounts{Inserted: n(v[8]), Updated: n(v[9]), Deleted: n(v[10]), Unchanged: n(v[11]),
				Conflicting: n(v[12]), Taken: n(v[14])}}
		c.StartedAt, _ = timestamp(v[2])
		c.FinishedAt, _ = timestamp(v[3])
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return out, nil
}
