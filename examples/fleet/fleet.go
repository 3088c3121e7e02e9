package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/emailsched/emailsched/datecalc"
)

// env is what a fleet command works with, whatever its queue.
type env struct {
	o      *options
	fleet  *fleetConfig
	orgs   organisations
	p      *planner
	day    datecalc.Date
	logger *slog.Logger
	stdout io.Writer
	now    func() time.Time
}

// runFleet is the command on an opened queue, the same for both drivers:
// the status, or enqueue and/or work. It returns the exit status.
func runFleet[TTx any](ctx context.Context, q *queue[TTx], e *env) int {
	if e.o.status {
		if err := writeStatus(ctx, e.stdout, q.db, e.day, e.o.org); err != nil {
			e.logger.Error("status", "err", err.Error())
			return exitRun
		}
		return exitOK
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker[TTx]{p: e.p, q: q, fleet: e.fleet, now: e.now})
	cfg := &river.Config{
		ID:                   clientID(),
		Logger:               riverLogger(e.logger),
		MaxAttempts:          e.fleet.MaxAttempts,
		JobTimeout:           e.fleet.JobTimeout,
		RescueStuckJobsAfter: e.fleet.RescueAfter,
		Workers:              workers,
	}
	if e.o.work {
		cfg.Queues = map[string]river.QueueConfig{queueName: {MaxWorkers: e.fleet.Workers}}
	}
	if testHooks.fetchPoll > 0 {
		cfg.FetchCooldown, cfg.FetchPollInterval = testHooks.fetchPoll/2, testHooks.fetchPoll
	}
	client, err := river.NewClient(q.driver, cfg)
	if err != nil {
		e.logger.Error("queue client", "err", err.Error())
		return exitRun
	}
	if e.o.enqueue {
		if err := enqueue(ctx, client, q, e); err != nil {
			e.logger.Error("enqueue", "err", err.Error())
			return exitRun
		}
	}
	if !e.o.work {
		return exitOK
	}
	if err := work(ctx, client, e); err != nil {
		e.logger.Error("work", "err", err.Error())
		return exitRun
	}
	failed, err := writeTable(ctx, e.stdout, q.db, e.day)
	if err != nil {
		e.logger.Error("status", "err", err.Error())
		return exitRun
	}
	if failed > 0 {
		return exitRun
	}
	return exitOK
}

// clientID names this worker process in River's tables: host and pid.
func clientID() string {
	host, _ := os.Hostname()
	return strings.Map(func(r rune) rune {
		if r == ' ' {
			return '_'
		}
		return r
	}, host) + "_" + strconv.Itoa(os.Getpid())
}

// riverLogger is the logger River's client gets: only its warnings and
// errors, which say what an operator must know (a rescued job, a lost
// connection).
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{Handler: l.Handler(), min: slog.LevelWarn}).With("component", "river")
}

type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}

// enqueue adds one job per selected organisation for the day; a job that
// exists already (unique by organisation and day) is not added again.
func enqueue[TTx any](ctx context.Context, client *river.Client[TTx], q *queue[TTx], e *env) error {
	names, err := e.orgs.Names(ctx)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for _, n := range names {
		if e.fleet.selects(n) {
			params = append(params, river.InsertManyParams{Args: planArgs{Org: n, Day: e.day.String()},
				InsertOpts: &river.InsertOpts{MaxAttempts: e.fleet.MaxAttempts}})
		}
	}
	if len(params) == 0 {
		e.logger.Warn("no organisation to plan", "orgs", e.o.orgs)
		return nil
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return err
	}
	added := 0
	for i, r := range res {
		args := params[i].Args.(planArgs)
		if r.UniqueSkippedAsDuplicate {
			// The job exists: its row says how far it got.
			err = recordQueued(ctx, q.db, args, e.now())
		} else {
			// A new job, also for a day whose earlier job failed for
			// good and was enqueued again: its row starts afresh.
			added++
			err = recordRun(ctx, q.db, args, outcome{status: statusQueued}, 0, 0, "", e.now())
		}
		if err != nil {
			return fmt.Errorf("fleet summary: %w", err)
		}
	}
	e.logger.Info("enqueued", "day", e.day.String(), "jobs", added, "already_queued", len(res)-added)
	return nil
}

