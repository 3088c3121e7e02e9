package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// planLoad is the JSON form of store.PlanLoad in
// scheduler_checkpoints.plan_load: short names, because a load has a few
// thousand entries.
type planLoad struct {
	Version int           `json:"v"`
	Key     string        `json:"key"`
	Today   datecalc.Date `json:"today"`
	Valid   int           `json:"valid_contacts"`
	Entries []loadEntry   `json:"entries"`
}

type loadEntry struct {
	Date     datecalc.Date `json:"d"`
	Priority int           `json:"p"`
	ED       bool          `json:"e,omitempty"`
	Emails   int           `json:"n"`
}

const loadVersion = 1

// encodeLoad returns the column value of l: NULL for nil.
func encodeLoad(l *store.PlanLoad) (any, error) {
	if l == nil {
		return nil, nil
	}
	pl := planLoad{Version: loadVersion, Key: l.Key, Today: l.Today, Valid: l.ValidContacts, Entries: make([]loadEntry, len(l.Entries))}
	for i, e := range l.Entries {
		pl.Entries[i] = loadEntry{Date: e.Date, Priority: e.Priority, ED: e.EffectiveDate, Emails: e.Emails}
	}
	b, err := json.Marshal(pl)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encoding the plan load: %w", err)
	}
	return string(b), nil
}

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
	var pl planLoad
	if !raw.Valid || json.Unmarshal([]byte(raw.String), &pl) != nil || pl.Version != loadVersion {
		return store.PlanLoad{}, false, nil
	}
	l := store.PlanLoad{Key: pl.Key, Today: pl.Today, ValidContacts: pl.Valid, Entries: make([]store.LoadEntry, len(pl.Entries))}
	for i, e := range pl.Entries {
		l.Entries[i] = store.LoadEntry{Date: e.Date, Priority: e.Priority, EffectiveDate: e.ED, Emails: e.Emails}
	}
	return l, true, nil
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
