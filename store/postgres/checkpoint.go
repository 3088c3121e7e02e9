package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// hasTable reports whether the schema has the table (a schema never
// migrated has none: no runs, no plan).
func (s *Store) hasTable(ctx context.Context, table string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.schema+"."+table).Scan(&ok)
	return ok, err
}

// StoredLoad implements store.LoadSource: the load recorded by the latest
// completed run, unless a later run committed changes without completing
// (it is running, crashed or failed after some batches committed): the
// stored plan is then partly that run's, which the load does not
// describe. A load that cannot be decoded (written by a newer version)
// counts as none.
func (s *Store) StoredLoad(ctx context.Context) (store.PlanLoad, bool, error) {
	ok, err := s.hasTable(ctx, "scheduler_checkpoints")
	if err != nil || !ok {
		return store.PlanLoad{}, false, wrap("stored load", err)
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT coalesce(status, ''), coalesce(rows_inserted, 0) + coalesce(rows_updated, 0)
		+ coalesce(rows_deleted, 0), plan_load::text FROM {schema}.scheduler_checkpoints WHERE run_id IS NOT NULL ORDER BY id DESC`))
	if err != nil {
		return store.PlanLoad{}, false, wrap("stored load", err)
	}
	defer rows.Close()
	var raw pgtype.Text
	for rows.Next() {
		var status string
		var changed int64
		var load pgtype.Text
		if err := rows.Scan(&status, &changed, &load); err != nil {
			return store.PlanLoad{}, false, wrap("stored load", err)
		}
		if status == CheckpointCompleted {
			raw = load
			break
		}
		if changed != 0 {
			break
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.PlanLoad{}, false, wrap("stored load", err)
	}
	if !raw.Valid {
		return store.PlanLoad{}, false, nil
	}
	l, ok := storecol.DecodeLoad(raw.String)
	return l, ok, nil
}

// StoredIdentities implements store.IdentitySource: the rules and
// configuration checksums of the latest completed run and of every run
// after it (interrupted, or still running), oldest first. Runs that
// recorded no configuration checksum are left out.
func (s *Store) StoredIdentities(ctx context.Context) ([]store.PlanIdentity, error) {
	ok, err := s.hasTable(ctx, "scheduler_checkpoints")
	if err != nil || !ok {
		return nil, wrap("stored settings", err)
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT coalesce(rules_checksum, ''), coalesce(config_checksum, '')
		FROM {schema}.scheduler_checkpoints
		WHERE run_id IS NOT NULL AND coalesce(config_checksum, '') <> '' AND id >= coalesce((SELECT max(id)
			FROM {schema}.scheduler_checkpoints WHERE run_id IS NOT NULL AND status = $1), 0)
		ORDER BY id`), CheckpointCompleted)
	if err != nil {
		return nil, wrap("stored settings", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PlanIdentity, error) {
		var id store.PlanIdentity
		err := r.Scan(&id.Rules, &id.Config)
		return id, err
	})
	return out, wrap("stored settings", err)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// Checkpoint is one row of scheduler_checkpoints: a run of this scheduler.
type Checkpoint struct {
	ID         int64
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
	Contacts                      int
	DeletedContacts               int
	Rows                          store.RowCounts
	Error                         string
	// Owner is the host and process id of the run.
	Owner string
	// HasLoad reports whether the row keeps its plan's load (only the
	// latest completed run's does).
	HasLoad bool
}

// Checkpoints returns the checkpoint rows of this scheduler's runs, oldest
// first; none for a schema that was never migrated.
func (s *Store) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	ok, err := s.hasTable(ctx, "scheduler_checkpoints")
	if err != nil || !ok {
		return nil, wrap("checkpoints", err)
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT id, run_id, coalesce(run_date::text, ''), started_at, finished_at,
		coalesce(status, ''), coalesce(contacts_checksum, ''), coalesce(rules_checksum, ''), coalesce(config_checksum, ''),
		coalesce(contacts_processed, 0), coalesce(contacts_deleted, 0), coalesce(rows_inserted, 0), coalesce(rows_updated, 0),
		coalesce(rows_deleted, 0), coalesce(rows_unchanged, 0), coalesce(rows_conflicting, 0), coalesce(rows_taken, 0),
		coalesce(error_message, ''), coalesce(owner, ''), plan_load IS NOT NULL
		FROM {schema}.scheduler_checkpoints WHERE run_id IS NOT NULL ORDER BY id`))
	if err != nil {
		return nil, wrap("checkpoints", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Checkpoint, error) {
		var c Checkpoint
		var started, finished pgtype.Timestamptz
		var ins, upd, del, unch, conf, taken int
		err := r.Scan(&c.ID, &c.RunID, &c.RunDate, &started, &finished, &c.Status, &c.ContactsChecksum, &c.RulesChecksum,
			&c.ConfigChecksum, &c.Contacts, &c.DeletedContacts, &ins, &upd, &del, &unch, &conf, &taken, &c.Error, &c.Owner, &c.HasLoad)
		c.StartedAt, c.FinishedAt = started.Time, finished.Time
		c.Rows = store.RowCounts{Inserted: ins, Updated: upd, Deleted: del, Unchanged: unch, Conflicting: conf, Taken: taken}
		return c, err
	})
	return out, wrap("checkpoints", err)
}
