package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/store"
)

// Scheduler plans emails. Create one with New; it is safe for concurrent
// use, each Run being independent.
type Scheduler struct {
	s settings
}

// New validates cfg and returns a Scheduler. Every problem is reported at
// once, each naming the Config field and its allowed range; the error wraps
// ErrInvalidConfig.
func New(cfg Config) (*Scheduler, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return &Scheduler{s: s}, nil
}

// Today returns the run date: the current date in the configured location.
func (s *Scheduler) Today() datecalc.Date {
	return datecalc.Today(s.s.clock, s.s.loc)
}

// Run plans every contact of src for today (see Today) and writes the
// changes to sink. See RunAt.
func (s *Scheduler) Run(ctx context.Context, src store.ContactSource, sink store.ScheduleSink) (*Report, error) {
	return s.RunAt(ctx, s.Today(), src, sink)
}

// RunAt plans every contact of src as of day today and writes, per
// contact, the difference between its stored plan and its new plan to sink.
//
// Bad contact data never stops a run: invalid contacts are counted and
// named in the report. An error of the source, the sink or the context
// aborts the writer (the sink keeps the previous plan of every contact not
// yet committed) and is returned wrapped, together with the report so far.
func (s *Scheduler) RunAt(ctx context.Context, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink) (*Report, error) {
	if today.IsZero() {
		return nil, fmt.Errorf("%w: the run date is not set", ErrInvalidConfig)
	}
	start := s.s.clock()
	rep := &Report{
		RunID: s.s.newRunID(start), Today: today, StartedAt: start,
		RulesName: s.s.rules.Name(), RulesChecksum: s.s.rules.Checksum(),
		InvalidByReason: map[InvalidReason]int{}, FieldIssues: map[string]int{},
		SkipReasons: map[emailsched.SkipReason]int{},
	}
	info := emailsched.RunInfo{ID: rep.RunID, Today: today, StartedAt: start, SendTime: s.s.sendTime, RulesChecksum: rep.RulesChecksum}
	log := s.s.log.With("run_id", rep.RunID)
	log.Info("run started", "today", today.String(), "rules", rep.RulesName)

	camp, err := loadCampaigns(ctx, src, today)
	if err != nil {
		return rep, err
	}
	rep.CampaignIssues = camp.issues
	for _, msg := range camp.issues {
		log.Warn("campaign catalogue", "issue", msg)
	}

	// The stored load is looked up before Begin, which may record this
	// run in the store as the latest one.
	t0 := time.Now()
	est, err := s.storedCounter(ctx, today, src)
	if err != nil {
		return rep, err
	}
	rep.Timings.Count = time.Since(t0)
	w, err := sink.Begin(ctx, info)
	if err != nil {
		return rep, fmt.Errorf("scheduler: begin: %w", err)
	}
	sum, err := s.plan(ctx, today, camp, src, est, sink, w, rep)
	rep.Timings.ReadPlan = time.Since(t0) - rep.Timings.Write - rep.Timings.Count
	if err != nil {
		if aerr := w.Abort(context.WithoutCancel(ctx), err); aerr != nil {
			err = errors.Join(err, fmt.Errorf("scheduler: abort: %w", aerr))
		}
		log.Error("run failed", "err", err)
		rep.finish()
		return rep, err
	}
	t1 := time.Now()
	if err := w.Commit(ctx, sum); err != nil {
		log.Error("commit failed", "err", err)
		rep.finish()
		return rep, fmt.Errorf("scheduler: commit: %w", err)
	}
	rep.Timings.Commit = time.Since(t1)
	if wr, ok := w.(store.WriteReporter); ok {
		// What the store actually kept, which can differ from the deltas
		// when it declined rows or the sending system took some.
		r := wr.WriteReport()
		rep.Rows = r.Rows
		rep.Timings.LongestLock, rep.Timings.Locked = r.LongestLock, r.Locked
	}
	rep.Timings.Total = time.Since(t0)
	rep.FinishedAt = s.s.clock()
	rep.finish()
	log.Info("run finished", "contacts", rep.Contacts, "planned", rep.Planned(),
		"inserted", rep.Rows.Inserted, "updated", rep.Rows.Updated, "deleted", rep.Rows.Deleted, "unchanged", rep.Rows.Unchanged)
	return rep, nil
}

