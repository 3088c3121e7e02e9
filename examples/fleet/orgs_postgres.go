package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/postgres"
)

// pgOrgs are the organisations of a PostgreSQL database, a schema each
// (org_001, ...): every schema that holds a contacts table is an
// organisation, planned with store/postgres.
type pgOrgs struct {
	pool *pgxpool.Pool
}

// pgSchemaName is what store/postgres accepts as a schema name.
var pgSchemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`).MatchString

// Names lists the schemas that hold a contacts table.
func (o *pgOrgs) Names(ctx context.Context) ([]string, error) {
	rows, err := o.pool.Query(ctx, `SELECT table_schema FROM information_schema.tables
		WHERE table_name = 'contacts' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("organisations: %w", err)
		}
		if pgSchemaName(n) {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// Open returns the store of schema name.
func (o *pgOrgs) Open(ctx context.Context, name string, cf *configfile.File, logger *slog.Logger) (orgStore, error) {
	if !pgSchemaName(name) {
		return nil, fmt.Errorf("%w: %q is not a schema name", errNoOrganisation, name)
	}
	var found bool
	if err := o.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = 'contacts')`, name).Scan(&found); err != nil {
		return nil, fmt.Errorf("organisation %s: %w", name, err)
	}
	if !found {
		return nil, fmt.Errorf("%w: no schema %s with a contacts table", errNoOrganisation, name)
	}
	st := postgres.New(o.pool, postgres.Options{Schema: name, Atomic: cf.Atomic, BatchContacts: cf.BatchContacts, Logger: logger})
	return &pgOrg{Store: st}, nil
}

// pgOrg is an organisation schema opened for a run.
type pgOrg struct {
	*postgres.Store
}

// Planned looks for a completed run of day with the settings id.
func (s *pgOrg) Planned(ctx context.Context, day datecalc.Date, id store.PlanIdentity) (*pastRun, error) {
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	all := make([]checkpoint, len(cps))
	for i, c := range cps {
		all[i] = checkpoint{runID: c.RunID, runDate: c.RunDate, status: c.Status,
			id: store.PlanIdentity{Rules: c.RulesChecksum, Config: c.ConfigChecksum}, rows: c.Rows}
	}
	return findPlanned(all, day, id, postgres.CheckpointCompleted), nil
}

// Close does nothing: the pool is the fleet's.
func (s *pgOrg) Close() error { return nil }
