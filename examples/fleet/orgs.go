package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// An organisations is where the fleet finds the organisations it plans:
// the SQLite files of a directory, or (a second implementation of the same
// interface) the schemas of a PostgreSQL database. Jobs name an
// organisation by its Names entry; each worker resolves it with Open, so
// that several workers on several machines only need to reach the same
// organisations.
type organisations interface {
	// Names lists the organisations, sorted.
	Names(ctx context.Context) ([]string, error)
	// Open opens organisation name for a run with the settings of cf (the
	// organisation's scheduler configuration). An organisation that does
	// not exist, or that cannot be planned at all, gives an error wrapping
	// errNoOrganisation: retrying cannot help.
	Open(ctx context.Context, name string, cf *configfile.File, logger *slog.Logger) (orgStore, error)
}

// An orgStore is one organisation opened for a run: the source of its
// contacts and the sink of its plan, and the record of its past runs.
type orgStore interface {
	store.ContactSource
	store.ScheduleSink
	// Planned returns the run that already planned day with the settings
	// id and completed (a worker killed after the run's commit and before
	// the queue recorded the job's completion), or nil.
	Planned(ctx context.Context, day datecalc.Date, id store.PlanIdentity) (*pastRun, error)
	// Close releases the store.
	Close() error
}

// pastRun is a completed run of an organisation.
type pastRun struct {
	RunID string
	Rows  store.RowCounts
}

// checkpoint is what findPlanned needs of a checkpoint row of either
// store.
type checkpoint struct {
	runID, runDate, status string
	id                     store.PlanIdentity
	rows                   store.RowCounts
}

// findPlanned returns the last run of cps (oldest first) that completed
// day with the settings id, or nil. A run that settled its plan with a
// second run (RUNID-settle1, see scheduler.Report.Settled) is one run: its
// rows are the sum of both.
func findPlanned(cps []checkpoint, day datecalc.Date, id store.PlanIdentity, completed string) *pastRun {
	for _, c := range slices.Backward(cps) {
		if c.status != completed || c.runDate != day.String() || c.id != id {
			continue
		}
		base, _, _ := strings.Cut(c.runID, "-settle")
		p := &pastRun{RunID: base}
		for _, o := range cps {
			if o.status == completed && (o.runID == base || strings.HasPrefix(o.runID, base+"-settle")) {
				p.Rows.Add(o.rows)
			}
		}
		return p
	}
	return nil
}

// errNoOrganisation is wrapped when a job names an organisation that does
// not exist or is not an organisation database.
var errNoOrganisation = errors.New("no such organisation")

// orgExt is the extension of the organisation files of a directory.
const orgExt = ".sqlite3"

// sqliteOrgs are the organisation databases of a directory: each
// NAME.sqlite3 file is the organisation NAME, planned with store/sqlite
// exactly as the schedule command plans it.
type sqliteOrgs struct {
	dir string
	// skip is the base name of a file of dir that is not an organisation
	// (the queue).
	skip string
	// retry replaces the store's retry policy (tests).
	retry sqlite.RetryPolicy
}

// Names lists the *.sqlite3 files of the directory, but the queue.
func (o *sqliteOrgs) Names(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(o.dir)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), orgExt)
		if !ok || e.Name() == o.skip || !e.Type().IsRegular() || !validOrgName(name) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// Open opens NAME.sqlite3 of the directory for writing.
func (o *sqliteOrgs) Open(ctx context.Context, name string, cf *configfile.File, logger *slog.Logger) (orgStore, error) {
	if !validOrgName(name) || name+orgExt == o.skip {
		return nil, fmt.Errorf("%w: %q", errNoOrganisation, name)
	}
	p := filepath.Join(o.dir, name+orgExt)
	db, err := sqlite.Open(ctx, p)
	if errors.Is(err, sqlite.ErrNoDatabase) || errors.Is(err, sqlite.ErrNotDatabase) || errors.Is(err, sqlite.ErrNoContacts) {
		return nil, fmt.Errorf("%w: %w", errNoOrganisation, err)
	}
	if err != nil {
		return nil, err
	}
	// The store retries a busy database briefly: a database locked for
	// longer fails the attempt, and the queue retries the job later with
	// backoff, leaving the worker free for other organisations.
	retry := o.retry
	if retry.Attempts == 0 {
		retry = sqlite.RetryPolicy{Attempts: 3, Initial: 200 * time.Millisecond, Max: 2 * time.Second}
	}
	st := sqlite.New(db, sqlite.Options{
		Atomic: cf.Atomic, BulkWrites: cf.BulkWrites, BatchContacts: cf.BatchContacts,
		Logger: logger, Retry: retry,
	})
	return &sqliteOrg{Store: st}, nil
}

// sqliteOrg is an organisation database opened for a run.
type sqliteOrg struct {
	*sqlite.Store
}

// Planned looks for a completed run of day with the settings id.
func (s *sqliteOrg) Planned(ctx context.Context, day datecalc.Date, id store.PlanIdentity) (*pastRun, error) {
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	all := make([]checkpoint, len(cps))
	for i, c := range cps {
		all[i] = checkpoint{runID: c.RunID, runDate: c.RunDate, status: c.Status,
			id: store.PlanIdentity{Rules: c.RulesChecksum, Config: c.ConfigChecksum}, rows: c.Rows}
	}
	return findPlanned(all, day, id, sqlite.CheckpointCompleted), nil
}

// Close closes the database.
func (s *sqliteOrg) Close() error { return s.DB().Close() }
