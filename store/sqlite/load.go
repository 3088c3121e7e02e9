package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/emailsched/emailsched/internal/storecol"
	"github.com/emailsched/emailsched/store"
)

// StoredLoad implements store.LoadSource: the load recorded by the latest
// completed run, unless a later run committed changes without completing
// (it is running, crashed or failed after some batches committed): the
// stored plan is then partly that run's, which the load does not describe,
// and the scheduler counts. Later runs that committed nothing (failed
// atomic runs, runs that stopped before their first batch) do not matter.
// A load that cannot be decoded (written by a newer version) counts as
// none.
func (s *Store) StoredLoad(ctx context.Context) (store.PlanLoad, bool, error) {
	raw, err := s.latestLoad(ctx)
	if err != nil {
		return store.PlanLoad{}, false, fmt.Errorf("sqlite: stored load: %w", err)
	}
	if !raw.Valid {
		return store.PlanLoad{}, false, nil
	}
	l, ok := storecol.DecodeLoad(raw.String)
	return l, ok, nil
}

// latestLoad returns the plan_load of the latest completed run, or NULL
// when there is none, a later run committed changes, or the database was
// never migrated (it has no such column). Rows of an earlier scheduler
// (without run_id) are not this scheduler's runs.
func (s *Store) latestLoad(ctx context.Context) (sql.NullString, error) {
	var raw sql.NullString
	cols, err := tableColumns(ctx, s.db, "scheduler_checkpoints")
	if err != nil || !cols["plan_load"] || !cols["run_id"] {
		return raw, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT status, coalesce(rows_inserted, 0)+coalesce(rows_updated, 0)+coalesce(rows_deleted, 0),
		plan_load FROM scheduler_checkpoints WHERE run_id IS NOT NULL ORDER BY rowid DESC`)
	if err != nil {
		return raw, err
	}
	defer rows.Close()
	for rows.Next() {
		var status sql.NullString
		var changed sql.NullInt64
		if err := rows.Scan(&status, &changed, &raw); err != nil {
			return raw, err
		}
		if status.String == CheckpointCompleted {
			return raw, nil
		}
		if changed.Int64 != 0 {
			break
		}
	}
	return sql.NullString{}, rows.Err()
}

// StoredIdentities implements store.IdentitySource: the rules and
// configuration checksums recorded by the latest completed run and by every
// run after it (interrupted, or still running), oldest first. With short
// write transactions an interrupted run leaves some contacts with its plan
// and the others with the previous one: both identities count. Runs that
// recorded no configuration checksum (an earlier scheduler's) are left out,
// and a database that was never migrated has none.
func (s *Store) StoredIdentities(ctx context.Context) ([]store.PlanIdentity, error) {
	cols, err := tableColumns(ctx, s.db, "scheduler_checkpoints")
	if err != nil {
		return nil, fmt.Errorf("sqlite: stored settings: %w", err)
	}
	if !cols["config_checksum"] || !cols["run_id"] {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT coalesce(rules_checksum, ''), config_checksum FROM scheduler_checkpoints
		WHERE run_id IS NOT NULL AND rowid >= coalesce((SELECT max(rowid) FROM scheduler_checkpoints
		WHERE run_id IS NOT NULL AND status = ?), 0) ORDER BY rowid`, CheckpointCompleted)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stored settings: %w", err)
	}
	defer rows.Close()
	var out []store.PlanIdentity
	for rows.Next() {
		var id store.PlanIdentity
		var config sql.NullString
		if err := rows.Scan(&id.Rules, &config); err != nil {
			return nil, fmt.Errorf("sqlite: stored settings: %w", err)
		}
		if config.Valid && config.String != "" {
			id.Config = config.String
			out = append(out, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: stored settings: %w", err)
	}
	return out, nil
}