// work runs the client's workers until no job of the day is left to run
// (waiting, running, or to be retried), or until ctx ends.
func work[TTx any](ctx context.Context, client *river.Client[TTx], e *env) error {
	// The client outlives ctx: an interruption stops it below, cancelling
	// the runs in progress, which the queue retries later.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	poll := time.Second
	if testHooks.drainPoll > 0 {
		poll = testHooks.drainPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var werr error
	for werr == nil {
		select {
		case <-ctx.Done():
			werr = fmt.Errorf("interrupted: %w (the runs in progress are cancelled: each organisation keeps whole contacts' plans, and the queue retries them)", ctx.Err())
		case <-t.C:
			left, err := pending(ctx, client, e.day)
			if err != nil {
				if ctx.Err() == nil {
					e.logger.Warn("cannot read the queue", "err", err.Error())
				}
				continue
			}
			if left == 0 {
				stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				return client.Stop(stopCtx)
			}
		}
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return errors.Join(werr, client.StopAndCancel(stopCtx))
}

// pending counts the jobs of day that are not finished: available,
// pending, running, retryable or scheduled. A job that a killed worker
// left running counts until the queue rescues it.
func pending[TTx any](ctx context.Context, client *river.Client[TTx], day datecalc.Date) (int, error) {
	params := river.NewJobListParams().Kinds(jobKind).First(10_000).States(
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled)
	n := 0
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return 0, err
		}
		for _, j := range res.Jobs {
			var a planArgs
			if json.Unmarshal(j.EncodedArgs, &a) == nil && a.Day == day.String() {
				n++
			}
		}
		if len(res.Jobs) < 10_000 {
			return n, nil
		}
		params = params.After(res.LastCursor)
	}
}

// summaryRow is a row of the fleet summary.
type summaryRow struct {
	org, status                string
	attempts                   int64
	durationMS                 int64
	inserted, updated, deleted int64
	runID, errText, summary    string
}

// readSummary reads the summary rows of day, by organisation.
func readSummary(ctx context.Context, db summaryDB, day datecalc.Date) ([]summaryRow, error) {
	var out []summaryRow
	err := db.Query(ctx, `SELECT organisation, status, attempts, duration_ms, rows_inserted, rows_updated, rows_deleted,
		run_id, error, summary FROM emailsched_fleet_runs WHERE day = $1 ORDER BY organisation`, []any{day.String()},
		func(scan func(...any) error) error {
			var r summaryRow
			if err := scan(&r.org, &r.status, &r.attempts, &r.durationMS, &r.inserted, &r.updated, &r.deleted,
				&r.runID, &r.errText, &r.summary); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	return out, err
}

// writeStatus prints the fleet summary of day, or, with org, that
// organisation's run summary (or error).
func writeStatus(ctx context.Context, w io.Writer, db summaryDB, day datecalc.Date, org string) error {
	if org == "" {
		_, err := writeTable(ctx, w, db, day)
		return err
	}
	rows, err := readSummary(ctx, db, day)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.org != org {
			continue
		}
		fmt.Fprintf(w, "%s, %s: %s after %d attempt(s)\n", r.org, day, r.status, r.attempts)
		if r.errText != "" {
			fmt.Fprintf(w, "Error: %s\n", r.errText)
		}
		if r.summary != "" {
			fmt.Fprintf(w, "\n%s", r.summary)
		}
		return nil
	}
	return fmt.Errorf("no run of %s on %s in the fleet summary", org, day)
}

// writeTable prints the fleet summary of day, a line per organisation,
// then the totals; it returns the number of organisations that failed.
func writeTable(ctx context.Context, w io.Writer, db summaryDB, day datecalc.Date) (int, error) {
	rows, err := readSummary(ctx, db, day)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "Fleet runs of %s\n\n", day)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ORGANISATION\tSTATUS\tATTEMPTS\tDURATION\tINSERTED\tUPDATED\tDELETED\tRUN OR ERROR")
	counts := map[string]int{}
	var total summaryRow
	for _, r := range rows {
		note := r.runID
		if r.errText != "" {
			note = firstLine(r.errText, 60)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\n", r.org, r.status, r.attempts,
			(time.Duration(r.durationMS) * time.Millisecond).String(), r.inserted, r.updated, r.deleted, note)
		counts[r.status]++
		total.durationMS += r.durationMS
		total.inserted += r.inserted
		total.updated += r.updated
		total.deleted += r.deleted
	}
	if err := tw.Flush(); err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "\nTotal     %d organisations:", len(rows))
	sep := " "
	for _, s := range []string{statusPlanned, statusAlreadyPlanned, statusFailed, statusRetrying, statusRunning, statusQueued} {
		if counts[s] > 0 {
			fmt.Fprintf(w, "%s%d %s", sep, counts[s], s)
			sep = ", "
		}
	}
	fmt.Fprintf(w, "\nRows      %d inserted, %d updated, %d deleted\n", total.inserted, total.updated, total.deleted)
	fmt.Fprintf(w, "Run time  %s in all (the sum of the runs' durations)\n", time.Duration(total.durationMS)*time.Millisecond)
	return counts[statusFailed], nil
}

// firstLine returns the first line of s, at most n characters.
func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
