package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/riverqueue/river"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/postgres"
	"github.com/emailsched/emailsched/store/sqlite"
)

// jobKind is the kind of the fleet's jobs, and queueName their queue.
const (
	jobKind   = "emailsched_plan_organisation"
	queueName = "emailsched_fleet"
)

// planArgs are the arguments of a job: plan one organisation for one day.
// A job is unique by its arguments: enqueueing the same organisation and
// day again, while the job waits, runs or completed, adds nothing.
type planArgs struct {
	Org string `json:"org"`
	Day string `json:"day"` // YYYY-MM-DD
}

// Kind is the job kind.
func (planArgs) Kind() string { return jobKind }

// InsertOpts makes the job unique by its arguments in River's default
// states (pending, scheduled, available, running, retryable, completed): a
// job that failed for good (cancelled, discarded) can be enqueued again
// once its cause is fixed.
func (planArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// The statuses of the fleet summary.
const (
	statusQueued         = "queued"
	statusRunning        = "running"
	statusPlanned        = "planned"
	statusAlreadyPlanned = "already planned"
	statusRetrying       = "retrying"
	statusFailed         = "failed"
)

// settingsError is a job's failure to load the organisation's scheduler
// configuration or rules (bad input: retrying cannot help).
type settingsError struct {
	Org string
	Err error
}

func (e *settingsError) Error() string {
	return fmt.Sprintf("organisation %s: %s", e.Org, cli.Plain(e.Err.Error()))
}

func (e *settingsError) Unwrap() error { return e.Err }

// permanent reports whether a job that failed with err must not be tried
// again: bad configuration or rules, a job naming no organisation, an
// organisation database this scheduler cannot write safely. Everything
// else (a busy or locked database, I/O, another run holding the
// organisation's run lock, a timeout) is transient.
func permanent(err error) bool {
	var se *settingsError
	var diags dsl.Diagnostics
	var problems configfile.Problems
	switch {
	case errors.As(err, &se), errors.As(err, &diags), errors.As(err, &problems):
		return true
	}
	for _, target := range []error{scheduler.ErrInvalidConfig, dsl.ErrMissingStates, dsl.ErrNoFiles,
		rules.ErrInvalidSet, errNoOrganisation, errBadArgs, sqlite.ErrForeignSchema, postgres.ErrBadSchema} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

var errBadArgs = errors.New("bad job arguments")

// planner plans one organisation for one day: the job's work, apart from
// the queue.
type planner struct {
	orgs   organisations
	fleet  *fleetConfig
	plan   cli.Plan // -config, -rules, -allow-missing-states
	logger *slog.Logger
	// wrapSource wraps each organisation's contact source (tests).
	wrapSource func(store.ContactSource) store.ContactSource
}

// outcome is what one attempt of a job did.
type outcome struct {
	status  string
	runID   string
	rows    store.RowCounts
	summary string
}

// settings loads the scheduler configuration and rules of organisation
// org: its own files in the fleet file, else -config and -rules, else
// those of the fleet file, else the defaults; the rules are checked as the
// schedule command checks them.
func (p *planner) settings(ctx context.Context, org string) (*configfile.File, *scheduler.Scheduler, error) {
	plan := p.plan
	if plan.Config == "" {
		plan.Config = p.fleet.Config
	}
	if plan.Rules == "" {
		plan.Rules = p.fleet.Rules
	}
	if f, ok := p.fleet.PerOrganisation[org]; ok {
		if f.Config != "" {
			plan.Config = f.Config
		}
		if f.Rules != "" {
			plan.Rules = f.Rules
		}
	}
	cf, err := plan.Load(ctx)
	if err != nil {
		return nil, nil, &settingsError{Org: org, Err: err}
	}
	cfg := cf.Scheduler
	cfg.Logger = p.logger.With("org", org)
	sch, err := scheduler.New(cfg)
	if err != nil {
		return nil, nil, &settingsError{Org: org, Err: err}
	}
	return cf, sch, nil
}

// run plans args.Org for args.Day, unless a completed run of that day
// with the same settings already did.
func (p *planner) run(ctx context.Context, args planArgs) (outcome, error) {
	day, err := datecalc.Parse(args.Day)
	if err != nil {
		return outcome{}, fmt.Errorf("%w: day %q: %w", errBadArgs, args.Day, err)
	}
	if !p.fleet.selects(args.Org) {
		return outcome{}, fmt.Errorf("%w: %s is not one of the fleet file's organisations", errNoOrganisation, args.Org)
	}
	cf, sch, err := p.settings(ctx, args.Org)
	if err != nil {
		return outcome{}, err
	}
	st, err := p.orgs.Open(ctx, args.Org, cf, p.logger.With("org", args.Org))
	if err != nil {
		return outcome{}, err
	}
	defer st.Close()
	done, err := st.Planned(ctx, day, sch.Identity())
	if err != nil {
		return outcome{}, fmt.Errorf("reading the past runs: %w", err)
	}
	if done != nil {
		return outcome{status: statusAlreadyPlanned, runID: done.RunID, rows: done.Rows,
			summary: fmt.Sprintf("Run %s already planned %s with these rules and configuration: nothing to do.\n", done.RunID, day)}, nil
	}
	var src store.ContactSource = st
	if p.wrapSource != nil {
		src = p.wrapSource(st)
	}
	rep, err := sch.RunAt(ctx, day, src, st)
	if err != nil {
		return outcome{}, err
	}
	var b bytes.Buffer
	if err := rep.WriteSummary(&b); err != nil {
		return outcome{}, err
	}
	rows := rep.Rows
	if rep.Settled != nil {
		// The run settled its plan with a second run: the job wrote both.
		rows.Add(rep.Settled.Rows)
	}
	return outcome{status: statusPlanned, runID: rep.RunID, rows: rows, summary: b.String()}, nil
}

// worker is the River worker of the fleet's jobs.
type worker[TTx any] struct {
	river.WorkerDefaults[planArgs]
	p     *planner
	q     *queue[TTx]
	fleet *fleetConfig
	now   func() time.Time
}

// Work plans the job's organisation and records the outcome in the fleet
// summary. A permanent failure cancels the job (river.JobCancel): it is
// not retried; a transient one is retried with backoff until the job's
// attempts are used up.
func (w *worker[TTx]) Work(ctx context.Context, job *river.Job[planArgs]) error {
	start := w.now()
	log := w.p.logger.With("org", job.Args.Org, "day", job.Args.Day, "attempt", job.Attempt)
	log.Info("planning")
	// Recording what happens is best effort: the job's outcome is River's.
	rec := func(o outcome, errText string) {
		if err := recordRun(context.WithoutCancel(ctx), w.q.db, job.Args, o, job.Attempt, w.now().Sub(start), errText, w.now()); err != nil {
			log.Warn("cannot record the run in the fleet summary", "err", err.Error())
		}
	}
	rec(outcome{status: statusRunning}, "")
	o, err := w.p.run(ctx, job.Args)
	switch {
	case err == nil:
		log.Info(o.status, "run", o.runID, "inserted", o.rows.Inserted, "updated", o.rows.Updated, "deleted", o.rows.Deleted,
			"took", w.now().Sub(start).Round(time.Millisecond).String())
		rec(o, "")
		return nil
	case permanent(err):
		log.Error("failed for good", "err", cli.Plain(err.Error()))
		rec(outcome{status: statusFailed}, cli.Plain(err.Error()))
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		log.Error("failed, no attempt left", "err", cli.Plain(err.Error()))
		rec(outcome{status: statusFailed}, cli.Plain(err.Error()))
		return err
	default:
		log.Warn("failed, will retry", "err", cli.Plain(err.Error()), "retry_at", w.NextRetry(job).Format(time.RFC3339))
		rec(outcome{status: statusRetrying}, cli.Plain(err.Error()))
		return err
	}
}

// NextRetry waits retry_base·2^(n-1) before the n-th retry, at most
// retry_max.
func (w *worker[TTx]) NextRetry(job *river.Job[planArgs]) time.Time {
	n := max(len(job.Errors), job.Attempt-1, 0)
	wait := float64(w.fleet.RetryBase) * math.Pow(2, float64(n))
	return w.now().Add(time.Duration(min(wait, float64(w.fleet.RetryMax))))
}

// Timeout is the fleet file's job_timeout.
func (w *worker[TTx]) Timeout(*river.Job[planArgs]) time.Duration { return w.fleet.JobTimeout }

// recordRun upserts the summary row of the job's organisation and day.
func recordRun(ctx context.Context, db summaryDB, args planArgs, o outcome, attempts int, took time.Duration, errText string, now time.Time) error {
	return db.Exec(ctx, `INSERT INTO emailsched_fleet_runs (organisation, day, status, attempts, duration_ms,
		rows_inserted, rows_updated, rows_deleted, run_id, error, summary, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (organisation, day) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
		duration_ms = excluded.duration_ms, rows_inserted = excluded.rows_inserted, rows_updated = excluded.rows_updated,
		rows_deleted = excluded.rows_deleted, run_id = excluded.run_id, error = excluded.error, summary = excluded.summary,
		updated_at = excluded.updated_at`,
		args.Org, args.Day, o.status, int64(attempts), took.Milliseconds(), int64(o.rows.Inserted), int64(o.rows.Updated),
		int64(o.rows.Deleted), o.runID, errText, o.summary, now.UTC().Format(time.RFC3339Nano))
}

// recordQueued adds the summary row of a job just enqueued, unless the
// organisation and day have one.
func recordQueued(ctx context.Context, db summaryDB, args planArgs, now time.Time) error {
	return db.Exec(ctx, `INSERT INTO emailsched_fleet_runs (organisation, day, status, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (organisation, day) DO NOTHING`,
		args.Org, args.Day, statusQueued, now.UTC().Format(time.RFC3339Nano))
}
