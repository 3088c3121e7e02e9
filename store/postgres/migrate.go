package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The migrations, numbered NNNN_name.sql, applied in order. They only add:
// CREATE ... IF NOT EXISTS and ADD COLUMN IF NOT EXISTS, never a DROP, a
// rename or a rewrite of existing rows, so that a schema that holds more
// than this adapter knows (an extra column, an extra table) keeps it.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: want NNNN_name.sql", path)
		}
		b, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("postgres: two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// Migrate creates the schema and applies the migrations it has not had yet,
// in one transaction under an advisory lock (concurrent Migrates of one
// schema wait for each other; the loser then finds nothing to do). The
// applied versions are recorded in the schema's emailsched_migrations
// table. The first Begin runs it.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	s.migrate.Lock()
	defer s.migrate.Unlock()
	if s.ready {
		return nil
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", s.opts.Schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.sql(`CREATE SCHEMA IF NOT EXISTS {schema};
			CREATE TABLE IF NOT EXISTS {schema}.emailsched_migrations (
				version integer PRIMARY KEY,
				name text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.sql("SELECT version FROM {schema}.emailsched_migrations"))
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		for _, m := range ms {
			if slices.Contains(applied, m.version) {
				continue
			}
			if _, err := tx.Exec(ctx, s.sql(m.sql)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, s.sql("INSERT INTO {schema}.emailsched_migrations (version, name) VALUES ($1, $2)"),
				m.version, m.name); err != nil {
				return err
			}
			s.opts.Logger.Info("migration applied", "schema", s.opts.Schema, "migration", m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate schema %s: %w", s.opts.Schema, err)
	}
	s.ready = true
	return nil
}
