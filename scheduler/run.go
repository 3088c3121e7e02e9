package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/store"
)

// An execution is one run: a run that writes to a sink, an explanation of
// one contact, a preview. There is one path through all of them; they
// differ in where the changes go (the sink, which may keep nothing) and in
// what watches the contacts go by (the watch). Each step below is one job.
type execution struct {
	ctx   context.Context
	s     *Scheduler
	today datecalc.Date
	src   store.ContactSource
	sink  store.ScheduleSink
	watch watcher
	rep   *Report
	log   *slog.Logger

	camp *campaignSet
	est  estimate
	bal  *balancer
	// exact counts the per-day volume the planning pass really plans,
	// before balancing, when balancing started from a stored estimate;
	// exactValid counts its valid contacts.
	exact      *loadbalance.Counter
	exactValid int
	w          store.Writer
	// load counts the new plan's per-day volume for a writer that keeps
	// it (store.LoadKeeper) when load balancing is on; nil otherwise.
	load *loadCounter
	// timeWrites: the writer reports what it wrote (store.WriteReporter),
	// and its Write calls are timed; a writer that reports nothing is
	// trivial, and two clock reads per contact would cost more.
	timeWrites bool
	sum        store.Summary
	check      datecalc.IDChecksum
	delta      store.Delta
	skips      skipTally
	done       int
	t0         time.Time
}

// A watcher sees every contact of the planning pass with its outcome,
// after balancing and before its changes are written, and may end the pass
// early (a non-nil error; errStop ends it without failing the run). trace
// names the contact whose decisions are recorded (0: none); estimate says
// that the run must not read the source to count the per-day volume (it
// reads one contact), so that balancing starts from the stored volume or
// from none.
type watcher interface {
	trace() int64
	estimate() bool
	see(c *emailsched.Contact, o *outcome, d *store.Delta) error
}

// errStop ends a planning pass early without failing it.
var errStop = errors.New("scheduler: stop")

// execute runs the steps of a run in order and returns its report, which
// is complete (finish) whatever step failed.
func (s *Scheduler) execute(ctx context.Context, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink, watch watcher) (*Report, error) {
	rep, _, err := s.executeAs(ctx, "", today, src, sink, watch)
	return rep, err
}

// executeAs is execute with the run's id given (a new one when empty). It
// also says whether the sink kept the new plan's per-day volume
// (store.LoadKeeper), which a run that settles the plan starts from; a dry
// run's sink keeps neither plan nor volume.
func (s *Scheduler) executeAs(ctx context.Context, id string, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink, watch watcher) (*Report, bool, error) {
	x := s.newExecution(id, today, src, sink, watch)
	rep, err := x.execute(ctx)
	return rep, x.load != nil, err
}

// execute runs the steps of the execution.
func (x *execution) execute(ctx context.Context) (*Report, error) {
	today := x.today
	x.ctx = ctx
	defer x.rep.finish()
	if today.IsZero() {
		return x.rep, fmt.Errorf("%w: the run date is not set", ErrInvalidConfig)
	}
	if x.sink != nil {
		x.log.Info(x.what()+" started", "today", today.String(), "rules", x.rep.RulesName)
	}
	steps := []func(context.Context) error{x.readCatalogue, x.readStored, x.begin, x.countLoad}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return x.rep, x.abort(ctx, err)
		}
	}
	if err := x.planningPass(ctx); err != nil {
		return x.rep, x.abort(ctx, err)
	}
	return x.rep, x.commit(ctx)
}

func (s *Scheduler) newExecution(id string, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink, watch watcher) *execution {
	start := s.s.clock()
	if sink != nil && id == "" { // a run that writes nothing anywhere is no run of the store's
		id = s.s.newRunID(start)
	}
	rep := &Report{
		RunID: id, Today: today, StartedAt: start,
		RulesName: s.s.rules.Name(), RulesChecksum: s.s.rules.Checksum(), ConfigChecksum: s.s.configSum,
		InvalidByReason: map[InvalidReason]int{}, FieldIssues: map[string]int{},
		SkipReasons: map[emailsched.SkipReason]int{},
	}
	if !today.IsZero() {
		rep.PlannedThrough, rep.AEPWindows = s.s.plannedThrough(today), s.s.aepWindows(today)
	}
	return &execution{s: s, today: today, src: src, sink: sink, watch: watch, rep: rep,
		log: s.s.log.With("run_id", rep.RunID), check: datecalc.NewIDChecksum(), t0: time.Now()}
}

// what names the execution in the log: a run, or a preview (a watched run
// with a sink that writes nothing).
func (x *execution) what() string {
	if x.watch != nil {
		return "preview"
	}
	return "run"
}