// plan runs the passes over the source: with load balancing, a counting
// pass unless the source keeps a fitting stored load, then the pass that
// plans, balances and writes each contact.
func (s *Scheduler) plan(ctx context.Context, today datecalc.Date, camp *campaignSet, src store.ContactSource, est estimate, sink store.ScheduleSink, w store.Writer, rep *Report) (store.Summary, error) {
	var (
		sum   store.Summary
		delta store.Delta
		b     *balancer
		check = uint64(fnvOffset)
	)
	if s.s.balance != nil {
		t := time.Now()
		var err error
		if b, err = s.newBalancer(ctx, today, camp, src, est); err != nil {
			return sum, err
		}
		rep.LoadFrom = LoadCounted
		if est.counter != nil {
			rep.LoadFrom, rep.LoadPlanDate = LoadStored, est.planDate
		}
		rep.Timings.Count += time.Since(t)
	}
	// The new plan's load goes to sinks that may keep it: not to Discard.
	var load *loadCounter
	if sink != store.Discard {
		load = &loadCounter{today: today}
	}
	// Writes are timed one by one, except into store.Discard, where two
	// clock reads per contact would cost more than the write.
	timeWrites := sink != store.Discard
	done := 0
	var skips skipTally
	err := s.stream(ctx, today, camp, src, PassPlanning, func(c *emailsched.Contact, o *outcome) error {
		if done++; done%s.s.progressEvery == 0 {
			s.report(PassPlanning, done)
		}
		if o.deleted {
			rep.DeletedContacts++
		} else {
			if b != nil {
				if err := b.place(c, o); err != nil {
					return fmt.Errorf("scheduler: balancing contact %d: %w", c.ID, err)
				}
			}
			if load != nil && o.invalid == "" && !o.optedOut {
				load.add(o)
			}
			rep.add(c, o, &skips)
			check = fnvAdd(check, uint64(c.ID))
		}
		delta.Reset(c.ID)
		store.Diff(c.Stored, o.emails, &delta)
		sum.Rows.Inserted += len(delta.Insert)
		sum.Rows.Updated += len(delta.Update)
		sum.Rows.Deleted += len(delta.Delete)
		sum.Rows.Unchanged += delta.Unchanged
		if delta.Empty() {
			return nil
		}
		var t time.Time
		if timeWrites {
			t = time.Now()
		}
		err := w.Write(ctx, &delta)
		if timeWrites {
			rep.Timings.Write += time.Since(t)
		}
		if err != nil {
			return fmt.Errorf("scheduler: writing contact %d: %w", c.ID, err)
		}
		return nil
	})
	skips.flush(rep.SkipReasons) // the report so far goes back on errors too
	if err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("scheduler: %w", err)
	}
	s.report(PassPlanning, done)
	if lr, ok := src.(store.LeftOutReporter); ok {
		// Contacts the source could not yield (ids it cannot order) are
		// invalid contacts of the run.
		for reason, n := range lr.LeftOut() {
			rep.Contacts += n
			rep.Invalid += n
			rep.InvalidByReason[InvalidReason(reason)] += n
		}
	}
	if b != nil {
		br := b.plan.Report()
		rep.Balance = &br
	}
	sum.Contacts, sum.DeletedContacts = rep.Contacts, rep.DeletedContacts
	sum.ContactsChecksum = check
	for _, tc := range rep.Emails {
		sum.PreScheduled += tc.PreScheduled
		sum.Skipped += tc.Skipped
	}
	if load != nil {
		sum.Load = load.load(s.s.key)
	}
	rep.Rows = sum.Rows
	return sum, nil
}

// newBalancer returns the balancer of the planning pass, from the source's
// stored load when it fits the run, else from a counting pass.
func (s *Scheduler) newBalancer(ctx context.Context, today datecalc.Date, camp *campaignSet, src store.ContactSource, est estimate) (*balancer, error) {
	counter, valid := est.counter, est.valid
	if counter == nil {
		var err error
		if counter, valid, err = s.countingPass(ctx, today, camp, src); err != nil {
			return nil, err
		}
	}
	b := newBalancer(&s.s)
	b.start(counter, valid)
	return b, nil
}

// countingPass is the first pass of load balancing: it plans every contact
// and counts the pre-scheduled emails per day, and returns the count and
// the number of valid contacts.
func (s *Scheduler) countingPass(ctx context.Context, today datecalc.Date, camp *campaignSet, src store.ContactSource) (*loadbalance.Counter, int, error) {
	counter := loadbalance.NewCounter(today)
	valid, done := 0, 0
	err := s.stream(ctx, today, camp, src, PassCounting, func(c *emailsched.Contact, o *outcome) error {
		if done++; done%s.s.progressEvery == 0 {
			s.report(PassCounting, done)
		}
		if !o.deleted && o.invalid == "" && !o.optedOut {
			valid++
			countPreScheduled(counter, o)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("scheduler: %w", err)
	}
	s.report(PassCounting, done)
	return counter, valid, nil
}

// The passes named in progress reports.
const (
	PassCounting = "counting"
	PassPlanning = "planning"
)

func (s *Scheduler) report(pass string, done int) {
	if s.s.progress != nil {
		s.s.progress(pass, done)
	}
}

// loadCampaigns reads the campaign catalogue when the source has one.
func loadCampaigns(ctx context.Context, src store.ContactSource, today datecalc.Date) (*campaignSet, error) {
	var cat emailsched.Campaigns
	if cs, ok := src.(store.CampaignSource); ok {
		var err error
		if cat, err = cs.Campaigns(ctx); err != nil {
			return nil, fmt.Errorf("scheduler: reading campaigns: %w", err)
		}
	}
	return newCampaignSet(cat, today), nil
}

// FNV-1a 64 over the contact IDs (8 bytes each, little endian): the
// contacts checksum of a run.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h, v uint64) uint64 {
	for i := 0; i < 8; i++ {
		h = (h ^ (v & 0xff)) * fnvPrime
		v >>= 8
	}
	return h
}

// defaultRunID is "run-<UTC time>-<8 random hex digits>".
func defaultRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "run-" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