// readCatalogue reads the campaign catalogue, when the source has one.
func (x *execution) readCatalogue(ctx context.Context) error {
	camp, err := loadCampaigns(ctx, x.src, x.today)
	if err != nil {
		return err
	}
	x.camp = camp
	x.rep.CampaignIssues = camp.issues
	for _, msg := range camp.issues {
		x.log.Warn("campaign catalogue", "issue", msg)
	}
	return nil
}

// readStored learns what the source knows of its stored plan: whether it
// was made with the run's settings (Report.Replan) and the per-day volume
// stored with it, when that fits the run. It comes before begin, which may
// record this run in the store as the latest one.
func (x *execution) readStored(ctx context.Context) error {
	replan, err := x.s.storedReplan(ctx, x.src)
	if err != nil {
		return err
	}
	x.rep.Replan = replan
	if replan.Changed() {
		x.log.Info("re-planning every email: "+replan.String(), "rules", shortSum(x.rep.RulesChecksum),
			"config", shortSum(x.rep.ConfigChecksum))
	}
	est, err := x.s.storedCounter(ctx, x.today, x.src)
	x.est = est
	x.rep.Timings.Count = time.Since(x.t0)
	return err
}

// pass is what the planners of the run's passes are told.
func (x *execution) pass() pass {
	return pass{today: x.today, camp: x.camp, replan: x.rep.Replan.Changed()}
}

// begin opens the sink's Writer (none without a sink).
func (x *execution) begin(ctx context.Context) error {
	if x.sink == nil {
		return nil
	}
	info := emailsched.RunInfo{ID: x.rep.RunID, Today: x.today, StartedAt: x.rep.StartedAt, SendTime: x.s.s.sendTime,
		RulesChecksum: x.rep.RulesChecksum, ConfigChecksum: x.rep.ConfigChecksum}
	w, err := x.sink.Begin(ctx, info)
	if err != nil {
		return fmt.Errorf("scheduler: begin: %w", err)
	}
	x.w = w
	if lk, ok := w.(store.LoadKeeper); ok && lk.KeepsLoad() && x.s.s.balance != nil {
		// A plan made without balancing never gives its load to a later
		// run: the setting is part of the load's key.
		x.load = &loadCounter{today: x.today}
	}
	_, x.timeWrites = w.(store.WriteReporter)
	return nil
}

// countLoad starts load balancing from the run's per-day volume: the
// stored one, or a counting pass over every contact. A run that reads one
// contact (an explanation, see watcher.estimate) does not count: without a
// stored volume its balancing starts from none, which it says.
func (x *execution) countLoad(ctx context.Context) error {
	if x.s.s.balance == nil {
		return nil
	}
	t := time.Now()
	defer func() { x.rep.Timings.Count += time.Since(t) }()
	counter, valid := x.est.counter, x.est.valid
	x.rep.LoadFrom, x.rep.LoadPlanDate = LoadStored, x.est.planDate
	if counter == nil {
		x.rep.LoadFrom, x.rep.LoadPlanDate = LoadCounted, datecalc.Date{}
		if x.watch != nil && x.watch.estimate() {
			x.rep.LoadFrom = LoadUnknown
		} else {
			var err error
			if counter, valid, err = x.s.countingPass(ctx, x.pass(), x.src); err != nil {
				return err
			}
		}
	}
	planDate := x.today
	if x.rep.LoadFrom == LoadStored {
		planDate = x.est.planDate
		x.exact = loadbalance.NewCounter(x.today)
	}
	x.bal = newBalancer(&x.s.s)
	x.bal.start(counter, x.s.s.balanceConfig(planDate, valid), x.today)
	return nil
}

// checkEstimate tells whether balancing from the stored estimate placed
// every contact as the exact per-day volume would have (loadbalance.Agree).
// When it did not, the plan is not the one a run on the same day finds
// when it starts from this plan's exact volume: Report.LoadDiffered, and
// RunAt settles it with a second run.
func (x *execution) checkEstimate() {
	if x.exact == nil {
		return
	}
	// Both Configs were validated by New: Agree cannot fail.
	agree, _ := loadbalance.Agree(x.est.counter, x.s.s.balanceConfig(x.est.planDate, x.est.valid), x.exact, x.s.s.balanceConfig(x.today, x.exactValid))
	x.rep.LoadDiffered = !agree
}

// planningPass plans, balances, accounts for and writes every contact.
func (x *execution) planningPass(ctx context.Context) error {
	ps := x.pass()
	ps.name = PassPlanning
	if x.watch != nil {
		ps.traceID = x.watch.trace()
	}
	err := x.s.stream(ctx, x.src, ps, x.visit)
	x.skips.flush(x.rep.SkipReasons) // the report so far goes back on errors too
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	x.s.report(PassPlanning, x.done)
	x.checkEstimate()
	x.rep.leftOut(x.src)
	if x.bal != nil {
		br := x.bal.plan.Report()
		x.rep.Balance = &br
	}
	return nil
}

// visit is one contact of the planning pass.
func (x *execution) visit(c *emailsched.Contact, o *outcome) error {
	if x.done++; x.done%x.s.s.progressEvery == 0 {
		x.s.report(PassPlanning, x.done)
	}
	if o.deleted {
		x.rep.DeletedContacts++
	} else {
		if x.exact != nil && o.invalid == "" && !o.optedOut {
			x.exactValid++
			countPreScheduled(x.exact, o)
		}
		if x.bal != nil {
			if err := x.bal.place(c, o); err != nil {
				// Not reached: Place fails only on contacts out of order,
				// which stream refuses before planning them.
				return fmt.Errorf("scheduler: balancing contact %d: %w", c.ID, err)
			}
		}
		if x.load != nil && o.invalid == "" && !o.optedOut {
			x.load.add(o)
		}
		x.rep.add(c, o, &x.skips)
		x.check = x.check.Add(c.ID)
	}
	x.delta.Reset(c.ID)
	store.Diff(c.Stored, o.emails, &x.delta)
	x.sum.Rows.Inserted += len(x.delta.Insert)
	x.sum.Rows.Updated += len(x.delta.Update)
	x.sum.Rows.Deleted += len(x.delta.Delete)
	x.sum.Rows.Unchanged += x.delta.Unchanged
	if x.watch != nil {
		if err := x.watch.see(c, o, &x.delta); err != nil {
			return err
		}
	}
	if x.w == nil || x.delta.Empty() {
		return nil
	}
	var err error
	if x.timeWrites {
		t := time.Now()
		err = x.w.Write(x.ctx, &x.delta)
		x.rep.Timings.Write += time.Since(t)
	} else {
		err = x.w.Write(x.ctx, &x.delta)
	}
	if err != nil {
		return fmt.Errorf("scheduler: writing contact %d: %w", c.ID, err)
	}
	return nil
}

// commit makes the plan the stored one (nothing without a sink) and
// completes the report.
func (x *execution) commit(ctx context.Context) error {
	rep := x.rep
	rep.Timings.ReadPlan = time.Since(x.t0) - rep.Timings.Write - rep.Timings.Count
	x.sum.Contacts, x.sum.DeletedContacts = rep.Contacts, rep.DeletedContacts
	x.sum.ContactsChecksum = uint64(x.check)
	for _, tc := range rep.Emails {
		x.sum.PreScheduled += tc.PreScheduled
		x.sum.Skipped += tc.Skipped
	}
	if x.load != nil {
		x.sum.Load = x.load.load(x.s.s.key)
	}
	rep.Rows = x.sum.Rows
	if x.w != nil {
		t := time.Now()
		if err := x.w.Commit(ctx, x.sum); err != nil {
			x.log.Error("commit failed", "err", err)
			return fmt.Errorf("scheduler: commit: %w", err)
		}
		rep.Timings.Commit = time.Since(t)
		if wr, ok := x.w.(store.WriteReporter); ok {
			// What the store actually kept, which can differ from the
			// deltas when it declined rows or the sending system took some.
			r := wr.WriteReport()
			rep.Rows = r.Rows
			rep.Timings.LongestLock, rep.Timings.Locked = r.LongestLock, r.Locked
		}
	}
	rep.Timings.Total = time.Since(x.t0)
	rep.FinishedAt = x.s.s.clock()
	if x.w == nil {
		return nil
	}
	x.log.Info(x.what()+" finished", "contacts", rep.Contacts, "planned", rep.Planned(),
		"inserted", rep.Rows.Inserted, "updated", rep.Rows.Updated, "deleted", rep.Rows.Deleted, "unchanged", rep.Rows.Unchanged)
	return nil
}

// abort ends a run that failed: the Writer keeps the previous plan of every
// contact not yet committed.
func (x *execution) abort(ctx context.Context, err error) error {
	if x.w != nil {
		if aerr := x.w.Abort(context.WithoutCancel(ctx), err); aerr != nil {
			err = errors.Join(err, fmt.Errorf("scheduler: abort: %w", aerr))
		}
	}
	x.log.Error("run failed", "err", err)
	return err
}

// leftOut counts the contacts the source could not yield (ids it cannot
// order: store.LeftOutReporter) as invalid contacts of the run.
func (r *Report) leftOut(src store.ContactSource) {
	lr, ok := src.(store.LeftOutReporter)
	if !ok {
		return
	}
	for reason, n := range lr.LeftOut() {
		r.Contacts += n
		r.Invalid += n
		r.InvalidByReason[InvalidReason(reason)] += n
	}
}
